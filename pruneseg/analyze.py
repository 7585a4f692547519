"""The sensitivity analysis job: prune each group alone at each ratio and score the damage
(``pruneseg.verify`` then checks one plan of it for real).

The stages, each written to the analysis file as it finishes, so a killed job resumes with all
finished work kept:

1. cells: every group pruned alone at every ratio, scored on the validation subset;
2. the latency table (with ``runtime`` and ``latency_ratios``; off by default since it predicts
   worse than the MACs and costs up to half of the analysis, BENCHMARKS.md): every group pruned
   alone at a few ratios, timed on ONNX Runtime against the dense model: the milliseconds it saves;
   the latency plan is built from it;
3. the trade-off curves the pruning slider reads: each plan at each of its targets (MACs
   shares, or speed-ups for the latency plan), pruned, scored and timed (PyTorch, and ONNX
   Runtime fp32 and int8 with ``runtime``);
4. the predictors' errors (``predictors``): how well each speed-up predictor
   (``pruneseg.prune.predictors``) predicted the speed-ups the curve points measured.

The file is keyed by the checkpoint's hash and the settings: a file made for another checkpoint
or other settings is refused, never silently mixed. Its schema is ``pruneseg.records.analysis``.

Under ``torchrun`` the ranks share each stage's work (``SharedSweep``), each on its own device;
every cell is still scored on all the analysis's images, so the merged file is the one a single
process writes. Latencies are then measured while the other ranks work too: on a shared CPU that
slows the absolute times; the paired speed-ups hold better.
"""
import copy
import time
from dataclasses import asdict
from pathlib import Path

import torch

from pruneseg import distributed
from pruneseg.checkpoint import load_model
from pruneseg.choices import PLAN_KINDS, TARGET_KINDS
from pruneseg.config import AnalyzeConfig
from pruneseg.data.samples import check_classes
from pruneseg.data.classes import classes_of
from pruneseg.deploy.latency import timer_for
from pruneseg.evaluate import evaluate
from pruneseg.jsonio import read_json
from pruneseg.progress import Progress
from pruneseg.prune.groups import list_groups, prune_by_ratios, prune_to_widths
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.measure import latency_ms, load_batches, model_size, paired_latency, recalibrate_batchnorm
from pruneseg.preflight import analyze_problem, require
from pruneseg.prune.plans import make_plan
from pruneseg.prune.predictors import predictor_record
from pruneseg.prune.tradeoff import plan_targets
from pruneseg.records import file_sha256, write_record
from pruneseg.records.analysis import analysis_key, merge_results, ratio_key, read_analysis, settings_of
from pruneseg.target.machine import machine_profile
from pruneseg.workspace.layout import analysis_shard_glob, analysis_shard_path

POLL_SECONDS = 1.0  # how often rank 0 looks for the other ranks' results while it waits


def curve_kinds(config):
    """The plans an analysis by ``config`` computes curves of: the latency plan needs the latency table."""
    table = config.runtime and config.latency_ratios
    return [kind for kind in PLAN_KINDS if table or TARGET_KINDS[kind] == "macs"]


