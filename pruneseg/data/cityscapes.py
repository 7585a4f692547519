"""Read the 6-class reduced Cityscapes from the real Cityscapes folder layout.

``ROOT/leftImg8bit/<split>/<city>/<name>_leftImg8bit.png`` holds the images and
``ROOT/gtFine/<split>/<city>/<name>_gtFine_labelIds.png`` the label-id masks. The built-in
synthcity dataset is written in the same layout, so this one loader reads both.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pruneseg.data.classes import NUM_CLASSES, label_ids_to_classes
from pruneseg.errors import PruneSegError

IMAGE_SUFFIX = "_leftImg8bit.png"
MASK_SUFFIX = "_gtFine_labelIds.png"


class DatasetError(PruneSegError):
    """A dataset problem a user can fix; the message names the file or folder."""


@dataclass(frozen=True)
class Sample:
    """One image and its label-id mask."""

    image: Path
    mask: Path

    @property
    def name(self):
        return self.image.name[: -len(IMAGE_SUFFIX)]


def scan_split(root, split):
    """List and check the samples of one split.

    Every image must have its mask, both must be readable, complete PNGs of equal size,
    and the split must not be empty; otherwise ``DatasetError`` names the offending path.
    Pixel data is not decoded here (``read_sample`` does that).
    """
    root = Path(root)
    image_dir = root / "leftImg8bit" / split
    mask_dir = root / "gtFine" / split
    if not image_dir.is_dir():
        raise DatasetError(
            f"{image_dir}: folder not found (a Cityscapes root holds "
            f"leftImg8bit/<split>/<city>/*{IMAGE_SUFFIX} and gtFine/<split>/<city>/*{MASK_SUFFIX})")
    images = sorted(image_dir.glob(f"*/*{IMAGE_SUFFIX}"))
    if not images:
        raise DatasetError(f"{image_dir}: split {split!r} is empty (no */*{IMAGE_SUFFIX} files)")
    samples = []
    for image in images:
        mask = mask_dir / image.parent.name / (image.name[: -len(IMAGE_SUFFIX)] + MASK_SUFFIX)
        if not mask.is_file():
            raise DatasetError(f"{image}: no mask; expected {mask}")
        image_size, mask_size = _check_png(image), _check_png(mask)
        if image_size != mask_size:
            raise DatasetError(
                f"{mask}: mask is {mask_size[0]}x{mask_size[1]} but its image is "
                f"{image_size[0]}x{image_size[1]} (width x height)")
        samples.append(Sample(image, mask))
    return samples


def _check_png(path):
    """Return (width, height) of an image file after checking it is complete."""
    try:
        with Image.open(path) as image:
            size = image.size
            image.verify()
    except Exception as error:
        raise DatasetError(f"{path}: unreadable or truncated image ({error})") from error
    return size


def read_sample(sample):
    """Decode one sample.

    Returns:
        image: uint8 array (H, W, 3), RGB.
        classes: uint8 array (H, W) of reduced classes 0..5, or ``IGNORE_INDEX``.
    """
    image = _read(sample.image, "RGB")
    label_ids = _read(sample.mask, None)
    if label_ids.ndim != 2:
        raise DatasetError(f"{sample.mask}: a label-id mask must have one channel, "
                           f"found shape {label_ids.shape}")
    return image, label_ids_to_classes(label_ids)


def _read(path, mode):
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode) if mode else image)
    except Exception as error:
        raise DatasetError(f"{path}: unreadable or truncated image ({error})") from error


def class_pixel_counts(classes):
    """Pixels per class for one class mask: int64 array of NUM_CLASSES + 1 (last = ignored)."""
    counts = np.bincount(classes.reshape(-1), minlength=256)
    return np.append(counts[:NUM_CLASSES], counts.sum() - counts[:NUM_CLASSES].sum())
