"""Per-class pixel statistics of a split."""
import numpy as np

from pruneseg.data.samples import dataset_classes, read_sample, scan_split


def class_pixel_counts(classes, count):
    """Pixels per class of one class mask: int64 array of ``count`` + 1 (the last counts ignored pixels)."""
    counts = np.bincount(classes.reshape(-1), minlength=256)
    return np.append(counts[:count], counts.sum() - counts[:count].sum())


def image_class_counts(samples, count, progress=None):
    """Pixels per class for each sample: int64 array (N, count + 1), the last column counts ignored pixels."""
    rows = []
    for sample in samples:
        rows.append(class_pixel_counts(read_sample(sample)[1], count))
        if progress:
            progress.update(1)
    return np.array(rows, dtype=np.int64).reshape(len(rows), count + 1)


def split_stats(root, split):
    """``{"images": N, "class_names": [K names], "class_pixels": [K ints], "ignored_pixels": N}`` for one split."""
    classes = dataset_classes(root)
    samples = scan_split(root, split)
    counts = image_class_counts(samples, len(classes)).sum(0)
    return {"images": len(samples), "class_names": list(classes.names), "class_pixels": [int(c) for c in counts[:-1]],
            "ignored_pixels": int(counts[-1])}
