"""Evaluate a model over a loader (``evaluate``: what training, pruning and analysis score with) or a
checkpoint on a dataset split, and describe a checkpoint (size, MACs, channels)."""
import torch
from torch.utils.data import DataLoader

from pruneseg import distributed
from pruneseg.checkpoint import load_model
from pruneseg.data.samples import check_classes, scan_split
from pruneseg.data.classes import classes_of
from pruneseg.data.dataset import SegmentationDataset
from pruneseg.data.transforms import EvalTransform
from pruneseg.metrics import ConfusionMatrix
from pruneseg.models import count_macs, count_parameters, default_device
from pruneseg.progress import Progress
from pruneseg.prune.groups import group_widths


@torch.no_grad()
def evaluate(model, loader, device, num_classes, progress=None, across_ranks=False):
    """mIoU, per-class IoU and pixel accuracy of ``model`` over ``loader``.

    Args:
        num_classes: the classes ``model`` predicts; the confusion matrix is that square.
        across_ranks: ``loader`` holds this rank's share of the images (``train.build_loaders``): the
            ranks' confusion matrices are summed, so every rank gets the metrics of all images.
    """
    model.eval()
    confusion = ConfusionMatrix(num_classes)
    for images, targets in loader:
        logits = model(images.to(device))
        confusion.update(targets, logits.argmax(1))
        if progress:
            progress.update(1)
    if across_ranks:
        confusion.matrix = distributed.all_reduce_sum(confusion.matrix)
    return confusion.compute()


def evaluate_checkpoint(checkpoint_path, data, split="val", batch_size=4, workers=2):
    """mIoU, per-class IoU, pixel accuracy and the class names of a checkpoint on ``data``/``split``."""
    device = default_device()
    model, checkpoint = load_model(checkpoint_path, device)
    classes = check_classes(data, classes_of(checkpoint), checkpoint_path)
    height, width = checkpoint["input_size"]
    dataset = SegmentationDataset(scan_split(data, split), EvalTransform(height, width))
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers)
    with Progress(len(loader), f"eval {split}", "batch") as progress:
        return {**evaluate(model, loader, device, len(classes), progress), "class_names": list(classes.names)}


def checkpoint_info(checkpoint_path):
    """Model, input size, whether pruned, parameters, MACs, channels per group and stored metrics."""
    model, checkpoint = load_model(checkpoint_path)
    height, width = checkpoint["input_size"]
    return {"model": checkpoint["model_name"], "input_size": [height, width],
            "pruned": bool(checkpoint.get("pruning_history")), "parameters": count_parameters(model),
            "macs": count_macs(model, height, width), "group_channels": group_widths(model),
            "metrics": checkpoint.get("metrics")}
