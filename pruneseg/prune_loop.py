"""The iterative loop: prune to a rising target, fine-tune, validate, snapshot, repeat.

Iteration k prunes to the plan that removes ``k * step`` of the *dense* model's MACs (not
compounding; for the latency plan: that is ``1 + k * step`` times faster), then fine-tunes until
validation mIoU is within ``tolerance`` of the dense model and every guarded class's IoU within its
own limit (``guards``), or ``max_epochs`` are spent. ``OUT/pruning.json`` records the dense metrics and every finished
iteration; ``OUT/current.pt`` holds the model being fine-tuned after every epoch, so a killed
job resumes at the epoch it stopped in; ``OUT/iter_<k>.pt`` is the snapshot of iteration k.
Asked for a speed-up (``speedup``), iteration k searches the plan for a model *measured*
``1 + (speedup - 1) * k / iterations`` times faster than the dense one (``pruneseg.speedup_target``;
every probe goes in its record). With ``distill`` every fine-tuning step adds a frozen teacher's
distillation term (``pruneseg.distill``). With ``final_epochs`` a last fine-tune follows the last
iteration, the learning rate falling to 0: one more row, marked ``final``, saved as ``OUT/final.pt``.
Every snapshot (and the dense model) is timed in PyTorch and, when the analysis timed its plans
on ONNX Runtime, on ONNX Runtime too, paired with the dense model. The state's schema is
``pruneseg.records.pruning``.

Under ``torchrun`` the fine-tuning is data-parallel as in ``train`` (validation sums the ranks'
confusion matrices, so every rank takes the same decisions) and rank 0 alone writes ``OUT`` and
times the models on ONNX Runtime.
"""
import copy
from dataclasses import asdict, fields
from pathlib import Path

import torch

from pruneseg import distributed
from pruneseg.checkpoint import checkpoint_meta, load_checkpoint, load_model, save_checkpoint
from pruneseg.choices import TARGET_KINDS
from pruneseg.config import PruneConfig, TrainConfig
from pruneseg.data.samples import check_classes
from pruneseg.data.classes import classes_of
from pruneseg.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from pruneseg.deploy.latency import timer_for
from pruneseg.distill import Distiller, load_teacher
from pruneseg.errors import PruneSegError
from pruneseg.evaluate import evaluate
from pruneseg.fine_tune import FineTuner, constant_schedule, cosine_schedule
from pruneseg.losses import build_loss, fill_class_weights
from pruneseg.progress import Progress
from pruneseg.prune.groups import prune_to_widths
from pruneseg.prune.guards import guard_misses
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.measure import latency_ms, model_size, paired_latency
from pruneseg.preflight import prune_problem, require
from pruneseg.prune.plans import make_plan
from pruneseg.prune.speedup_search import search_text
from pruneseg.records import write_record
from pruneseg.records.analysis import read_analysis, settings_of
from pruneseg.records.pruning import read_state
from pruneseg.speedup_target import PlanKnob, check_asked, search_plan
from pruneseg.target.machine import machine_profile
from pruneseg.train import build_loaders, build_optimizer
from pruneseg.train_plan import train_precision, use_cpu_bf16
from pruneseg.workspace.layout import CURRENT_CHECKPOINT, FINAL_SNAPSHOT, prune_state_path, snapshot_name

TRAIN_FIELDS = {item.name for item in fields(TrainConfig)}
RESUMED = ("epoch", "metrics", "seconds", "steps")  # where fine-tuning stood, as current.pt saves it


def _measure_dense(model, height, width):
    return {**model_size(model, height, width), "latency_ms": latency_ms(model, height, width), "speedup": 1.0}


