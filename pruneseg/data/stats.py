"""Per-class pixel statistics of a split."""
import numpy as np

from pruneseg.data.cityscapes import class_pixel_counts, read_sample, scan_split


def image_class_counts(samples, progress=None):
    """Pixels per class for each sample: int64 array (N, 7), the last column counts ignored pixels."""
    rows = []
    for sample in samples:
        rows.append(class_pixel_counts(read_sample(sample)[1]))
        if progress:
            progress.update(1)
    return np.array(rows, dtype=np.int64).reshape(len(rows), -1)


def split_stats(root, split):
    """``{"images": N, "class_pixels": [6 ints], "ignored_pixels": N}`` for one split."""
    samples = scan_split(root, split)
    counts = image_class_counts(samples).sum(0)
    return {"images": len(samples), "class_pixels": [int(c) for c in counts[:-1]],
            "ignored_pixels": int(counts[-1])}
