import json
import math
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import pytest
import torch

from pruneseg.checkpoint import CheckpointError, load_checkpoint, load_model
from pruneseg.cli import parse_args
from pruneseg.cli_args import from_args, to_argv
from pruneseg.choices import TRAIN_PRESETS
from pruneseg.config import TrainConfig
from pruneseg.evaluate import evaluate_checkpoint
from pruneseg.losses import LOSSES, build_loss
from pruneseg.train import main, poly_with_warmup
from pruneseg.records import read_jsonl
from pruneseg.target.machine import machine_profile
from conftest import ROOT, tiny_config


def test_poly_schedule_warms_up_then_decays():
    factor = poly_with_warmup(total_steps=100, warmup_steps=10)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(10) == pytest.approx(1.0) and factor(55) == pytest.approx(0.5 ** 0.9)
    assert factor(100) == 0.0


@pytest.mark.parametrize("model", ["fpn", "unet"])
def test_training_writes_logs_and_loadable_checkpoints(tiny_dataset, tmp_path, model):
    out = tmp_path / "run"
    main(tiny_config(tiny_dataset, out, model=model, epochs=2))
    epochs = read_jsonl(out / "epochs.jsonl")
    assert [r["epoch"] for r in epochs] == [0, 1]
    assert len(epochs[0]["iou"]) == 6 and 0 <= epochs[-1]["miou"] <= 1
    steps = read_jsonl(out / "steps.jsonl")
    assert len(steps) == 2 * 2 and all(s["loss"] > 0 for s in steps)  # 4 images, batch 2, 2 epochs
    assert json.loads((out / "config.json").read_text())["model"] == model
    loaded, checkpoint = load_model(out / "model_best.pt")
    assert checkpoint["model_name"] == model and checkpoint["input_size"] == [64, 128]
    with torch.no_grad():
        assert loaded(torch.zeros(1, 3, 64, 128)).shape == (1, 6, 64, 128)


