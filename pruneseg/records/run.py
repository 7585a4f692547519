"""A training run's records: ``config.json`` (a ``TrainConfig``), ``steps.jsonl`` and ``epochs.jsonl``."""
from typing import NotRequired, TypedDict

from pruneseg.records import read_jsonl, read_record


class RunConfig(TypedDict):
    """``config.json``: the run's ``pruneseg.config.TrainConfig`` as a dict (the keys pages rely on), and
    the dataset's classes the model predicts (``pruneseg.data.classes.classes_of`` reads them)."""

    model: str
    data: str
    height: int
    width: int
    epochs: int
    class_names: NotRequired[list]  # runs before this field: the built-in 6 classes
    class_colors: NotRequired[list]  # [r, g, b] per class
    cpu_bf16: NotRequired[str | bool]  # "auto", "on", "off"; runs before "auto": a bool
    budget_minutes: NotRequired[float]  # 0: no budget
    train_precision: NotRequired[str]  # what it trained in: "bf16", "fp16" or "fp32"
    machine: NotRequired[dict]  # pruneseg.target.machine.machine_profile of the (last) session, torch's threads
    planned_epochs: NotRequired[int]  # with a budget: the epochs that fit (``epochs`` is the cap)
    budget: NotRequired[dict]  # with a budget: its plan (pruneseg.train_plan.new_budget), "stopped" when cut short


class StepRecord(TypedDict):
    """One line of ``steps.jsonl``: a training step."""

    epoch: int  # 0-based
    step: int  # within the epoch
    iteration: int  # over the whole run
    loss: float
    lr: float


class EpochRecord(TypedDict):
    """One line of ``epochs.jsonl``: validation metrics after an epoch."""

    epoch: int  # 0-based
    train_loss: float
    seconds: float
    miou: float
    iou: list  # per class, None where a class is absent from truth and prediction
    pixel_accuracy: float
    train_precision: NotRequired[str]  # "bf16", "fp16" or "fp32"
    machine: NotRequired[dict]  # the machine profile the epoch ran on


def read_run_config(path):
    """A run's ``config.json``; RecordError naming it when broken."""
    return read_record(path, RunConfig, "training run config")


def read_epochs(path):
    """The complete records of an ``epochs.jsonl`` (a line being written is skipped)."""
    return [r for r in read_jsonl(path) if all(key in r for key in ("epoch", "miou", "iou"))]


def read_steps(path):
    """The complete records of a ``steps.jsonl``."""
    return [r for r in read_jsonl(path) if "loss" in r and "epoch" in r]


def best_epoch(epochs):
    """The epoch record with the highest mIoU, or None for no records."""
    return max(epochs, key=lambda r: r["miou"]) if epochs else None
