"""The verify job: prune the analysed checkpoint to one plan of its analysis (``pruneseg.analyze``) and
measure it for real, beside what the analysis's curve predicted for it."""
import copy

import torch

from pruneseg import distributed
from pruneseg.checkpoint import load_model
from pruneseg.choices import TARGET_KINDS
from pruneseg.config import VerifyConfig
from pruneseg.data.samples import check_classes
from pruneseg.data.classes import classes_of
from pruneseg.deploy.latency import timer_for
from pruneseg.evaluate import evaluate
from pruneseg.preflight import require, verify_problem
from pruneseg.prune.groups import prune_to_widths
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.measure import load_batches, model_size, paired_latency, recalibrate_batchnorm
from pruneseg.prune.plans import make_plan
from pruneseg.prune.tradeoff import predicted_point, prediction_record
from pruneseg.records import write_record
from pruneseg.records.analysis import read_analysis, settings_of
from pruneseg.speedup_target import PlanKnob, check_asked, search_plan
from pruneseg.target.machine import machine_profile


def main(config: VerifyConfig):
    """Prune the analysed checkpoint to the plan for ``config.target`` and measure it for real.

    An independent check of the curve: the one-shot mIoU (after BatchNorm re-estimation, as in
    the sweep) is scored on validation images the analysis did not use, where the split has
    enough (else on the analysis's own, and the point says so), and so is the dense model, so
    the drop (``miou_drop``) is pruning's alone; the curve's prediction for the same plan is
    recorded beside it (``predicted``, its drop against the dense model on the analysis's
    images). Latency is timed as the analysis timed it (PyTorch, and ONNX Runtime when the
    analysis did). The point records the per-class IoU and the plan's guards. With
    ``config.speedup`` the plan is searched for that speed-up, measured on ONNX Runtime
    (``pruneseg.speedup_target``), and the point records every probe (``speedup_search``).

    Returns:
        a ``VerifiedPoint``, also written to ``config.out`` when given.
    """
    analysis = read_analysis(config.analysis)
    require(verify_problem(config, analysis))
    classes = classes_of(analysis)
    settings = settings_of(analysis)
    device = distributed.init()
    model, _ = load_model(analysis["checkpoint"], device)
    check_classes(config.data, classes, config.analysis)
    height, width = analysis["input_size"]
    macs_model = MacsModel(model, height, width, settings.round_to)
    plan_knob = PlanKnob(config.plan, analysis, macs_model, config.guards, config.speedup_precision) \
        if config.speedup else None
    if plan_knob:
        check_asked(config.speedup, plan_knob, config.speedup_precision)
    images, size = settings.images, settings.batch_size
    batches = load_batches(config.data, "val", images, height, width, size, skip=images)
    held_out = bool(batches)
    if not held_out:  # the analysis used the whole split
        batches = load_batches(config.data, "val", images, height, width, size)
    bn_batches = [images for images, _ in load_batches(
        config.data, "train", settings.bn_batches * size, height, width, size)]
    search, target = None, config.target
    if plan_knob:
        search = search_plan(config.speedup, plan_knob, model, model, height, width, config.speedup_precision,
                             threads=settings.runtime_threads, importance=settings.importance)
        widths, target = search["widths"], search["target"]
    else:
        widths = make_plan(config.plan, analysis, macs_model, config.target, config.guards)
    pruned = copy.deepcopy(model)
    prune_to_widths(pruned, widths, settings.round_to, settings.importance)
    recalibrate_batchnorm(pruned, bn_batches)
    metrics = evaluate(pruned, batches, device, len(classes))
    dense = evaluate(model, batches, device, len(classes))  # the same images: the drop is pruning's alone
    predicted = predicted_point(analysis, config.plan, target, TARGET_KINDS[config.plan])
    point = {"target": target, "plan": config.plan, "guards": dict(config.guards), "widths": widths,
             **model_size(pruned, height, width), **paired_latency(model, pruned, height, width),
             "miou": metrics["miou"], "iou": metrics["iou"], "images": sum(len(targets) for _, targets in batches),
             "held_out": held_out, "dense_miou": dense["miou"], "dense_iou": dense["iou"],
             "miou_drop": dense["miou"] - metrics["miou"], "predicted": prediction_record(analysis, predicted),
             "machine": machine_profile(torch.get_num_threads())}
    if search:  # the chosen probe's timing is the point's
        point["runtime"] = search.pop("runtime")
        point["speedup_search"] = search
    else:
        with timer_for(settings.runtime, settings.runtime_threads, model, height, width) as timer:
            if timer:
                point["runtime"] = timer.measure(pruned)
    if config.out and distributed.is_main():
        write_record(config.out, point)
    return point
