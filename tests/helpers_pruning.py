"""An analysis and a pruning run, made up in microseconds as ``pruneseg analyze`` and ``pruneseg prune`` write
them, and the config of a real pruning run on the tiny FPN (the ``trained_fpn`` fixture)."""
import json

import numpy as np

from pruneseg.config import PruneConfig
from pruneseg.prune import tradeoff
from pruneseg.records import file_sha256
from pruneseg.workspace import layout

RATIOS = [round(0.1 * i, 1) for i in range(1, 10)]
STEM = "fpn-demo-model_best"  # write_analysis's name: that of runs/fpn-demo/model_best.pt


def synthetic_analysis(groups=20, ratios=RATIOS, seed=0, curve_points=None, runtime=False):
    """An analysis file's dict as ``pruneseg analyze`` writes it, made up in microseconds.

    Group ``g<i>`` loses ``fragility_i * ratio**2`` mIoU, most of it (3.5x) on class ``i % 6``, the
    others 0.5x each; the curves get cheaper and worse with the target, the uniform plan worse than
    the sensitivity plan. ``curve_points``: keep only the first so many points of each curve (an
    analysis still running). ``runtime``: with ONNX Runtime speed-ups (fp32 ``1 / (1 - 0.9 x
    reduction)``, int8 2.5 times that), a latency table and the latency plan's curve.
    """
    rng = np.random.default_rng(seed)
    base = {"miou": 0.7, "iou": [0.7] * 6, "pixel_accuracy": 0.9, "params": 11_000_000, "macs": 6_500_000_000,
            "latency_ms": 80.0}
    names = [f"layer{i // 4 + 1}.{i % 4}.conv{1 + i % 2}" for i in range(groups)]
    channels = [64 * 2 ** min(i // 5, 3) for i in range(groups)]
    fragility = [float(f) for f in rng.uniform(0.005, 0.8, groups)]
    analysis = {
        "version": 2, "key": "synthetic", "checkpoint": "/nowhere/runs/fpn-demo/model_best.pt", "checkpoint_sha256": "0" * 64,
        "model_name": "fpn", "input_size": [256, 512],
        "settings": {"checkpoint": "/nowhere/runs/fpn-demo/model_best.pt", "data": "/nowhere/data", "out": "",
                     "images": 32, "ratios": list(ratios), "bn_batches": 4, "batch_size": 8, "round_to": 16,
                     "collapse": 0.5},
        "baseline": base,
        "groups": [{"name": n, "modules": [n, n.replace("conv", "bn")], "channels": c, "macs_share": 1.0 / groups}
                   for n, c in zip(names, channels)],
        "cells": {}, "curves": {}}
    for index, (name, frag) in enumerate(zip(names, fragility)):
        cells = {}
        for ratio in ratios:
            drop = frag * ratio ** 2
            miou = base["miou"] - drop
            iou = [0.7 - (3.5 if c == index % 6 else 0.5) * drop for c in range(6)]
            cells[str(float(ratio))] = {"miou": miou, "iou": iou, "collapsed": miou < 0.5 * base["miou"]}
        analysis["cells"][name] = cells
    for kind, penalty in (("sensitivity", 0.3), ("uniform", 0.6)):
        points = []
        for target in tradeoff.CURVE_TARGETS[:curve_points]:
            widths = {n: max(8, int(c * (1 - target) ** 0.5) // 8 * 8) for n, c in zip(names, channels)}
            points.append({"target": target, "widths": widths, "params": base["params"] * (1 - target) ** 1.5,
                           "macs": base["macs"] * (1 - target), "latency_ms": base["latency_ms"] * (1 - 0.8 * target),
                           "miou": base["miou"] - penalty * target ** 2,
                           "iou": [base["miou"] - penalty * target ** 2 * (1 + 0.2 * c) for c in range(6)]})
        analysis["curves"][kind] = points
    if runtime:
        add_runtime(analysis, curve_points)
    return analysis


def runtime_record(reduction):
    fp32 = 1 / (1 - 0.9 * reduction)
    return {"runtime": "onnxruntime", "threads": 1, "input_size": [256, 512], "rounds": 7,
            "fp32": {"ms": 40.0 / fp32, "speedup": fp32, "dense_ms": 40.0},
            "int8": {"ms": 40.0 / fp32 / 2.5, "speedup": 2.5 * fp32, "dense_int8_ms": 16.0}}


def add_runtime(analysis, curve_points=None):
    """ONNX Runtime measurements on a ``synthetic_analysis``: baseline, curve points, latency table, latency plan."""
    base = analysis["baseline"]
    base["runtime"] = runtime_record(0.0)
    analysis["settings"]["latency_ratios"] = [0.25, 0.5, 0.75]
    for points in analysis["curves"].values():
        for point in points:
            point["runtime"] = runtime_record(1 - point["macs"] / base["macs"])
    analysis["latency"] = {g["name"]: {str(r): {"saved_ms": 40.0 * g["macs_share"] * r} for r in (0.25, 0.5, 0.75)}
                           for g in analysis["groups"]}
    points = []
    for speedup in tradeoff.SPEEDUP_TARGETS[:curve_points]:
        reduction = min(0.9, (1 - 1 / speedup) / 0.9)
        points.append({"target": speedup, "widths": {}, "params": base["params"] * (1 - reduction),
                       "macs": base["macs"] * (1 - reduction), "latency_ms": 80.0 * (1 - 0.8 * reduction),
                       "miou": base["miou"] - 0.2 * reduction ** 2, "runtime": runtime_record(reduction)})
    analysis["curves"]["latency"] = points


def synthetic_state(analysis_path, out, iterations=3, step=0.1, plan="sensitivity"):
    """A pruning loop's ``pruning.json`` dict as ``pruneseg prune`` writes it."""
    dense = {"miou": 0.7, "iou": [0.7] * 6, "pixel_accuracy": 0.9, "params": 11_000_000, "macs": 6_500_000_000,
             "latency_ms": 80.0}
    records = []
    for k in range(1, iterations + 1):
        target = round(step * k, 4)
        records.append({"iteration": k, "target": target, "one_shot_miou": 0.7 - 0.4 * target,
                        "miou": 0.69 - 0.05 * target, "iou": [0.6] * 6, "pixel_accuracy": 0.85, "epochs": 2 * k,
                        "recovered": k < 3, "checkpoint": f"{out}/iter_{k}.pt", "widths": {},
                        "params": dense["params"] * (1 - target) ** 1.5, "macs": dense["macs"] * (1 - target),
                        "latency_ms": dense["latency_ms"] * (1 - 0.7 * target)})
    config = {"checkpoint": "/nowhere/runs/fpn-demo/model_best.pt", "data": "/nowhere/data",
              "analysis": str(analysis_path), "out": str(out), "iterations": 5, "step": step, "tolerance": 0.02,
              "max_epochs": 20, "plan": plan, "lr": 1e-4, "batch_size": 0, "workers": 2, "round_to": 8}
    return {"config": config, "dense": dense, "iterations": records}


def write_analysis(ws, analysis=None, stem=STEM):
    """An analysis of ``runs/fpn-demo/model_best.pt`` on the built-in dataset, under ``analyses/``."""
    ws = ws.resolve()
    checkpoint = ws / "runs" / "fpn-demo" / "model_best.pt"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    checkpoint.write_bytes(b"not a real checkpoint")
    analysis = analysis or synthetic_analysis()
    path = layout.analyses_dir(ws) / f"{stem}.json"
    analysis["checkpoint"], analysis["checkpoint_sha256"] = str(checkpoint), file_sha256(checkpoint)
    analysis["settings"].update(checkpoint=str(checkpoint), data=str(ws / "datasets" / "synthcity"), out=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(analysis))
    return path


def write_state(ws, analysis_path, name=f"{STEM}-sensitivity", **kwargs):
    """``pruned/<name>/pruning.json`` of a ``synthetic_state`` of ``analysis_path``; returns the run's folder."""
    out = layout.pruned_dir(ws.resolve()) / name
    out.mkdir(parents=True)
    (out / layout.PRUNE_STATE).write_text(json.dumps(synthetic_state(analysis_path, out, **kwargs)))
    return out


def prune_config(trained, analysis_file, out, **overrides):
    """A ``PruneConfig`` of two quick iterations of ``trained`` (the ``trained_fpn`` fixture) into ``out``."""
    checkpoint, data = trained
    values = dict(checkpoint=str(checkpoint), data=str(data), analysis=str(analysis_file), out=str(out),
                  iterations=2, step=0.3, max_epochs=1, batch_size=2, workers=0)
    values.update(overrides)
    return PruneConfig(**values)
