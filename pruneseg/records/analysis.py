"""The sensitivity analysis file and its verified points (written by ``pruneseg.analyze``)."""
import hashlib
import json
from typing import NotRequired, TypedDict

from pruneseg.records import RecordError, read_record

# the analysis settings that change its results: a file is only resumed with the same ones
RESULT_SETTINGS = ("data", "images", "ratios", "bn_batches", "round_to", "collapse", "importance", "runtime",
                   "runtime_threads", "latency_ratios")


class Baseline(TypedDict):
    """The dense model on the analysis's validation subset."""

    miou: float
    iou: list
    pixel_accuracy: float
    params: int
    macs: int
    latency_ms: float  # PyTorch, batch 1
    runtime: NotRequired[dict]  # ONNX Runtime: ``pruneseg.deploy.latency.RuntimeLatency.measure`` of the dense model


class Group(TypedDict):
    """A prunable group: its root layer's name, coupled conv layers, channels, share of the MACs it touches."""

    name: str
    modules: list
    channels: int
    macs_share: float


class Cell(TypedDict):
    """One group pruned alone at one ratio."""

    miou: float
    collapsed: bool  # below the collapse share of the baseline: larger ratios were skipped
    iou: NotRequired[list]  # per class (None where unknown); files before version 3 lack it


class Point(TypedDict):
    """A whole-model plan pruned and measured: a point of a trade-off curve."""

    target: float  # the plan's target: share of the dense MACs removed, or speed-up (TARGET_KINDS)
    params: int
    macs: int
    latency_ms: float
    miou: float  # one-shot: pruned, BatchNorm re-estimated, not fine-tuned
    iou: NotRequired[list]  # per class, one-shot; files before version 3 lack it
    widths: NotRequired[dict]  # group -> channels kept (always written)
    dense_latency_ms: NotRequired[float]  # PyTorch, timed alternately with latency_ms
    speedup: NotRequired[float]  # PyTorch
    runtime: NotRequired[dict]  # ONNX Runtime fp32 and int8, timed in rounds with the dense model


class VerifiedPoint(Point):
    """``verify``'s output: one plan pruned for real and measured."""

    plan: str
    images: NotRequired[int]  # validation images scored
    held_out: NotRequired[bool]  # whether they are images the analysis did not use
    guards: NotRequired[dict]  # class name -> largest IoU drop the plan was asked to hold


class Analysis(TypedDict):
    """``analyses/<name>.json``."""

    key: str  # hash of the checkpoint's bytes and RESULT_SETTINGS
    checkpoint: str
    checkpoint_sha256: str
    model_name: str
    input_size: list  # [height, width]
    settings: dict  # the AnalyzeConfig
    baseline: Baseline
    groups: list  # of Group, in the model's order
    cells: dict  # group -> {str(ratio): Cell}
    curves: dict  # plan -> [Point] by target
    latency: NotRequired[dict]  # group -> {str(ratio): {"saved_ms", "ms", "speedup"}}: ONNX Runtime fp32, pruned alone
    seconds: NotRequired[dict]  # wall time per stage ("cells", "latency table", "curves"), summed over resumes
    version: NotRequired[int]


def read_analysis(path):
    """Load an analysis file; RecordError naming it when it is not a readable, complete one."""
    analysis = read_record(path, Analysis, "analysis file")
    if not isinstance(analysis["baseline"], dict) or "miou" not in analysis["baseline"]:
        raise RecordError(f"{path}: not a complete analysis file (baseline mIoU missing)")
    return analysis


def read_point(path):
    """A verified point (``verify``'s output)."""
    return read_record(path, VerifiedPoint, "verified point")


def analysis_key(checkpoint_sha, settings):
    """What an analysis depends on: the checkpoint's bytes and the settings (a dict) that change results."""
    chosen = {key: settings.get(key) for key in RESULT_SETTINGS}
    return hashlib.sha256(json.dumps([checkpoint_sha, chosen], sort_keys=True).encode()).hexdigest()[:16]
