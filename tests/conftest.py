"""Shared test fixtures: a tiny dataset in the Cityscapes layout written in milliseconds, hand-made
job folders, a recorder of started jobs, opening a dashboard page through AppTest, the dashboard's
workspaces (empty, with the dataset, with deployed models), and a tiny FPN trained and analysed once
per module. Plain helpers shared by several test modules are in ``helpers_<topic>.py``; no test
module imports another (``test_architecture``)."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from pruneseg import jobs
from pruneseg.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
pytest.register_assert_rewrite("model_checks")  # its asserts report values as a test module's do
APPTEST_TIMEOUT = 60

# label ids of each reduced class (``pruneseg.data.classes.LABEL_ID_TO_CLASS``) painted as horizontal bands
BAND_LABEL_IDS = (23, 11, 7, 24, 26, 33, 21)  # sky, building, road, person, car, bicycle, vegetation


def make_dataset(root, train=4, val=2, height=64, width=128, seed=0):
    """Write a tiny Cityscapes-layout dataset: bands of label ids with matching colours + noise."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", train), ("val", val)):
        image_dir = root / "leftImg8bit" / split / "testcity"
        mask_dir = root / "gtFine" / split / "testcity"
        image_dir.mkdir(parents=True, exist_ok=True)
        mask_dir.mkdir(parents=True, exist_ok=True)
        for index in range(count):
            label_ids = np.zeros((height, width), np.uint8)
            edges = np.linspace(0, height, len(BAND_LABEL_IDS) + 1).astype(int)
            for label_id, top, bottom in zip(BAND_LABEL_IDS, edges[:-1], edges[1:]):
                label_ids[top:bottom] = label_id
            image = (label_ids[..., None] * np.array([7, 3, 11]) % 256).astype(np.uint8)
            image = np.clip(image + rng.integers(-10, 10, image.shape), 0, 255).astype(np.uint8)
            name = f"testcity_{index:06d}_000019"
            Image.fromarray(image).save(image_dir / f"{name}_leftImg8bit.png")
            Image.fromarray(label_ids).save(mask_dir / f"{name}_gtFine_labelIds.png")
    return root


def tiny_config(data, out, **overrides):
    """A ``TrainConfig`` for a tiny dataset: FPN at 64x128, 2 epochs of batch 2, no worker processes."""
    values = dict(model="fpn", data=str(data), out=str(out), height=64, width=128, epochs=2,
                  batch_size=2, workers=0)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture
def tiny_dataset(tmp_path):
    """A 4 + 2 image dataset of 64x128 pixels."""
    return make_dataset(tmp_path / "tiny")


# a dataset of one's own: 3 classes, "car" from two mask values, 0 and 255 ignored
FOLDER_CLASSES = {"classes": [{"name": "road", "color": [128, 64, 128], "values": [1]},
                              {"name": "car", "color": [0, 0, 142], "values": [2, 3]},
                              {"name": "tree", "color": [107, 142, 35], "values": [7]}],
                  "ignore": [0, 255]}
FOLDER_BANDS = (7, 2, 3, 1, 0)  # mask values painted as horizontal bands, top to bottom


