import numpy as np
import pytest

from pruneseg.data.classes import (CLASS_COLORS, CLASS_NAMES, IGNORE_INDEX, NUM_CLASSES, colorize,
                                   label_ids_to_classes)
from pruneseg.metrics import ConfusionMatrix

# the seed project's 6-class table, written out independently of ``LABEL_ID_TO_CLASS``
EXPECTED = {0: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 22], 1: [11, 12, 13, 14, 15, 16, 17, 18], 2: [23],
            3: [24, 25], 4: [26, 27, 28], 5: [32, 33]}


@pytest.mark.parametrize("label_id", list(range(-1, 256)))
def test_every_label_id_maps_as_the_reference_says(label_id):
    expected = next((c for c, ids in EXPECTED.items() if label_id in ids), IGNORE_INDEX)
    assert label_ids_to_classes(np.array([[label_id]]))[0, 0] == expected


def test_ignored_ids_include_vegetation_traffic_and_trains():
    for label_id in (19, 20, 21, 29, 30, 31, -1, 34, 255):
        assert label_ids_to_classes(np.array([label_id]))[0] == IGNORE_INDEX


def test_six_classes_with_names_and_colours():
    assert NUM_CLASSES == len(CLASS_NAMES) == len(CLASS_COLORS) == 6
    rgb = colorize(np.array([[0, 5, IGNORE_INDEX]]), CLASS_COLORS)
    assert rgb.shape == (1, 3, 3)
    assert tuple(rgb[0, 1]) == CLASS_COLORS[5] and tuple(rgb[0, 2]) == (0, 0, 0)


def test_perfect_prediction_scores_one():
    target = np.array([[0, 1, 2], [3, 4, 5]])
    cm = ConfusionMatrix(6)
    cm.update(target, target)
    result = cm.compute()
    assert result["miou"] == 1.0 and result["pixel_accuracy"] == 1.0


def test_known_prediction_miou():
    target = np.array([0, 0, 1, 1])
    prediction = np.array([0, 1, 1, 1])
    cm = ConfusionMatrix(2)
    cm.update(target, prediction)
    result = cm.compute()
    # class 0: tp 1, union 2 -> 0.5; class 1: tp 2, union 3 -> 2/3
    assert result["iou"] == pytest.approx([0.5, 2 / 3])
    assert result["miou"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert result["pixel_accuracy"] == pytest.approx(0.75)


def test_ignored_pixels_never_count():
    target = np.array([0, IGNORE_INDEX, IGNORE_INDEX, 1])
    prediction = np.array([0, 1, 0, 1])
    cm = ConfusionMatrix(2)
    cm.update(target, prediction)
    assert cm.matrix.sum() == 2
    assert cm.compute()["miou"] == 1.0


def test_absent_class_is_left_out_of_the_mean():
    cm = ConfusionMatrix(3)
    cm.update(np.array([0, 1]), np.array([0, 1]))
    result = cm.compute()
    assert result["iou"][2] is None and result["miou"] == 1.0


def test_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    cm = ConfusionMatrix(6)
    cm.update(torch.tensor([[1, 2]]), torch.tensor([[1, 3]]))
    assert cm.matrix[1, 1] == 1 and cm.matrix[2, 3] == 1
