"""Training adapted to the machine: bf16 by the CPU, epochs by a time budget (on a fake clock), and the
records that say what a run used."""
import json

import pytest
import torch

from conftest import ROOT, tiny_config
from pruneseg import train
from pruneseg.checkpoint import load_checkpoint
from pruneseg.cli import parse_args
from pruneseg.cli_args import from_args, to_argv
from pruneseg.choices import TRAIN_PRESETS
from pruneseg.config import TrainConfig
from pruneseg.records import read_jsonl
from pruneseg.records.run import read_epochs, read_run_config
from pruneseg.target.machine import machine_profile
from pruneseg.train_plan import (BudgetError, after_epoch, budget_text, new_budget, plan_epochs, train_precision,
                                 use_cpu_bf16)

CPUINFO = ROOT / "tests" / "cpuinfo"


def profile(name):
    return machine_profile(cpuinfo=(CPUINFO / f"{name}.txt").read_text())


@pytest.fixture(autouse=True)
def no_isa_cap(monkeypatch):
    for variable in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY"):
        monkeypatch.delenv(variable, raising=False)


# --- bf16 by the machine ----------------------------------------------------------------------

@pytest.mark.parametrize("setting, cpu, device, expected", [
    ("auto", "avx512_bf16_epyc", "cpu", True), ("auto", "amx_xeon", "cpu", True), ("auto", "graviton4", "cpu", True),
    ("auto", "avx2_epyc", "cpu", False), ("auto", "avx512_vnni_xeon", "cpu", False),
    ("on", "avx2_epyc", "cpu", True), ("off", "avx512_bf16_epyc", "cpu", False),
    ("auto", "avx512_bf16_epyc", "cuda", False), ("on", "avx2_epyc", "cuda", False),
])
def test_bf16_is_used_where_the_cpu_computes_it_natively(setting, cpu, device, expected):
    assert use_cpu_bf16(setting, device, profile(cpu)) is expected


