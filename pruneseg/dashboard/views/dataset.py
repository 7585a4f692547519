"""What the Dataset page needs beyond the shared charts: cache keys and image sizes. No Streamlit, no torch."""
import os
from pathlib import Path

from PIL import Image

from pruneseg.data.folder import CLASSES_FILE

SPLIT_FOLDERS = ("leftImg8bit", "gtFine", "images", "masks")  # the Cityscapes layout's, then the folder layout's


def folder_stamp(root, split):
    """A tuple that changes when images of a split are added or removed, or ``classes.json`` changes (a
    cache key)."""
    classes_file = Path(root) / CLASSES_FILE
    stamps = [classes_file.stat().st_mtime_ns if classes_file.is_file() else 0]
    for kind in SPLIT_FOLDERS:
        folder = Path(root) / kind / split
        if folder.is_dir():
            stamps += [folder.stat().st_mtime_ns, len(os.listdir(folder))]  # counts: coarse clocks
            for city in (c for c in folder.iterdir() if c.is_dir()):
                stamps += [city.stat().st_mtime_ns, len(os.listdir(city))]
    return tuple(stamps)


def image_size(path):
    """(width, height) of an image file, or (0, 0) when it cannot be read."""
    try:
        with Image.open(path) as image:
            return image.size
    except OSError:
        return 0, 0
