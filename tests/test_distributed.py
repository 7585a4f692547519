"""Data parallelism under torchrun: the plumbing alone (fast), then real ``torchrun --nproc-per-node 2``
runs on the CPU with gloo (GPUs hidden, so it runs the same on a GPU machine) (a tiny training launched as a dashboard job, a tiny analysis killed and
resumed) against single-process runs: rank 0 alone writes, the files are those one process writes,
the validation metrics are those of all images, and the merged analysis cells are identical."""
import json
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import ROOT, make_dataset, open_page
from helpers_pages import submit
from helpers_training import write_fake_job, write_fake_run
from pruneseg import cli, distributed, jobs
from pruneseg.cli_args import from_args, to_argv
from pruneseg.config import AnalyzeConfig, PruneConfig, TrainConfig
from pruneseg.dashboard import checks
from pruneseg.dashboard.checks import processes_problem, visible_gpus
from pruneseg.dashboard.labels import devices_text
from pruneseg.records.analysis import RESULT_SETTINGS, merge_results
from pruneseg.workspace import layout
from pruneseg.workspace.listing import list_analyses

FEW_TARGETS = "0.5"  # curve points of the torchrun analysis (tests/pruneseg_few_targets.py)


# --- the plumbing, in this process --------------------------------------------------------

def test_alone_the_helpers_are_a_world_of_one():
    assert distributed.world_size() == 1 and distributed.rank() == 0 and distributed.is_main()
    matrix = np.arange(4).reshape(2, 2)
    assert distributed.all_reduce_sum(matrix) is matrix
    assert distributed.share([3, 1, 2]) == [3, 1, 2]
    assert distributed.broadcast({"a": 1}) == {"a": 1} and distributed.all_gather("cpu") == ["cpu"]
    assert str(distributed.init()) in ("cpu", "cuda:0")


