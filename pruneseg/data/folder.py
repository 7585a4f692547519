"""The generic folder layout, for a dataset of your own.

``ROOT/classes.json`` names the classes, ``ROOT/images/<split>/*.png|*.jpg`` holds the images and
``ROOT/masks/<split>/<image stem>.png`` their masks: one channel of mask values, which
``classes.json`` maps to classes::

    {"classes": [{"name": "road", "color": [128, 64, 128], "values": [1]},
                 {"name": "car", "color": [0, 0, 142], "values": [2, 3]}],
     "ignore": [0, 255]}

Class ``k`` is the k-th entry; its ``values`` are the mask values that mean it. Values in ``ignore``
are neither trained on nor scored (``IGNORE_INDEX``); any other value in a mask is an error.
"""
import json
from pathlib import Path

from pruneseg.data import DatasetError
from pruneseg.data.classes import IGNORE_INDEX, ClassSet

CLASSES_FILE = "classes.json"
IMAGE_TYPES = (".png", ".jpg", ".jpeg")
UNLISTED = -1  # the lookup entry of a mask value that no class and no ignore lists
MASK_VALUES = 256  # masks are 8-bit
LAYOUT = f"images/<split>/*{'|*'.join(IMAGE_TYPES)} and masks/<split>/<image stem>.png"


def is_folder_dataset(root):
    """Whether ``root`` is in the folder layout (it holds ``classes.json``)."""
    return (Path(root) / CLASSES_FILE).is_file()


def read_classes(root):
    """The classes of a folder dataset and the lookup from mask values to class indices.

    Returns:
        (ClassSet, lookup): ``lookup`` is a tuple of ``MASK_VALUES`` ints: the class index of
        each mask value, ``IGNORE_INDEX`` for ignored values, ``UNLISTED`` for the others.
    Raises:
        DatasetError naming ``classes.json`` and the problem.
    """
    path = Path(root) / CLASSES_FILE
    try:
        spec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DatasetError(f"{path}: unreadable ({error})") from error
    if not isinstance(spec, dict) or not isinstance(spec.get("classes"), list) or not spec["classes"]:
        raise DatasetError(f'{path}: expected {{"classes": [{{"name", "color", "values"}}, ...], "ignore": [...]}}')
    if len(spec["classes"]) > IGNORE_INDEX:
        raise DatasetError(f"{path}: {len(spec['classes'])} classes; at most {IGNORE_INDEX} are supported")
    lookup = [UNLISTED] * MASK_VALUES
    owner = {}  # mask value -> what claimed it, for the message when two claim one
    names, colors = [], []
    for index, entry in enumerate(spec["classes"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise DatasetError(f"{path}: class {index} has no name")
        name = entry["name"]
        what = f"class {name!r}"
        if name in names:
            raise DatasetError(f"{path}: {what} is listed twice")
        color = entry.get("color")
        if not (isinstance(color, list) and len(color) == 3 and all(_is_int(v, 256) for v in color)):
            raise DatasetError(f"{path}: {what} has colour {color!r}; give [r, g, b], each 0..255")
        _claim(path, what, entry.get("values"), index, lookup, owner)
        names.append(name)
        colors.append(tuple(color))
    _claim(path, "ignore", spec.get("ignore", []), IGNORE_INDEX, lookup, owner)
    return ClassSet(tuple(names), tuple(colors)), tuple(lookup)


def _is_int(value, end):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < end


def _claim(path, what, values, index, lookup, owner):
    """Map each of ``values`` (what a class or ``ignore`` lists) to ``index`` in ``lookup``."""
    if not isinstance(values, list) or (what != "ignore" and not values):
        raise DatasetError(f"{path}: {what} needs a list of mask values, got {values!r}")
    for value in values:
        if not _is_int(value, MASK_VALUES):
            raise DatasetError(f"{path}: {what} lists mask value {value!r}; mask values are 0..{MASK_VALUES - 1}")
        if value in owner:
            raise DatasetError(f"{path}: mask value {value} is given to both {owner[value]} and {what}")
        owner[value] = what
        lookup[value] = index


def image_dir(root, split):
    """The folder of one split's images."""
    return Path(root) / "images" / split


def image_files(root, split):
    """The image files of one split, sorted (an empty list when the folder is missing)."""
    folder = image_dir(root, split)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_TYPES and p.is_file())


def mask_path(root, split, image):
    """Where the mask of ``image`` must be."""
    return Path(root) / "masks" / split / (Path(image).stem + ".png")
