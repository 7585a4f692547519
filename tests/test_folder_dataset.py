"""A dataset of one's own (the folder layout with ``classes.json``): reading it, its errors, and a 3-class
model taken through train, analyse, prune, export and compile with the class count flowing from the data."""
import json

import numpy as np
import pytest
import torch
from conftest import FOLDER_CLASSES, make_dataset, make_folder_dataset
from PIL import Image

from pruneseg.checkpoint import load_checkpoint, load_model
from pruneseg.cli import main as cli_main
from pruneseg.data import DatasetError
from pruneseg.data.samples import dataset_classes, read_sample, scan_split
from pruneseg.data.classes import CITYSCAPES_CLASSES, CLASS_NAMES, IGNORE_INDEX, classes_of
from pruneseg.evaluate import evaluate_checkpoint

NAMES = ["road", "car", "tree"]


def test_scan_and_read_map_mask_values_to_the_datasets_classes(folder_dataset):
    classes = dataset_classes(folder_dataset)
    assert list(classes.names) == NAMES and classes.colors[2] == (107, 142, 35)
    samples = scan_split(folder_dataset, "train")
    assert [s.name for s in samples] == ["frame000", "frame001", "frame002", "frame003"]
    assert samples[0].image.suffix == ".jpg" and samples[0].mask == folder_dataset / "masks/train/frame000.png"
    image, mask = read_sample(samples[1])
    assert image.shape == (32, 64, 3) and mask.dtype == np.uint8
    assert mask[0, 0] == 2 and mask[10, 0] == 1 and mask[15, 0] == 1 and mask[20, 0] == 0  # tree, car (2 and 3), road
    assert mask[-1, 0] == IGNORE_INDEX  # value 0 is ignored
    assert dataset_classes(make_dataset(folder_dataset.parent / "city", train=1, val=1)) == CITYSCAPES_CLASSES


def test_a_records_classes_and_the_builtin_six_for_records_older_than_them():
    assert classes_of({}) == CITYSCAPES_CLASSES
    assert classes_of({"class_names": list(CLASS_NAMES)}) == CITYSCAPES_CLASSES  # names without colours
    own = classes_of({"class_names": ["a", "b"], "class_colors": [[1, 2, 3], [4, 5, 6]]})
    assert own.names == ("a", "b") and own.colors[1] == (4, 5, 6) and own.index("b") == 1 and len(own) == 2
    assert own.record() == {"class_names": ["a", "b"], "class_colors": [[1, 2, 3], [4, 5, 6]]}
    assert len(set(classes_of({"class_names": list("abcdefgh")}).colors)) == 8


def test_an_unlisted_mask_value_names_the_mask_and_the_value(folder_dataset):
    mask = folder_dataset / "masks" / "val" / "frame001.png"
    values = np.asarray(Image.open(mask)).copy()
    values[5, 5] = 9
    Image.fromarray(values).save(mask)
    sample = scan_split(folder_dataset, "val")[1]
    with pytest.raises(DatasetError, match=f"{mask}: mask value 9 is in no class's values and not ignored"):
        read_sample(sample)


def test_an_image_without_its_mask_names_the_expected_mask(folder_dataset):
    (folder_dataset / "masks" / "train" / "frame002.png").unlink()
    expected = folder_dataset / "masks" / "train" / "frame002.png"
    with pytest.raises(DatasetError, match=f"frame002.png: no mask; expected {expected}"):
        scan_split(folder_dataset, "train")


def _with(change):
    spec = json.loads(json.dumps(FOLDER_CLASSES))
    change(spec)
    return json.dumps(spec)


