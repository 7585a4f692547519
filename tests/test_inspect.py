"""Per-image metrics against hand-made masks, the inspect job on tiny models (a checkpoint and a
compiled package) with its bad input, and the Inspect views on a hand-made inspection.

``helpers_inspect.make_inspection`` writes the hand-made inspection, as ``python -m pruneseg inspect``
would, in milliseconds and without torch.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import make_dataset
from helpers_deploy import tiny_onnx
from helpers_inspect import HEIGHT, WIDTH, make_inspection
from pruneseg.cli import main as cli_main
from pruneseg.cli_args import from_args, to_argv
from pruneseg.config import InspectConfig
from pruneseg.dashboard.views import inspection as view
from pruneseg.dashboard.views import predictions
from pruneseg.data.classes import CLASS_COLORS, CLASS_NAMES, IGNORE_INDEX, NUM_CLASSES
from pruneseg.metrics import class_scores, confusion_matrix, image_metrics, mean_iou
from pruneseg.records import RecordError
from pruneseg.records.inspection import (FORMAT_VERSION, model_stamp, prediction_key, read_inspect, read_predictions,
                                         truth_key)
from pruneseg.workspace import layout, listing, naming


# --- per-image metrics against hand-made masks ------------------------------------------------

def test_image_metrics_of_hand_made_masks():
    truth = np.array([[0, 0, 3, 3],
                      [0, 5, 5, IGNORE_INDEX]])
    prediction = np.array([[0, 3, 3, 3],
                           [1, 5, 0, 4]])
    metrics = image_metrics(truth, prediction, NUM_CLASSES)
    # class 0: 3 true pixels, predicted on 2 scored ones, 1 of them right -> 1 / (3 + 2 - 1)
    # class 3: 2 right + 1 false positive -> 2/3; class 5: 1 right, 1 missed -> 1/2
    # class 1: predicted once, never true -> 0; class 4: predicted only on an ignored pixel -> unknown
    assert metrics["iou"] == [pytest.approx(0.25), 0.0, None, pytest.approx(2 / 3), None, pytest.approx(0.5)]
    assert metrics["pixels"] == [3, 0, 0, 2, 0, 2]
    assert mean_iou(metrics["iou"]) == pytest.approx((0.25 + 0 + 2 / 3 + 0.5) / 4)
    assert mean_iou([None, None]) is None


def test_precision_and_recall_come_from_the_confusion_matrix():
    truth = np.array([0, 0, 0, 0, 1, 1, 2, IGNORE_INDEX])
    prediction = np.array([0, 0, 0, 1, 1, 0, 0, 2])
    matrix = confusion_matrix(truth, prediction, 3)
    assert matrix.tolist() == [[3, 1, 0], [1, 1, 0], [1, 0, 0]]
    scores = class_scores(matrix)
    assert scores["precision"] == [pytest.approx(3 / 5), pytest.approx(1 / 2), None]  # 2 never predicted
    assert scores["recall"] == [pytest.approx(3 / 4), pytest.approx(1 / 2), 0.0]
    assert scores["iou"] == [pytest.approx(3 / 6), pytest.approx(1 / 3), 0.0]


def test_a_perfect_prediction_scores_one_on_every_present_class():
    truth = np.array([[2, 2], [4, IGNORE_INDEX]])
    metrics = image_metrics(truth, np.array([[2, 2], [4, 0]]), NUM_CLASSES)
    assert metrics["iou"] == [None, None, 1.0, None, 1.0, None]


# --- a hand-made inspection -----------------------------------------------------------------


@pytest.fixture
def inspection(tmp_path):
    return make_inspection(tmp_path / "ws")


def test_the_record_reads_and_lists(inspection):
    record = read_inspect(inspection)
    assert len(record["models"]) == 3 and len(record["images"]) == 4
    rows = listing.list_inspections(inspection.parents[1])
    assert [r["name"] for r in rows] == ["demo"] and rows[0]["problem"] is None
    assert "4 images" in predictions.result_label(rows[0])


def test_a_broken_record_is_named(tmp_path):
    path = tmp_path / "inspect" / "bad.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"version": FORMAT_VERSION, "data": "d", "split": "val", "class_names": [],
                                "input_size": [1, 1], "predictions": "x", "models": [{}], "images": [{"iou": []}]}))
    with pytest.raises(RecordError, match="bad.json"):
        read_inspect(path)
    assert listing.list_inspections(tmp_path)[0]["problem"].startswith(str(path))
    with pytest.raises(RecordError, match="predictions not found"):
        read_predictions(tmp_path / "nothing.npz", ["truth_0"])


def test_class_table_colours_the_change_against_the_first_model(inspection):
    record = read_inspect(inspection)
    table, deltas = view.class_table(record)
    bike = table[table["class"] == "bike"]
    bike_iou = record["models"][1]["iou"][5]
    assert list(bike["IoU"]) == ["1.000", f"{bike_iou:.3f}", f"{record['models'][2]['iou'][5]:.3f}"]
    assert list(bike["Δ IoU"])[:2] == ["", f"{bike_iou - 1:+.3f}"] and bike_iou < 1
    assert view.delta_style("-0.100").startswith("color: #c62828") and view.delta_style(0.1).startswith("color: #1b7f3b")
    assert view.delta_style("+0.001") == "" and view.delta_style("") == "" and view.delta_style(None) == ""
    assert set(deltas) <= set(table.columns)


def test_confusion_figure_is_row_normalised_with_class_names(inspection):
    record = read_inspect(inspection)
    heatmap = view.confusion_figure(record, 1).data[0]
    assert list(heatmap.x) == list(CLASS_NAMES)
    z = np.asarray(heatmap.z)
    present = np.asarray(record["models"][1]["confusion"]).sum(1) > 0
    assert np.allclose(z[present].sum(1), 1.0)
    assert z[5, 0] > 0  # model 1 takes some bike pixels for "other"
    layout_ = view.confusion_figure(record, 1).layout
    assert (layout_.xaxis.title.text, layout_.yaxis.title.text) == ("predicted class", "true class")


def test_images_sort_worst_first_and_the_loss_view_finds_the_damaged_image(inspection):
    record = read_inspect(inspection)
    rows = view.image_rows(record, "bike")
    assert [r["bike · A: model0"] for r in rows] == [1.0] * 4  # model 0 is perfect
    assert rows[0]["bike pixels %"] > 0 and "bike · C: model2" in rows[0]
    assert view.worst_images(record, "bike", 1, count=1) == [1]
    assert view.worst_images(record, "mIoU", 2, count=2) == sorted([1, 2], key=lambda i: view.image_score(
        record, i, 2, "mIoU"))
    losses = view.loss_rows(record, "bike", 0, 1)
    assert losses[0]["#"] == 1 and losses[0]["drop"] == pytest.approx(1.0)
    numbers = [v for row in losses + rows for k, v in row.items() if isinstance(v, float) and "pixels" not in k]
    assert numbers and all(v == round(v, 3) for v in numbers)  # three decimals, as every score
    assert view.loss_rows(record, "static", 0, 2)[0]["#"] == 2


def test_gallery_panels_show_errors_in_the_true_colour_and_who_is_right(inspection):
    record = read_inspect(inspection)
    truth, first, second = read_predictions(layout.predictions_path(inspection),
                                            [truth_key(1), prediction_key(0, 1), prediction_key(1, 1)])
    image = predictions.read_image(record, 1)
    assert image.shape == (HEIGHT, WIDTH, 3)
    panels = view.gallery_panels(record, image, truth, [first, second], [0, 1])
    assert [caption.split()[0] for caption, _ in panels] == ["image", "ground", "prediction", "errors",
                                                             "prediction", "errors", "A"]
    errors = dict(panels)[f"errors {view._short(record)[1]}"]
    bike = truth == 5
    assert np.all(errors[bike] == CLASS_COLORS[5]) and not np.any(errors[~bike] == CLASS_COLORS[5], axis=-1).all()
    truth_panel = dict(panels)["ground truth"]  # bike, crimson like person, is hatched white to tell them apart
    assert {tuple(c) for c in truth_panel[bike]} == {CLASS_COLORS[5], (255, 255, 255)}
    assert {tuple(c) for c in truth_panel[truth == 3]} == {CLASS_COLORS[3]}
    disagreement = panels[-1][1]
    assert np.all(disagreement[bike] == predictions.FIRST_RIGHT)  # only model 0 is right on the bike
    assert "differ" in panels[-1][0]


def test_a_result_is_reused_only_while_its_models_are_unchanged(inspection):
    record = read_inspect(inspection)
    results = listing.list_inspections(inspection.parents[1])
    config = InspectConfig(**{**record["config"], "out": "elsewhere.json"})
    assert view.reusable(results, config) == "demo"
    assert view.reusable(results, InspectConfig(**{**record["config"], "split": "train"})) is None
    assert view.reusable(results, InspectConfig(**{**record["config"], "models": record["config"]["models"][::-1]})) is None
    assert not view.stale_models(record)
    Path(record["models"][1]["path"]).write_bytes(b"retrained")
    assert view.reusable(results, config) is None and view.stale_models(record) == [record["models"][1]["label"]]


def test_an_inspection_of_another_dataset_is_named(inspection, tmp_path):
    record = read_inspect(inspection)
    assert predictions.dataset_problem(record, inspection, record["data"], "val") is None
    problem = predictions.dataset_problem(record, inspection, tmp_path / "other", "val")
    assert str(inspection) in problem and str(tmp_path / "other") in problem


def test_the_name_of_an_inspection_is_stable():
    first = naming.inspect_name(["/ws/runs/a/model_best.pt", "/ws/packages/p"], "/ws/data", "val")
    assert first == naming.inspect_name(["/ws/runs/a/model_best.pt", "/ws/packages/p"], "/ws/data", "val")
    assert first != naming.inspect_name(["/ws/packages/p", "/ws/runs/a/model_best.pt"], "/ws/data", "val")
    assert first.startswith("a-model_best-2m-val-") and naming.name_problem(first) is None


def test_inspect_config_round_trips_through_the_command_line():
    from pruneseg.cli import build_parser

    config = InspectConfig(models=["a.pt", "pkg"], data="d", out="o.json", split="train", images=5)
    argv = to_argv(config)
    assert argv.count("--model") == 2
    assert from_args(InspectConfig, build_parser().parse_args(argv)) == config


# --- the job on tiny models ----------------------------------------------------------------

@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A 1-epoch FPN checkpoint at 64x128, a package of a tiny 1x1-conv model at 64x128, their data."""
    from pruneseg.config import TrainConfig
    from pruneseg.deploy.compile import compile_model
    from pruneseg.train import main as train

    root = tmp_path_factory.mktemp("inspect")
    data = make_dataset(root / "data", train=2, val=3)
    train(TrainConfig(data=str(data), out=str(root / "run"), height=HEIGHT, width=WIDTH, epochs=1, batch_size=2,
                      workers=0))
    compile_model(tiny_onnx(root / "tiny.onnx", height=HEIGHT, width=WIDTH), "ort-cpu", root / "package")
    return root / "run" / "model_best.pt", root / "package", data


