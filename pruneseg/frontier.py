"""The frontier job: every package of a workspace timed in one paired comparison on the target runner,
joined with what the records hold about it, so that one chart answers "which one do we ship?".

Two phases, written to ``--out`` (``pruneseg.records.frontier``) as they go:

1. Facts, package by package, the record saved after each: the manifest's model, precision and
   runtime; the package's size on disk; parameters and MACs of the checkpoint it was made from;
   the pruning run's plan and iteration (the ``pruning.json`` beside a snapshot); mIoU and per-class
   IoU from ``quantize.json`` where it holds them, else measured by an inspection of the
   validation split (``pruneseg.inspection``) of the package itself. A package that cannot run
   (broken, runtime not installed) keeps its row with its ``problem``. A killed job run again
   reuses every finished row whose package files are unchanged (their stamp).
2. One paired timing of every runnable package, as the target runner runs them (``Segmenter``:
   preprocess, run, argmax, end to end; warm-up, then alternating whole rounds; the same runtime
   threads for all). Speed-ups are against the dense fp32 package of the same family (model,
   input size and classes; ONNX Runtime's before OpenVINO's, else the first given), round by
   round. This phase always runs anew: a timing is of one moment, and only packages timed in the
   same rounds compare.
"""
import statistics
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from pruneseg import inspection as inspect_job
from pruneseg.checkpoint import load_model
from pruneseg.config import FrontierConfig, InspectConfig
from pruneseg.errors import PruneSegError
from pruneseg.jobs import record_devices, update_state
from pruneseg.model_catalog import model_short_name
from pruneseg.models import count_macs, count_parameters
from pruneseg.progress import Progress
from pruneseg.records import RecordError, write_record
from pruneseg.records.deploy import read_quantize
from pruneseg.records.frontier import FORMAT_VERSION, package_stamp, read_frontier
from pruneseg.records.inspection import model_stamp, read_inspect
from pruneseg.records.pruning import read_state
from pruneseg.target.machine import machine_profile
from pruneseg.target.manifest import DEFAULT_BACKEND, TargetError, load_package, runtime_name
from pruneseg.target.runner import Segmenter
from pruneseg.target.timing import RUNS_PER_ROUND, paired, spread, time_in_rounds
from pruneseg.workspace import layout, listing, naming

TIMING_KEYS = ("ms", "ms_spread", "fps", "baseline", "speedup", "speedup_spread")


class FrontierError(PruneSegError):
    """A frontier that cannot be measured (no package, a bad ``--out``); the message names it."""


# --- which packages, and what was measured before -------------------------------------------------

def chosen_packages(config, workspace):
    """The package folders to measure (absolute, each once): ``--package``s in their order, else every
    package folder of the workspace, newest first (broken ones too)."""
    if config.packages:
        paths = [Path(p).resolve() for p in config.packages]
    else:
        paths = [Path(row["path"]).resolve() for row in listing.list_packages(workspace)]
    if not paths:
        raise FrontierError(f"{layout.packages_dir(workspace)}: no package in this workspace; compile one first "
                            "(`python -m pruneseg compile`) or name package folders with --package")
    return list(dict.fromkeys(paths))


def finished_rows(config, data):
    """``{path: row}`` of the rows a previous run of this job left in ``--out`` (their facts only), when it
    measured quality on the same dataset; FrontierError when ``--out`` holds something else."""
    out = Path(config.out)
    if not out.exists():
        return {}
    try:
        record = read_frontier(out)
    except RecordError as error:
        raise FrontierError(f"{error}; choose another --out or delete it") from None
    if record.get("data", "") != data:
        return {}
    return {row["path"]: {k: v for k, v in row.items() if k not in TIMING_KEYS} for row in record["packages"]}


# --- the facts of one package ------------------------------------------------------------------------

def origin(source, pruned):
    """``{"plan", "iteration"}`` of the checkpoint a package was made from: a pruning snapshot's from the
    pruning run's ``pruning.json`` beside it; a dense model is iteration 0 of no plan."""
    if source and layout.prune_state_path(Path(source).parent).is_file():
        try:
            state = read_state(layout.prune_state_path(Path(source).parent))
        except RecordError:
            state = {"iterations": []}
        for record in state["iterations"]:
            if Path(record["checkpoint"]).resolve() == Path(source).resolve():
                return {"plan": state["config"].get("plan", "sensitivity"), "iteration": record["iteration"]}
    return {"plan": None, "iteration": None if pruned else 0}


