"""The stakeholder demo: one job from nothing to a pruned int8 model running on the target.

It chains the ordinary jobs, in this process, as resumable steps:

1. data: the built-in synthcity dataset, when missing;
2. train: the model with a training preset (``--preset quick``), for what the budget leaves it
   (``budget_split``: the later steps' measured shares reserved, training gets the rest);
3. analyse: the sensitivity analysis, timed on ONNX Runtime (a light sweep, ``ANALYSIS``);
4. prune: a few iterations of the sensitivity plan, fine-tuning with the dense run's recipe, then a
   final fine-tune distilled from the dense model (``PRUNING``);
5. deploy: export, quantize and compile the dense and the last pruned model, fp32 and int8;
6. target: throughput tests of dense fp32, pruned fp32 and pruned int8, and their paired latency;
7. video: the overlay video of dense fp32 beside pruned int8 on the built-in drive;
8. frontier: the four packages timed together with their quality (``pruneseg.frontier``).

Every artefact is the workspace's like any other, so every page shows it. The record
(``pruneseg.records.demo``) says which steps are done and what each cost, the budget and its split,
the machine, and the quality reached (``quality``); a killed demo, run
again, skips the finished steps and resumes the one it was in as that job resumes (training
from its last epoch, the analysis with its finished cells, pruning from its last epoch). The
job's message names the step; its progress bar is the step's own (reset when a step starts).
"""
import time
from dataclasses import asdict
from pathlib import Path

from pruneseg import analyze, frontier, prune_loop, target_jobs, train
from pruneseg.choices import TRAIN_PRESETS
from pruneseg.config import (AnalyzeConfig, CompileConfig, DemoConfig, FrontierConfig, PruneConfig, QuantizeConfig,
                             TrainConfig)
from pruneseg.data.classes import classes_of
from pruneseg.data.synthcity import generate
from pruneseg.deploy import compile as compile_job
from pruneseg.deploy import quantize
from pruneseg.jobs import update_state
from pruneseg.model_catalog import model_short_name
from pruneseg.progress import Progress
from pruneseg.records import write_record
from pruneseg.records.demo import read_demo
from pruneseg.records.pruning import read_state
from pruneseg.target.machine import machine_profile
from pruneseg.target_configs import CompareConfig, LatencyConfig, PerfConfig
from pruneseg.workspace import layout

ANALYSIS = dict(images=16, ratios=[0.25, 0.5, 0.75], latency_ratios=[0.5], curve_stride=2)  # enough for the slider
PERF_SECONDS = 5.0  # each throughput test
STEPS = ("data", "train", "analyse", "prune", "deploy", "target", "video", "frontier")
# minutes each step but training takes on a 2-core CPU, rounded up from the slower of two measured machines:
# AVX512 with VNNI and bf16 (BENCHMARKS.md: data 0.3, analyse 3.1, prune 0.5, deploy 0.3, target 0.3, video 0.05)
# and AVX2 only (issue 17: analyse 3.4, prune 0.7, deploy 0.4, target 0.3), deploy with room for measuring the
# int8 formats there (``quantize --int8-format auto`` on a CPU without VNNI); the frontier times four packages
RESERVED_MINUTES = {"data": 0.5, "analyse": 3.5, "prune": 1.0, "deploy": 1.0, "target": 0.4, "video": 0.1,
                    "frontier": 0.5}
LEARNED_IOU = 0.2  # a class whose validation IoU reaches this counts as learned


def artefacts(config: DemoConfig):
    """Where every step writes, from the config alone (the pruned checkpoint is known after ``prune``)."""
    ws = Path(config.workspace) if config.workspace else layout.default_workspace()
    name = f"{config.name}-{model_short_name(config.model)}"
    run = layout.run_dir(ws, name)
    return {"workspace": str(ws), "dataset": str(layout.builtin_dataset_dir(ws)), "run": str(run),
            "checkpoint": str(run / layout.BEST_CHECKPOINT), "analysis": str(layout.analysis_path(ws, name)),
            "pruning_run": str(layout.pruning_run_dir(ws, name)), "video_input": str(layout.drive_video(ws))}


def step_data(config, made):
    if (Path(made["dataset"]) / layout.SYNTHCITY_INFO).exists():
        return
    with Progress(408, "synthcity", "image") as progress:
        generate(made["dataset"], progress=lambda done, total: progress.update_to(done))


def budget_split(minutes, reserved=RESERVED_MINUTES):
    """The demo's budget shared out: the other steps' ``reserved`` minutes, training gets the rest.

    Returns:
        ``{"minutes": minutes, "reserved": {step: minutes}, "train": minutes}``
    Raises:
        ValueError naming --budget-minutes when less than a minute would be left for training.
    """
    train_minutes = round(minutes - sum(reserved.values()), 2)
    if train_minutes < 1:
        shares = ", ".join(f"{step} {share:g}" for step, share in reserved.items())
        raise ValueError(f"--budget-minutes {minutes:g} leaves no time to train: the other steps take about "
                         f"{sum(reserved.values()):g} minutes ({shares}); give at least {sum(reserved.values()) + 1:g}, "
                         f"or 0 for no budget")
    return {"minutes": minutes, "reserved": dict(reserved), "train": train_minutes}


