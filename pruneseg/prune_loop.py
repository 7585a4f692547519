"""The iterative loop: prune to a rising target, fine-tune, validate, snapshot, repeat.

Iteration k prunes to the plan that removes ``k * step`` of the *dense* model's MACs (not
compounding; for the latency plan: that is ``1 + k * step`` times faster), then fine-tunes until
validation mIoU is within ``tolerance`` of the dense model and every guarded class's IoU within its
own limit (``guards``), or ``max_epochs`` are spent. ``OUT/state.json`` records the dense metrics and every finished
iteration; ``OUT/current.pt`` holds the model being fine-tuned after every epoch, so a killed
job resumes at the epoch it stopped in; ``OUT/iter_<k>.pt`` is the snapshot of iteration k.
Every snapshot (and the dense model) is timed in PyTorch and, when the analysis timed its plans
on ONNX Runtime, on ONNX Runtime too, paired with the dense model. The state's schema is
``pruneseg.records.pruning``.

Under ``torchrun`` the fine-tuning is data-parallel as in ``train`` (validation sums the ranks'
confusion matrices, so every rank takes the same decisions) and rank 0 alone writes ``OUT`` and
times the models on ONNX Runtime.
"""
import copy
import time
from dataclasses import asdict, fields
from pathlib import Path

import torch

from pruneseg import distributed
from pruneseg.checkpoint import load_checkpoint, load_model, save_checkpoint
from pruneseg.config import PruneConfig, TrainConfig, check_guards
from pruneseg.data.cityscapes import check_classes
from pruneseg.data.classes import classes_of
from pruneseg.deploy.latency import timer_for
from pruneseg.errors import PruneSegError
from pruneseg.losses import build_loss, fill_class_weights
from pruneseg.progress import Progress
from pruneseg.prune.groups import prune_to_widths
from pruneseg.prune.guards import check_guarded, guard_misses
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.measure import latency_ms, model_size, paired_latency
from pruneseg.prune.plans import TARGET_KINDS, check_plan, make_plan
from pruneseg.records import file_sha256, write_record
from pruneseg.records.analysis import read_analysis
from pruneseg.records.pruning import read_state
from pruneseg.target.machine import machine_profile
from pruneseg.train import build_loaders, build_optimizer, data_parallel, evaluate, train_one_epoch
from pruneseg.train_plan import train_precision, use_cpu_bf16
from pruneseg.workspace.layout import CURRENT_CHECKPOINT, PRUNE_STATE, snapshot_name

META_KEYS = ("model_name", "num_classes", "input_size", "mean", "std")  # and the classes (classes_of)
TRAIN_FIELDS = {item.name for item in fields(TrainConfig)}


def _measure_dense(model, height, width):
    return {**model_size(model, height, width), "latency_ms": latency_ms(model, height, width), "speedup": 1.0}


