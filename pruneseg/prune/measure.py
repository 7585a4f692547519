"""Measurements shared by analysis, plans and the pruning loop: subset mIoU, latency, size."""
import statistics
import time

import torch
from torch.utils.data import DataLoader

from pruneseg.data.cityscapes import scan_split
from pruneseg.data.dataset import SegmentationDataset
from pruneseg.data.transforms import EvalTransform
from pruneseg.metrics import ConfusionMatrix
from pruneseg.models import count_macs, count_parameters


def load_batches(data, split, images, height, width, batch_size):
    """The first ``images`` samples of a split at (height, width), as a list of (images, targets)."""
    samples = scan_split(data, split)[:images]
    loader = DataLoader(SegmentationDataset(samples, EvalTransform(height, width)), batch_size=batch_size)
    return list(loader)


@torch.no_grad()
def subset_metrics(model, batches, num_classes=6):
    """mIoU, per-class IoU and pixel accuracy over preloaded ``batches``."""
    model.eval()
    device = next(model.parameters()).device
    confusion = ConfusionMatrix(num_classes)
    for images, targets in batches:
        confusion.update(targets, model(images.to(device)).argmax(1))
    return confusion.compute()


@torch.no_grad()
def latency_ms(model, height, width, runs=5):
    """Median wall time of one batch-1 forward pass in milliseconds (after one warm-up)."""
    model.eval()
    device = next(model.parameters()).device
    x = torch.zeros(1, 3, height, width, device=device)
    model(x)
    times = []
    for _ in range(runs):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        model(x)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def model_size(model, height, width):
    """``{"params", "macs"}`` of ``model`` at 1x3xHxW."""
    return {"params": count_parameters(model), "macs": count_macs(model, height, width)}