@pytest.mark.parametrize("text, problem", [
    ('{"classes": [', "unreadable"),
    ('{"labels": []}', 'expected {"classes"'),
    (_with(lambda s: s["classes"][1].pop("name")), "class 1 has no name"),
    (_with(lambda s: s["classes"][0].pop("values")), "class 'road' needs a list of mask values, got None"),
    (_with(lambda s: s["classes"][2]["values"].append(3)), "mask value 3 is given to both class 'car' and class 'tree'"),
    (_with(lambda s: s["ignore"].append(1)), "mask value 1 is given to both class 'road' and ignore"),
    (_with(lambda s: s["classes"][1].update(color=[0, 0])), r"class 'car' has colour \[0, 0\]; give \[r, g, b\]"),
    (_with(lambda s: s["classes"][1].update(color=[0, 0, 300])), "class 'car' has colour"),
    (_with(lambda s: s["classes"][0].update(values=[256])), "class 'road' lists mask value 256; mask values are 0..255"),
    (_with(lambda s: s["classes"].append(dict(s["classes"][0], values=[9]))), "class 'road' is listed twice"),
])
def test_a_malformed_classes_file_names_the_file_and_the_problem(folder_dataset, text, problem):
    (folder_dataset / "classes.json").write_text(text)
    with pytest.raises(DatasetError, match=f"{folder_dataset / 'classes.json'}: {problem}"):
        scan_split(folder_dataset, "train")
    with pytest.raises(DatasetError, match=problem):
        dataset_classes(folder_dataset)


def test_data_stats_prints_the_datasets_classes(folder_dataset, capsys):
    cli_main(["data", "stats", "--root", str(folder_dataset), "--split", "val"])
    out = capsys.readouterr().out
    assert "2 images, 3 classes" in out and all(name in out for name in NAMES) and "person" not in out
    cli_main(["data", "stats", "--root", str(folder_dataset), "--split", "val", "--json"])
    stats = json.loads(capsys.readouterr().out)
    assert stats["class_names"] == NAMES and stats["class_pixels"][1] == 2 * 13 * 64  # car: two bands, 13 rows per image


