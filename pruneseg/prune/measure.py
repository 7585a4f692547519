"""Measurements shared by analysis, plans and the pruning loop: validation subsets, latency, size,
MACs per layer, and BatchNorm statistics re-estimated after a cut."""
import statistics
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from pruneseg.data.samples import scan_split
from pruneseg.data.dataset import SegmentationDataset
from pruneseg.data.transforms import EvalTransform
from pruneseg.models import count_macs, count_parameters


def load_batches(data, split, images, height, width, batch_size, skip=0):
    """Samples ``skip`` .. ``skip + images`` of a split at (height, width), as a list of (images, targets)."""
    samples = scan_split(data, split)[skip:skip + images]
    loader = DataLoader(SegmentationDataset(samples, EvalTransform(height, width)), batch_size=batch_size)
    return list(loader)


@torch.no_grad()
def latency_ms(model, height, width, runs=5):
    """Median wall time of one batch-1 forward pass in milliseconds (after one warm-up)."""
    model.eval()
    x = _example(model, height, width)
    model(x)
    return statistics.median(_time_once(model, x) for _ in range(runs))


@torch.no_grad()
def paired_latency_ms(reference, model, height, width, runs=7):
    """Median batch-1 latencies (ms) of ``reference`` and ``model``, timed alternately.

    A busy machine then slows both alike, so their ratio (the speed-up) holds even when the
    absolute times drift.
    """
    reference.eval()
    model.eval()
    x = _example(model, height, width)
    reference(x)
    model(x)
    pairs = [(_time_once(reference, x), _time_once(model, x)) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def paired_latency(dense, pruned, height, width):
    """``{"latency_ms", "dense_latency_ms", "speedup"}`` of ``pruned`` timed alternately with ``dense``."""
    dense_ms, pruned_ms = paired_latency_ms(dense, pruned, height, width)
    return {"latency_ms": pruned_ms, "dense_latency_ms": dense_ms, "speedup": dense_ms / pruned_ms}


def _example(model, height, width):
    return torch.zeros(1, 3, height, width, device=next(model.parameters()).device)


def _time_once(model, x):
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    model(x)
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1000


def model_size(model, height, width):
    """``{"params", "macs"}`` of ``model`` at 1x3xHxW."""
    return {"params": count_parameters(model), "macs": count_macs(model, height, width)}


def layer_macs(model, height, width):
    """MACs of each conv layer at 1x3xHxW: ``{layer name: MACs}``."""
    macs = {}
    names = {module: name for name, module in model.named_modules()}

    def hook(module, inputs, output):
        if isinstance(module, nn.ConvTranspose2d):
            macs[names[module]] = inputs[0].numel() * module.weight[0].numel()
        else:
            macs[names[module]] = output.numel() * module.weight[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, height, width, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return macs


@torch.no_grad()
def recalibrate_batchnorm(model, batches):
    """Re-estimate BatchNorm running statistics on ``batches`` (a list of image tensors)."""
    if not batches:
        return model
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches
    model.train()
    device = next(model.parameters()).device
    for images in batches:
        model(images.to(device))
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    return model.eval()
