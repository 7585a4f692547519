"""Segmentation metrics from a confusion matrix: per-class IoU, mIoU, pixel accuracy."""
import numpy as np

from pruneseg.data.classes import IGNORE_INDEX


class ConfusionMatrix:
    """Accumulates a (num_classes x num_classes) confusion matrix, rows = truth.

    Pixels whose target is ``ignore_index`` (or any value outside 0..num_classes-1)
    never count.
    """

    def __init__(self, num_classes, ignore_index=IGNORE_INDEX):
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(self, target, prediction):
        """Add a batch. ``target`` and ``prediction`` are integer arrays or tensors of equal shape."""
        target = _as_numpy(target).reshape(-1).astype(np.int64)
        prediction = _as_numpy(prediction).reshape(-1).astype(np.int64)
        keep = (target >= 0) & (target < self.num_classes) & (target != self.ignore_index)
        index = target[keep] * self.num_classes + prediction[keep]
        self.matrix += np.bincount(index, minlength=self.num_classes ** 2).reshape(
            self.num_classes, self.num_classes)

    def compute(self):
        """Return ``{"miou", "iou" (list per class), "pixel_accuracy"}``.

        A class absent from both truth and prediction has IoU NaN and is left out of the mean.
        """
        m = self.matrix.astype(np.float64)
        true_positive = np.diag(m)
        union = m.sum(0) + m.sum(1) - true_positive
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(union > 0, true_positive / union, np.nan)
        total = m.sum()
        return {
            "miou": float(np.nanmean(iou)) if np.any(union > 0) else 0.0,
            "iou": [None if np.isnan(v) else float(v) for v in iou],
            "pixel_accuracy": float(true_positive.sum() / total) if total else 0.0,
        }


def _as_numpy(array):
    if hasattr(array, "detach"):
        return array.detach().cpu().numpy()
    return np.asarray(array)
