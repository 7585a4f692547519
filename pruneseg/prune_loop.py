"""The iterative loop: prune to a rising MACs target, fine-tune, validate, snapshot, repeat.

Iteration k prunes to the plan that removes ``k * step`` of the *dense* model's MACs (not
compounding), then fine-tunes until validation mIoU is within ``tolerance`` of the dense model
or ``max_epochs`` are spent. ``OUT/state.json`` records the dense metrics and every finished
iteration; ``OUT/current.pt`` holds the model being fine-tuned after every epoch, so a killed
job resumes at the epoch it stopped in; ``OUT/iter_<k>.pt`` is the snapshot of iteration k.
The state's schema is ``pruneseg.records.pruning``.

Under ``torchrun`` the fine-tuning is data-parallel as in ``train`` (validation sums the ranks'
confusion matrices, so every rank takes the same decisions) and rank 0 alone writes ``OUT``.
"""
import copy
import time
from dataclasses import asdict
from pathlib import Path

import torch

from pruneseg import distributed
from pruneseg.checkpoint import load_checkpoint, load_model, save_checkpoint
from pruneseg.config import PruneConfig, TrainConfig
from pruneseg.errors import PruneSegError
from pruneseg.progress import Progress
from pruneseg.prune.groups import prune_to_widths
from pruneseg.prune.macs import MacsModel
from pruneseg.prune.measure import latency_ms, model_size, paired_latency
from pruneseg.prune.plans import check_plan, make_plan
from pruneseg.records import file_sha256, write_record
from pruneseg.records.analysis import read_analysis
from pruneseg.records.pruning import read_state
from pruneseg.train import build_loaders, build_optimizer, data_parallel, evaluate, train_one_epoch
from pruneseg.workspace.layout import CURRENT_CHECKPOINT, PRUNE_STATE, snapshot_name

META_KEYS = ("model_name", "num_classes", "class_names", "input_size", "mean", "std")


def _measure_dense(model, height, width):
    return {**model_size(model, height, width), "latency_ms": latency_ms(model, height, width), "speedup": 1.0}


def main(config: PruneConfig):
    """Run or resume the iterative pruning loop; returns the state dict."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    device = distributed.init()
    writer = distributed.is_main()  # rank 0 alone writes OUT
    dense, checkpoint = load_model(config.checkpoint, device)
    meta = {key: checkpoint[key] for key in META_KEYS}
    height, width = meta["input_size"]
    analysis = read_analysis(config.analysis)
    state = read_state(out / PRUNE_STATE) if (out / PRUNE_STATE).exists() else None  # None: dense not measured yet
    _check(config, analysis, state)
    round_to = analysis["settings"]["round_to"]
    importance = analysis["settings"].get("importance", "l2")
    train_config = TrainConfig(model=meta["model_name"], data=config.data, height=height, width=width,
                               batch_size=config.batch_size, workers=config.workers, lr=config.lr)
    train_loader, val_loader = build_loaders(train_config)
    macs_model = MacsModel(dense, height, width, round_to)

    if state is None:
        state = {"config": asdict(config), "dense": {**evaluate(dense, val_loader, device, across_ranks=True),
                                                     **_measure_dense(dense, height, width)}, "iterations": []}
        if writer:
            write_record(out / PRUNE_STATE, state)
    goal = state["dense"]["miou"] - config.tolerance

    total = config.iterations * config.max_epochs
    with Progress(total, "prune", "epoch") as progress:
        progress.update_to(len(state["iterations"]) * config.max_epochs)
        for iteration in range(len(state["iterations"]) + 1, config.iterations + 1):
            target = round(config.step * iteration, 4)
            widths = make_plan(config.plan, analysis, macs_model, target)
            model, history, optimizer, start_epoch, one_shot, metrics = _start_iteration(
                out, iteration, widths, (round_to, importance), state, dense, checkpoint, train_config, val_loader,
                device)
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
            scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda")
            trainer = data_parallel(model, device, train_config.sync_bn)
            epoch = start_epoch
            while metrics["miou"] < goal and epoch < config.max_epochs:
                started = time.time()
                loss = train_one_epoch(trainer, train_loader, optimizer, scheduler, scaler, device,
                                       lambda step, loss, lr: None)
                metrics = evaluate(model, val_loader, device, across_ranks=True)
                epoch += 1
                if writer:
                    save_checkpoint(out / CURRENT_CHECKPOINT, model=model.state_dict(), pruning_history=history,
                                    optimizer=optimizer.state_dict(), iteration=iteration, epoch=epoch,
                                    target=target, one_shot=one_shot, metrics=metrics, **meta)
                progress.update(1, iteration=iteration, miou=metrics["miou"])
                print(f"iteration {iteration} epoch {epoch}: loss {loss:.4f} mIoU {metrics['miou']:.4f} "
                      f"(goal {goal:.4f}, {time.time() - started:.0f}s)")
            snapshot = out / snapshot_name(iteration)
            if writer:
                save_checkpoint(snapshot, model=model.state_dict(), pruning_history=history, iteration=iteration,
                                target=target, metrics=metrics, **meta)
            state["iterations"].append({
                "iteration": iteration, "target": target, "one_shot_miou": one_shot["miou"],
                "miou": metrics["miou"], "iou": metrics["iou"], "pixel_accuracy": metrics["pixel_accuracy"],
                "epochs": epoch, "recovered": metrics["miou"] >= goal, "checkpoint": str(snapshot),
                "widths": widths, **model_size(model, height, width),
                **paired_latency(dense, model, height, width)})
            if writer:
                write_record(out / PRUNE_STATE, state)
                (out / CURRENT_CHECKPOINT).unlink(missing_ok=True)
            distributed.barrier()  # the next iteration starts from this snapshot on every rank
            progress.update_to(iteration * config.max_epochs)  # the unspent epoch budget too
    return state


def _check(config, analysis, state):
    """Refuse settings that cannot work before any slow step runs."""
    check_plan(config.plan)
    if config.iterations < 1 or not 0 < config.step * config.iterations < 1:
        raise ValueError(f"iterations x step must lie in (0, 1): the last target removes that share of "
                         f"the MACs; got {config.iterations} x {config.step}")
    if analysis["checkpoint_sha256"] != file_sha256(config.checkpoint):
        raise PruneSegError(f"{config.analysis}: analyses another checkpoint than {config.checkpoint} "
                            f"(or it changed since); analyse this checkpoint first")
    if state:
        saved = state["config"]
        changed = [key for key in PruneConfig.RUN_DEFINING if saved.get(key) != getattr(config, key)]
        if changed:
            raise PruneSegError(f"{Path(config.out) / PRUNE_STATE}: this folder holds a run with other "
                                f"{', '.join(changed)}; choose another --out to start a new run")


def _start_iteration(out, iteration, widths, pruning, state, dense, checkpoint, train_config, val_loader,
                     device):
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
    one_shot = evaluate(model, val_loader, device, across_ranks=True)
    print(f"iteration {iteration}: pruned, one-shot mIoU {one_shot['miou']:.4f}")
    return model, history, build_optimizer(model, train_config), 0, one_shot, one_shot
