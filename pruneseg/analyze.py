"""The sensitivity analysis job: prune each group alone at each ratio and score the damage;
and ``verify``, which prunes to one plan and measures it.

The stages, each written to the analysis file as it finishes, so a killed job resumes with all
finished work kept:

1. cells: every group pruned alone at every ratio, scored on the validation subset;
2. the latency table (with ``runtime``): every group pruned alone at a few ratios, timed on
   ONNX Runtime against the dense model: the milliseconds it saves;
3. the trade-off curves the pruning slider reads: each plan at each of its targets (MACs
   shares, or speed-ups for the latency plan), pruned, scored and timed (PyTorch, and ONNX
   Runtime fp32 and int8 with ``runtime``).

The file is keyed by the checkpoint's hash and the settings: a file made for another checkpoint
or other settings is refused, never silently mixed. Its schema is ``pruneseg.records.analysis``.
"""
import copy
import time
from dataclasses import asdict
from pathlib import Path

from pruneseg.checkpoint import load_model
from pruneseg.config import AnalyzeConfig, VerifyConfig, check_guards
from pruneseg.data.classes import CLASS_NAMES
from pruneseg.deploy.latency import timer_for
from pruneseg.errors import PruneSegError
from pruneseg.models import default_device
from pruneseg.progress import Progress
from pruneseg.prune.groups import list_groups, prune_by_ratios, prune_to_widths
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.measure import latency_ms, load_batches, model_size, paired_latency, recalibrate_batchnorm
from pruneseg.prune.guards import check_guarded
from pruneseg.prune.plans import PLAN_KINDS, TARGET_KINDS, check_plan, make_plan
from pruneseg.prune.tradeoff import plan_targets
from pruneseg.records import file_sha256, write_record
from pruneseg.records.analysis import analysis_key, read_analysis
from pruneseg.train import evaluate


def curve_kinds(settings):
    """The plans an analysis with ``settings`` computes curves of: the latency plan needs the runtime."""
    return [kind for kind in PLAN_KINDS if settings.get("runtime") or TARGET_KINDS[kind] == "macs"]


def _start_or_resume(config, model, checkpoint, batches, height, width, device, timer):
    sha = file_sha256(config.checkpoint)
    key = analysis_key(sha, asdict(config))
    out = Path(config.out)
    if out.exists():
        analysis = read_analysis(out)
        if analysis.get("key") != key:
            raise PruneSegError(f"{out}: holds an analysis of another checkpoint or other settings; "
                                f"choose another --out or delete it")
        return analysis
    groups = list_groups(model, height, width, config.round_to)
    analysis = {
        "version": 3, "key": key, "checkpoint": str(config.checkpoint), "checkpoint_sha256": sha,
        "model_name": checkpoint["model_name"], "input_size": [height, width], "settings": asdict(config),
        "baseline": {**evaluate(model, batches, device), **model_size(model, height, width),
                     "latency_ms": latency_ms(model, height, width)},
        "groups": [asdict(g) for g in groups], "cells": {g.name: {} for g in groups},
        "curves": {kind: [] for kind in curve_kinds(asdict(config))},
    }
    if timer:
        analysis["baseline"]["runtime"] = timer.measure(model)
        analysis["latency"] = {g.name: {} for g in groups}
    write_record(out, analysis)
    return analysis


def main(config: AnalyzeConfig):
    """Run (or resume) the sensitivity sweep, the latency table and the trade-off curves; returns the analysis."""
    device = default_device()
    model, checkpoint = load_model(config.checkpoint, device)
    height, width = checkpoint["input_size"]
    batches = load_batches(config.data, "val", config.images, height, width, config.batch_size)
    bn_batches = [images for images, _ in load_batches(
        config.data, "train", config.bn_batches * config.batch_size, height, width, config.batch_size)]
    with timer_for(asdict(config), model, height, width) as timer:
        analysis = _start_or_resume(config, model, checkpoint, batches, height, width, device, timer)
        kinds = curve_kinds(analysis["settings"])
        total = (len(analysis["groups"]) * (len(config.ratios) + (len(config.latency_ratios) if timer else 0))
                 + sum(len(plan_targets(TARGET_KINDS[kind])) for kind in kinds))
        with Progress(total, "analyse", "cell") as progress:
            progress.update_to(sum(len(c) for c in analysis["cells"].values())
                               + sum(len(c) for c in analysis.get("latency", {}).values())
                               + sum(len(c) for c in analysis["curves"].values()))

            def prune(pruning, plan):  # a pruned, recalibrated copy: prune_by_ratios or prune_to_widths
                pruned = copy.deepcopy(model)
                pruning(pruned, plan, config.round_to, config.importance)
                return recalibrate_batchnorm(pruned, bn_batches)

            clock = [time.monotonic()]

            def save(stage):  # the time since the last save goes to ``stage``, across resumes too
                now = time.monotonic()
                seconds = analysis.setdefault("seconds", {})
                seconds[stage] = seconds.get(stage, 0.0) + now - clock[0]
                clock[0] = now
                write_record(config.out, analysis)
                progress.update(1)

            _sweep_cells(config, analysis, prune, batches, device, save)
            if timer:
                _latency_table(config, analysis, prune, timer, save)
            macs_model = MacsModel(model, height, width, config.round_to)
            for kind in kinds:
                finished = {point["target"] for point in analysis["curves"][kind]}
                for target in plan_targets(TARGET_KINDS[kind]):
                    if target in finished:
                        continue
                    widths = make_plan(kind, analysis, macs_model, target)
                    pruned = prune(prune_to_widths, widths)
                    metrics = evaluate(pruned, batches, device)
                    point = {"target": target, "widths": widths, **model_size(pruned, height, width),
                             **paired_latency(model, pruned, height, width), "miou": metrics["miou"],
                             "iou": metrics["iou"]}
                    if timer:
                        point["runtime"] = timer.measure(pruned)
                    analysis["curves"][kind].append(point)
                    save("curves")
    return analysis


