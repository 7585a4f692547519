"""Segmentation metrics from a confusion matrix: per-class IoU, precision, recall, mIoU, pixel
accuracy; for a whole split (``ConfusionMatrix``) or one image (``image_metrics``). Pure numpy."""
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


def confusion_matrix(target, prediction, num_classes, ignore_index=IGNORE_INDEX):
    """The (num_classes x num_classes) int64 confusion matrix of one pair of masks, rows = truth."""
    confusion = ConfusionMatrix(num_classes, ignore_index)
    confusion.update(target, prediction)
    return confusion.matrix


def class_scores(matrix):
    """Per-class IoU, precision and recall of a confusion matrix (rows = truth, columns = prediction).

    Returns:
        dict of three lists, one value per class: ``iou`` (None when the class is neither true
        nor predicted anywhere), ``precision`` (None when never predicted) and ``recall``
        (None when never true).
    """
    m = np.asarray(matrix, dtype=np.float64)
    true_positive = np.diag(m)
    predicted, actual = m.sum(0), m.sum(1)
    union = predicted + actual - true_positive
    return {"iou": _ratios(true_positive, union), "precision": _ratios(true_positive, predicted),
            "recall": _ratios(true_positive, actual)}


def image_metrics(target, prediction, num_classes, ignore_index=IGNORE_INDEX):
    """Per-class IoU and true pixel counts of one image.

    Args:
        target: integer mask (H, W) of classes 0..num_classes-1 or ``ignore_index``.
        prediction: integer mask (H, W) of predicted classes.
    Returns:
        ``{"iou": [per class, None where the class is neither true nor predicted],
        "pixels": [true pixels per class]}``.
    """
    matrix = confusion_matrix(target, prediction, num_classes, ignore_index)
    return {"iou": class_scores(matrix)["iou"], "pixels": [int(v) for v in matrix.sum(1)]}


def mean_iou(iou):
    """Mean of the known (not None) values of a per-class IoU list; None when none is known."""
    known = [v for v in iou if v is not None]
    return sum(known) / len(known) if known else None


def _ratios(numerator, denominator):
    return [float(n / d) if d > 0 else None for n, d in zip(numerator, denominator)]


def _as_numpy(array):
    if hasattr(array, "detach"):
        return array.detach().cpu().numpy()
    return np.asarray(array)
