"""The dashboard's shared figures and overlays (``pruneseg.dashboard.charts``)."""
import numpy as np
import pytest

from pruneseg.dashboard import charts
from pruneseg.data.classes import CITYSCAPES_CLASSES, CLASS_COLORS, CLASS_NAMES, IGNORE_INDEX, ClassSet
from pruneseg.records.run import best_epoch


@pytest.fixture
def image_and_classes():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    classes = rng.integers(0, 6, (6, 8)).astype(np.uint8)
    classes[0, :] = IGNORE_INDEX
    return image, classes


def test_overlay_at_opacity_0_is_the_image(image_and_classes):
    image, classes = image_and_classes
    np.testing.assert_array_equal(charts.overlay(image, classes, CLASS_COLORS, 0.0), image)


def test_overlay_at_opacity_1_is_the_class_colours_where_labelled(image_and_classes):
    image, classes = image_and_classes
    out = charts.overlay(image, classes, CLASS_COLORS, 1.0)
    labelled = classes != IGNORE_INDEX
    np.testing.assert_array_equal(out[labelled], np.array(CLASS_COLORS, np.uint8)[classes[labelled]])
    np.testing.assert_array_equal(out[~labelled], image[~labelled])  # ignored pixels keep the image


def test_overlay_half_way_blends(image_and_classes):
    image, classes = image_and_classes
    out = charts.overlay(image, classes, CLASS_COLORS, 0.5).astype(int)
    expected = (image[1, 1].astype(int) + np.array(CLASS_COLORS[classes[1, 1]])) / 2
    assert np.all(np.abs(out[1, 1] - expected) <= 0.5)
    assert charts.overlay(image, classes, CLASS_COLORS, 0.5).dtype == np.uint8


def test_overlay_rejects_a_mask_of_another_size(image_and_classes):
    image, classes = image_and_classes
    with pytest.raises(ValueError, match="mask"):
        charts.overlay(image, classes[:-1], CLASS_COLORS, 0.5)


def test_smooth_is_bias_corrected():
    assert charts.smooth([4.0, 4.0, 4.0]) == pytest.approx([4.0, 4.0, 4.0])
    assert charts.smooth([]) == []


def test_loss_figure_has_raw_and_smoothed_traces():
    steps = [{"iteration": i, "loss": 1.0 / (i + 1), "epoch": 0} for i in range(5)]
    fig = charts.loss_figure(steps)
    assert [t.name for t in fig.data] == ["loss", "smoothed"]
    assert list(fig.data[0].x) == [0, 1, 2, 3, 4] and fig.data[0].y[-1] == pytest.approx(0.2)


def test_miou_figure_marks_the_best_epoch():
    epochs = [{"epoch": e, "miou": m, "pixel_accuracy": 0.9} for e, m in enumerate([0.2, 0.5, 0.4])]
    fig = charts.miou_figure(epochs)
    traces = {t.name: t for t in fig.data}
    assert list(traces["mIoU"].x) == [1, 2, 3] and list(traces["mIoU"].y) == [0.2, 0.5, 0.4]
    assert list(traces["best"].x) == [2] and list(traces["best"].y) == [0.5]
    assert best_epoch([]) is None and len(charts.miou_figure([]).data) == 1


def test_class_iou_figure_skips_absent_classes_and_uses_class_colours():
    fig = charts.class_iou_figure([0.5, 0.4, None, 0.1, 0.2, 0.3], CITYSCAPES_CLASSES)
    bar = fig.data[0]
    assert list(bar.x) == [n for n in CLASS_NAMES if n != "sky"]
    assert list(bar.y) == [0.5, 0.4, 0.1, 0.2, 0.3]
    assert bar.marker.color[0] == charts.rgb(CLASS_COLORS[0])