class SharedSweep:
    """The analysis being filled in, by one process or by torchrun's ranks together.

    Rank 0 owns the analysis file: after each result it merges in what the other ranks wrote to
    their shard files (``layout.analysis_shard_path``) and rewrites it, so a reader (the
    Sensitivity page) sees every rank's progress. The other ranks write only their shard.
    ``gather`` waits until every rank's share is in and gives every rank the merged analysis.
    Alone, there are no shards and this is the plain write-after-every-result loop. Rank 0 adds
    the wall time since its last result to the current ``stage`` (``analysis["seconds"]``).
    """

    def __init__(self, out, analysis, progress):
        self.out, self.analysis, self.progress = Path(out), analysis, progress
        self.own = {"key": analysis["key"], "cells": {}, "latency": {}, "curves": {}}
        self.stage, self._clock = "cells", time.monotonic()
        self._refresh()

    def missing_cells(self):
        """``(group, ratio)`` of every cell not finished yet, in sweep order."""
        return [(group["name"], ratio) for group in self.analysis["groups"]
                for ratio in map(float, settings_of(self.analysis).ratios)
                if ratio_key(ratio) not in self.analysis["cells"][group["name"]]]

    def missing_latency(self):
        """``(group, ratio)`` of every latency-table entry not timed yet (none without the table)."""
        table = self.analysis.get("latency")
        if table is None:
            return []
        return [(group["name"], ratio) for group in self.analysis["groups"]
                for ratio in map(float, settings_of(self.analysis).latency_ratios)
                if ratio_key(ratio) not in table[group["name"]]]

    def missing_points(self):
        """``(plan, target)`` of every curve point not measured yet."""
        stride = settings_of(self.analysis).curve_stride
        return [(kind, target) for kind in self.analysis["curves"]
                for target in plan_targets(TARGET_KINDS[kind], stride)
                if target not in {point["target"] for point in self.analysis["curves"][kind]}]

    def known(self, group, ratio):
        """Whether the cell is finished, or implied by the group's collapse at a smaller ratio."""
        self._refresh()
        return ratio_key(ratio) in self.analysis["cells"][group]

    def add_cell(self, group, ratio, cell):
        self.own["cells"].setdefault(group, {})[ratio_key(ratio)] = cell
        self._publish()

    def add_latency(self, group, ratio, entry):
        self.own["latency"].setdefault(group, {})[ratio_key(ratio)] = entry
        self._publish()

    def add_point(self, kind, point):
        self.own["curves"].setdefault(kind, []).append(point)
        self._publish()

    def gather(self, done):
        """Wait until ``done()`` says every rank's share is in, then return the merged analysis on every rank."""
        if distributed.is_main():
            self._refresh()
            while not done():
                time.sleep(POLL_SECONDS)
                self._refresh()
            self._tick()
            write_record(self.out, self.analysis)
        self.analysis = distributed.broadcast(self.analysis)
        return self.analysis

    def _publish(self):
        if distributed.is_main():
            self._tick()
            self._refresh()
        else:
            write_record(analysis_shard_path(self.out, distributed.rank()), self.own)

    def _tick(self):
        """The wall time since the last tick goes to the current stage, summed across resumes."""
        now = time.monotonic()
        seconds = self.analysis.setdefault("seconds", {})
        seconds[self.stage] = seconds.get(self.stage, 0.0) + now - self._clock
        self._clock = now

    def _refresh(self):
        """Merge the latest results of every rank; rank 0 writes them to the analysis file."""
        main = distributed.is_main()
        base = self.analysis if main else (read_json(self.out) or self.analysis)
        merged = merge_results(base, [self.own, *read_shards(self.out, self.analysis["key"])])
        changed, self.analysis = merged != self.analysis, merged
        if main and changed:
            write_record(self.out, self.analysis)
            self.progress.update_to(sum(map(len, self.analysis["cells"].values()))
                                    + sum(map(len, self.analysis.get("latency", {}).values()))
                                    + sum(map(len, self.analysis["curves"].values())))


def read_shards(out, key):
    """The readable shard files of the analysis ``out`` made for ``key``."""
    shards = [read_json(path) for path in sorted(Path(out).parent.glob(analysis_shard_glob(out)))]
    return [shard for shard in shards if isinstance(shard, dict) and shard.get("key") == key]


def remove_shards(out):
    for path in Path(out).parent.glob(analysis_shard_glob(out)):
        path.unlink(missing_ok=True)


def _start_or_resume(config, existing, model, checkpoint, classes, batches, height, width, device, timer):
    """The analysis file (rank 0 only): a new one with the baseline, or ``existing`` (checked by
    ``preflight.analyze_problem``) with the results of a killed run's shards merged in."""
    out = Path(config.out)
    if existing:
        analysis = merge_results(existing, read_shards(out, existing["key"]))
    else:
        sha = file_sha256(config.checkpoint)
        key = analysis_key(sha, asdict(config))
        groups = list_groups(model, height, width, config.round_to)
        analysis = {
            "version": 3, "key": key, "checkpoint": str(config.checkpoint), "checkpoint_sha256": sha,
            "model_name": checkpoint["model_name"], **classes.record(), "input_size": [height, width],
            "settings": asdict(config),
            "baseline": {**evaluate(model, batches, device, len(classes)), **model_size(model, height, width),
                         "latency_ms": latency_ms(model, height, width)},
            "groups": [asdict(g) for g in groups], "cells": {g.name: {} for g in groups},
            "curves": {kind: [] for kind in curve_kinds(config)},
            "machine": machine_profile(torch.get_num_threads()),  # of the PyTorch latencies; runtime ones hold theirs
        }
        if timer:
            analysis["baseline"]["runtime"] = timer.measure(model)
        if timer and config.latency_ratios:
            analysis["latency"] = {g.name: {} for g in groups}
    write_record(out, analysis)
    remove_shards(out)  # their results are in the file now
    return analysis


