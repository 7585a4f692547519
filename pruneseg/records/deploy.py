"""Export and quantization records (``deploy/<name>/export.json``, ``quantize.json``), and the
readers of a package's manifest and of the target's results (defined beside the torch-free
target runner: ``pruneseg.target.manifest``, ``pruneseg.target.results``)."""
from typing import NotRequired, TypedDict

from pruneseg.records import read_record
from pruneseg.target.manifest import Manifest
from pruneseg.target.results import LatencyComparison, PerfResult, VideoResult


class Parity(TypedDict):
    """Agreement of a model with its reference on a few images."""

    images: int
    argmax_agreement: float
    max_abs_diff: NotRequired[float]
    mean_abs_diff: NotRequired[float]
    source: NotRequired[str]


class ExportRecord(TypedDict):
    """``export.json``: the fp32 ONNX model and its parity with PyTorch."""

    model: str
    checkpoint: str
    parity: Parity
    model_name: NotRequired[str]
    input_size: NotRequired[list]
    opset: NotRequired[int]
    exporter: NotRequired[str]  # "dynamo", or "legacy" after a fallback
    dynamo_error: NotRequired[str]
    export_seconds: NotRequired[float]
    size_bytes: NotRequired[int]


class ModelScore(TypedDict):
    """One ONNX model scored on the evaluation images."""

    model: str
    miou: float
    size_bytes: NotRequired[int]
    iou: NotRequired[list]
    pixel_accuracy: NotRequired[float]
    latency_ms: NotRequired[float]


class QuantizeRecord(TypedDict):
    """``quantize.json``: the fp32 and int8 models scored, and how the int8 one was made."""

    checkpoint: str
    fp32: ModelScore
    int8: ModelScore
    miou_change: float
    size_ratio: float
    parity: dict  # fp32_vs_torch, int8_vs_fp32: Parity
    speedup: NotRequired[float]
    config: NotRequired[dict]
    model_name: NotRequired[str]
    input_size: NotRequired[list]
    class_names: NotRequired[list]
    exporter: NotRequired[str]
    calibration: NotRequired[dict]
    keep_float: NotRequired[dict]
    int8_rewrites: NotRequired[dict]  # float-only operators rewritten before quantizing ({op: count}; int8_friendly)
    eval: NotRequired[dict]
    int8_format: NotRequired[dict]  # format, description, reason, candidates (each measured, or None), tolerance
    machine: NotRequired[dict]  # the machine profile its latencies were measured and its format chosen on


def read_export(path):
    return read_record(path, ExportRecord, "export record")


def read_quantize(path):
    return read_record(path, QuantizeRecord, "quantization record")


def read_manifest(path):
    return read_record(path, Manifest, "package manifest")


def read_perf_result(path):
    return read_record(path, PerfResult, "throughput result")


def read_video_result(path):
    return read_record(path, VideoResult, "video summary")


def read_latency_comparison(path):
    return read_record(path, LatencyComparison, "latency comparison")
