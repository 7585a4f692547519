"""Per-pixel colour baselines: how far colour alone gets on a dataset.

``mean`` (default): fit the mean RGB of each reduced class on the train split, give every val
pixel the class whose mean colour is nearest. ``histogram``: the best any per-pixel colour rule can
do up to quantisation, the most frequent train class of each 16x16x16 RGB bin. A dataset on which
these score well does not need a segmentation network; synthcity is built so that they score poorly.

    python benchmarks/colour_baseline.py --data /tmp/synthcity [--method histogram] [--json]
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from pruneseg.data.classes import CLASS_NAMES, NUM_CLASSES, label_ids_to_classes  # noqa: E402
from pruneseg.metrics import ConfusionMatrix  # noqa: E402


def load_split(root, split):
    """Yield (image float32 (H*W, 3), reduced classes (H*W,)) for every image of a split."""
    images = sorted(Path(root, "leftImg8bit", split).glob("*/*_leftImg8bit.png"))
    if not images:
        raise SystemExit(f"no images under {Path(root, 'leftImg8bit', split)}")
    for image in images:
        mask = Path(root, "gtFine", split, image.parent.name,
                    image.name.replace("_leftImg8bit.png", "_gtFine_labelIds.png"))
        rgb = np.asarray(Image.open(image).convert("RGB"), dtype=np.float32).reshape(-1, 3)
        yield rgb, label_ids_to_classes(np.asarray(Image.open(mask))).reshape(-1)


def fit_means(root):
    """Mean RGB per class over the train split (ignored pixels left out)."""
    sums = np.zeros((NUM_CLASSES, 3))
    counts = np.zeros(NUM_CLASSES)
    for rgb, classes in load_split(root, "train"):
        keep = classes < NUM_CLASSES
        counts += np.bincount(classes[keep], minlength=NUM_CLASSES)
        for c in range(3):
            sums[:, c] += np.bincount(classes[keep], weights=rgb[keep, c], minlength=NUM_CLASSES)
    # A class absent from train can never be predicted: put its mean out of reach.
    means = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], np.inf).astype(np.float32)
    return means, lambda rgb: ((rgb[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)


def _bins(rgb):
    q = rgb.astype(np.int64) // 16
    return (q[:, 0] * 16 + q[:, 1]) * 16 + q[:, 2]


def fit_histogram(root):
    """Most frequent train class per 16x16x16 RGB bin (bins never seen in train predict class 0)."""
    counts = np.zeros((16 ** 3, NUM_CLASSES), np.int64)
    for rgb, classes in load_split(root, "train"):
        keep = classes < NUM_CLASSES
        counts += np.bincount(_bins(rgb[keep]) * NUM_CLASSES + classes[keep],
                              minlength=counts.size).reshape(counts.shape)
    table = counts.argmax(1)
    return None, lambda rgb: table[_bins(rgb)]


def evaluate(root, classify):
    matrix = ConfusionMatrix(NUM_CLASSES)
    for rgb, classes in load_split(root, "val"):
        matrix.update(classes, classify(rgb))
    return matrix.compute()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="dataset root in the Cityscapes layout")
    parser.add_argument("--method", choices=("mean", "histogram"), default="mean")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    means, classify = (fit_means if args.method == "mean" else fit_histogram)(args.data)
    result = dict(evaluate(args.data, classify), method=args.method)
    if means is not None:
        result["class_means"] = {name: [round(float(v), 1) for v in m] for name, m in zip(CLASS_NAMES, means)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.method} colour baseline on {args.data}: mIoU {result['miou']:.4f}, "
          f"pixel accuracy {result['pixel_accuracy']:.4f}")
    for name, iou in zip(CLASS_NAMES, result["iou"]):
        print(f"  {name:8s} IoU {'n/a' if iou is None else f'{iou:.4f}'}")


if __name__ == "__main__":
    main()