def main(config: PruneConfig):
    """Run or resume the iterative pruning loop and its final fine-tune; returns the state dict."""
    out = Path(config.out)
    analysis = read_analysis(config.analysis)
    require(prune_problem(config, analysis))
    out.mkdir(parents=True, exist_ok=True)
    device = distributed.init()
    writer = distributed.is_main()  # rank 0 alone writes OUT
    dense, checkpoint = load_model(config.checkpoint, device)
    classes = check_classes(config.data, classes_of(checkpoint), config.checkpoint)
    height, width = checkpoint["input_size"]
    state_path = prune_state_path(out)  # a run made before pruning.json resumes in its state.json
    state = read_state(state_path) if state_path.exists() else None  # None: dense not measured yet
    settings = settings_of(analysis)
    round_to, importance = settings.round_to, settings.importance
    # fine-tune with the dense run's recipe (loss, class weights, augmentation) as its checkpoint records it, in
    # the precision this machine runs fastest (bf16 where native), whatever the dense run used
    recipe = {key: value for key, value in checkpoint.get("config", {}).items() if key in TRAIN_FIELDS}
    train_config = fill_class_weights(TrainConfig(**{
        **recipe, "model": checkpoint["model_name"], "data": config.data, "height": height, "width": width,
        "batch_size": config.batch_size, "workers": config.workers, "lr": config.lr,
        "loss": config.loss or recipe.get("loss", "ce"), "cpu_bf16": "auto", "budget_minutes": 0.0}))
    criterion = build_loss(train_config, len(classes), device)
    profile = machine_profile(threads=torch.get_num_threads())
    bf16 = use_cpu_bf16(train_config.cpu_bf16, device.type, profile)
    # snapshots record the recipe they were fine-tuned with and its precision (the loop's GradScaler is on with CUDA)
    meta = checkpoint_meta(checkpoint["model_name"], classes, [height, width], asdict(train_config),
                           train_precision(device.type, True, bf16), checkpoint.get("model_source"),
                           checkpoint.get("mean", IMAGENET_MEAN), checkpoint.get("std", IMAGENET_STD))
    macs_model = MacsModel(dense, height, width, round_to)
    plan_knob = PlanKnob(config.plan, analysis, macs_model, config.guards, config.speedup_precision) \
        if config.speedup else None
    if plan_knob:
        check_asked(config.speedup, plan_knob, config.speedup_precision)
    distiller = Distiller(load_teacher(config.teacher or config.checkpoint, checkpoint, device), config.distill_kind,
                          config.distill_weight, config.distill_tau) if config.distill else None
    train_loader, val_loader = build_loaders(train_config)

    # a speed-up asked is measured on ONNX Runtime even where the analysis timed nothing there
    # ranks > 0 write and time nothing
    timed = writer and (settings.runtime or bool(config.speedup))
    with timer_for(timed, settings.runtime_threads, dense, height, width) as timer:
        if state is None:
            state = {"config": asdict(config), **classes.record(),
                     "dense": {**evaluate(dense, val_loader, device, len(classes), across_ranks=True),
                               **_measure_dense(dense, height, width), "machine": profile}, "iterations": []}
            if timer:
                state["dense"]["runtime"] = timer.measure(dense)
            if writer:
                write_record(state_path, state)
        goal = state["dense"]["miou"] - config.tolerance
        _check_dense_knows(config.guards, state["dense"], classes.names)

        def misses(metrics):
            return guard_misses(metrics["iou"], state["dense"]["iou"], config.guards, classes.names)

        def recovered(metrics):
            return metrics["miou"] >= goal and not misses(metrics)

        def finish(name, run, iteration, target, widths, **extra):
            """Save the fine-tuned model of ``run`` as ``name``, measure it and add its row to the state."""
            path, model, metrics = out / name, run["model"], run["metrics"]
            if writer:
                save_checkpoint(path, model=model.state_dict(), pruning_history=run["history"], iteration=iteration,
                                target=target, metrics=metrics, **meta)
            record = {
                "iteration": iteration, "target": target, "one_shot_miou": run["one_shot"]["miou"],
                "miou": metrics["miou"], "iou": metrics["iou"], "pixel_accuracy": metrics["pixel_accuracy"],
                "epochs": run["epoch"], "recovered": recovered(metrics), "missed_guards": misses(metrics),
                "checkpoint": str(path), "widths": widths, **model_size(model, height, width),
                **paired_latency(dense, model, height, width), "fine_tune_seconds": run["seconds"],
                "fine_tune_steps": run["steps"], "machine": profile, **extra}
            if timer:
                record["runtime"] = timer.measure(model)
            state["iterations"].append(record)
            if writer:
                write_record(state_path, state)
                (out / CURRENT_CHECKPOINT).unlink(missing_ok=True)
            distributed.barrier()  # the next step starts from this snapshot on every rank

        def score(model):
            return evaluate(model, val_loader, device, len(classes), across_ranks=True)

        with Progress(config.iterations * config.max_epochs + config.final_epochs, "prune", "epoch") as progress:
            tuner = FineTuner(train_loader, criterion, device, train_config, score, out / CURRENT_CHECKPOINT, writer,
                              progress, distiller, bf16)
            done = sum(not r.get("final") for r in state["iterations"])
            progress.update_to(done * config.max_epochs)
            for iteration in range(done + 1, config.iterations + 1):
                target, widths, search = _iteration_plan(config, iteration, analysis, macs_model, plan_knob, state,
                                                         dense, timer, (importance, height, width), device)
                if search:
                    progress.write(f"iteration {iteration}: {search_text(search, config.speedup_precision)}")
                start = _start_iteration(out, iteration, widths, (round_to, importance), state, dense, checkpoint,
                                         train_config, tuner, device)

                def describe(epoch, loss, metrics, seconds):
                    missed = misses(metrics)
                    return (f"iteration {iteration} epoch {epoch}: loss {loss:.4f} mIoU {metrics['miou']:.4f} "
                            f"(goal {goal:.4f}{'; guards missed: ' + ', '.join(missed) if missed else ''}, "
                            f"{seconds:.0f}s)")
                end = tuner.run(start["model"], start["optimizer"], constant_schedule(start["optimizer"]), start,
                                lambda metrics, epoch: recovered(metrics) or epoch >= config.max_epochs, describe,
                                {"pruning_history": start["history"], "iteration": iteration, "target": target,
                                 "one_shot": start["one_shot"], "widths": widths, "speedup_search": search, **meta})
                extra = {"asked_speedup": search["asked"], "speedup_search": search} if search else {}
                finish(snapshot_name(iteration), {**start, **end}, iteration, target, widths, **extra)
                progress.update_to(iteration * config.max_epochs)  # the unspent epoch budget too
            if config.final_epochs and not state["iterations"][-1].get("final"):
                last = state["iterations"][-1]
                start, scheduler = _start_final(out, config, last, tuner, train_config, device)

                def describe_final(epoch, loss, metrics, seconds):
                    return (f"final fine-tune epoch {epoch}/{config.final_epochs}: loss {loss:.4f} "
                            f"mIoU {metrics['miou']:.4f} (lr now {scheduler.get_last_lr()[0]:.1e}, {seconds:.0f}s)")
                end = tuner.run(start["model"], start["optimizer"], scheduler, start,
                                lambda metrics, epoch: epoch >= config.final_epochs, describe_final,
                                {"pruning_history": start["history"], "iteration": last["iteration"] + 1,
                                 "target": last["target"], "one_shot": start["one_shot"], **meta})
                finish(FINAL_SNAPSHOT, {**start, **end}, last["iteration"] + 1, last["target"], last["widths"],
                       final=True, schedule="cosine")
    return state


