"""What a throughput test and an overlay video produce: their result records.

The runner returns them; the dashboard's target jobs add the package's description and write
them as JSON (``target/perf/*.json``, ``target/videos/*.json``). Stdlib only.
"""
import time
from typing import NotRequired, TypedDict

# the manifest fields a result keeps, so it can be labelled after the package is gone
PACKAGE_INFO = ("model_name", "precision", "pruned", "source_checkpoint", "fp32_miou", "int8_miou", "target",
                "backend", "input_size")


class Latency(TypedDict):
    """End-to-end milliseconds per frame with one worker: mean, percentiles and each stage's mean."""

    mean: float
    p50: float
    p99: float
    preprocess_mean: float
    run_mean: float
    argmax_mean: float


class PerfResult(TypedDict):
    """One throughput test (``measure_throughput``), plus ``package_info`` and ``created`` once saved."""

    package: str
    threads: int
    seconds: float
    frames: int
    fps: float
    model: NotRequired[str]
    input_size: NotRequired[list]
    intra_op_threads: NotRequired[int]
    latency_ms: NotRequired[Latency]  # one worker only
    machine: NotRequired[dict]  # pruneseg.target.machine.machine_profile, with the runtime threads
    warnings: NotRequired[list]  # e.g. an int8 package tuned on a CPU with VNNI run on one without
    package_info: NotRequired[dict]
    created: NotRequired[float]


class LatencyComparison(TypedDict):
    """Packages timed end to end in alternating rounds (``compare_latency``), the baseline first."""

    threads: int
    rounds: int
    packages: list  # per package: package, model, ms, ms_spread, speedup, speedup_spread (+ package_info once saved)
    runs: NotRequired[int]
    machine: NotRequired[dict]
    warnings: NotRequired[list]
    created: NotRequired[float]


class VideoResult(TypedDict):
    """One overlay video (``render_video`` / ``render_side_by_side``), plus ``packages`` and ``created``."""

    out: str
    frames: int
    size: list  # [width, height]
    fps: list  # per package, over the last frames
    source: str
    machine: NotRequired[dict]
    warnings: NotRequired[list]
    packages: NotRequired[list]  # package_info of each side, with its ``path``
    created: NotRequired[float]


def package_info(manifest):
    """The ``PACKAGE_INFO`` fields of a manifest."""
    return {key: manifest.get(key) for key in PACKAGE_INFO}


def saved_perf_result(result, manifest):
    """A throughput result as saved: with the package's description and the time."""
    return dict(result, package_info=package_info(manifest), created=time.time())


def saved_latency_comparison(result, manifests):
    """A latency comparison as saved: each package with its description, and the time."""
    rows = [dict(row, package_info=package_info(manifest)) for row, manifest in zip(result["packages"], manifests)]
    return dict(result, packages=rows, created=time.time())


def saved_video_result(summary, packages):
    """A video summary as saved; ``packages`` are (folder, manifest) pairs, left to right."""
    return dict(summary, packages=[dict(path=str(path), **package_info(manifest)) for path, manifest in packages],
                created=time.time())
