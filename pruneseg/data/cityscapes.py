"""The Cityscapes layout: where its images and label-id masks are, and what its mask values mean.

``ROOT/leftImg8bit/<split>/<city>/<name>_leftImg8bit.png`` holds the images and
``ROOT/gtFine/<split>/<city>/<name>_gtFine_labelIds.png`` the label-id masks, reduced to the
built-in 6 classes (``pruneseg.data.classes``). The built-in synthcity dataset is written in this
layout. ``pruneseg.data.samples`` reads it. Torch-free.
"""
from pathlib import Path

from pruneseg.data.classes import LABEL_ID_LOOKUP

IMAGE_SUFFIX = "_leftImg8bit.png"
MASK_SUFFIX = "_gtFine_labelIds.png"
LOOKUP = tuple(int(v) for v in LABEL_ID_LOOKUP)  # every label id is a class or ignored
LAYOUT = f"leftImg8bit/<split>/<city>/*{IMAGE_SUFFIX} and gtFine/<split>/<city>/*{MASK_SUFFIX}"


def image_dir(root, split):
    """The folder of one split's images (one sub-folder per city)."""
    return Path(root) / "leftImg8bit" / split


def image_files(root, split):
    """The image files of one split, sorted (an empty list when the folder is missing)."""
    return sorted(image_dir(root, split).glob(f"*/*{IMAGE_SUFFIX}"))


def sample_name(image):
    """``<name>`` of ``<name>_leftImg8bit.png``."""
    return Path(image).name[: -len(IMAGE_SUFFIX)]


def mask_path(root, split, image):
    """Where the label-id mask of ``image`` must be."""
    image = Path(image)
    return Path(root) / "gtFine" / split / image.parent.name / (sample_name(image) + MASK_SUFFIX)
