"""What the Dataset page needs beyond the shared charts: cache keys and image sizes. No Streamlit, no torch."""
import os
from pathlib import Path

from PIL import Image


def folder_stamp(root, split):
    """A tuple that changes when images of a split are added or removed (a cache key)."""
    stamps = []
    for kind in ("leftImg8bit", "gtFine"):
        folder = Path(root) / kind / split
        if folder.is_dir():
            stamps.append(folder.stat().st_mtime_ns)
            for city in (c for c in folder.iterdir() if c.is_dir()):
                stamps += [city.stat().st_mtime_ns, len(os.listdir(city))]  # counts: coarse clocks
    return tuple(stamps)


def image_size(path):
    """(width, height) of an image file, or (0, 0) when it cannot be read."""
    try:
        with Image.open(path) as image:
            return image.size
    except OSError:
        return 0, 0