def make_folder_dataset(root, train=4, val=2, height=32, width=64, seed=0):
    """Write a tiny dataset in the folder layout (``pruneseg.data.folder``); one image of each split is a JPEG."""
    rng = np.random.default_rng(seed)
    (root / "classes.json").parent.mkdir(parents=True, exist_ok=True)
    (root / "classes.json").write_text(json.dumps(FOLDER_CLASSES))
    for split, count in (("train", train), ("val", val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "masks" / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            mask = np.zeros((height, width), np.uint8)
            edges = np.linspace(0, height, len(FOLDER_BANDS) + 1).astype(int)
            for value, top, bottom in zip(FOLDER_BANDS, edges[:-1], edges[1:]):
                mask[top:bottom] = value
            image = (mask[..., None] * np.array([37, 71, 23]) % 256).astype(np.uint8)
            image = np.clip(image + rng.integers(-10, 10, image.shape), 0, 255).astype(np.uint8)
            suffix = ".jpg" if index == 0 else ".png"
            Image.fromarray(image).save(root / "images" / split / f"frame{index:03d}{suffix}")
            Image.fromarray(mask).save(root / "masks" / split / f"frame{index:03d}.png")
    return root


@pytest.fixture
def folder_dataset(tmp_path):
    """A 4 + 2 image, 3-class dataset of 32x64 pixels in the folder layout."""
    return make_folder_dataset(tmp_path / "own")


def write_job(workspace, kind, argv, status="done", outputs=None, config=None, pid=None, error="", progress=None,
              log="", name=None, times=(1.0e9, 1.0e9 + 12)):
    """A job folder as ``pruneseg.jobs`` leaves it, for process ``pid`` (none by default); ``times``: when
    its process started and ended."""
    path = workspace / "jobs" / (name or f"20250101-000000-{kind}-{status}")
    path.mkdir(parents=True)
    (path / "job.json").write_text(json.dumps({"id": path.name, "kind": kind, "argv": argv, "outputs": outputs or {},
                                               "config": config or {}, "created": 1.0e9, "pid": pid}))
    (path / "state.json").write_text(json.dumps({"status": status, "error": error, "message": "",
                                                 "progress": progress or {"desc": kind, "done": 2, "total": 2},
                                                 "started": times[0], "ended": times[1]}))
    (path / "log.txt").write_text(log)
    return path


@pytest.fixture
def started(monkeypatch):
    """Record ``jobs.start_job`` calls as (kind, argv) instead of starting processes."""
    calls = []

    def fake_start_job(workspace, kind, argv, outputs=None, config=None):
        calls.append((kind, argv))
        return Path(workspace) / "jobs" / f"fake-{kind}"

    monkeypatch.setattr(jobs, "start_job", fake_start_job)
    return calls


def open_page(page):
    """Run the router, then switch to ``page`` as the navigation menu would."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=APPTEST_TIMEOUT).run()
    assert not at.exception, at.exception
    return at.switch_page(page).run()


@pytest.fixture
def empty_workspace(tmp_path, monkeypatch):
    """``tmp_path/ws``, empty: the dashboard's workspace (``PRUNESEG_WORKSPACE``), run from the checkout."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(workspace))
    monkeypatch.chdir(ROOT)
    return workspace


@pytest.fixture
def workspace(empty_workspace):
    """``empty_workspace`` holding the tiny dataset as the built-in one."""
    make_dataset(empty_workspace / "datasets" / "synthcity")
    return empty_workspace


@pytest.fixture(scope="module")
def filled_deploy_workspace(tmp_path_factory):
    """A one-image dataset and ``helpers_deploy.fill_deploy_workspace``'s exports, packages and results, once
    per module."""
    from helpers_deploy import fill_deploy_workspace

    workspace = tmp_path_factory.mktemp("filled").resolve()
    make_dataset(workspace / "datasets" / "synthcity", train=1, val=1)
    return fill_deploy_workspace(workspace)


@pytest.fixture
def deploy_ws(filled_deploy_workspace, tmp_path, monkeypatch):
    """A private copy of ``filled_deploy_workspace`` as the dashboard's workspace (pages and forms write into it)."""
    workspace = tmp_path / "ws"
    shutil.copytree(filled_deploy_workspace, workspace)
    monkeypatch.setenv("PRUNESEG_WORKSPACE", str(workspace))
    monkeypatch.chdir(ROOT)
    return workspace


@pytest.fixture(scope="module")
def trained_fpn(tmp_path_factory):
    """(checkpoint, dataset root): an FPN trained for 2 epochs on the tiny dataset at 64x128."""
    from pruneseg.train import main as train

    root = tmp_path_factory.mktemp("prune")
    data = make_dataset(root / "data", train=4, val=2)
    train(TrainConfig(data=str(data), out=str(root / "run"), height=64, width=128, epochs=2,
                      batch_size=2, workers=0))
    return root / "run" / "model_best.pt", data


@pytest.fixture(scope="module")
def fpn_analysis(trained_fpn, tmp_path_factory):
    """The sensitivity analysis file of ``trained_fpn`` (2 images, ratios 0.25, 0.5, 0.75, no runtime timing)."""
    from pruneseg.analyze import main as analyze
    from pruneseg.config import AnalyzeConfig

    checkpoint, data = trained_fpn
    out = tmp_path_factory.mktemp("analysis") / "analysis.json"
    analyze(AnalyzeConfig(runtime=False, checkpoint=str(checkpoint), data=str(data), out=str(out), images=2,
                          ratios=[0.25, 0.5, 0.75], bn_batches=1, batch_size=2))
    return out


def untrained_fpn_checkpoint(root):
    """``root/fpn.pt``: an untrained FPN for 64x128 inputs (packages and runners do not care about accuracy)."""
    import torch

    from pruneseg.checkpoint import save_checkpoint
    from pruneseg.data.classes import CLASS_NAMES
    from pruneseg.data.transforms import IMAGENET_MEAN, IMAGENET_STD
    from pruneseg.models import build_model

    torch.manual_seed(0)
    checkpoint = root / "fpn.pt"
    save_checkpoint(checkpoint, model=build_model("fpn", 6).eval().state_dict(), model_name="fpn", num_classes=6,
                    class_names=list(CLASS_NAMES), input_size=[64, 128], mean=list(IMAGENET_MEAN),
                    std=list(IMAGENET_STD), metrics={"miou": 0.1})
    return checkpoint


OPENVINO_TESTS = "test_openvino.py"


def pytest_collection_modifyitems(config, items):
    """OpenVINO's tests run in a pytest process of their own (``./run.sh test`` runs two): in one process
    with the rest of the suite, the process died with SIGSEGV inside ``fork()`` (the demo test's or the
    OpenVINO fixture's), whichever ran first. Every product job is a process of its own."""
    files = {item.path.name for item in items}
    if OPENVINO_TESTS in files and len(files) > 1:
        skip = pytest.mark.skip(reason=f"run alone: pytest tests/{OPENVINO_TESTS} (./run.sh test does)")
        for item in items:
            if item.path.name == OPENVINO_TESTS:
                item.add_marker(skip)
