"""Model registry: build a segmentation network by name."""
import torch
import torch_pruning as tp

from pruneseg.models.fpn import FPN
from pruneseg.models.unet import UNet

MODELS = {"fpn": FPN, "unet": UNet}


def build_model(name, num_classes=6):
    """Build model ``name`` (one of ``MODELS``) with ``num_classes`` output channels."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(sorted(MODELS))}")
    return MODELS[name](num_classes=num_classes)


def default_device():
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def count_parameters(model):
    """Number of parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model, height, width):
    """Multiply-accumulates of one forward pass at 1x3xHxW, as Torch-Pruning counts them."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        macs, _ = tp.utils.count_ops_and_params(model, torch.zeros(1, 3, height, width, device=device))
    finally:
        model.train(was_training)
    return int(macs)


def model_table(height=256, width=512, num_classes=6):
    """One row per registered model: name, parameters and MACs at 1x3xHxW."""
    rows = []
    for name in sorted(MODELS):
        model = build_model(name, num_classes)
        rows.append({"name": name, "parameters": count_parameters(model),
                     f"macs_1x3x{height}x{width}": count_macs(model, height, width)})
    return rows