def model_size(source, sizes):
    """``{"params", "macs", "facts_note"}`` of the checkpoint ``source`` at its input size, counted once
    per checkpoint (``sizes`` caches them); unknown, with the reason, when it cannot be loaded."""
    if not source:
        return {"params": None, "macs": None, "facts_note": "the manifest names no source checkpoint"}
    if source not in sizes:
        try:
            model, checkpoint = load_model(source)
            sizes[source] = {"params": count_parameters(model), "macs": count_macs(model, *checkpoint["input_size"]),
                             "facts_note": None}
        except PruneSegError as error:
            sizes[source] = {"params": None, "macs": None, "facts_note": f"parameters and MACs unknown: {error}"}
    return sizes[source]


def inspected(path, data, workspace):
    """``(inspect record, name)`` of the package at ``path`` on ``data``'s validation split: the inspection
    already in the workspace while the package is unchanged, else a new one."""
    name = naming.inspect_name([str(path)], str(data), "val")
    out = layout.inspect_path(workspace, name)
    if out.exists():
        try:
            record = read_inspect(out)
            if record["models"][0].get("stamp") == model_stamp(path):
                return record, name
        except RecordError:
            pass  # measured again below, which says what is wrong with it if it still is
    return inspect_job.main(InspectConfig(models=[str(path)], data=str(data), split="val", out=str(out))), name


def quality(package, row, data, workspace):
    """``{"miou", "iou", "quality_source", "quality_problem", "inspection"}`` of a package: from the
    ``quantize.json`` its model came from where that holds per-class IoU, else from an inspection of
    the package itself on ``data``'s validation split."""
    manifest, precision = package.manifest, row["precision"]
    miou = manifest.get("int8_miou" if precision == "int8" else "fp32_miou")
    found = {"miou": miou, "iou": None, "quality_source": "manifest" if miou is not None else None,
             "quality_problem": None, "inspection": None}
    if manifest.get("miou_source") not in (None, "checkpoint"):
        try:
            record = read_quantize(manifest["miou_source"])
            score, evaluated = record[precision], record.get("eval") or {}
        except (RecordError, KeyError):
            score, evaluated = {}, {}
        if score.get("iou") is not None:
            return dict(found, miou=score["miou"], iou=score["iou"], quality_source=(
                f"quantize.json: {evaluated.get('images', '?')} {evaluated.get('split', 'val')} image(s), ONNX Runtime "
                f"on the {precision} model the package was compiled from"))
    if row["problem"]:
        return dict(found, quality_problem="per-class IoU not measured: the package cannot run")
    if not data:
        return dict(found, quality_problem="per-class IoU not recorded, and no dataset to measure it on: give "
                                           "--data (or make the built-in dataset)")
    try:
        record, name = inspected(package.path, data, workspace)
    except PruneSegError as error:
        return dict(found, quality_problem=f"per-class IoU not measured: {error}")
    model = record["models"][0]
    return dict(found, miou=model["miou"], iou=model["iou"], inspection=name, quality_source=(
        f"inspection of the package itself on {len(record['images'])} {record['split']} images of {data}"))


def package_facts(path, config, data, workspace, sizes):
    """A package's frontier row before timing (``pruneseg.records.frontier.FrontierPackage``)."""
    row = {"path": str(path), "name": path.name, "stamp": package_stamp(path), "problem": None}
    try:
        package = load_package(path)
    except TargetError as error:
        return dict(row, problem=str(error))
    manifest = package.manifest
    source = manifest.get("source_checkpoint")
    pruned = manifest["pruned"] if manifest.get("pruned") is not None else layout.is_snapshot(source)
    height, width = package.input_size
    row.update(label=package.label, model_name=manifest.get("model_name") or "?",
               precision=manifest.get("precision") or "fp32", pruned=bool(pruned), backend=package.backend,
               runtime=runtime_name(manifest), input_size=[height, width], class_names=list(manifest["class_names"]),
               class_colors=list(manifest["class_colors"]),
               family=f"{model_short_name(manifest.get('model_name') or '?')} {height}x{width}",
               size_bytes=sum(p.stat().st_size for p in path.iterdir() if p.is_file()), source_checkpoint=source)
    try:
        Segmenter(package, config.threads)  # loads as the timing will: runtime installed, model as the manifest says
    except TargetError as error:
        row["problem"] = str(error)
    row.update(origin(source, pruned))
    row.update(model_size(source, sizes))
    row.update(quality(package, row, data, workspace))
    return row


