"""The sensitivity analysis job: prune each group alone at each ratio and score the damage;
and ``verify``, which prunes to one plan and measures it.

Every finished cell is written to the analysis file at once, so a killed job resumes with all
finished cells kept. The file is keyed by the checkpoint's hash and the settings: a file made
for another checkpoint or other settings is refused, never silently mixed. After the sweep the
job precomputes the trade-off curves the pruning slider reads: for each MACs-reduction target,
the plan, its parameters, MACs, measured latency and one-shot mIoU. The file's schema is
``pruneseg.records.analysis``.

Under ``torchrun`` the ranks share the cells, then the curve points (``SharedSweep``), each on
its own device; every cell is still scored on all the analysis's images, so the merged file is
the one a single process writes. Latencies are then measured while the other ranks work too:
on a shared CPU that slows the absolute times; the paired speed-ups hold better.
"""
import copy
import time
from dataclasses import asdict
from pathlib import Path

from pruneseg import distributed
from pruneseg.checkpoint import load_model
from pruneseg.config import AnalyzeConfig, VerifyConfig
from pruneseg.errors import PruneSegError
from pruneseg.jsonio import read_json
from pruneseg.progress import Progress
from pruneseg.prune.groups import list_groups, prune_by_ratios, prune_to_widths
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.measure import latency_ms, load_batches, model_size, paired_latency, recalibrate_batchnorm
from pruneseg.prune.plans import PLAN_KINDS, check_plan, make_plan
from pruneseg.prune.tradeoff import CURVE_TARGETS
from pruneseg.records import file_sha256, write_record
from pruneseg.records.analysis import analysis_key, merge_results, ratio_key, read_analysis
from pruneseg.train import evaluate
from pruneseg.workspace.layout import analysis_shard_glob, analysis_shard_path

POLL_SECONDS = 1.0  # how often rank 0 looks for the other ranks' results while it waits


class SharedSweep:
    """The analysis being filled in, by one process or by torchrun's ranks together.

    Rank 0 owns the analysis file: after each result it merges in what the other ranks wrote to
    their shard files (``layout.analysis_shard_path``) and rewrites it, so a reader (the
    Sensitivity page) sees every rank's progress. The other ranks write only their shard.
    ``gather`` waits until every rank's share is in and gives every rank the merged analysis.
    Alone, there are no shards and this is the plain write-after-every-cell loop.
    """

    def __init__(self, out, analysis, progress):
        self.out, self.analysis, self.progress = Path(out), analysis, progress
        self.own = {"key": analysis["key"], "cells": {}, "curves": {}}
        self._refresh()

    def missing_cells(self):
        """``(group, ratio)`` of every cell not finished yet, in sweep order."""
        return [(group["name"], ratio) for group in self.analysis["groups"]
                for ratio in map(float, self.analysis["settings"]["ratios"])
                if ratio_key(ratio) not in self.analysis["cells"][group["name"]]]

    def missing_points(self):
        """``(plan, target)`` of every curve point not measured yet."""
        return [(kind, target) for kind in PLAN_KINDS for target in CURVE_TARGETS
                if target not in {point["target"] for point in self.analysis["curves"][kind]}]

    def known(self, group, ratio):
        """Whether the cell is finished, or implied by the group's collapse at a smaller ratio."""
        self._refresh()
        return ratio_key(ratio) in self.analysis["cells"][group]

    def add_cell(self, group, ratio, cell):
        self.own["cells"].setdefault(group, {})[ratio_key(ratio)] = cell
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
        self.analysis = distributed.broadcast(self.analysis)
        return self.analysis

    def _publish(self):
        if distributed.is_main():
            self._refresh()
        else:
            write_record(analysis_shard_path(self.out, distributed.rank()), self.own)

    def _refresh(self):
        """Merge the latest results of every rank; rank 0 writes them to the analysis file."""
        main = distributed.is_main()
        base = self.analysis if main else (read_json(self.out) or self.analysis)
        merged = merge_results(base, [self.own, *read_shards(self.out, self.analysis["key"])])
        changed, self.analysis = merged != self.analysis, merged
        if main and changed:
            write_record(self.out, self.analysis)
            self.progress.update_to(sum(map(len, self.analysis["cells"].values()))
                                    + sum(map(len, self.analysis["curves"].values())))


def read_shards(out, key):
    """The readable shard files of the analysis ``out`` made for ``key``."""
    shards = [read_json(path) for path in sorted(Path(out).parent.glob(analysis_shard_glob(out)))]
    return [shard for shard in shards if isinstance(shard, dict) and shard.get("key") == key]


def remove_shards(out):
    for path in Path(out).parent.glob(analysis_shard_glob(out)):
        path.unlink(missing_ok=True)