def test_resume_continues_where_it_stopped(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    main(tiny_config(tiny_dataset, out, epochs=1))
    first = load_checkpoint(out / "checkpoint.pt")
    main(tiny_config(tiny_dataset, out, epochs=3))
    assert [r["epoch"] for r in read_jsonl(out / "epochs.jsonl")] == [0, 1, 2]
    last = load_checkpoint(out / "checkpoint.pt")
    assert last["epoch"] == 2
    # the optimizer state came from the first run: Adam's step count kept growing
    steps = lambda c: c["optimizer"]["state"][0]["step"].item()  # noqa: E731
    assert steps(last) == steps(first) + 2 * 2


def test_a_resume_leaves_config_json_as_its_checkpoint_trained(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "run"
    main(tiny_config(tiny_dataset, out, epochs=1, lr=1e-3))
    recorded = json.loads((out / "config.json").read_text())
    capsys.readouterr()
    # resumed with other settings (as a demo resumed on another machine would be): only the epochs count
    main(tiny_config(tiny_dataset, out, epochs=2, lr=0.5, cpu_bf16="on", loss="ohem"))
    said = capsys.readouterr().out
    assert "ignoring" in said and "lr 0.5 (it trained with 0.001)" in said
    assert "cpu_bf16 'on' (it trained with 'auto')" in said
    assert json.loads((out / "config.json").read_text()) == dict(recorded, epochs=2)  # train longer: the one change
    last = load_checkpoint(out / "checkpoint.pt")
    assert last["epoch"] == 1 and last["config"] == dict(recorded, epochs=2)
    assert [r["epoch"] for r in read_jsonl(out / "epochs.jsonl")] == [0, 1]
    text = (out / "config.json").read_text()
    main(tiny_config(tiny_dataset, out, epochs=2, height=128, width=256, loss="weighted_ce"))
    assert (out / "config.json").read_text() == text and "ignoring height 128" in capsys.readouterr().out


def test_killed_training_job_resumes_and_loses_at_most_one_epoch(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    argv = to_argv(tiny_config(tiny_dataset, out, epochs=6))
    command = [sys.executable, "-m", "pruneseg", *argv]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (out / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = len(read_jsonl(out / "epochs.jsonl"))
    assert 1 <= done_before < 6
    resumed = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "resuming" in resumed.stdout
    epochs = [r["epoch"] for r in read_jsonl(out / "epochs.jsonl")]
    assert epochs == list(range(6))
    steps = [(r["epoch"], r["step"]) for r in read_jsonl(out / "steps.jsonl")]
    assert len(steps) == len(set(steps)) == 6 * 2


def test_eval_matches_training_metrics(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    main(tiny_config(tiny_dataset, out, epochs=1))
    best = read_jsonl(out / "epochs.jsonl")[0]
    metrics = evaluate_checkpoint(out / "model_best.pt", tiny_dataset, workers=0)
    assert metrics["miou"] == pytest.approx(best["miou"], abs=1e-6)


def test_bad_checkpoints_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="missing.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="garbage.pt: not a readable"):
        load_checkpoint(garbage)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(1)}, other)
    with pytest.raises(CheckpointError, match="other.pt: not a PruneSeg checkpoint"):
        load_checkpoint(other)


def test_bad_size_fails_before_training(tiny_dataset, tmp_path):
    with pytest.raises(ValueError, match="multiples of 32"):
        main(tiny_config(tiny_dataset, tmp_path / "run", height=60))


@pytest.mark.parametrize("loss", LOSSES)
def test_tiny_training_with_each_loss_records_its_recipe(tiny_dataset, tmp_path, loss):
    out = tmp_path / "run"
    main(tiny_config(tiny_dataset, out, epochs=1, loss=loss, min_scale=0.75, max_scale=1.5, cpu_bf16=True))
    config = json.loads((out / "config.json").read_text())
    assert config["loss"] == loss
    # the tiny dataset paints seven equal bands; vegetation is ignored, so each class holds a sixth
    expected = [pytest.approx(1 / math.log(1.02 + 1 / 6), rel=0.02)] * 6 if loss.startswith("weighted") else []
    assert config["class_weights"] == expected
    assert load_checkpoint(out / "model_best.pt")["config"] == config  # what pruning's fine-tuning reads
    assert all(math.isfinite(r["loss"]) for r in read_jsonl(out / "steps.jsonl"))


def test_given_class_weights_are_kept(tiny_dataset, tmp_path):
    out = tmp_path / "run"
    main(tiny_config(tiny_dataset, out, epochs=1, loss="weighted_ce", class_weights=[1.0, 2, 3, 4, 5, 6]))
    assert json.loads((out / "config.json").read_text())["class_weights"] == [1.0, 2, 3, 4, 5, 6]


def test_unknown_loss_fails_before_training(tiny_dataset, tmp_path):
    with pytest.raises(ValueError, match="unknown loss 'dice'; choose one of: ce, weighted_ce"):
        main(tiny_config(tiny_dataset, tmp_path / "run", loss="dice"))
    assert not (tmp_path / "run").exists()


def test_preset_sets_defaults_and_explicit_flags_win():
    base = ["train", "--data", "d", "--out", "o"]
    assert from_args(TrainConfig, parse_args(base)) == TrainConfig(data="d", out="o")  # seed's recipe
    quick = from_args(TrainConfig, parse_args(base + ["--preset", "quick"]))
    assert quick == TrainConfig(data="d", out="o", **TRAIN_PRESETS["quick"])
    assert quick.loss != "ce"
    given = from_args(TrainConfig, parse_args(["train", "--epochs", "3", "--loss", "ce", *base[1:],
                                                         "--preset", "quick", "--class-weights", "1", "2.5"]))
    assert given == TrainConfig(**{**asdict(quick), "epochs": 3, "loss": "ce", "class_weights": [1.0, 2.5]})
    with pytest.raises(SystemExit):
        parse_args(base + ["--preset", "slow"])


def test_dashboard_argv_round_trips_list_and_bool_fields():
    config = TrainConfig(data="d", out="o", loss="weighted_ohem", class_weights=[0.5, 1.5], cpu_bf16=True)
    assert from_args(TrainConfig, parse_args(to_argv(config))) == config


def test_pruning_fine_tunes_with_the_dense_runs_recorded_loss(tiny_dataset, tmp_path, monkeypatch):
    from pruneseg.config import AnalyzeConfig, PruneConfig
    from pruneseg import analyze, fine_tune, prune_loop

    main(tiny_config(tiny_dataset, tmp_path / "run", epochs=1, loss="weighted_ohem", ohem_thresh=0.6,
                     class_weights=[1.0, 2, 3, 4, 5, 6], cpu_bf16="on"))
    dense = tmp_path / "run" / "model_best.pt"
    analysis = tmp_path / "analysis.json"
    analyze.main(AnalyzeConfig(runtime=False, checkpoint=str(dense), data=str(tiny_dataset), out=str(analysis),
                               images=2, ratios=[0.5], bn_batches=0, batch_size=2))
    used, precisions = [], []
    monkeypatch.setattr(prune_loop, "build_loss",
                        lambda config, num_classes, device: used.append(config) or build_loss(config, num_classes))
    # the dense run trained in bf16; pruning fine-tunes on a CPU without native bf16, so in fp32
    avx2 = (ROOT / "tests" / "cpuinfo" / "avx2_epyc.txt").read_text()
    monkeypatch.setattr(prune_loop, "machine_profile", lambda threads=None: machine_profile(threads, cpuinfo=avx2))
    train_one_epoch = fine_tune.train_one_epoch
    monkeypatch.setattr(fine_tune, "train_one_epoch",
                        lambda *args: precisions.append(args[-2]) or train_one_epoch(*args))

    def prune(out, **overrides):
        prune_loop.main(PruneConfig(checkpoint=str(dense), data=str(tiny_dataset), analysis=str(analysis),
                                    out=str(tmp_path / out), iterations=1, step=0.3, max_epochs=1,
                                    tolerance=-1.0, batch_size=2, workers=0, **overrides))

    prune("recorded")
    assert (used[-1].loss, used[-1].class_weights, used[-1].ohem_thresh) == ("weighted_ohem", [1.0, 2, 3, 4, 5, 6], 0.6)
    snapshot = load_checkpoint(tmp_path / "recorded" / "iter_1.pt")
    assert snapshot["config"]["loss"] == "weighted_ohem"
    assert load_checkpoint(dense)["train_precision"] == "bf16"
    assert precisions == [False] and snapshot["train_precision"] == "fp32" and snapshot["config"]["cpu_bf16"] == "auto"
    state = json.loads((tmp_path / "recorded" / "pruning.json").read_text())
    assert state["iterations"][0]["machine"]["isa"] == ["AVX2", "FMA"] == state["dense"]["machine"]["isa"]
    prune("told", loss="ce")  # unless told otherwise
    assert used[-1].loss == "ce"
