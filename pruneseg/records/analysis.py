"""The sensitivity analysis file, its shards and its verified points (written by ``pruneseg.analyze``)."""
import hashlib
import json
from dataclasses import fields
from typing import NotRequired, TypedDict

from pruneseg.config import AnalyzeConfig
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
    runtime: NotRequired[dict]  # ONNX Runtime: ``pruneseg.deploy.latency.RuntimeLatency.measure`` of the dense model (with its machine)


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
    dense_miou: NotRequired[float]  # the dense model on the same images (points before this field lack it)
    dense_iou: NotRequired[list]  # per class, on the same images
    miou_drop: NotRequired[float]  # dense_miou - miou
    predicted: NotRequired[dict]  # the curve's prediction (``tradeoff.prediction_record``): miou, drop, iou, ...
    machine: NotRequired[dict]  # the machine profile (PyTorch's threads) its latencies were measured on
    speedup_search: NotRequired[dict]  # ``verify --speedup``: the search and its probes; ``target`` is its knob


class Analysis(TypedDict):
    """``analyses/<name>.json``."""

    key: str  # hash of the checkpoint's bytes and RESULT_SETTINGS
    checkpoint: str
    checkpoint_sha256: str
    model_name: str
    input_size: list  # [height, width]
    settings: dict  # the AnalyzeConfig, as a dict: read it with ``settings_of``
    baseline: Baseline
    groups: list  # of Group, in the model's order
    cells: dict  # group -> {str(ratio): Cell}
    curves: dict  # plan -> [Point] by target
    latency: NotRequired[dict]  # group -> {str(ratio): {"saved_ms", "ms", "speedup"}}: ONNX Runtime fp32, pruned alone
    seconds: NotRequired[dict]  # wall time per stage ("cells", "latency table", "curves"), summed over resumes
    machine: NotRequired[dict]  # the machine profile (PyTorch's threads) of the PyTorch latencies; each ONNX
    # Runtime timing (``runtime``) records its own, with the runtime's threads
    predictors: NotRequired[dict]  # each speed-up predictor's error on the curve points (prune.predictors)
    version: NotRequired[int]
    class_names: NotRequired[list]  # the classes every ``iou`` lists; files before this field: the built-in 6
    class_colors: NotRequired[list]  # [r, g, b] per class


class AnalysisShard(TypedDict):
    """``analyses/<name>.shard-<rank>.json``: the results one rank (> 0) of a torchrun analysis
    finished; rank 0 merges them into the analysis (``merge_results``), then deletes it."""

    key: str  # the analysis's key: a shard of another analysis is never merged
    cells: dict  # group -> {str(ratio): Cell}
    latency: NotRequired[dict]  # group -> {str(ratio): latency-table entry}
    curves: dict  # plan -> [Point]


def ratio_key(ratio):
    """A ratio as the analysis keys its cells: ``0.3`` -> ``"0.3"``."""
    return str(float(ratio))


def merge_results(analysis, shards):
    """``analysis`` (a new dict) with the cells, latency-table entries and curve points of ``shards`` added.

    Cells follow the single-process sweep, whoever computed them: once a group collapses at a
    ratio, each larger ratio of it is that cell again, collapsed. Points stay one per target,
    sorted by target. So ranks sharing a sweep write the file one process would.

    Args:
        shards: dicts shaped as the analysis's results (``AnalysisShard``).
    """
    sources = [analysis, *shards]
    cells = {}
    for group in analysis["cells"]:
        found = {}
        for source in reversed(sources):  # the analysis's own cells win
            found.update(source["cells"].get(group, {}))
        cells[group], collapsed = {}, None
        for key in map(ratio_key, settings_of(analysis).ratios):
            if collapsed is not None:
                cells[group][key] = {**collapsed, "collapsed": True}
            elif key in found:
                cells[group][key] = found[key]
                collapsed = found[key] if found[key]["collapsed"] else None
    curves = {}
    for kind in analysis["curves"]:
        by_target = {}
        for source in sources:
            for point in source["curves"].get(kind, []):
                by_target.setdefault(point["target"], point)
        curves[kind] = [by_target[target] for target in sorted(by_target)]
    merged = {**analysis, "cells": cells, "curves": curves}
    if "latency" in analysis:
        merged["latency"] = {group: {key: entry for source in reversed(sources)
                                     for key, entry in source.get("latency", {}).get(group, {}).items()}
                             for group in analysis["latency"]}
    return merged


def settings_of(analysis):
    """The ``AnalyzeConfig`` that made ``analysis``: a setting an older file lacks takes its default, a key
    the config no longer has is ignored."""
    known = {item.name for item in fields(AnalyzeConfig)}
    return AnalyzeConfig(**{key: value for key, value in analysis.get("settings", {}).items() if key in known})


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