def main(config: AnalyzeConfig):
    """Run (or resume) the sensitivity sweep, the latency table and the trade-off curves; returns the analysis."""
    existing = read_analysis(config.out) if Path(config.out).exists() else None
    require(analyze_problem(config, existing))
    device = distributed.init()
    model, checkpoint = load_model(config.checkpoint, device)
    classes = check_classes(config.data, classes_of(checkpoint), config.checkpoint)
    height, width = checkpoint["input_size"]
    batches = load_batches(config.data, "val", config.images, height, width, config.batch_size)
    bn_batches = [images for images, _ in load_batches(
        config.data, "train", config.bn_batches * config.batch_size, height, width, config.batch_size)]

    def prune(pruning, plan):  # a pruned, recalibrated copy: prune_by_ratios or prune_to_widths
        pruned = copy.deepcopy(model)
        pruning(pruned, plan, config.round_to, config.importance)
        return recalibrate_batchnorm(pruned, bn_batches)

    with timer_for(config.runtime, config.runtime_threads, model, height, width) as timer:
        analysis = distributed.broadcast(_start_or_resume(config, existing, model, checkpoint, classes, batches, height, width,
                                                          device, timer) if distributed.is_main() else None)
        base_miou = analysis["baseline"]["miou"]
        total = (len(analysis["groups"]) * (len(config.ratios) + (len(config.latency_ratios) if timer else 0))
                 + sum(len(plan_targets(TARGET_KINDS[kind], config.curve_stride)) for kind in analysis["curves"]))
        with Progress(total, "analyse", "cell") as progress:
            sweep = SharedSweep(config.out, analysis, progress)
            for group, ratio in distributed.share(sweep.missing_cells()):
                if sweep.known(group, ratio):  # its group collapsed at a smaller ratio: more cannot help
                    continue
                metrics = evaluate(prune(prune_by_ratios, {group: ratio}), batches, device, len(classes))
                sweep.add_cell(group, ratio, {"miou": metrics["miou"], "iou": metrics["iou"],
                                              "collapsed": metrics["miou"] < config.collapse * base_miou})
            analysis = sweep.gather(lambda: not sweep.missing_cells())

            if timer and config.latency_ratios:  # the latency table: each group alone, on ONNX Runtime (fp32)
                sweep.stage = "latency table"
                for group, ratio in distributed.share(sweep.missing_latency()):
                    fp32 = timer.measure(prune(prune_by_ratios, {group: ratio}), int8=False)["fp32"]  # fp32 is read
                    sweep.add_latency(group, ratio, {"saved_ms": fp32["dense_ms"] - fp32["ms"], "ms": fp32["ms"],
                                                     "speedup": fp32["speedup"]})
                analysis = sweep.gather(lambda: not sweep.missing_latency())

            sweep.stage = "curves"
            macs_model = MacsModel(model, height, width, config.round_to)
            for kind, target in distributed.share(sweep.missing_points()):
                widths = make_plan(kind, analysis, macs_model, target)
                pruned = prune(prune_to_widths, widths)
                metrics = evaluate(pruned, batches, device, len(classes))
                point = {"target": target, "widths": widths, **model_size(pruned, height, width),
                         **paired_latency(model, pruned, height, width), "miou": metrics["miou"], "iou": metrics["iou"]}
                if timer:
                    point["runtime"] = timer.measure(pruned)
                sweep.add_point(kind, point)
            analysis = sweep.gather(lambda: not sweep.missing_points())
    if distributed.is_main():
        analysis["predictors"] = predictor_record(analysis)
        write_record(config.out, analysis)
        remove_shards(config.out)
    return analysis
