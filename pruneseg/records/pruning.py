"""The iterative pruning loop's ``pruning.json`` (written by ``pruneseg.prune_loop``; ``state.json`` in older runs)."""
from typing import NotRequired, TypedDict

from pruneseg.records import read_record


class Iteration(TypedDict):
    """One finished iteration: pruned to ``target``, fine-tuned, snapshotted in ``checkpoint``."""

    iteration: int
    target: float
    one_shot_miou: float  # right after pruning
    miou: float  # after fine-tuning
    iou: list
    pixel_accuracy: float
    epochs: int  # fine-tuning epochs spent
    recovered: bool  # mIoU within the tolerance of the dense model, every guarded class within its limit
    checkpoint: str
    widths: dict
    params: int
    macs: int
    latency_ms: float
    dense_latency_ms: NotRequired[float]
    speedup: NotRequired[float]
    missed_guards: NotRequired[list]  # guarded classes still below their limit when fine-tuning stopped
    machine: NotRequired[dict]  # the machine profile its latencies were measured on
    runtime: NotRequired[dict]  # ONNX Runtime fp32 and int8, timed in rounds with the dense model
    fine_tune_seconds: NotRequired[float]  # wall time of its fine-tuning epochs (resumes included)
    fine_tune_steps: NotRequired[int]  # optimizer steps of its fine-tuning
    asked_speedup: NotRequired[float]  # with --speedup: the speed-up this iteration was searched for
    speedup_search: NotRequired[dict]  # with --speedup: the search, every probe (pruneseg.prune.speedup_search)
    final: NotRequired[bool]  # the final fine-tune's row (--final-epochs): no pruning, its own schedule
    schedule: NotRequired[str]  # the final fine-tune's learning-rate schedule ("cosine")


class PruningState(TypedDict):
    """``pruned/<run>/pruning.json``: the run's settings, the dense model measured, every iteration."""

    config: dict  # the PruneConfig (with its speed-up asked, distillation and final fine-tune settings)
    dense: dict  # metrics, params, macs, latency_ms of the dense model, and the machine profile it was timed on
    iterations: list  # of Iteration
    class_names: NotRequired[list]  # the classes ``iou`` lists; states before this field: the built-in 6
    class_colors: NotRequired[list]  # [r, g, b] per class


def read_state(path):
    """A pruning run's state; RecordError naming the file when broken."""
    return read_record(path, PruningState, "pruning state")