def _start_or_resume(config, model, checkpoint, batches, height, width, device):
    """The analysis file (rank 0 only): a new one with the baseline, or the existing one with the
    results of a killed run's shards merged in."""
    sha = file_sha256(config.checkpoint)
    key = analysis_key(sha, asdict(config))
    out = Path(config.out)
    if out.exists():
        analysis = read_analysis(out)
        if analysis.get("key") != key:
            raise PruneSegError(f"{out}: holds an analysis of another checkpoint or other settings; "
                                f"choose another --out or delete it")
        analysis = merge_results(analysis, read_shards(out, key))
    else:
        groups = list_groups(model, height, width, config.round_to)
        analysis = {
            "version": 2, "key": key, "checkpoint": str(config.checkpoint), "checkpoint_sha256": sha,
            "model_name": checkpoint["model_name"], "input_size": [height, width], "settings": asdict(config),
            "baseline": {**evaluate(model, batches, device), **model_size(model, height, width),
                         "latency_ms": latency_ms(model, height, width)},
            "groups": [asdict(g) for g in groups], "cells": {g.name: {} for g in groups},
            "curves": {kind: [] for kind in PLAN_KINDS},
        }
    write_record(out, analysis)
    remove_shards(out)  # their results are in the file now
    return analysis


def main(config: AnalyzeConfig):
    """Run (or resume) the sensitivity sweep and the trade-off curves; returns the analysis dict."""
    device = distributed.init()
    model, checkpoint = load_model(config.checkpoint, device)
    height, width = checkpoint["input_size"]
    batches = load_batches(config.data, "val", config.images, height, width, config.batch_size)
    bn_batches = [images for images, _ in load_batches(
        config.data, "train", config.bn_batches * config.batch_size, height, width, config.batch_size)]
    analysis = distributed.broadcast(
        _start_or_resume(config, model, checkpoint, batches, height, width, device) if distributed.is_main() else None)
    base_miou = analysis["baseline"]["miou"]
    total = len(analysis["groups"]) * len(config.ratios) + len(CURVE_TARGETS) * len(PLAN_KINDS)

    with Progress(total, "analyse", "cell") as progress:
        sweep = SharedSweep(config.out, analysis, progress)
        for group, ratio in distributed.share(sweep.missing_cells()):
            if sweep.known(group, ratio):  # its group collapsed at a smaller ratio: more cannot help
                continue
            pruned = copy.deepcopy(model)
            prune_by_ratios(pruned, {group: ratio}, config.round_to, config.importance)
            recalibrate_batchnorm(pruned, bn_batches)
            miou = evaluate(pruned, batches, device)["miou"]
            sweep.add_cell(group, ratio, {"miou": miou, "collapsed": miou < config.collapse * base_miou})
        analysis = sweep.gather(lambda: not sweep.missing_cells())

        macs_model = MacsModel(model, height, width, config.round_to)
        for kind, target in distributed.share(sweep.missing_points()):
            widths = make_plan(kind, analysis, macs_model, target)
            pruned = copy.deepcopy(model)
            prune_to_widths(pruned, widths, config.round_to, config.importance)
            recalibrate_batchnorm(pruned, bn_batches)
            sweep.add_point(kind, {
                "target": target, "widths": widths, **model_size(pruned, height, width),
                **paired_latency(model, pruned, height, width),
                "miou": evaluate(pruned, batches, device)["miou"]})
        analysis = sweep.gather(lambda: not sweep.missing_points())
    if distributed.is_main():
        remove_shards(config.out)
    return analysis


def verify(config: VerifyConfig):
    """Prune the analysed checkpoint to the plan for ``config.target`` and measure it for real.

    Returns the same fields as a curve point (widths, params, MACs, latency, one-shot mIoU on
    the analysis's validation subset, after BatchNorm re-estimation as in the sweep), plus the
    plan; written to ``config.out`` when given.
    """
    check_plan(config.plan)
    analysis = read_analysis(config.analysis)
    settings = analysis["settings"]
    if file_sha256(analysis["checkpoint"]) != analysis["checkpoint_sha256"]:
        raise PruneSegError(f"{config.analysis}: its checkpoint {analysis['checkpoint']} changed since the "
                            f"analysis; analyse it again")
    device = distributed.init()
    model, _ = load_model(analysis["checkpoint"], device)
    height, width = analysis["input_size"]
    batches = load_batches(config.data, "val", settings["images"], height, width, settings["batch_size"])
    bn_batches = [images for images, _ in load_batches(
        config.data, "train", settings["bn_batches"] * settings["batch_size"], height, width, settings["batch_size"])]
    widths = make_plan(config.plan, analysis, MacsModel(model, height, width, settings["round_to"]), config.target)
    pruned = copy.deepcopy(model)
    prune_to_widths(pruned, widths, settings["round_to"], settings.get("importance", "l2"))
    recalibrate_batchnorm(pruned, bn_batches)
    point = {"target": config.target, "plan": config.plan, "widths": widths, **model_size(pruned, height, width),
             **paired_latency(model, pruned, height, width), "miou": evaluate(pruned, batches, device)["miou"]}
    if config.out and distributed.is_main():
        write_record(config.out, point)
    return point