def test_class_share_sums_rows_and_counts_ignored():
    counts = np.array([[1, 0, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 4, 0]])
    share = charts.class_share(counts, CITYSCAPES_CLASSES)
    assert list(share) == [*CLASS_NAMES, "ignored"]
    assert share["other"] == pytest.approx(3 / 8) and share["bike"] == pytest.approx(4 / 8)
    assert share["ignored"] == pytest.approx(1 / 8) and sum(share.values()) == pytest.approx(1)
    assert set(charts.class_share(np.zeros(7), CITYSCAPES_CLASSES).values()) == {0.0}
    fig = charts.class_share_figure(counts, CITYSCAPES_CLASSES)
    assert list(fig.data[0].y) == pytest.approx([37.5, 0, 0, 0, 0, 50, 12.5])


def test_legend_names_every_class():
    html = charts.legend_html(CITYSCAPES_CLASSES)
    assert all(name in html for name in CLASS_NAMES) and charts.rgb(CLASS_COLORS[3]) in html


def test_class_iou_epochs_figure_draws_a_line_per_scored_class_and_marks_the_best():
    epochs = [{"epoch": e, "miou": m, "iou": [0.5 + e / 10, 0.4, None, 0.1 * e, 0.2, None]}
              for e, m in enumerate((0.3, 0.5, 0.4))]
    fig = charts.class_iou_epochs_figure(epochs, CITYSCAPES_CLASSES)
    assert [trace.name for trace in fig.data] == ["other", "static", "person", "vehicle"]  # sky, bike never scored
    assert list(fig.data[0].x) == [1, 2, 3] and fig.data[2].y[2] == pytest.approx(0.2)
    assert fig.data[0].line.color == charts.rgb(CLASS_COLORS[0])
    assert fig.layout.shapes[0].x0 == 2  # the best epoch (mIoU 0.5)


def test_a_dataset_of_its_own_draws_its_classes_in_its_colours():
    classes = ClassSet(("road", "car", "tree"), ((1, 2, 3), (4, 5, 6), (7, 8, 9)))
    share = charts.class_share([3, 0, 1, 4], classes)
    assert list(share) == ["road", "car", "tree", "ignored"] and share["ignored"] == pytest.approx(0.5)
    fig = charts.class_share_figure([3, 0, 1, 4], classes)
    assert list(fig.data[0].x) == ["road", "car", "tree", "ignored"] and fig.data[0].marker.color[2] == "rgb(7, 8, 9)"
    html = charts.legend_html(classes)
    assert "tree" in html and "rgb(4, 5, 6)" in html and "person" not in html
    out = charts.overlay(np.zeros((1, 4, 3), np.uint8), np.array([[0, 1, 2, 3]], np.uint8), classes.colors, 1.0)
    assert out[0, 2].tolist() == [7, 8, 9] and out[0, 3].tolist() == [0, 0, 0]  # class 3 is not one: ignored


def test_thumbnails_hatch_a_class_whose_hue_another_class_has():
    assert charts.hatched_classes(CLASS_COLORS) == [5]  # bike, crimson like person; no other pair
    assert charts.hatched_classes([(255, 0, 0), (0, 0, 255), (128, 128, 128), (120, 120, 120)]) == []
    classes = np.full((12, 12), 5, np.uint8)
    classes[:, :6] = 3
    image = charts.overlay(np.zeros((12, 12, 3), np.uint8), classes, CLASS_COLORS, 1.0)
    out = charts.hatch(image, classes, CLASS_COLORS)
    bike, person = out[:, 6:].reshape(-1, 3), out[:, :6].reshape(-1, 3)
    assert {tuple(c) for c in bike} == {CLASS_COLORS[5], charts.HATCH_COLOR}
    assert 0.2 < (bike == charts.HATCH_COLOR).all(1).mean() < 0.5 and {tuple(c) for c in person} == {CLASS_COLORS[3]}
    np.testing.assert_array_equal(image[:, :6], out[:, :6])  # a new array; the input is left alone
    assert "repeating-linear-gradient" in charts.legend_html(CITYSCAPES_CLASSES)  # the legend draws it so too
