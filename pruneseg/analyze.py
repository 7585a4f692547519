"""The sensitivity analysis job: prune each group alone at each ratio and score the damage;
and ``verify``, which prunes to one plan and measures it.

Every finished cell is written to the analysis file at once, so a killed job resumes with all
finished cells kept. The file is keyed by the checkpoint's hash and the settings: a file made
for another checkpoint or other settings is refused, never silently mixed. After the sweep the
job precomputes the trade-off curves the pruning slider reads: for each MACs-reduction target,
the plan, its parameters, MACs, measured latency and one-shot mIoU. The file's schema is
``pruneseg.records.analysis``.
"""
import copy
from dataclasses import asdict
from pathlib import Path

from pruneseg.checkpoint import load_model
from pruneseg.config import AnalyzeConfig, VerifyConfig, check_guards
from pruneseg.data.classes import CLASS_NAMES
from pruneseg.errors import PruneSegError
from pruneseg.models import default_device
from pruneseg.progress import Progress
from pruneseg.prune.groups import list_groups, prune_by_ratios, prune_to_widths
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.measure import latency_ms, load_batches, model_size, paired_latency, recalibrate_batchnorm
from pruneseg.prune.guards import check_guarded
from pruneseg.prune.plans import PLAN_KINDS, check_plan, make_plan
from pruneseg.prune.tradeoff import CURVE_TARGETS
from pruneseg.records import file_sha256, write_record
from pruneseg.records.analysis import analysis_key, read_analysis
from pruneseg.train import evaluate


def _start_or_resume(config, model, checkpoint, batches, height, width, device):
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
        "curves": {kind: [] for kind in PLAN_KINDS},
    }
    write_record(out, analysis)
    return analysis


def main(config: AnalyzeConfig):
    """Run (or resume) the sensitivity sweep and the trade-off curves; returns the analysis dict."""
    device = default_device()
    model, checkpoint = load_model(config.checkpoint, device)
    height, width = checkpoint["input_size"]
    batches = load_batches(config.data, "val", config.images, height, width, config.batch_size)
    bn_batches = [images for images, _ in load_batches(
        config.data, "train", config.bn_batches * config.batch_size, height, width, config.batch_size)]
    analysis = _start_or_resume(config, model, checkpoint, batches, height, width, device)
    base_miou = analysis["baseline"]["miou"]
    ratios = [float(r) for r in config.ratios]
    total = len(analysis["groups"]) * len(ratios) + len(CURVE_TARGETS) * len(PLAN_KINDS)
    done = sum(len(c) for c in analysis["cells"].values()) + sum(len(c) for c in analysis["curves"].values())

    with Progress(total, "analyse", "cell") as progress:
        progress.update_to(done)
        for group in analysis["groups"]:
            cells = analysis["cells"][group["name"]]
            collapsed = None
            for ratio in ratios:
                if str(ratio) in cells:
                    collapsed = cells[str(ratio)] if cells[str(ratio)]["collapsed"] else collapsed
                    continue
                if collapsed is None:
                    pruned = copy.deepcopy(model)
                    prune_by_ratios(pruned, {group["name"]: ratio}, config.round_to, config.importance)
                    recalibrate_batchnorm(pruned, bn_batches)
                    metrics = evaluate(pruned, batches, device)
                    cell = {"miou": metrics["miou"], "iou": metrics["iou"],
                            "collapsed": metrics["miou"] < config.collapse * base_miou}
                    collapsed = cell if cell["collapsed"] else None
                else:  # pruning more of a collapsed group cannot help: skip the work
                    cell = {**collapsed, "collapsed": True}
                cells[str(ratio)] = cell
                write_record(config.out, analysis)
                progress.update(1)

        macs_model = MacsModel(model, height, width, config.round_to)
        for kind in PLAN_KINDS:
            finished = {point["target"] for point in analysis["curves"][kind]}
            for target in CURVE_TARGETS:
                if target in finished:
                    continue
                widths = make_plan(kind, analysis, macs_model, target)
                pruned = copy.deepcopy(model)
                prune_to_widths(pruned, widths, config.round_to, config.importance)
                recalibrate_batchnorm(pruned, bn_batches)
                metrics = evaluate(pruned, batches, device)
                analysis["curves"][kind].append({
                    "target": target, "widths": widths, **model_size(pruned, height, width),
                    **paired_latency(model, pruned, height, width), "miou": metrics["miou"], "iou": metrics["iou"]})
                write_record(config.out, analysis)
                progress.update(1)
    return analysis


def verify(config: VerifyConfig):
    """Prune the analysed checkpoint to the plan for ``config.target`` and measure it for real.

    Returns the same fields as a curve point (widths, params, MACs, latency, one-shot mIoU and
    per-class IoU on the analysis's validation subset, after BatchNorm re-estimation as in the
    sweep), plus the plan and its guards; written to ``config.out`` when given.
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
    batches = load_batches(config.data, "val", settings["images"], height, width, settings["batch_size"])
    bn_batches = [images for images, _ in load_batches(
        config.data, "train", settings["bn_batches"] * settings["batch_size"], height, width, settings["batch_size"])]
    widths = make_plan(config.plan, analysis, MacsModel(model, height, width, settings["round_to"]), config.target,
                       config.guards)
    pruned = copy.deepcopy(model)
    prune_to_widths(pruned, widths, settings["round_to"], settings.get("importance", "l2"))
    recalibrate_batchnorm(pruned, bn_batches)
    metrics = evaluate(pruned, batches, device)
    point = {"target": config.target, "plan": config.plan, "guards": dict(config.guards), "widths": widths,
             **model_size(pruned, height, width), **paired_latency(model, pruned, height, width),
             "miou": metrics["miou"], "iou": metrics["iou"]}
    if config.out:
        write_record(config.out, point)
    return point