# --- the one paired timing -----------------------------------------------------------------------

def family_key(row):
    """What a speed-up may be computed within: the same model, input size and classes."""
    return row["model_name"], tuple(row["input_size"]), tuple(row["class_names"])


def baselines(rows):
    """``{family: row}``: each family's dense fp32 package, ONNX Runtime's before another runtime's, else the
    first in ``rows``' order; a family without one has no speed-ups."""
    chosen = {}
    for row in sorted(rows, key=lambda r: r["backend"] != DEFAULT_BACKEND):  # stable: keeps the order within
        if row["precision"] == "fp32" and not row["pruned"]:
            chosen.setdefault(family_key(row), row)
    return chosen


def time_packages(rows, threads, rounds, on_round=None):
    """Time ``rows``' packages together, end to end, and add ``TIMING_KEYS`` to each row; a package that no
    longer loads gets its ``problem`` instead."""
    loaded = []
    for row in rows:
        try:
            loaded.append((row, Segmenter(row["path"], threads)))
        except TargetError as error:
            row["problem"] = str(error)
    frames = {}
    for _, segmenter in loaded:  # noise at each input size, the same for every package of that size
        size = (segmenter.height, segmenter.width)
        frames.setdefault(size, np.random.default_rng(0).integers(0, 256, (*size, 3), np.uint8))
    calls = [lambda s=segmenter: s.segment(frames[s.height, s.width]) for _, segmenter in loaded]
    times = time_in_rounds(calls, rounds, RUNS_PER_ROUND, on_round=on_round) if calls else []
    by_path = {row["path"]: t for (row, _), t in zip(loaded, times)}
    base = baselines([row for row, _ in loaded])
    for (row, _), values in zip(loaded, times):
        ms = statistics.median(values)
        reference = base.get(family_key(row))
        pair = paired(by_path[reference["path"]], values) if reference else None
        row.update(ms=ms, ms_spread=spread(values), fps=1000.0 / ms, baseline=reference and reference["path"],
                   speedup=pair and pair["speedup"], speedup_spread=pair and pair["speedup_spread"])


# --- the job ------------------------------------------------------------------------------------------

def _check(config):
    if not config.out:
        raise ValueError("frontier needs --out (a .json file, e.g. WORKSPACE/frontier/all.json)")
    if config.threads < 1 or config.rounds < 1:
        raise ValueError(f"--threads and --rounds must be at least 1, got {config.threads} and {config.rounds}")
    if config.data and not Path(config.data).is_dir():
        raise ValueError(f"--data {config.data}: no such dataset folder")


def main(config: FrontierConfig):
    """Measure (or resume) the frontier and write its record; returns the record."""
    _check(config)
    workspace = Path(config.workspace) if config.workspace else layout.default_workspace()
    paths = chosen_packages(config, workspace)
    builtin = layout.builtin_dataset_dir(workspace)
    data = str(Path(config.data).resolve()) if config.data else str(builtin.resolve()) if builtin.is_dir() else ""
    finished = finished_rows(config, data)
    out = Path(config.out)
    record = {"version": FORMAT_VERSION, "threads": config.threads, "rounds": config.rounds, "runs": RUNS_PER_ROUND,
              "data": data, "config": asdict(config), "packages": [], "timed": False, "started": time.time(),
              "machine": machine_profile(config.threads)}
    record_devices([f"cpu, {config.threads} runtime thread(s)"])
    sizes, started = {}, time.monotonic()
    with Progress(len(paths), "package facts", "package") as progress:
        for index, path in enumerate(paths, 1):
            update_state(message=f"Package {index} of {len(paths)}: {path.name}")
            row = finished.get(str(path))
            if row is None or row["problem"] or row["stamp"] != package_stamp(path):
                row = package_facts(path, config, data, workspace, sizes)
            record["packages"].append(row)
            write_record(out, record)
            progress.update()
    facts_seconds = time.monotonic() - started
    runnable = [row for row in record["packages"] if not row["problem"]]
    update_state(message=f"Timing {len(runnable)} package(s) together, {config.rounds} alternating rounds")
    with Progress(config.rounds, "paired timing", "round") as progress:
        time_packages(runnable, config.threads, config.rounds, on_round=progress.update_to)
    record.update(timed=True, created=time.time(),
                  seconds={"facts": facts_seconds, "timing": time.monotonic() - started - facts_seconds})
    write_record(out, record)
    return record