def plan_target(config, iteration):
    """Iteration ``iteration``'s target: ``k * step`` of the dense MACs removed, or ``1 + k * step`` times
    faster for a plan that targets speed."""
    step = round(config.step * iteration, 4)
    return step if TARGET_KINDS[config.plan] == "macs" else round(1 + step, 4)


def asked_speedup(config, iteration):
    """Iteration ``iteration``'s measured speed-up asked: rising evenly to ``config.speedup`` at the last one."""
    return round(1 + (config.speedup - 1) * iteration / config.iterations, 4)


def _iteration_plan(config, iteration, analysis, macs_model, plan_knob, state, dense, timer, timing, device):
    """``(target, widths, speed-up search or None)`` of ``iteration``: the plan at its target; asked for a
    speed-up, the search's (rank 0 searches, every rank gets the result), or the one a killed run saved.

    ``timing`` is ``(importance, height, width)``: how probes are pruned, and their input size.
    """
    if not config.speedup:
        target = plan_target(config, iteration)
        return target, make_plan(config.plan, analysis, macs_model, target, config.guards), None
    current = Path(config.out) / CURRENT_CHECKPOINT
    saved = load_checkpoint(current) if current.exists() else {}
    if saved.get("iteration") == iteration and saved.get("speedup_search"):
        return saved["target"], saved["widths"], saved["speedup_search"]
    search = None
    if distributed.is_main():
        importance, height, width = timing
        base = load_model(state["iterations"][-1]["checkpoint"], device)[0] if state["iterations"] else dense
        search = search_plan(asked_speedup(config, iteration), plan_knob, base, dense, height, width,
                             config.speedup_precision, importance=importance, timer=timer)
        search.pop("runtime")  # the snapshot is timed after fine-tuning
    search = distributed.broadcast(search)
    return search["target"], search["widths"], search