def main(config: PruneConfig):
    """Run or resume the iterative pruning loop; returns the state dict."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    device = distributed.init()
    writer = distributed.is_main()  # rank 0 alone writes OUT
    dense, checkpoint = load_model(config.checkpoint, device)
    classes = check_classes(config.data, classes_of(checkpoint), config.checkpoint)
    meta = {**{key: checkpoint[key] for key in META_KEYS}, **classes.record()}
    meta["model_source"] = checkpoint.get("model_source")  # a user's model file; None for a built-in model
    height, width = meta["input_size"]
    analysis = read_analysis(config.analysis)
    state = read_state(out / PRUNE_STATE) if (out / PRUNE_STATE).exists() else None  # None: dense not measured yet
    _check(config, analysis, state, classes.names)
    round_to = analysis["settings"]["round_to"]
    importance = analysis["settings"].get("importance", "l2")
    # fine-tune with the dense run's recipe (loss, class weights, augmentation) as its checkpoint records it, in
    # the precision this machine runs fastest (bf16 where native), whatever the dense run used
    recipe = {key: value for key, value in checkpoint.get("config", {}).items() if key in TRAIN_FIELDS}
    train_config = fill_class_weights(TrainConfig(**{
        **recipe, "model": meta["model_name"], "data": config.data, "height": height, "width": width,
        "batch_size": config.batch_size, "workers": config.workers, "lr": config.lr,
        "loss": config.loss or recipe.get("loss", "ce"), "cpu_bf16": "auto", "budget_minutes": 0.0}))
    criterion = build_loss(train_config, len(classes), device)
    profile = machine_profile(threads=torch.get_num_threads())
    bf16 = use_cpu_bf16(train_config.cpu_bf16, device.type, profile)
    meta["config"] = asdict(train_config)  # snapshots record the recipe they were fine-tuned with
    meta["train_precision"] = train_precision(device.type, True, bf16)  # the loop's GradScaler is on with CUDA
    train_loader, val_loader = build_loaders(train_config)
    macs_model = MacsModel(dense, height, width, round_to)

    timed = analysis["settings"] if writer else {}  # ranks > 0 write nothing, so they time nothing
    with timer_for(timed, dense, height, width) as timer:
        if state is None:
            state = {"config": asdict(config), **classes.record(),
                     "dense": {**evaluate(dense, val_loader, device, len(classes), across_ranks=True),
                               **_measure_dense(dense, height, width), "machine": profile}, "iterations": []}
            if timer:
                state["dense"]["runtime"] = timer.measure(dense)
            if writer:
                write_record(out / PRUNE_STATE, state)
        goal = state["dense"]["miou"] - config.tolerance
        _check_dense_knows(config.guards, state["dense"], classes.names)

        def misses(metrics):
            return guard_misses(metrics["iou"], state["dense"]["iou"], config.guards, classes.names)

        def recovered(metrics):
            return metrics["miou"] >= goal and not misses(metrics)

        total = config.iterations * config.max_epochs
        with Progress(total, "prune", "epoch") as progress:
            progress.update_to(len(state["iterations"]) * config.max_epochs)
            for iteration in range(len(state["iterations"]) + 1, config.iterations + 1):
                target = plan_target(config, iteration)
                widths = make_plan(config.plan, analysis, macs_model, target, config.guards)
                model, history, optimizer, start_epoch, one_shot, metrics = _start_iteration(
                    out, iteration, widths, (round_to, importance), state, dense, checkpoint, train_config, val_loader,
                    len(classes), device)
                scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
                scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda")
                trainer = data_parallel(model, device, train_config.sync_bn)
                epoch = start_epoch
                while not recovered(metrics) and epoch < config.max_epochs:
                    started = time.time()
                    loss = train_one_epoch(trainer, train_loader, criterion, optimizer, scheduler, scaler, device,
                                           lambda step, loss, lr: None, bf16)
                    metrics = evaluate(model, val_loader, device, len(classes), across_ranks=True)
                    epoch += 1
                    if writer:
                        save_checkpoint(out / CURRENT_CHECKPOINT, model=model.state_dict(), pruning_history=history,
                                        optimizer=optimizer.state_dict(), iteration=iteration, epoch=epoch,
                                        target=target, one_shot=one_shot, metrics=metrics, **meta)
                    progress.update(1, iteration=iteration, miou=metrics["miou"])
                    missed = misses(metrics)
                    progress.write(f"iteration {iteration} epoch {epoch}: loss {loss:.4f} mIoU {metrics['miou']:.4f} "
                                   f"(goal {goal:.4f}{'; guards missed: ' + ', '.join(missed) if missed else ''}, "
                                   f"{time.time() - started:.0f}s)")
                snapshot = out / snapshot_name(iteration)
                if writer:
                    save_checkpoint(snapshot, model=model.state_dict(), pruning_history=history, iteration=iteration,
                                    target=target, metrics=metrics, **meta)
                record = {
                    "iteration": iteration, "target": target, "one_shot_miou": one_shot["miou"],
                    "miou": metrics["miou"], "iou": metrics["iou"], "pixel_accuracy": metrics["pixel_accuracy"],
                    "epochs": epoch, "recovered": recovered(metrics),
                    "missed_guards": misses(metrics),
                    "checkpoint": str(snapshot),
                    "widths": widths, **model_size(model, height, width),
                    **paired_latency(dense, model, height, width), "machine": profile}
                if timer:
                    record["runtime"] = timer.measure(model)
                state["iterations"].append(record)
                if writer:
                    write_record(out / PRUNE_STATE, state)
                    (out / CURRENT_CHECKPOINT).unlink(missing_ok=True)
                distributed.barrier()  # the next iteration starts from this snapshot on every rank
                progress.update_to(iteration * config.max_epochs)  # the unspent epoch budget too
    return state


def plan_target(config, iteration):
    """Iteration ``iteration``'s target: ``k * step`` of the dense MACs removed, or ``1 + k * step`` times
    faster for a plan that targets speed."""
    step = round(config.step * iteration, 4)
    return step if TARGET_KINDS[config.plan] == "macs" else round(1 + step, 4)


def _check(config, analysis, state, class_names):
    """Refuse settings that cannot work before any slow step runs."""
    check_plan(config.plan)
    check_guards(config.guards, class_names)
    if config.plan != "uniform":  # the plans that weigh guards need the analysis's per-class IoU
        check_guarded(analysis, config.guards)
    if config.iterations < 1 or config.step <= 0 or (
            TARGET_KINDS[config.plan] == "macs" and config.step * config.iterations >= 1):
        raise ValueError(f"iterations x step must lie in (0, 1): the last target removes that share of "
                         f"the MACs; got {config.iterations} x {config.step}")
    if analysis["checkpoint_sha256"] != file_sha256(config.checkpoint):
        raise PruneSegError(f"{config.analysis}: analyses another checkpoint than {config.checkpoint} "
                            f"(or it changed since); analyse this checkpoint first")
    if state:
        saved, defaults = state["config"], PruneConfig()
        changed = [key for key in PruneConfig.RUN_DEFINING
                   if saved.get(key, getattr(defaults, key)) != getattr(config, key)]
        if changed:
            raise PruneSegError(f"{Path(config.out) / PRUNE_STATE}: this folder holds a run with other "
                                f"{', '.join(changed)}; choose another --out to start a new run")


def _check_dense_knows(guards, dense, class_names):
    """A guard needs the dense model's IoU of its class: refuse one on a class the split lacks."""
    for name, limit in guards.items():
        if dense["iou"][list(class_names).index(name)] is None:
            raise PruneSegError(f"guard {name}={limit}: the validation split has no {name} pixels and the dense "
                                f"model predicts none, so its IoU is unknown; drop the guard")


