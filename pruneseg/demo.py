"""The stakeholder demo: one job from nothing to a pruned int8 model running on the target.

It chains the ordinary jobs, in this process, as resumable steps:

1. data: the built-in synthcity dataset, when missing;
2. train: the model with a training preset (``--preset quick``);
3. analyse: the sensitivity analysis, timed on ONNX Runtime (a light sweep, ``ANALYSIS``);
4. prune: a few iterations of the sensitivity plan, fine-tuning with the dense run's recipe, then a
   final fine-tune distilled from the dense model (``PRUNING``);
5. deploy: export, quantize and compile the dense and the last pruned model, fp32 and int8;
6. target: throughput tests of dense fp32, pruned fp32 and pruned int8, and their paired latency;
7. video: the overlay video of dense fp32 beside pruned int8 on the built-in drive.

Every artefact is the workspace's like any other, so every page shows it. The record
(``pruneseg.records.demo``) says which steps are done and what each cost; a killed demo, run
again, skips the finished steps and resumes the one it was in as that job resumes (training
from its last epoch, the analysis with its finished cells, pruning from its last epoch). The
job's message names the step; its progress bar is the step's own.
"""
import time
from dataclasses import asdict
from pathlib import Path

from pruneseg import analyze, prune_loop, target_jobs, train
from pruneseg.config import (TRAIN_PRESETS, AnalyzeConfig, CompareConfig, CompileConfig, DemoConfig, LatencyConfig,
                             PerfConfig, PruneConfig, QuantizeConfig, TrainConfig, model_short_name)
from pruneseg.data.synthcity import generate
from pruneseg.deploy import compile as compile_job
from pruneseg.deploy import quantize
from pruneseg.jobs import update_state
from pruneseg.progress import Progress
from pruneseg.records import write_record
from pruneseg.records.demo import read_demo
from pruneseg.workspace import layout

ANALYSIS = dict(images=16, ratios=[0.25, 0.5, 0.75], latency_ratios=[0.5], curve_stride=2)  # enough for the slider
PERF_SECONDS = 5.0  # each throughput test
STEPS = ("data", "train", "analyse", "prune", "deploy", "target", "video")


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


def step_train(config, made):
    preset = TRAIN_PRESETS[config.preset]
    train.main(TrainConfig(**{**preset, "model": config.model, "data": made["dataset"], "out": made["run"]}))


def step_analyse(config, made):
    analyze.main(AnalyzeConfig(checkpoint=made["checkpoint"], data=made["dataset"], out=made["analysis"], **ANALYSIS))


# every fine-tuning step distilled from the dense model, and a short final fine-tune after the iterations (which
# stop within the seed's 2 points): on a small FPN the demo's pruning then ended +0.1 points from dense instead
# of -1.4 (BENCHMARKS.md)
PRUNING = dict(distill=True, final_epochs=3)


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


RUNNERS = {"data": step_data, "train": step_train, "analyse": step_analyse, "prune": step_prune,
           "deploy": step_deploy, "target": step_target, "video": step_video}


def main(config: DemoConfig):
    """Run or resume the demo; returns its record."""
    if config.preset not in TRAIN_PRESETS:
        raise ValueError(f"unknown --preset {config.preset!r}; choose one of: {', '.join(TRAIN_PRESETS)}")
    made = artefacts(config)
    out = Path(config.out) if config.out else layout.demo_path(made["workspace"], config.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        record = read_demo(out)
        made.update(record["artefacts"])
    else:
        record = {"config": asdict(config), "steps": {}, "artefacts": made, "started": time.time()}
    for index, name in enumerate(STEPS, 1):
        step = record["steps"].setdefault(name, {"done": False, "seconds": 0.0})
        if step["done"]:
            continue
        update_state(message=f"Step {index} of {len(STEPS)}: {name}")
        print(f"== demo step {index}/{len(STEPS)}: {name}", flush=True)
        started = time.monotonic()
        try:
            RUNNERS[name](config, made)
        finally:  # a killed step's time counts too
            step["seconds"] += time.monotonic() - started
            record["artefacts"] = made
            write_record(out, record)
        step["done"] = True
        write_record(out, record)
    record["ended"] = time.time()
    write_record(out, record)
    return record
