"""Segmentation losses: cross-entropy, class-weighted cross-entropy and OHEM, built from a run's config.

Class weights follow ENet (Paszke et al. 2016): ``w_c = 1 / ln(1.02 + p_c)`` with ``p_c`` the
share of class c among the labelled pixels of the training split. The weight of a dominant class
tends to ~2.5, a class of 1% to ~35, an absent class to 50.5: rare classes count more, but the
weights stay bounded, unlike plain inverse frequency. Pixels marked ``IGNORE_INDEX`` never count.
"""
import math
from dataclasses import asdict, is_dataclass, replace

import torch
import torch.nn.functional as F

from pruneseg.choices import LOSSES  # their names, torch-free, for the command line
from pruneseg.data.classes import IGNORE_INDEX

ENET_C = 1.02


def class_weights_from_counts(counts):
    """ENet class weights from per-class pixel counts (ignored pixels left out).

    Args:
        counts: sequence of K pixel counts, one per class.
    Returns:
        list of K floats, ``1 / ln(1.02 + count_c / sum(counts))``.
    """
    total = sum(counts)
    if total <= 0:
        raise ValueError("no labelled pixels to compute class weights from")
    return [1.0 / math.log(ENET_C + count / total) for count in counts]


def split_class_weights(root, split="train"):
    """ENet class weights of one split of a dataset (reads every mask once)."""
    from pruneseg.data.stats import split_stats

    return class_weights_from_counts(split_stats(root, split)["class_pixels"])


def ohem_cross_entropy(logits, target, weight=None, thresh=0.7, min_kept=0.1):
    """Cross-entropy over the hard pixels only (online hard example mining, as in PSPNet/mmseg).

    A labelled pixel is hard when the predicted probability of its true class is at most
    ``thresh``; when fewer than ``min_kept`` (a share of the labelled pixels) are that hard, the
    threshold rises so that the ``min_kept`` least confident pixels are kept.

    Args:
        logits: (N, K, H, W) float.
        target: (N, H, W) int64 class indices or ``IGNORE_INDEX``.
        weight: optional (K,) class weights; the loss is then the weighted mean over kept pixels.
    Returns:
        scalar loss (0 when no pixel is labelled).
    """
    pixel_loss = F.cross_entropy(logits, target, weight=weight, ignore_index=IGNORE_INDEX, reduction="none")
    labelled = target != IGNORE_INDEX
    with torch.no_grad():
        safe_target = torch.where(labelled, target, 0)
        prob = logits.float().softmax(1).gather(1, safe_target.unsqueeze(1)).squeeze(1)
        prob = torch.where(labelled, prob, torch.inf)  # ignored pixels are never hard
        count = int(labelled.sum())
        keep_at_least = min(count, max(1, math.ceil(min_kept * count)))
        bar = thresh
        if keep_at_least:
            bar = max(thresh, prob.flatten().kthvalue(keep_at_least).values.item())
        kept = labelled & (prob <= bar)
    pixel_weight = kept.float() if weight is None else weight[safe_target] * kept
    return (pixel_loss * kept).sum() / pixel_weight.sum().clamp(min=1e-12)


def needs_class_weights(name):
    """True for the weighted losses; ValueError listing the choices for an unknown name."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return name.startswith("weighted_")


def fill_class_weights(config):
    """``config`` (a TrainConfig) with its train split's class weights if its loss needs them and has none."""
    if needs_class_weights(config.loss) and not config.class_weights:
        return replace(config, class_weights=split_class_weights(config.data))
    return config


def build_loss(config, num_classes, device="cpu"):
    """The training loss a run's config names: ``loss(logits, target) -> scalar``.

    Args:
        config: a TrainConfig or its dict (as saved in config.json and checkpoints); keys missing
            from an older record mean plain cross-entropy.
        num_classes: the classes the model predicts (a weighted loss needs one weight each).
    """
    values = asdict(config) if is_dataclass(config) else dict(config)
    name = values.get("loss", "ce")
    weight = None
    if needs_class_weights(name):
        weights = values.get("class_weights") or []
        if len(weights) != num_classes:
            raise ValueError(f"loss {name!r} needs {num_classes} class weights, got {len(weights)}")
        weight = torch.tensor(weights, dtype=torch.float32, device=device)
    if name.endswith("ohem"):
        thresh, min_kept = values.get("ohem_thresh", 0.7), values.get("ohem_min_kept", 0.1)
        return lambda logits, target: ohem_cross_entropy(logits, target, weight, thresh, min_kept)
    return lambda logits, target: F.cross_entropy(logits, target, weight=weight, ignore_index=IGNORE_INDEX)
