"""Evaluate a checkpoint on a dataset split at the checkpoint's input size."""
from torch.utils.data import DataLoader

from pruneseg.checkpoint import load_model
from pruneseg.data.cityscapes import scan_split
from pruneseg.data.dataset import SegmentationDataset
from pruneseg.data.transforms import EvalTransform
from pruneseg.models import default_device
from pruneseg.progress import Progress
from pruneseg.train import evaluate


def evaluate_checkpoint(checkpoint_path, data, split="val", batch_size=4, workers=2):
    """mIoU, per-class IoU and pixel accuracy of a checkpoint on ``data``/``split``."""
    device = default_device()
    model, checkpoint = load_model(checkpoint_path, device)
    height, width = checkpoint["input_size"]
    dataset = SegmentationDataset(scan_split(data, split), EvalTransform(height, width))
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers)
    with Progress(len(loader), f"eval {split}", "batch") as progress:
        return evaluate(model, loader, device, checkpoint["num_classes"], progress)
