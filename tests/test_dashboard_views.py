"""The dashboard's Streamlit-free pieces beside the figures: labels, form checks, the Home and
Dataset views, and the workspace listings they read."""
import json

import pytest

from conftest import make_dataset
from pruneseg.dashboard import checks, labels
from pruneseg.dashboard.views import home
from pruneseg.dashboard.views.dataset import folder_stamp, image_size
from pruneseg.jobs import Job
from pruneseg.workspace import listing


@pytest.mark.parametrize("seconds, text", [(None, "—"), (0, "0 s"), (42.4, "42 s"), (185, "3 min 05 s"),
                                           (3720, "1 h 02 min")])
def test_format_duration(seconds, text):
    assert labels.format_duration(seconds) == text


def test_progress_summary():
    assert labels.progress_summary({}) == (None, "—", "—")
    fraction, count, eta = labels.progress_summary({"done": 25, "total": 100, "eta_seconds": 90})
    assert fraction == 0.25 and count == "25 / 100" and eta == "1 min 30 s"


def test_size_problem():
    assert checks.size_problem("fpn", 256, 512) is None
    assert "multiples of 32" in checks.size_problem("fpn", 240, 512)
    assert checks.size_problem("unet", 240, 512) is None
    assert "choose one of: fpn, unet" in checks.size_problem("segformer", 256, 512)


def test_new_folder_problem(tmp_path):
    (tmp_path / "taken").mkdir()
    assert checks.new_folder_problem("fpn-1", tmp_path) is None
    assert "already exists" in checks.new_folder_problem("taken", tmp_path)
    assert "letters, digits" in checks.new_folder_problem("../escape", tmp_path)


def test_job_rows_and_labels_name_what_the_job_writes(tmp_path):
    job = Job(path=tmp_path, id="j1", kind="train", status="running", created=0.0, message="", error="",
              argv=["train"], outputs={"out": "/ws/runs/r1"}, config={},
              progress={"done": 3, "total": 4, "eta_seconds": 5, "desc": "train fpn"})
    row = home.job_rows([job])[0]
    assert row["progress"] == 75.0 and row["ETA"] == "5 s" and row["run"] == "r1" and row["status"] == "Running"
    assert job.output().name == "r1" and "r1" in labels.job_label(job)
    assert Job(**{**vars(job), "outputs": {}}).output() is None


def test_run_rows():
    run = {"name": "r", "config": {"model": "unet", "height": 64, "width": 128, "epochs": 5, "data": "/d/synth"},
           "epochs_done": 2, "best": {"miou": 0.51234, "epoch": 1}, "best_checkpoint": None}
    row = home.run_rows([dict(run, problem=None)])[0]
    assert row["epochs"] == "2 / 5" and row["size"] == "64x128" and row["best mIoU"] == 0.512
    assert row["best epoch"] == "2" and row["dataset"] == "synth"


def test_list_datasets_and_checkpoints(tmp_path):
    make_dataset(tmp_path / "datasets" / "other", train=1, val=1)
    builtin = make_dataset(tmp_path / "datasets" / "synthcity", train=3, val=2)
    (builtin / "synthcity.json").write_text(json.dumps({"seed": 0}))
    rows = listing.list_datasets(tmp_path)
    assert [r["name"] for r in rows] == ["synthcity", "other"]
    assert rows[0]["builtin"] and rows[0]["train images"] == 3 and rows[0]["info"] == {"seed": 0}
    assert listing.list_datasets(tmp_path / "missing") == []
    (tmp_path / "runs" / "r").mkdir(parents=True)
    (tmp_path / "runs" / "r" / "model_best.pt").write_bytes(b"x" * 10)
    assert [c["file"] for c in listing.list_checkpoints(tmp_path)] == ["runs/r/model_best.pt"]


def test_folder_stamp_changes_when_a_city_gains_an_image(tmp_path):
    root = make_dataset(tmp_path / "d", train=1, val=1)
    before = folder_stamp(root, "train")
    image = next((root / "leftImg8bit" / "train").rglob("*.png"))
    (image.parent / "new_leftImg8bit.png").write_bytes(image.read_bytes())
    assert folder_stamp(root, "train") != before
    assert image_size(image) == (128, 64) and image_size(tmp_path / "none.png") == (0, 0)


def test_the_training_estimate_scales_the_measured_quick_preset():
    from pruneseg.dashboard.views.training_estimate import training_minutes

    assert training_minutes("fpn", 128, 256, 30, 360) == pytest.approx(30 * 13.4 / 60)  # the measurement itself
    assert training_minutes("fpn", 256, 512, 30, 360) == pytest.approx(4 * 30 * 13.4 / 60)  # 4x the pixels
    assert training_minutes("tv:fcn_resnet50", 128, 256, 30, 360) is None  # not measured
    assert training_minutes("nets/my_net.py:build", 128, 256, 30, 360) is None


def test_the_demo_table_shows_the_running_step_with_its_own_progress(tmp_path):
    record = {"steps": {"data": {"done": True, "seconds": 30.0}, "train": {"done": True, "seconds": 400.0},
                        "analyse": {"done": True, "seconds": 180.0},
                        "prune": {"done": False, "seconds": 60.0, "started": 1000.0}}}
    job = Job(path=tmp_path, id="d", kind="demo", status="running", created=0.0, message="Step 4 of 7: prune",
              error="", argv=["demo"], outputs={}, config={}, progress={"desc": "prune", "done": 3, "total": 12})
    rows = {row["step"]: row for row in home.demo_rows(record, job, now=1120.0)}
    assert [rows[name]["status"] for name in ("analyse", "prune", "deploy")] == ["done", "running", "to do"]
    assert rows["prune"]["progress"] == 25.0 and rows["analyse"]["progress"] is None  # its own, not analyse's
    assert rows["prune"]["minutes"] == 3.0  # a killed attempt's minute and two of this one
    stopped = {row["step"]: row for row in home.demo_rows(record, Job(**{**vars(job), "status": "cancelled"}))}
    assert stopped["prune"]["status"] == "stopped" and stopped["prune"]["progress"] is None
    assert stopped["prune"]["minutes"] == 1.0 and home.demo_rows(record)[3]["status"] == "stopped"


def test_a_demos_artefacts_are_labelled_as_the_demos(tmp_path):
    demos = tmp_path / "demos"
    demos.mkdir()
    run = tmp_path / "runs" / "demo-fpn"
    (demos / "demo.json").write_text(json.dumps({"config": {}, "steps": {}, "started": 0.0,
                                                 "artefacts": {"run": str(run), "analysis": "", "iterations": 3}}))
    (demos / "broken.json").write_text("{")
    made = listing.demo_artefacts(tmp_path)
    assert made == {str(run.resolve()): "demo"}
    assert labels.made_outside_label("demo-fpn", run, made) == "demo-fpn · made by the demo"
    assert labels.made_outside_label("mine", tmp_path / "runs" / "mine", made) == "mine · started outside the dashboard"
    assert labels.made_outside_label("a", tmp_path / "a.json", made, "made") == "a · made outside the dashboard"


def test_training_precision_in_the_reports_provenance():
    from pruneseg.dashboard.views.report import training_precision

    assert training_precision({"train_precision": "bf16", "cpu_bf16": False}) == "bf16"  # what it ran in wins
    assert training_precision({"cpu_bf16": True}).startswith("bf16 on a CPU (recorded: cpu_bf16 on")
    assert training_precision({"cpu_bf16": False}).startswith("fp32")
    assert training_precision({}) == "—"