def quality(state, learned_iou=LEARNED_IOU):
    """What the demo reached, from its pruning run's ``state``: dense and pruned validation mIoU and per-class
    IoU, and the classes below ``learned_iou`` in each (``not_learned``)."""
    dense, pruned = state["dense"], state["iterations"][-1]
    names = classes_of(state).names
    return {"dense_miou": dense["miou"], "pruned_miou": pruned["miou"], "class_names": list(names),
            "dense_iou": dense["iou"], "pruned_iou": pruned["iou"], "learned_iou": learned_iou,
            "not_learned": {role: [name for name, iou in zip(names, ious) if iou is None or iou < learned_iou]
                            for role, ious in (("dense", dense["iou"]), ("pruned", pruned["iou"]))}}


def step_train(config, made):
    preset = TRAIN_PRESETS[config.preset]
    budget = {"budget_minutes": budget_split(config.budget_minutes)["train"]} if config.budget_minutes else {}
    train.main(TrainConfig(**{**preset, **budget, "model": config.model, "data": made["dataset"],
                              "out": made["run"]}))


def step_analyse(config, made):
    analyze.main(AnalyzeConfig(checkpoint=made["checkpoint"], data=made["dataset"], out=made["analysis"], **ANALYSIS))


# every fine-tuning step distilled from the dense model, each iteration fine-tuned until within 1 point (issue 18's
# goal for the demo; at most --max-epochs), and a short final fine-tune after the iterations: on a small FPN the
# distillation and the final fine-tune took the demo's pruning from -1.4 points to +0.1 (BENCHMARKS.md)
PRUNING = dict(distill=True, final_epochs=3, tolerance=0.01)


def step_prune(config, made):
    state = prune_loop.main(PruneConfig(
        checkpoint=made["checkpoint"], data=made["dataset"], analysis=made["analysis"], out=made["pruning_run"],
        iterations=config.iterations, step=config.step, max_epochs=config.max_epochs, **PRUNING))
    made["pruned_checkpoint"] = state["iterations"][-1]["checkpoint"]


def step_deploy(config, made):
    ws = made["workspace"]
    for role, checkpoint in (("dense", made["checkpoint"]), ("pruned", made["pruned_checkpoint"])):
        folder = layout.deploy_folder(ws, checkpoint)
        quantize.main(QuantizeConfig(checkpoint=checkpoint, data=made["dataset"], out=str(folder)))
        for precision, model in (("fp32", layout.FP32_MODEL), ("int8", layout.INT8_MODEL)):
            package = layout.package_dir(ws, folder.name, precision)
            compile_job.main(CompileConfig(model=str(folder / model), out=str(package)))
            made[f"{role}_{precision}"] = str(package)


def step_target(config, made):
    ws = made["workspace"]
    for role in ("dense_fp32", "pruned_fp32", "pruned_int8"):
        out = layout.perf_result_path(ws, made[role], 1)
        target_jobs.perf(PerfConfig(package=made[role], seconds=PERF_SECONDS, out=str(out)))
        made[f"perf_{role}"] = str(out)
    packages = [made[role] for role in ("dense_fp32", "dense_int8", "pruned_fp32", "pruned_int8")]
    out = layout.latency_result_path(ws, packages[0])
    target_jobs.latency(LatencyConfig(packages=packages, out=str(out)))
    made["latency"] = str(out)


def step_video(config, made):
    out = layout.video_out_path(made["workspace"], made["dense_fp32"], made["pruned_int8"])
    target_jobs.video(CompareConfig(left=made["dense_fp32"], right=made["pruned_int8"], input=made["video_input"],
                                    out=str(out)))
    made["video"] = str(out)


def step_frontier(config, made):
    out = layout.frontier_path(made["workspace"], config.name)
    frontier.main(FrontierConfig(workspace=made["workspace"], out=str(out), packages=[
        made[role] for role in ("dense_fp32", "dense_int8", "pruned_fp32", "pruned_int8")]))
    made["frontier"] = str(out)


RUNNERS = {"data": step_data, "train": step_train, "analyse": step_analyse, "prune": step_prune,
           "deploy": step_deploy, "target": step_target, "video": step_video, "frontier": step_frontier}


def main(config: DemoConfig):
    """Run or resume the demo; returns its record."""
    if config.preset not in TRAIN_PRESETS:
        raise ValueError(f"unknown --preset {config.preset!r}; choose one of: {', '.join(TRAIN_PRESETS)}")
    budget = budget_split(config.budget_minutes) if config.budget_minutes else None  # a bad budget fails now
    made = artefacts(config)
    out = Path(config.out) if config.out else layout.demo_path(made["workspace"], config.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        record = read_demo(out)
        made.update(record["artefacts"])
    else:
        record = {"config": asdict(config), "steps": {}, "artefacts": made, "started": time.time(),
                  "budget": budget, "machine": machine_profile()}
    for index, name in enumerate(STEPS, 1):
        step = record["steps"].setdefault(name, {"done": False, "seconds": 0.0})
        if step["done"]:
            continue
        # the step's own progress from here on, not the last one's finished bar
        update_state(message=f"Step {index} of {len(STEPS)}: {name}", progress={"desc": name, "done": 0, "total": 0})
        print(f"== demo step {index}/{len(STEPS)}: {name}", flush=True)
        step["started"] = time.time()
        write_record(out, record)  # the steps table shows it running
        started = time.monotonic()
        try:
            RUNNERS[name](config, made)
        finally:  # a killed step's time counts too
            step["seconds"] += time.monotonic() - started
            step.pop("started")
            record["artefacts"] = made
            write_record(out, record)
        step["done"] = True
        write_record(out, record)
    record["ended"] = time.time()
    state_path = layout.prune_state_path(made["pruning_run"])
    if state_path.exists():  # the prune step wrote it (a step run by hand, as in tests, may not)
        record["quality"] = quality(read_state(state_path))
    write_record(out, record)
    return record
