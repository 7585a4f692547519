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
