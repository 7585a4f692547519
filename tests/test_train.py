import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from pruneseg.checkpoint import CheckpointError, load_checkpoint, load_model
from pruneseg.config import TrainConfig, to_argv
from pruneseg.evaluate import evaluate_checkpoint
from pruneseg.train import main, poly_with_warmup
from pruneseg.records import read_jsonl


def tiny_config(data, out, **overrides):
    values = dict(model="fpn", data=str(data), out=str(out), height=64, width=128, epochs=2,
                  batch_size=2, workers=0)
    values.update(overrides)
    return TrainConfig(**values)


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