def test_the_workspace_lists_folder_datasets_with_their_classes(tmp_path):
    from pruneseg.dashboard import checks
    from pruneseg.workspace import listing

    own = make_folder_dataset(tmp_path / "datasets" / "own")
    make_dataset(tmp_path / "datasets" / "city", train=1, val=1)
    broken = make_folder_dataset(tmp_path / "datasets" / "broken", train=1, val=1)
    (broken / "classes.json").write_text("{")
    rows = {row["name"]: row for row in listing.list_datasets(tmp_path)}
    assert rows["own"]["layout"] == "folder" and rows["own"]["classes"] == NAMES
    assert rows["own"]["train images"] == 4 and rows["own"]["val images"] == 2 and rows["own"]["problem"] is None
    assert rows["city"]["layout"] == "cityscapes" and len(rows["city"]["classes"]) == 6
    assert rows["broken"]["classes"] == [] and rows["broken"]["problem"].startswith(f"{broken / 'classes.json'}: unreadable")
    assert checks.dataset_problem(str(own), "val") is None
    assert checks.dataset_problem(str(own), "test").startswith(f"{own}: no test images there")
    assert checks.dataset_problem(str(broken), "train") == rows["broken"]["problem"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """A 3-class dataset taken through train, analyze, prune and export by the command line: its folders."""
    root = tmp_path_factory.mktemp("own")
    data = make_folder_dataset(root / "data")
    run, analysis, pruned, deploy = root / "run", root / "analysis.json", root / "pruned", root / "deploy"
    cli_main(["train", "--data", str(data), "--out", str(run), "--height", "32", "--width", "64", "--epochs", "1",
              "--batch-size", "2", "--workers", "0"])
    checkpoint = run / "model_best.pt"
    cli_main(["analyze", "--checkpoint", str(checkpoint), "--data", str(data), "--out", str(analysis),
              "--no-runtime", "--images", "2", "--ratios", "0.5", "--bn-batches", "1", "--batch-size", "2",
              "--curve-stride", "18"])
    cli_main(["prune", "--checkpoint", str(checkpoint), "--data", str(data), "--analysis", str(analysis),
              "--out", str(pruned), "--iterations", "1", "--step", "0.2", "--max-epochs", "1", "--workers", "0",
              "--guard", "car=0.5"])
    cli_main(["export", "--checkpoint", str(pruned / "iter_1.pt"), "--data", str(data), "--out", str(deploy),
              "--parity-images", "2"])
    return {"data": data, "checkpoint": checkpoint, "analysis": analysis, "pruned": pruned, "deploy": deploy}


def test_training_builds_a_model_of_the_datasets_classes(pipeline):
    model, checkpoint = load_model(pipeline["checkpoint"])
    assert model(torch.zeros(1, 3, 32, 64)).shape == (1, 3, 32, 64)
    assert checkpoint["num_classes"] == 3 and checkpoint["class_names"] == NAMES
    assert checkpoint["class_colors"][1] == [0, 0, 142] and len(checkpoint["metrics"]["iou"]) == 3
    config = json.loads((pipeline["checkpoint"].parent / "config.json").read_text())
    assert classes_of(config).names == tuple(NAMES)


def test_analysis_and_pruning_record_three_classes(pipeline):
    analysis = json.loads(pipeline["analysis"].read_text())
    assert analysis["class_names"] == NAMES and len(analysis["baseline"]["iou"]) == 3
    assert all(len(cell["iou"]) == 3 for cells in analysis["cells"].values() for cell in cells.values())
    state = json.loads((pipeline["pruned"] / "pruning.json").read_text())
    assert state["class_names"] == NAMES and len(state["dense"]["iou"]) == 3
    assert [len(i["iou"]) for i in state["iterations"]] == [3]
    snapshot = load_checkpoint(pipeline["pruned"] / "iter_1.pt")
    assert snapshot["num_classes"] == 3 and snapshot["class_names"] == NAMES


def test_a_guard_on_a_class_the_run_lacks_is_refused(pipeline, tmp_path):
    from pruneseg import prune_loop
    from pruneseg.config import PruneConfig
    from pruneseg.errors import PruneSegError

    with pytest.raises(PruneSegError, match="unknown class 'person'; classes: road, car, tree"):
        prune_loop.main(PruneConfig(checkpoint=str(pipeline["checkpoint"]), data=str(pipeline["data"]),
                                    analysis=str(pipeline["analysis"]), out=str(tmp_path / "p"), iterations=1,
                                    step=0.2, guards={"person": 0.1}, workers=0))


def test_export_and_package_carry_the_three_classes(pipeline, tmp_path):
    from pruneseg.deploy.compile import compile_model
    from pruneseg.deploy.onnx_meta import get_metadata, load_onnx

    metadata = get_metadata(load_onnx(pipeline["deploy"] / "model_fp32.onnx"))
    assert metadata["class_names"] == NAMES and metadata["num_classes"] == 3
    manifest = compile_model(pipeline["deploy"] / "model_fp32.onnx", "ort-cpu", tmp_path / "package")
    assert manifest["class_names"] == NAMES
    assert manifest["class_colors"] == [c["color"] for c in FOLDER_CLASSES["classes"]]


def test_a_dataset_with_other_classes_is_refused_naming_both_counts(pipeline, tmp_path):
    from pruneseg import analyze
    from pruneseg.config import AnalyzeConfig
    from pruneseg.deploy.export import export_checkpoint

    city = make_dataset(tmp_path / "city", train=2, val=1)
    message = f"{city}: the dataset has 6 classes .* but {pipeline['checkpoint']} has 3 \\(road, car, tree\\)"
    with pytest.raises(DatasetError, match=message):
        evaluate_checkpoint(pipeline["checkpoint"], city, workers=0)
    with pytest.raises(DatasetError, match=message):
        analyze.main(AnalyzeConfig(checkpoint=str(pipeline["checkpoint"]), data=str(city),
                                   out=str(tmp_path / "a.json"), runtime=False))
    with pytest.raises(DatasetError, match=message):
        export_checkpoint(pipeline["checkpoint"], tmp_path / "export", data=str(city))
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "export" / "model_fp32.onnx").exists()
