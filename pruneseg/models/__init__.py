"""Model registry: build a segmentation network by name.

A name is one of ``MODELS`` (the seed's two), ``tv:<name>`` (a torchvision segmentation model,
``pruneseg.models.tv``) or ``path/to/file.py:function`` (the user's own, ``pruneseg.models.user``).
"""
import torch
import torch_pruning as tp

from pruneseg.config import INPUT_MULTIPLE, TORCHVISION_PREFIX, input_multiple, is_model_file
from pruneseg.models.fpn import FPN
from pruneseg.models.tv import TorchvisionSegmenter
from pruneseg.models.unet import UNet
from pruneseg.models.user import build_user_model

MODELS = {"fpn": FPN, "unet": UNet}


def build_model(name, num_classes=6):
    """Build model ``name`` with ``num_classes`` output channels.

    Raises:
        ValueError listing the choices for an unknown name; ``ModelError`` for a model file that
        cannot be built.
    """
    if is_model_file(name):
        return build_user_model(name, num_classes)
    input_multiple(name)  # an unknown name raises, listing the choices
    if name.startswith(TORCHVISION_PREFIX):
        return TorchvisionSegmenter(name.removeprefix(TORCHVISION_PREFIX), num_classes)
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
    """One row per built-in model (the seed's and torchvision's): name, input multiple, parameters (a
    torchvision model's auxiliary head, used in training only, included) and MACs at 1x3xHxW.

    The models are built on the meta device: shapes without weights, so the table takes a second.
    """
    rows = []
    for name, multiple in INPUT_MULTIPLE.items():
        with torch.device("meta"):
            model = build_model(name, num_classes)
        rows.append({"name": name, "input_multiple": multiple, "parameters": count_parameters(model),
                     f"macs_1x3x{height}x{width}": count_macs(model, height, width)})
    return rows