def test_an_isa_cap_below_bf16_makes_auto_train_in_fp32(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert not use_cpu_bf16("auto", "cpu", profile("avx512_bf16_epyc"))


def test_the_precision_a_run_records():
    assert train_precision("cpu", True, True) == "bf16"
    assert train_precision("cpu", True, False) == "fp32"
    assert train_precision("cuda", True, False) == "fp16"
    assert train_precision("cuda", False, False) == "fp32"


def test_old_boolean_records_and_flags_still_read():
    assert TrainConfig(cpu_bf16=True).cpu_bf16 == "on" and TrainConfig(cpu_bf16=False).cpu_bf16 == "off"
    assert TrainConfig().cpu_bf16 == "auto" and TRAIN_PRESETS["quick"]["cpu_bf16"] == "auto"
    base = ["train", "--data", "d", "--out", "o"]
    assert from_args(TrainConfig, parse_args(base + ["--cpu-bf16"])).cpu_bf16 == "on"  # an old job's argv
    assert from_args(TrainConfig, parse_args(base + ["--no-cpu-bf16"])).cpu_bf16 == "off"
    assert from_args(TrainConfig, parse_args(base + ["--cpu-bf16", "auto"])).cpu_bf16 == "auto"
    config = TrainConfig(data="d", out="o", cpu_bf16="off", budget_minutes=2.5)
    assert from_args(TrainConfig, parse_args(to_argv(config))) == config
    with pytest.raises(SystemExit):
        parse_args(base + ["--cpu-bf16", "maybe"])
    with pytest.raises(ValueError, match="--cpu-bf16 'maybe': choose one of auto, on, off"):
        TrainConfig(cpu_bf16="maybe")
    with pytest.raises(ValueError, match="--budget-minutes must be 0"):
        TrainConfig(budget_minutes=-1)


# --- the budget, as numbers ----------------------------------------------------------------------

def test_plan_takes_the_epochs_that_fit_up_to_the_cap():
    assert plan_epochs(600, 60, 25, 0, 30) == 21  # 540 s left, 25 s each
    assert plan_epochs(600, 60, 10, 0, 30) == 30  # the cap
    assert plan_epochs(600, 590, 25, 3, 30) == 3  # nothing more fits: the epochs done
    assert plan_epochs(600, 700, 25, 3, 30) == 3


def test_a_budget_too_small_for_one_epoch_says_how_long_one_takes():
    probe = {"step_seconds": 2.0, "val_seconds": 6.0}
    with pytest.raises(BudgetError, match=r"--budget-minutes 1 is too small for one epoch: here an epoch takes about "
                                          r"1\.1 min \(30 steps of 2\.00 s and validation 6\.0 s\)"):
        new_budget(1, 5.0, probe, 30, 30)
    budget = new_budget(10, 5.0, probe, 30, 30)
    assert budget["planned_epochs"] == 9 and budget["epoch_seconds"] == 66.0 and not budget["stopped"]


def test_the_first_epoch_replans_and_an_overrunning_epoch_is_not_started():
    budget = new_budget(10, 0.0, {"step_seconds": 1.0, "val_seconds": 0.0}, 10, 100)  # 10 s epochs: 60 planned
    assert budget["planned_epochs"] == 60
    budget = after_epoch(budget, 1, 20.0, 20.0)  # the first epoch took twice the estimate
    assert budget["planned_epochs"] == 30 and not budget["stopped"]  # 1 + 580 s // 20 s
    budget = after_epoch(budget, 2, 45.0, 25.0)  # later epochs do not replan
    assert budget["planned_epochs"] == 30
    budget = after_epoch(budget, 20, 580.0, 25.0)  # one more would end at 605 s
    assert budget["planned_epochs"] == 20 and budget["stopped"]
    assert "20 epochs of 25.0 s planned (at most 100); stopped early" in budget_text(budget)


# --- budgeted training on a fake clock ---------------------------------------------------------------

class WorkClock:
    """A clock that moves only with the model's work: each training forward costs ``train`` seconds, each
    evaluation forward ``val`` seconds, whatever the machine."""

    def __init__(self, train=1.0, val=0.5):
        self.now, self.train, self.val = 1000.0, train, val

    def __call__(self):
        return self.now


@pytest.fixture
def work_clock(monkeypatch):
    clock = WorkClock()
    build = train.build_model

    def charge(module, inputs):  # a function, not a bound method: a deep copy of the model shares the clock
        clock.now += clock.train if module.training else clock.val

    def build_timed(name, num_classes):
        model = build(name, num_classes)
        model.register_forward_pre_hook(charge)
        return model

    monkeypatch.setattr(train, "build_model", build_timed)
    return clock


def test_budgeted_training_plans_by_the_clock_stays_within_it_and_records_the_plan(tiny_dataset, tmp_path,
                                                                                    work_clock, capsys):
    # 4 images in batches of 2: 2 steps of 1 s and one validation batch of 0.5 s, 2.5 s an epoch; the probe
    # costs 3 steps and its validation batch (3.5 s), so 15 s fit 4 epochs of the cap of 50
    out = tmp_path / "run"
    started = work_clock()
    train.main(tiny_config(tiny_dataset, out, epochs=50, budget_minutes=0.25), clock=work_clock)
    assert work_clock() - started <= 15.0
    epochs = read_epochs(out / "epochs.jsonl")
    assert len(epochs) == 4 and all(r["seconds"] == 2.5 for r in epochs)
    config = read_run_config(out / "config.json")
    assert config["epochs"] == 50 and config["planned_epochs"] == 4
    assert config["budget"]["probe"] == {"step_seconds": 1.0, "val_seconds": 0.5}
    assert not config["budget"]["stopped"]
    # the learning rate decays to zero over the planned epochs, not the cap
    steps = read_jsonl(out / "steps.jsonl")
    assert len(steps) == 8 and steps[-1]["lr"] < 0.03 * max(s["lr"] for s in steps)
    log = capsys.readouterr()
    assert "budget 0.25 min: 4 epochs of 2.5 s planned (at most 50)" in log.out
    assert "epoch 4/4" in log.err
    assert load_checkpoint(out / "checkpoint.pt")["budget"]["planned_epochs"] == 4


def test_a_resumed_budgeted_run_keeps_its_plan(tiny_dataset, tmp_path, work_clock, monkeypatch):
    out = tmp_path / "run"
    evaluate, calls = train.evaluate, []

    def killed_in_the_third_validation(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # epochs 1 and 2 finish (the probe validates through train_probe's own import)
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(train, "evaluate", killed_in_the_third_validation)
    with pytest.raises(KeyboardInterrupt):
        train.main(tiny_config(tiny_dataset, out, epochs=50, budget_minutes=0.25), clock=work_clock)
    assert len(read_epochs(out / "epochs.jsonl")) == 2
    monkeypatch.setattr(train, "evaluate", evaluate)
    probed = []
    monkeypatch.setattr(train.train_probe, "probe", lambda *args: probed.append(1))
    lr_of_step = {s["iteration"]: s["lr"] for s in read_jsonl(out / "steps.jsonl")}
    train.main(tiny_config(tiny_dataset, out, epochs=50, budget_minutes=0.25), clock=work_clock)
    assert not probed  # the plan came from the checkpoint
    assert [r["epoch"] for r in read_epochs(out / "epochs.jsonl")] == list(range(4))
    steps = read_jsonl(out / "steps.jsonl")
    assert {s["iteration"]: s["lr"] for s in steps if s["iteration"] in lr_of_step} == lr_of_step
    assert steps[-1]["lr"] < 0.03 * max(s["lr"] for s in steps)


def test_a_budget_too_small_fails_before_training(tiny_dataset, tmp_path, work_clock):
    out = tmp_path / "run"
    with pytest.raises(BudgetError, match="--budget-minutes 0.05 is too small for one epoch"):
        train.main(tiny_config(tiny_dataset, out, epochs=50, budget_minutes=0.05), clock=work_clock)
    assert not (out / "epochs.jsonl").exists() or not read_epochs(out / "epochs.jsonl")


def test_a_run_records_its_precision_and_machine(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(train, "machine_profile", lambda threads=None: dict(profile("avx2_epyc"), threads=threads))
    out = tmp_path / "run"
    train.main(tiny_config(tiny_dataset, out, epochs=1))  # "auto" on an AVX2-only CPU: fp32
    config = json.loads((out / "config.json").read_text())
    assert config["cpu_bf16"] == "auto" and config["train_precision"] == "fp32"
    assert config["machine"]["isa"] == ["AVX2", "FMA"] and config["machine"]["threads"] == torch.get_num_threads()
    [epoch] = read_epochs(out / "epochs.jsonl")
    assert epoch["train_precision"] == "fp32" and epoch["machine"] == config["machine"]
    best = load_checkpoint(out / "model_best.pt")
    assert best["train_precision"] == "fp32" and best["config"]["machine"] == config["machine"]


def test_forcing_bf16_on_a_cpu_without_it_warns_with_both_measured_times(tiny_dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(train, "machine_profile", lambda threads=None: profile("avx2_epyc"))
    timed = []

    def step_seconds(model, batch, criterion, config, device, bf16, clock):
        timed.append(bf16)
        return 17.4 if bf16 else 5.6

    monkeypatch.setattr(train.train_probe, "step_seconds", step_seconds)
    out = tmp_path / "run"
    train.main(tiny_config(tiny_dataset, out, epochs=1, cpu_bf16="on"))
    assert timed == [False, True]
    err = capsys.readouterr().err
    assert ("warning: --cpu-bf16 on, but this CPU (AMD EPYC 7B12, 2 cores: AVX2, no VNNI, no BF16) has no native "
            "bfloat16") in err
    assert "17.40 s in bf16 against 5.60 s in fp32 (3.1x)" in err
    assert json.loads((out / "config.json").read_text())["train_precision"] == "bf16"  # as asked
