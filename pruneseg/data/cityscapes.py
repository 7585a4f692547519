"""Read a dataset: the one entry point (``scan_split``, ``read_sample``, ``dataset_classes``) for both layouts.

The Cityscapes layout: ``ROOT/leftImg8bit/<split>/<city>/<name>_leftImg8bit.png`` holds the images
and ``ROOT/gtFine/<split>/<city>/<name>_gtFine_labelIds.png`` the label-id masks, reduced to the
built-in 6 classes. The built-in synthcity dataset is written in this layout. A root holding
``classes.json`` is in the generic folder layout instead (``pruneseg.data.folder``), with its own
classes. Torch-free.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pruneseg.data import DatasetError, folder
from pruneseg.data.classes import CITYSCAPES_CLASSES, LABEL_ID_LOOKUP

IMAGE_SUFFIX = "_leftImg8bit.png"
MASK_SUFFIX = "_gtFine_labelIds.png"
CITYSCAPES_LOOKUP = tuple(int(v) for v in LABEL_ID_LOOKUP)  # every label id is a class or ignored


@dataclass(frozen=True)
class Sample:
    """One image, its mask, and the lookup from the mask's values to class indices.

    ``lookup[v]`` is the class index of mask value ``v``, ``IGNORE_INDEX``, or ``folder.UNLISTED``
    for a value the dataset does not allow.
    """

    image: Path
    mask: Path
    name: str
    lookup: tuple


def dataset_classes(root):
    """The classes of the dataset at ``root``: its own for the folder layout, else the built-in 6."""
    return folder.read_classes(root)[0] if folder.is_folder_dataset(root) else CITYSCAPES_CLASSES


def check_classes(root, classes, source):
    """DatasetError unless the dataset at ``root`` has ``classes`` (those of ``source``, a model or record).

    Returns:
        the dataset's ClassSet.
    """
    found = dataset_classes(root)
    if found.names != tuple(classes.names):
        raise DatasetError(f"{root}: the dataset has {len(found)} classes ({', '.join(found.names)}) but {source} "
                           f"has {len(classes)} ({', '.join(classes.names)}); use a dataset with the model's classes")
    return found


def scan_split(root, split):
    """List and check the samples of one split, in either layout.

    Every image must have its mask, both must be readable, complete images of equal size,
    and the split must not be empty; otherwise ``DatasetError`` names the offending path.
    Pixel data is not decoded here (``read_sample`` does that).
    """
    root = Path(root)
    if folder.is_folder_dataset(root):
        _, lookup = folder.read_classes(root)
        image_dir = root / "images" / split
        pairs = [(image, folder.mask_path(root, split, image), image.stem)
                 for image in folder.image_files(root, split)]
        layout = f"images/<split>/*{'|*'.join(folder.IMAGE_TYPES)} and masks/<split>/<image stem>.png"
    else:
        lookup = CITYSCAPES_LOOKUP
        image_dir = root / "leftImg8bit" / split
        named = [(image, image.name[: -len(IMAGE_SUFFIX)]) for image in sorted(image_dir.glob(f"*/*{IMAGE_SUFFIX}"))]
        pairs = [(image, root / "gtFine" / split / image.parent.name / (name + MASK_SUFFIX), name)
                 for image, name in named]
        layout = (f"leftImg8bit/<split>/<city>/*{IMAGE_SUFFIX} and gtFine/<split>/<city>/*{MASK_SUFFIX}, "
                  f"or a {folder.CLASSES_FILE} with images/<split>/ and masks/<split>/")
    if not image_dir.is_dir():
        raise DatasetError(f"{image_dir}: folder not found (the dataset root holds {layout})")
    if not pairs:
        raise DatasetError(f"{image_dir}: split {split!r} is empty (no images; expected {layout})")
    samples = []
    for image, mask, name in pairs:
        if not mask.is_file():
            raise DatasetError(f"{image}: no mask; expected {mask}")
        image_size, mask_size = _check_image(image), _check_image(mask)
        if image_size != mask_size:
            raise DatasetError(
                f"{mask}: mask is {mask_size[1]}x{mask_size[0]} but its image is "
                f"{image_size[1]}x{image_size[0]} (height x width)")
        samples.append(Sample(image, mask, name, lookup))
    return samples


def _check_image(path):
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
        classes: uint8 array (H, W) of class indices 0..K-1, or ``IGNORE_INDEX``.
    Raises:
        DatasetError naming the mask and the value when the mask holds a value its dataset does not list.
    """
    image = _read(sample.image, "RGB")
    values = _read(sample.mask, None)
    if values.ndim != 2:
        raise DatasetError(f"{sample.mask}: a mask must have one channel, found shape {values.shape}")
    lookup = np.asarray(sample.lookup, np.int16)
    unknown = values >= len(lookup)
    if not unknown.any():
        unknown = lookup[values] == folder.UNLISTED
    if unknown.any():
        raise DatasetError(f"{sample.mask}: mask value {int(values[unknown][0])} is in no class's values and not "
                           f"ignored (see the dataset's {folder.CLASSES_FILE})")
    return image, lookup[values].astype(np.uint8)


def _read(path, mode):
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert(mode) if mode else image)
    except Exception as error:
        raise DatasetError(f"{path}: unreadable or truncated image ({error})") from error


def class_pixel_counts(classes, count):
    """Pixels per class of one class mask: int64 array of ``count`` + 1 (the last counts ignored pixels)."""
    counts = np.bincount(classes.reshape(-1), minlength=256)
    return np.append(counts[:count], counts.sum() - counts[:count].sum())