def _sweep_cells(config, analysis, prune, batches, device, save):
    """Each group alone at each ratio; a group's sweep stops once it collapses."""
    base_miou = analysis["baseline"]["miou"]
    for group in analysis["groups"]:
        cells = analysis["cells"][group["name"]]
        collapsed = None
        for ratio in (float(r) for r in config.ratios):
            if str(ratio) in cells:
                collapsed = cells[str(ratio)] if cells[str(ratio)]["collapsed"] else collapsed
                continue
            if collapsed is None:
                metrics = evaluate(prune(prune_by_ratios, {group["name"]: ratio}), batches, device)
                cell = {"miou": metrics["miou"], "iou": metrics["iou"],
                        "collapsed": metrics["miou"] < config.collapse * base_miou}
                collapsed = cell if cell["collapsed"] else None
            else:  # pruning more of a collapsed group cannot help: skip the work
                cell = {**collapsed, "collapsed": True}
            cells[str(ratio)] = cell
            save("cells")


def _latency_table(config, analysis, prune, timer, save):
    """Each group alone at each latency ratio, timed on ONNX Runtime (fp32) against the dense model."""
    for group in analysis["groups"]:
        table = analysis["latency"].setdefault(group["name"], {})
        for ratio in (float(r) for r in config.latency_ratios):
            if str(ratio) in table:
                continue
            fp32 = timer.measure(prune(prune_by_ratios, {group["name"]: ratio}))["fp32"]
            table[str(ratio)] = {"saved_ms": fp32["dense_ms"] - fp32["ms"], "ms": fp32["ms"],
                                 "speedup": fp32["speedup"]}
            save("latency table")


def verify(config: VerifyConfig):
    """Prune the analysed checkpoint to the plan for ``config.target`` and measure it for real.

    An independent check of the curve: the one-shot mIoU (after BatchNorm re-estimation, as in
    the sweep) is scored on validation images the analysis did not use, where the split has
    enough (else on the analysis's own, and the point says so); latency is timed as the
    analysis timed it (PyTorch, and ONNX Runtime when the analysis did). The point records the
    per-class IoU and the plan's guards.

    Returns:
        a ``VerifiedPoint``, also written to ``config.out`` when given.
    """
    check_plan(config.plan)
    check_guards(config.guards, CLASS_NAMES)
    analysis = read_analysis(config.analysis)
    check_guarded(analysis, config.guards)
    settings = analysis["settings"]
    if file_sha256(analysis["checkpoint"]) != analysis["checkpoint_sha256"]:
        raise PruneSegError(f"{config.analysis}: its checkpoint {analysis['checkpoint']} changed since the "
                            f"analysis; analyse it again")
    device = default_device()
    model, _ = load_model(analysis["checkpoint"], device)
    height, width = analysis["input_size"]
    images, size = settings["images"], settings["batch_size"]
    batches = load_batches(config.data, "val", images, height, width, size, skip=images)
    held_out = bool(batches)
    if not held_out:  # the analysis used the whole split
        batches = load_batches(config.data, "val", images, height, width, size)
    bn_batches = [images for images, _ in load_batches(
        config.data, "train", settings["bn_batches"] * size, height, width, size)]
    widths = make_plan(config.plan, analysis, MacsModel(model, height, width, settings["round_to"]), config.target,
                       config.guards)
    pruned = copy.deepcopy(model)
    prune_to_widths(pruned, widths, settings["round_to"], settings.get("importance", "l2"))
    recalibrate_batchnorm(pruned, bn_batches)
    metrics = evaluate(pruned, batches, device)
    point = {"target": config.target, "plan": config.plan, "guards": dict(config.guards), "widths": widths,
             **model_size(pruned, height, width), **paired_latency(model, pruned, height, width),
             "miou": metrics["miou"], "iou": metrics["iou"], "images": sum(len(targets) for _, targets in batches), "held_out": held_out}
    with timer_for(settings, model, height, width) as timer:
        if timer:
            point["runtime"] = timer.measure(pruned)
    if config.out:
        write_record(config.out, point)
    return point