def test_a_rank_other_than_0_writes_no_job_state(tmp_path, monkeypatch):
    (tmp_path / "state.json").write_text(json.dumps({"status": "running"}))
    monkeypatch.setenv(jobs.JOB_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("RANK", "1")
    jobs.update_state(status="done")
    assert json.loads((tmp_path / "state.json").read_text()) == {"status": "running"}
    monkeypatch.setenv("RANK", "0")
    jobs.record_devices(["cpu", "cpu"], 2)
    assert json.loads((tmp_path / "state.json").read_text()) == {"status": "running", "ranks": 2,
                                                                  "devices": ["cpu", "cpu"]}


def test_torchrun_stopping_a_rank_is_a_failure_unless_cancelled(tmp_path, monkeypatch):
    (tmp_path / "state.json").write_text("{}")
    monkeypatch.setenv(jobs.JOB_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("WORLD_SIZE", "2")
    for cancel, status in ((False, "failed"), (True, "cancelled")):
        if cancel:
            (tmp_path / "cancel").touch()
        with pytest.raises(jobs.JobCancelled), jobs.job_context():
            raise jobs.JobCancelled("SIGTERM")
        assert json.loads((tmp_path / "state.json").read_text())["status"] == status


def test_processes_asks_the_cli_to_become_torchrun(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(argv))
    monkeypatch.delenv("RANK", raising=False)
    argv = ["train", "--data", "d", "--out", "o", "--processes", "2"]
    cli._relaunch_under_torchrun(SimpleNamespace(processes=2), argv)
    assert calls == [[sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                      "-m", "pruneseg", *argv]]
    cli._relaunch_under_torchrun(SimpleNamespace(processes=1), argv)
    monkeypatch.setenv("RANK", "0")  # under torchrun already (it sets both): torchrun decided
    monkeypatch.setenv("WORLD_SIZE", "2")
    cli._relaunch_under_torchrun(SimpleNamespace(processes=2), argv)
    assert len(calls) == 1
    with pytest.raises(ValueError, match="at least 1"):
        cli._relaunch_under_torchrun(SimpleNamespace(processes=0), argv)


@pytest.mark.parametrize("config_class", [TrainConfig, AnalyzeConfig, PruneConfig])
def test_processes_round_trips_and_never_keys_a_result(config_class):
    config = config_class(data="d", out="o", processes=3)
    parser = cli.build_parser()
    args = parser.parse_args(to_argv(config))
    assert from_args(config_class, args) == config
    assert "processes" not in RESULT_SETTINGS and "processes" not in PruneConfig.RUN_DEFINING


def test_job_panel_says_where_a_job_runs(tmp_path):
    job = SimpleNamespace(devices=[], ranks=1)
    assert devices_text(job) == ""
    assert devices_text(SimpleNamespace(devices=["cuda:0 NVIDIA H200"], ranks=1)) == "on cuda:0 NVIDIA H200"
    assert devices_text(SimpleNamespace(devices=["cpu", "cpu"], ranks=2)) == \
        "2 processes (torchrun ranks 0-1) on 2 x cpu"
    path = jobs.start_job(tmp_path, "stats", ["models", "--json"])  # any job: read_job reads what it recorded
    (path / "state.json").write_text(json.dumps({"status": "running", "ranks": 2, "devices": ["cpu", "cpu"]}))
    job = jobs.read_job(path)
    assert (job.ranks, job.devices) == (2, ["cpu", "cpu"])


def test_the_train_form_asks_for_processes_and_the_job_panel_shows_the_ranks(workspace, started, monkeypatch):
    monkeypatch.setattr(checks, "visible_gpus", lambda: 2)
    job = write_fake_job(workspace, write_fake_run(workspace))
    state = json.loads((job / "state.json").read_text())
    (job / "state.json").write_text(json.dumps({**state, "ranks": 2, "devices": ["cuda:0 GPU", "cuda:1 GPU"]}))
    at = open_page("app_pages/train.py")
    assert any("2 processes (torchrun ranks 0-1) on cuda:0 GPU, cuda:1 GPU" in c.value for c in at.caption)
    next(n for n in at.number_input if n.label == "Processes").set_value(2)
    next(t for t in at.text_input if t.label == "Run name").set_value("two")
    submit(at)
    assert not at.exception, at.exception
    [(kind, argv)] = started
    assert kind == "train" and argv[argv.index("--processes") + 1] == "2"


def test_processes_check(monkeypatch):
    assert processes_problem(1, gpus=0, cores=2) is None
    assert processes_problem(2, gpus=0, cores=2) is None
    assert "at most 2" in processes_problem(3, gpus=0, cores=2)
    assert processes_problem(8, gpus=8, cores=2) is None
    assert "one process per GPU" in processes_problem(9, gpus=8, cores=64)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,3")
    assert visible_gpus() == 3
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == 0


def cells(groups):
    return {"groups": [{"name": g} for g in groups], "settings": {"ratios": [0.2, 0.4, 0.6]}}


def test_merging_shards_gives_the_single_process_cells_and_points():
    analysis = {**cells(["a", "b"]), "cells": {"a": {"0.2": {"miou": 0.5, "collapsed": False}}, "b": {}},
                "curves": {"uniform": [{"target": 0.5, "miou": 0.1}]}}
    shard = {"key": "k", "cells": {"a": {"0.4": {"miou": 0.1, "collapsed": True},
                                         "0.6": {"miou": 0.3, "collapsed": False}},  # computed before the collapse was known
                                   "b": {"0.4": {"miou": 0.4, "collapsed": False}}},
             "curves": {"uniform": [{"target": 0.2, "miou": 0.4}, {"target": 0.5, "miou": 0.9}]}}
    merged = merge_results(analysis, [shard])
    assert merged["cells"]["a"] == {"0.2": {"miou": 0.5, "collapsed": False}, "0.4": {"miou": 0.1, "collapsed": True},
                                    "0.6": {"miou": 0.1, "collapsed": True}}
    assert merged["cells"]["b"] == {"0.4": {"miou": 0.4, "collapsed": False}}  # 0.2 not done yet
    assert merged["curves"]["uniform"] == [{"target": 0.2, "miou": 0.4}, {"target": 0.5, "miou": 0.1}]
    assert analysis["cells"]["b"] == {}  # a new dict


def test_shard_files_sit_beside_the_analysis_and_are_not_analyses(tmp_path):
    out = layout.analysis_path(tmp_path, "fpn")
    assert layout.analysis_shard_path(out, 3) == out.with_name("fpn.shard-3.json")
    assert layout.is_shard_file(out.with_name("fpn.shard-3.json")) and not layout.is_shard_file(out)
    out.parent.mkdir(parents=True)
    for path in (out, layout.analysis_shard_path(out, 1)):
        path.write_text("{}")
    assert [p.name for p in list_analyses(tmp_path)] == ["fpn.json"]


# --- real torchrun, 2 gloo processes on the CPU --------------------------------------------

def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("dist") / "data", train=4, val=3)


@pytest.fixture(scope="module")
def torchrun_training(data, tmp_path_factory):
    """A 1-epoch training launched from a job with ``--processes 2``, then resumed to 2 epochs."""
    workspace = tmp_path_factory.mktemp("ws")
    out = workspace / "runs" / "r"
    config = TrainConfig(data=str(data), out=str(out), height=64, width=128, epochs=1, batch_size=2, workers=0,
                         processes=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUDA_VISIBLE_DEVICES", "")  # the jobs inherit it
        first = jobs.start_job(workspace, "train", to_argv(config), {"out": str(out)})
        wait_for(lambda: jobs.read_job(first).status in jobs.FINAL_STATUSES, 120, "the first training job")
        first_job, first_epochs = jobs.read_job(first), (out / "epochs.jsonl").read_text()
        config.epochs = 2
        second = jobs.start_job(workspace, "train", to_argv(config), {"out": str(out)})
        wait_for(lambda: jobs.read_job(second).status in jobs.FINAL_STATUSES, 120, "the resumed training job")
    return SimpleNamespace(out=out, first=first_job, first_epochs=first_epochs, second=jobs.read_job(second))


def test_torchrun_training_writes_what_one_process_writes_from_rank_0(torchrun_training, data):
    from pruneseg.checkpoint import load_model
    from pruneseg.evaluate import evaluate
    from pruneseg.train import build_loaders

    run = torchrun_training
    for job in (run.first, run.second):
        assert job.status == "done", job.log_tail()
        assert (job.ranks, job.devices) == (2, ["cpu", "cpu"])
        assert job.progress["done"] == job.progress["total"] == 2  # one epoch of 2 steps each
    assert "torch.distributed.run --standalone --nproc-per-node=2" in run.first.log_tail()
    assert sorted(p.name for p in run.out.iterdir()) == ["checkpoint.pt", "config.json", "epochs.jsonl",
                                                         "model_best.pt", "steps.jsonl"]
    steps = [json.loads(line) for line in (run.out / "steps.jsonl").read_text().splitlines()]
    assert [(s["epoch"], s["step"]) for s in steps] == [(0, 0), (0, 1), (1, 0), (1, 1)]  # 4 images, global batch 2
    epochs = [json.loads(line) for line in (run.out / "epochs.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [0, 1] and "resuming" in run.second.log_tail()
    assert epochs[0] == json.loads(run.first_epochs)  # the resume kept the first epoch
    # validation summed the ranks' confusion matrices (2 + 1 images): the metrics of all 3 images
    best = max(epochs, key=lambda e: e["miou"])
    _, val_loader = build_loaders(TrainConfig(data=str(data), height=64, width=128, batch_size=2, workers=0))
    metrics = evaluate(load_model(run.out / "model_best.pt")[0], val_loader, "cpu", 6)
    assert {key: best[key] for key in metrics} == metrics


def analyze_argv(checkpoint, data, out):
    return ["analyze", "--checkpoint", str(checkpoint), "--data", str(data), "--out", str(out), "--images", "2",
            "--ratios", "0.3", "0.6", "--bn-batches", "1", "--batch-size", "2", "--latency-ratios", "0.5"]


def test_torchrun_analysis_killed_and_resumed_merges_the_single_process_cells(torchrun_training, data, tmp_path):
    checkpoint = torchrun_training.out / "model_best.pt"
    few_targets = [sys.executable, str(ROOT / "tests" / "pruneseg_few_targets.py"), FEW_TARGETS]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                *few_targets[1:]]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    single, sharded = tmp_path / "single.json", tmp_path / "sharded.json"
    alone = subprocess.Popen([*few_targets, *analyze_argv(checkpoint, data, single)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    job_dir = tmp_path / "job"  # the job's state, as the dashboard's job would have it
    job_dir.mkdir()
    (job_dir / "state.json").write_text("{}")
    job_env = {**env, jobs.JOB_DIR_ENV: str(job_dir)}
    first = subprocess.Popen([*torchrun, *analyze_argv(checkpoint, data, sharded)], env=job_env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    shard = layout.analysis_shard_path(sharded, 1)
    wait_for(lambda: shard.exists() or first.poll() is not None, 120, "rank 1's first cell")
    (job_dir / "cancel").touch()
    os.killpg(first.pid, signal.SIGTERM)  # as the dashboard's cancel does
    first.wait(60)
    state = json.loads((job_dir / "state.json").read_text())
    assert state["status"] == "cancelled" and state["ranks"] == 2 and state["devices"] == ["cpu", "cpu"]
    killed = json.loads(sharded.read_text())
    finished = sum(map(len, killed["cells"].values()))
    assert finished < 2 * len(killed["groups"]) and shard.exists()  # cut short, rank 1's cells in its shard

    (job_dir / "cancel").unlink()
    resumed = subprocess.run([*torchrun, *analyze_argv(checkpoint, data, sharded)], env=job_env,
                             capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert alone.wait(180) == 0, alone.stderr.read()[-3000:]
    assert json.loads((job_dir / "state.json").read_text())["status"] == "done"
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["sharded.json", "single.json"]  # shards merged, gone

    one, two = json.loads(single.read_text()), json.loads(sharded.read_text())
    assert two["cells"] == one["cells"] and two["key"] == one["key"]
    assert two["baseline"]["miou"] == one["baseline"]["miou"]
    assert {group: set(table) for group, table in two["latency"].items()} == \
        {group: set(table) for group, table in one["latency"].items()} == {g["name"]: {"0.5"} for g in one["groups"]}
    for kind, points in one["curves"].items():  # latencies differ from run to run; the rest may not
        assert [(p["target"], p["widths"], p["macs"], p["params"], p["miou"]) for p in two["curves"][kind]] == \
            [(p["target"], p["widths"], p["macs"], p["params"], p["miou"]) for p in points]
