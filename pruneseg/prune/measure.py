"""Measurements shared by analysis, plans and the pruning loop: validation subsets, latency, size."""
import statistics
import time

import torch
from torch.utils.data import DataLoader

from pruneseg.data.cityscapes import scan_split
from pruneseg.data.dataset import SegmentationDataset
from pruneseg.data.transforms import EvalTransform
from pruneseg.models import count_macs, count_parameters


def load_batches(data, split, images, height, width, batch_size):
    """The first ``images`` samples of a split at (height, width), as a list of (images, targets)."""
    samples = scan_split(data, split)[:images]
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
