"""Class sets: a dataset's class names and colours, and the built-in 6-class reduction of Cityscapes
(the seed project's table, ``LABEL_ID_TO_CLASS``: vegetation is ignored while terrain is class 0).

Cityscapes masks on disk hold *label ids*, reduced here to class indices 0..5; a folder dataset
names its own classes (``pruneseg.data.folder``). Everything else in PruneSeg works with class
indices 0..K-1, and ``IGNORE_INDEX`` (255) for pixels that are neither scored nor trained on.
Torch-free.
"""
from dataclasses import dataclass

import numpy as np

IGNORE_INDEX = 255
NUM_CLASSES = 6
CLASS_NAMES = ("other", "static", "sky", "person", "vehicle", "bike")
# RGB colours for overlays and legends, in class order.
CLASS_COLORS = (
    (128, 64, 128),
    (70, 70, 70),
    (70, 130, 180),
    (220, 20, 60),
    (0, 0, 142),
    (119, 11, 32),
)

# Cityscapes label id -> reduced class; every id not listed here is ignored.
LABEL_ID_TO_CLASS = {
    0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0, 22: 0,
    11: 1, 12: 1, 13: 1, 14: 1, 15: 1, 16: 1, 17: 1, 18: 1,
    23: 2,
    24: 3, 25: 3,
    26: 4, 27: 4, 28: 4,
    32: 5, 33: 5,
}


def _build_lookup():
    lookup = np.full(256, IGNORE_INDEX, dtype=np.uint8)
    for label_id, class_index in LABEL_ID_TO_CLASS.items():
        lookup[label_id] = class_index
    return lookup


LABEL_ID_LOOKUP = _build_lookup()


def label_ids_to_classes(label_ids):
    """Map a Cityscapes label-id mask to reduced classes.

    Args:
        label_ids: integer array (H, W) of Cityscapes label ids. Ids outside 0..255
            (the license plate's -1) and unlisted ids become ``IGNORE_INDEX``.
    Returns:
        uint8 array (H, W) of class indices 0..5 or ``IGNORE_INDEX``.
    """
    label_ids = np.asarray(label_ids)
    out = np.full(label_ids.shape, IGNORE_INDEX, dtype=np.uint8)
    valid = (label_ids >= 0) & (label_ids <= 255)
    out[valid] = LABEL_ID_LOOKUP[label_ids[valid].astype(np.int64)]
    return out


@dataclass(frozen=True)
class ClassSet:
    """The classes a dataset defines and a model predicts, in class-index order.

    Attributes:
        names: tuple of K class names.
        colors: tuple of K ``(r, g, b)`` colours for overlays and legends.
    """

    names: tuple
    colors: tuple

    def __len__(self):
        return len(self.names)

    def index(self, name):
        return self.names.index(name)

    def record(self):
        """``{"class_names", "class_colors"}``: how records, checkpoints and manifests store the set."""
        return {"class_names": list(self.names), "class_colors": [list(color) for color in self.colors]}


CITYSCAPES_CLASSES = ClassSet(CLASS_NAMES, CLASS_COLORS)


def palette(count):
    """``count`` RGB colours: the built-in classes' colours, then fixed pseudo-random ones."""
    colors = [tuple(color) for color in CLASS_COLORS[:count]]
    rng = np.random.default_rng(0)
    while len(colors) < count:
        colors.append(tuple(int(v) for v in rng.integers(0, 256, 3)))
    return tuple(colors)


def classes_of(record):
    """The classes a record was made with: a checkpoint, run config, analysis, pruning state,
    inspection, ONNX metadata or manifest (any dict with ``class_names``, ``class_colors``).

    Records older than these fields were made with the built-in 6 classes; a record with names but
    no colours gets ``palette`` colours.
    """
    names = record.get("class_names")
    if not names:
        return CITYSCAPES_CLASSES
    colors = record.get("class_colors") or palette(len(names))
    return ClassSet(tuple(names), tuple(tuple(color) for color in colors))


def colorize(classes, colors):
    """Colour a class mask (H, W) as RGB uint8 (H, W, 3) with ``colors`` (one per class); ignored pixels
    are black."""
    table = np.zeros((256, 3), dtype=np.uint8)
    table[:len(colors)] = colors
    return table[np.asarray(classes, dtype=np.uint8)]
