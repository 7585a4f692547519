"""The 6-class reduction of Cityscapes (reference section 1).

Masks on disk hold Cityscapes *label ids*; everything else in PruneSeg works with
reduced class indices 0..5, and ``IGNORE_INDEX`` (255) for pixels that are neither
scored nor trained on.
"""
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


def colorize(classes):
    """Colour a class mask (H, W) as RGB uint8 (H, W, 3); ignored pixels are black."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[:NUM_CLASSES] = CLASS_COLORS
    return palette[np.asarray(classes, dtype=np.uint8)]
