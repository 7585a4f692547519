"""Build a segmentation network by name, and count what it costs.

A name is a row of the model catalog (``pruneseg.model_catalog.MODEL_SPECS``: the seed's two and
torchvision's, ``tv:<name>``) or ``path/to/file.py:function`` (the user's own, ``pruneseg.models.user``).
"""
import importlib

import torch
import torch_pruning as tp

from pruneseg.model_catalog import MODEL_SPECS, model_spec


def build_model(name, num_classes=6):
    """Build model ``name`` with ``num_classes`` output channels, by its catalog spec's ``builder``; the
    spec's ``never_pruned`` layers become the model's ``classifier_names`` (``pruneseg.prune.groups``).

    Raises:
        ValueError listing the choices for an unknown name; ``ModelError`` for a model file that
        cannot be built.
    """
    spec = model_spec(name)
    module, _, function = spec.builder.partition(":")
    builder = getattr(importlib.import_module(module), function)
    model = builder(*([spec.variant] if spec.variant else []), num_classes=num_classes)
    if spec.never_pruned:  # a user's model names its own
        model.classifier_names = spec.never_pruned
    return model


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
    for name, spec in MODEL_SPECS.items():
        with torch.device("meta"):
            model = build_model(name, num_classes)
        rows.append({"name": name, "input_multiple": spec.stride, "parameters": count_parameters(model),
                     f"macs_1x3x{height}x{width}": count_macs(model, height, width)})
    return rows
