"""The frontier job's record, ``frontier/<name>.json`` (written by ``pruneseg.frontier``).

One row per package chosen: what its manifest and the workspace's records say about it (model,
plan, iteration, precision, runtime, size, parameters, GMACs, mIoU and per-class IoU and where
they come from), the stamp of its files when it was measured, and its ``problem`` when it cannot
run (the row is kept, never dropped). Once the one paired timing has finished (``timed``), each
runnable row also holds its end-to-end latency and its speed-up against its family's dense fp32
package, both from the same alternating rounds. Stdlib only.
"""
from pathlib import Path
from typing import NotRequired, TypedDict

from pruneseg.records import RecordError, read_record

FORMAT_VERSION = 1


class FrontierPackage(TypedDict):
    """One package of a frontier."""

    path: str  # the package folder
    name: str  # its folder name
    stamp: list | None  # [[file, size, mtime_ns], ...] of the package's files when measured (None: folder gone)
    problem: str | None  # why it cannot be timed: broken package, runtime not installed, ...
    label: NotRequired[str]  # "fpn pruned int8 · OpenVINO"
    model_name: NotRequired[str]
    precision: NotRequired[str]  # "fp32" or "int8"
    pruned: NotRequired[bool]
    backend: NotRequired[str]  # "onnxruntime" or "openvino"
    runtime: NotRequired[str]  # "ONNX Runtime" or "OpenVINO"
    input_size: NotRequired[list]  # [height, width]
    class_names: NotRequired[list]
    class_colors: NotRequired[list]
    family: NotRequired[str]  # "fpn 128x256": model and input size (the class set is ``class_names``)
    size_bytes: NotRequired[int]  # the package's files on disk
    source_checkpoint: NotRequired[str | None]
    plan: NotRequired[str | None]  # the pruning run's plan; None for a dense model or one of unknown origin
    iteration: NotRequired[int | None]  # the pruning iteration; 0 for a dense model
    params: NotRequired[int | None]
    macs: NotRequired[int | None]
    facts_note: NotRequired[str | None]  # why parameters or MACs are unknown
    miou: NotRequired[float | None]
    iou: NotRequired[list | None]  # per class; None where the class is neither true nor predicted
    quality_source: NotRequired[str | None]  # where mIoU and IoU come from, in words
    quality_problem: NotRequired[str | None]  # why the per-class IoU is unknown
    inspection: NotRequired[str | None]  # the inspect record that measured them, when one did
    ms: NotRequired[float]  # median end-to-end latency over the rounds (timed rows only)
    ms_spread: NotRequired[dict]  # median, q25, q75
    fps: NotRequired[float]  # 1000 / ms, one frame after the other
    baseline: NotRequired[str | None]  # the dense fp32 package its speed-up is against (None: its family has none)
    speedup: NotRequired[float | None]
    speedup_spread: NotRequired[dict | None]


class FrontierRecord(TypedDict):
    """``frontier/<name>.json``."""

    version: int
    threads: int  # runtime threads of every package (the runner's --intra-op)
    rounds: int
    runs: int  # runs per round
    packages: list  # of FrontierPackage, in the order chosen
    timed: bool  # the paired timing finished; until then rows hold their facts only
    data: NotRequired[str]  # the dataset per-class IoU was measured on where a record lacked it
    machine: NotRequired[dict]  # pruneseg.target.machine.machine_profile(threads)
    config: NotRequired[dict]  # the FrontierConfig
    started: NotRequired[float]
    created: NotRequired[float]  # when the timing finished
    seconds: NotRequired[dict]  # facts, timing


def package_stamp(path):
    """``[[file, size, mtime_ns], ...]`` of the files in a package folder, by name; None when it is gone.

    A package whose stamp differs from the one its frontier row holds changed since it was measured.
    """
    path = Path(path)
    try:
        files = sorted(p for p in path.iterdir() if p.is_file())
        return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    except OSError:
        return None


def is_stale(row):
    """Whether the package of a frontier row changed (or vanished) since it was measured."""
    now = package_stamp(row["path"])
    return now is None or now != row.get("stamp")


def read_frontier(path):
    """A frontier record; RecordError naming the file when it is not a readable, complete one."""
    record = read_record(path, FrontierRecord, "frontier record")
    if record["version"] != FORMAT_VERSION:
        raise RecordError(f"{path}: frontier record format {record['version']!r}; this version reads {FORMAT_VERSION}")
    if not all(isinstance(row, dict) and "path" in row for row in record["packages"]):
        raise RecordError(f"{path}: not a complete frontier record (a package row lacks its path)")
    return record