def _start_iteration(out, iteration, widths, pruning, state, dense, checkpoint, train_config, tuner, device):
    """Where ``iteration`` starts: resumed from ``current.pt``, or the last snapshot (the dense model first)
    pruned further to ``widths``. ``pruning`` is ``(round_to, importance)`` of the analysis.

    Returns:
        ``{"model", "history", "optimizer", "one_shot"}`` and ``RESUMED``'s keys.
    """
    current = out / CURRENT_CHECKPOINT
    if current.exists() and load_checkpoint(current)["iteration"] == iteration:
        model, saved = load_model(current, device)
        optimizer = build_optimizer(model, train_config)
        optimizer.load_state_dict(saved["optimizer"])
        print(f"resuming iteration {iteration} after epoch {saved['epoch']}")
        return {"model": model, "history": saved["pruning_history"], "optimizer": optimizer,
                "one_shot": saved["one_shot"], "seconds": 0.0, "steps": 0,
                **{key: saved[key] for key in RESUMED if key in saved}}
    previous = [r for r in state["iterations"] if not r.get("final")]
    if previous:
        model, loaded = load_model(previous[-1]["checkpoint"], device)
        history = list(loaded["pruning_history"])
    else:  # the checkpoint itself may be pruned already
        model, history = copy.deepcopy(dense), list(checkpoint.get("pruning_history", []))
    history += prune_to_widths(model, widths, *pruning)
    one_shot = tuner.evaluate(model)
    print(f"iteration {iteration}: pruned, one-shot mIoU {one_shot['miou']:.4f}")
    return {"model": model, "history": history, "optimizer": build_optimizer(model, train_config),
            "one_shot": one_shot, "epoch": 0, "metrics": one_shot, "seconds": 0.0, "steps": 0}


def _start_final(out, config, last, tuner, train_config, device):
    """Where the final fine-tune starts: resumed from ``current.pt``, or the last iteration's snapshot.

    Returns:
        (``_start_iteration``'s dict, the cosine learning-rate schedule over ``config.final_epochs``)
    """
    current = out / CURRENT_CHECKPOINT
    resumed = current.exists() and load_checkpoint(current)["iteration"] == last["iteration"] + 1
    model, saved = load_model(current if resumed else last["checkpoint"], device)
    optimizer = build_optimizer(model, train_config)
    scheduler = cosine_schedule(optimizer, config.final_epochs * len(tuner.train_loader))
    start = {"model": model, "history": saved["pruning_history"], "optimizer": optimizer,
             "one_shot": {"miou": last["miou"]}}  # no pruning: it starts where the last iteration ended
    if resumed:
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        print(f"resuming the final fine-tune after epoch {saved['epoch']}")
        return {**start, **{key: saved[key] for key in RESUMED}}, scheduler
    return {**start, "epoch": 0, "metrics": tuner.evaluate(model), "seconds": 0.0, "steps": 0}, scheduler


def _check_dense_knows(guards, dense, class_names):
    """A guard needs the dense model's IoU of its class: refuse one on a class the split lacks."""
    for name, limit in guards.items():
        if dense["iou"][list(class_names).index(name)] is None:
            raise PruneSegError(f"guard {name}={limit}: the validation split has no {name} pixels and the dense "
                                f"model predicts none, so its IoU is unknown; drop the guard")