def _start_iteration(out, iteration, widths, pruning, state, dense, checkpoint, train_config, val_loader,
                     num_classes, device):
    """The model of ``iteration``: resumed from ``current.pt``, or the last snapshot pruned further.

    ``pruning`` is ``(round_to, importance)`` of the analysis.

    Returns:
        (model, pruning history, optimizer, epochs done, one-shot metrics, latest metrics)
    """
    current = out / CURRENT_CHECKPOINT
    if current.exists() and load_checkpoint(current)["iteration"] == iteration:
        model, saved = load_model(current, device)
        optimizer = build_optimizer(model, train_config)
        optimizer.load_state_dict(saved["optimizer"])
        print(f"resuming iteration {iteration} after epoch {saved['epoch']}")
        return model, saved["pruning_history"], optimizer, saved["epoch"], saved["one_shot"], saved["metrics"]
    if state["iterations"]:
        model, previous = load_model(state["iterations"][-1]["checkpoint"], device)
        history = list(previous["pruning_history"])
    else:  # the checkpoint itself may be pruned already
        model, history = copy.deepcopy(dense), list(checkpoint.get("pruning_history", []))
    history += prune_to_widths(model, widths, *pruning)
    one_shot = evaluate(model, val_loader, device, num_classes, across_ranks=True)
    print(f"iteration {iteration}: pruned, one-shot mIoU {one_shot['miou']:.4f}")
    return model, history, build_optimizer(model, train_config), 0, one_shot, one_shot
