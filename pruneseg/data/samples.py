"""A split's image/label samples in either layout: the one entry point for reading data
(``scan_split``, ``read_sample``, ``dataset_classes``, ``check_classes``).

A root holding ``classes.json`` is in the generic folder layout (``pruneseg.data.folder``), with its
own classes; any other root is in the Cityscapes layout (``pruneseg.data.cityscapes``), with the
built-in 6. Torch-free.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pruneseg.data import DatasetError, cityscapes, folder
from pruneseg.data.classes import CITYSCAPES_CLASSES


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
        image_dir = folder.image_dir(root, split)
        pairs = [(image, folder.mask_path(root, split, image), image.stem)
                 for image in folder.image_files(root, split)]
        layout = folder.LAYOUT
    else:
        lookup = cityscapes.LOOKUP
        image_dir = cityscapes.image_dir(root, split)
        pairs = [(image, cityscapes.mask_path(root, split, image), cityscapes.sample_name(image))
                 for image in cityscapes.image_files(root, split)]
        layout = f"{cityscapes.LAYOUT}, or a {folder.CLASSES_FILE} with images/<split>/ and masks/<split>/"
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