def test_the_job_scores_a_checkpoint_and_a_package(models, tmp_path, capsys):
    checkpoint, package, data = models
    out = tmp_path / "inspect" / "x.json"
    cli_main(["inspect", "--model", str(checkpoint), "--model", str(package), "--data", str(data), "--out", str(out),
              "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == 3 and len(summary["models"]) == 2
    record = read_inspect(out)
    assert [m["kind"] for m in record["models"]] == ["checkpoint", "package"]
    assert record["input_size"] == [HEIGHT, WIDTH]
    for m, model in enumerate(record["models"]):
        matrix = np.asarray(model["confusion"])
        assert matrix.sum() == sum(sum(image["pixels"]) for image in record["images"])  # every scored pixel
        assert model["iou"] == pytest.approx(class_scores(matrix)["iou"])
        # the per-image scores are those of the stored maps, so the page never recomputes
        for index, image in enumerate(record["images"]):
            truth, prediction = read_predictions(layout.predictions_path(out),
                                                 [truth_key(index), prediction_key(m, index)])
            assert prediction.shape == (HEIGHT, WIDTH) and prediction.dtype == np.uint8
            assert image["iou"][m] == pytest.approx(image_metrics(truth, prediction, NUM_CLASSES)["iou"], abs=1e-5)
            assert image["pixels"] == [int((truth == c).sum()) for c in range(NUM_CLASSES)]
    assert record["models"][0]["stamp"] == model_stamp(checkpoint)


def test_bad_models_are_named_and_leave_nothing_behind(models, tmp_path, capsys):
    from pruneseg.deploy.compile import compile_model

    checkpoint, package, data = models
    square = tmp_path / "square"
    compile_model(tiny_onnx(tmp_path / "sq.onnx", height=64, width=64), "ort-cpu", square)
    small = tmp_path / "small"
    compile_model(tiny_onnx(tmp_path / "small.onnx", height=32, width=64), "ort-cpu", small)
    out = tmp_path / "inspect" / "x.json"
    for model, message in ((square, "does not fit the dataset's images"), (small, "different input sizes"),
                           (tmp_path / "nothing.pt", "no checkpoint or package")):
        with pytest.raises(SystemExit):
            cli_main(["inspect", "--model", str(package), "--model", str(model), "--data", str(data),
                      "--out", str(out)])
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1, error
        assert not out.parent.exists() or not any(out.parent.iterdir())


def test_a_model_with_other_classes_is_named(models, tmp_path, capsys):
    import torch

    from pruneseg.checkpoint import load_checkpoint, save_checkpoint
    from pruneseg.models import build_model

    checkpoint, _, data = models
    saved = load_checkpoint(checkpoint)
    four = tmp_path / "four.pt"
    save_checkpoint(four, **{**saved, "model": build_model("fpn", 4).state_dict(), "num_classes": 4,
                             "class_names": ["a", "b", "c", "d"]})
    with pytest.raises(SystemExit):
        cli_main(["inspect", "--model", str(four), "--data", str(data), "--out", str(tmp_path / "x.json")])
    error = capsys.readouterr().err
    assert str(four) in error and "predicts 4 classes" in error
    assert torch  # imported for the checkpoint above


def test_an_output_of_another_dataset_is_refused(models, tmp_path, capsys):
    _, package, data = models
    out = make_inspection(tmp_path / "ws", models=1, images=1)
    before = out.read_text()
    with pytest.raises(SystemExit):
        cli_main(["inspect", "--model", str(package), "--data", str(data), "--out", str(out)])
    error = capsys.readouterr().err
    assert str(out) in error and "holds an inspection of" in error
    assert out.read_text() == before
