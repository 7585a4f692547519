"""Importance criteria: which channels of a group go first. A registry of Torch-Pruning's scorers.

Each takes a Torch-Pruning group and returns one score per channel; the lowest are pruned.
The data-free ones only: a criterion that needs gradients or activations would need data here.
"""
import torch_pruning as tp

IMPORTANCES = {
    "l2": lambda: tp.importance.GroupMagnitudeImportance(p=2),  # group L2 norm of the weights (default)
    "l1": lambda: tp.importance.GroupMagnitudeImportance(p=1),
    "bn-scale": tp.importance.BNScaleImportance,  # |gamma| of the BatchNorm layers (network slimming)
    "lamp": tp.importance.LAMPImportance,  # layer-adaptive magnitude
    "fpgm": tp.importance.FPGMImportance,  # distance to the geometric median of the filters
}


def build_importance(name):
    """The importance scorer called ``name``; ValueError listing the choices for another name."""
    if name not in IMPORTANCES:
        raise ValueError(f"unknown importance {name!r}; choose one of: {', '.join(IMPORTANCES)}")
    return IMPORTANCES[name]()
