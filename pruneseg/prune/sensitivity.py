"""Sensitivity analysis: prune each group alone at each ratio and score the damage.

Every finished cell is written to the analysis file at once, so a killed job resumes with all
finished cells kept. The file is keyed by the checkpoint's hash and the settings: a file made
for another checkpoint or other settings is refused, never silently mixed. After the sweep the
job precomputes the trade-off curves the pruning slider reads: for each MACs-reduction target,
the plan, its parameters, MACs, measured latency and one-shot mIoU.
"""
import copy
import hashlib
import json
from dataclasses import asdict
from pathlib import Path


from pruneseg.checkpoint import load_model
from pruneseg.config import CURVE_TARGETS, PLAN_KINDS, AnalyzeConfig
from pruneseg.errors import PruneSegError
from pruneseg.jsonio import write_json
from pruneseg.models import default_device
from pruneseg.progress import Progress
from pruneseg.prune.analysis_file import RESULT_SETTINGS, drop_table, read_analysis
from pruneseg.prune.groups import list_groups, prune_by_ratios, prune_to_widths
from pruneseg.prune.measure import latency_ms, load_batches, model_size, paired_latency
from pruneseg.prune.plans import MacsModel, recalibrate_batchnorm, sensitivity_plan, uniform_plan
from pruneseg.train import evaluate



def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def analysis_key(checkpoint_sha, config):
    """What an analysis depends on: the checkpoint's bytes and the settings that change results."""
    settings = {k: getattr(config, k) for k in RESULT_SETTINGS}
    return hashlib.sha256(json.dumps([checkpoint_sha, settings], sort_keys=True).encode()).hexdigest()[:16]


def plan_for(analysis, macs_model, target, kind="sensitivity"):
    """Channel widths per group removing ``target`` of the baseline's MACs, by plan ``kind``."""
    if kind == "uniform":
        return uniform_plan(macs_model, target, analysis["settings"]["round_to"])
    if kind == "sensitivity":
        return sensitivity_plan(macs_model, drop_table(analysis), target, analysis["settings"]["round_to"])
    raise ValueError(f"unknown plan {kind!r}; choose one of: {', '.join(PLAN_KINDS)}")


def _start_or_resume(config, model, checkpoint, batches, height, width, device):
    sha = file_sha256(config.checkpoint)
    key = analysis_key(sha, config)
    out = Path(config.out)
    if out.exists():
        analysis = read_analysis(out)
        if analysis.get("key") != key:
            raise PruneSegError(f"{out}: holds an analysis of another checkpoint or other settings; "
                                f"choose another --out or delete it")
        return analysis
    groups = list_groups(model, height, width, config.round_to)
    analysis = {
        "version": 1, "key": key, "checkpoint": str(config.checkpoint), "checkpoint_sha256": sha,
        "model_name": checkpoint["model_name"], "input_size": [height, width], "settings": asdict(config),
        "baseline": {**evaluate(model, batches, device), **model_size(model, height, width),
                     "latency_ms": latency_ms(model, height, width)},
        "groups": [asdict(g) for g in groups], "cells": {g.name: {} for g in groups},
        "curves": {kind: [] for kind in PLAN_KINDS},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, analysis)
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
                    prune_by_ratios(pruned, {group["name"]: ratio}, config.round_to)
                    recalibrate_batchnorm(pruned, bn_batches)
                    miou = evaluate(pruned, batches, device)["miou"]
                    cell = {"miou": miou, "collapsed": miou < config.collapse * base_miou}
                    collapsed = cell if cell["collapsed"] else None
                else:  # pruning more of a collapsed group cannot help: skip the work
                    cell = {"miou": collapsed["miou"], "collapsed": True}
                cells[str(ratio)] = cell
                write_json(config.out, analysis)
                progress.update(1)

        macs_model = MacsModel(model, height, width, config.round_to)
        for kind in PLAN_KINDS:
            finished = {point["target"] for point in analysis["curves"][kind]}
            for target in CURVE_TARGETS:
                if target in finished:
                    continue
                widths = plan_for(analysis, macs_model, target, kind)
                pruned = copy.deepcopy(model)
                prune_to_widths(pruned, widths, config.round_to)
                recalibrate_batchnorm(pruned, bn_batches)
                analysis["curves"][kind].append({
                    "target": target, "widths": widths, **model_size(pruned, height, width),
                    **paired_latency(model, pruned, height, width),
                    "miou": evaluate(pruned, batches, device)["miou"]})
                write_json(config.out, analysis)
                progress.update(1)
    return analysis


def verify_point(analysis_path, data, target, kind="sensitivity"):
    """Prune the analysed checkpoint to the plan for ``target`` and measure it for real.

    Returns the same fields as a curve point (widths, params, MACs, latency, one-shot mIoU on
    the analysis's validation subset, after BatchNorm re-estimation as in the sweep).
    """
    analysis = read_analysis(analysis_path)
    settings = analysis["settings"]
    if file_sha256(analysis["checkpoint"]) != analysis["checkpoint_sha256"]:
        raise PruneSegError(f"{analysis_path}: its checkpoint {analysis['checkpoint']} changed since the "
                            f"analysis; analyse it again")
    device = default_device()
    model, _ = load_model(analysis["checkpoint"], device)
    height, width = analysis["input_size"]
    batches = load_batches(data, "val", settings["images"], height, width, settings["batch_size"])
    bn_batches = [images for images, _ in load_batches(
        data, "train", settings["bn_batches"] * settings["batch_size"], height, width, settings["batch_size"])]
    widths = plan_for(analysis, MacsModel(model, height, width, settings["round_to"]), target, kind)
    pruned = copy.deepcopy(model)
    prune_to_widths(pruned, widths, settings["round_to"])
    recalibrate_batchnorm(pruned, bn_batches)
    return {"target": target, "plan": kind, "widths": widths, **model_size(pruned, height, width),
            **paired_latency(model, pruned, height, width), "miou": evaluate(pruned, batches, device)["miou"]}
