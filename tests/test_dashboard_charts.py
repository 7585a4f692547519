"""The dashboard's Streamlit-free helpers: overlays, figures, formatting, table rows, checks."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import make_dataset
from pruneseg.dashboard import charts, helpers
from pruneseg.data.classes import CLASS_COLORS, CLASS_NAMES, IGNORE_INDEX


@pytest.fixture
def image_and_classes():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    classes = rng.integers(0, 6, (6, 8)).astype(np.uint8)
    classes[0, :] = IGNORE_INDEX
    return image, classes


def test_overlay_at_opacity_0_is_the_image(image_and_classes):
    image, classes = image_and_classes
    np.testing.assert_array_equal(charts.overlay(image, classes, 0.0), image)


def test_overlay_at_opacity_1_is_the_class_colours_where_labelled(image_and_classes):
    image, classes = image_and_classes
    out = charts.overlay(image, classes, 1.0)
    labelled = classes != IGNORE_INDEX
    np.testing.assert_array_equal(out[labelled], np.array(CLASS_COLORS, np.uint8)[classes[labelled]])
    np.testing.assert_array_equal(out[~labelled], image[~labelled])  # ignored pixels keep the image


def test_overlay_half_way_blends(image_and_classes):
    image, classes = image_and_classes
    out = charts.overlay(image, classes, 0.5).astype(int)
    expected = (image[1, 1].astype(int) + np.array(CLASS_COLORS[classes[1, 1]])) / 2
    assert np.all(np.abs(out[1, 1] - expected) <= 0.5)
    assert charts.overlay(image, classes, 0.5).dtype == np.uint8


def test_overlay_rejects_a_mask_of_another_size(image_and_classes):
    image, classes = image_and_classes
    with pytest.raises(ValueError, match="mask"):
        charts.overlay(image, classes[:-1], 0.5)


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
    assert charts.best_epoch([]) is None and len(charts.miou_figure([]).data) == 1


def test_class_iou_figure_skips_absent_classes_and_uses_class_colours():
    fig = charts.class_iou_figure([0.5, 0.4, None, 0.1, 0.2, 0.3])
    bar = fig.data[0]
    assert list(bar.x) == [n for n in CLASS_NAMES if n != "sky"]
    assert list(bar.y) == [0.5, 0.4, 0.1, 0.2, 0.3]
    assert bar.marker.color[0] == charts.rgb(CLASS_COLORS[0])


def test_class_share_sums_rows_and_counts_ignored():
    counts = np.array([[1, 0, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 4, 0]])
    share = charts.class_share(counts)
    assert list(share) == [*CLASS_NAMES, "ignored"]
    assert share["other"] == pytest.approx(3 / 8) and share["bike"] == pytest.approx(4 / 8)
    assert share["ignored"] == pytest.approx(1 / 8) and sum(share.values()) == pytest.approx(1)
    assert set(charts.class_share(np.zeros(7)).values()) == {0.0}
    fig = charts.class_share_figure(counts)
    assert list(fig.data[0].y) == pytest.approx([37.5, 0, 0, 0, 0, 50, 12.5])


def test_legend_names_every_class():
    html = charts.legend_html()
    assert all(name in html for name in CLASS_NAMES) and charts.rgb(CLASS_COLORS[3]) in html


@pytest.mark.parametrize("seconds, text", [(None, "—"), (0, "0 s"), (42.4, "42 s"), (185, "3 min 05 s"),
                                           (3720, "1 h 02 min")])
def test_format_duration(seconds, text):
    assert helpers.format_duration(seconds) == text


def test_progress_summary():
    assert helpers.progress_summary({}) == (None, "—", "—")
    fraction, count, eta = helpers.progress_summary({"done": 25, "total": 100, "eta_seconds": 90})
    assert fraction == 0.25 and count == "25 / 100" and eta == "1 min 30 s"


def test_size_problem():
    assert helpers.size_problem("fpn", 256, 512) is None
    assert "multiples of 32" in helpers.size_problem("fpn", 240, 512)
    assert helpers.size_problem("unet", 240, 512) is None
    assert "choose one of: fpn, unet" in helpers.size_problem("segformer", 256, 512)


def test_run_name_problem(tmp_path):
    (tmp_path / "taken").mkdir()
    assert helpers.run_name_problem("fpn-1", tmp_path) is None
    assert "already exists" in helpers.run_name_problem("taken", tmp_path)
    assert "letters, digits" in helpers.run_name_problem("../escape", tmp_path)


def test_job_rows_and_run_dir():
    job = SimpleNamespace(id="j1", kind="train", status="running", created=0.0, message="", error="",
                          argv=["train", "--out", "/ws/runs/r1"],
                          progress={"done": 3, "total": 4, "eta_seconds": 5, "desc": "train fpn"})
    row = helpers.job_rows([job])[0]
    assert row["progress"] == 75.0 and row["ETA"] == "5 s" and row["run"] == "r1" and row["status"] == "Running"
    assert helpers.job_run_dir(job).name == "r1" and "r1" in helpers.job_label(job)
    assert helpers.argv_value(["--out"], "--out") is None


def test_run_rows():
    run = {"name": "r", "config": {"model": "unet", "height": 64, "width": 128, "epochs": 5, "data": "/d/synth"},
           "epochs_done": 2, "best": {"miou": 0.51234, "epoch": 1}, "best_checkpoint": None}
    row = helpers.run_rows([run])[0]
    assert row["epochs"] == "2 / 5" and row["size"] == "64x128" and row["best mIoU"] == 0.5123
    assert row["best epoch"] == "2" and row["dataset"] == "synth"


def test_list_datasets_and_checkpoints(tmp_path):
    make_dataset(tmp_path / "datasets" / "other", train=1, val=1)
    builtin = make_dataset(tmp_path / "datasets" / "synthcity", train=3, val=2)
    (builtin / "synthcity.json").write_text(json.dumps({"seed": 0}))
    rows = helpers.list_datasets(tmp_path)
    assert [r["name"] for r in rows] == ["synthcity", "other"]
    assert rows[0]["builtin"] and rows[0]["train images"] == 3 and rows[0]["info"] == {"seed": 0}
    assert helpers.list_datasets(tmp_path / "missing") == []
    (tmp_path / "runs" / "r").mkdir(parents=True)
    (tmp_path / "runs" / "r" / "model_best.pt").write_bytes(b"x" * 10)
    assert [c["file"] for c in helpers.list_checkpoints(tmp_path)] == ["runs/r/model_best.pt"]


def test_folder_stamp_changes_when_a_city_gains_an_image(tmp_path):
    root = make_dataset(tmp_path / "d", train=1, val=1)
    before = helpers.folder_stamp(root, "train")
    image = next((root / "leftImg8bit" / "train").rglob("*.png"))
    (image.parent / "new_leftImg8bit.png").write_bytes(image.read_bytes())
    assert helpers.folder_stamp(root, "train") != before
    assert helpers.image_size(image) == (128, 64) and helpers.image_size(tmp_path / "none.png") == (0, 0)
