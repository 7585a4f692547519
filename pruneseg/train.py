"""Train a segmentation model: the seed's recipe, resumable, with metrics streamed to disk.

A run folder holds ``config.json``, ``checkpoint.pt`` (last epoch, for resuming),
``model_best.pt`` (best validation mIoU), ``steps.jsonl`` (one line per step) and
``epochs.jsonl`` (one line per epoch of validation metrics); see ``pruneseg.records.run``.

Under ``torchrun`` (``pruneseg.distributed``) training is data-parallel: each rank trains on its
share of the images (``DistributedSampler``) with its share of the global batch, gradients are
averaged by DDP (SyncBatchNorm on CUDA when ``sync_bn``), validation sums the ranks' confusion
matrices, and rank 0 alone writes the run folder (``steps.jsonl`` holds rank 0's step losses;
an epoch's ``train_loss`` is the mean over all ranks).
"""
import contextlib
import json
import math
import sys
import time
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, Subset

from pruneseg import distributed, train_probe
from pruneseg.checkpoint import checkpoint_meta, load_checkpoint, save_checkpoint
from pruneseg.config import TrainConfig
from pruneseg.data.samples import dataset_classes, scan_split
from pruneseg.data.dataset import SegmentationDataset
from pruneseg.data.transforms import EvalTransform, TrainTransform
from pruneseg.evaluate import evaluate
from pruneseg.losses import build_loss, fill_class_weights
from pruneseg.model_catalog import check_input_size, is_model_file, model_spec
from pruneseg.models import build_model
from pruneseg.models.user import check_output_shape, model_source
from pruneseg.progress import Progress
from pruneseg.prune.groups import check_prunable
from pruneseg.records import read_jsonl, write_record
from pruneseg.target.machine import machine_profile, native_bf16
from pruneseg.train_plan import (after_epoch, budget_text, emulated_bf16_warning, new_budget, train_precision,
                                 use_cpu_bf16)
from pruneseg.workspace.layout import BEST_CHECKPOINT, EPOCHS_LOG, LAST_CHECKPOINT, RUN_CONFIG, STEPS_LOG

# what a resumed run takes from its command rather than its checkpoint: where and how it runs, and how
# many epochs in all (a finished run resumed with more trains on); every other setting is the recorded one
RESUME_OVERRIDES = ("out", "workers", "processes", "epochs")
AUX_WEIGHT = 0.5  # an auxiliary head's share of the loss, as in torchvision's reference train.py


def build_loaders(config):
    """Training and validation DataLoaders for ``config``: this rank's share of each split.

    The batch size is the global batch, split among the ranks (rounded up when it does not
    divide). Validation images are dealt out without padding, so the ranks' confusion matrices
    sum to the single-process one (``evaluate(..., across_ranks=True)``).
    """
    train_set = SegmentationDataset(scan_split(config.data, "train"),
                                    TrainTransform(config.height, config.width, (config.min_scale, config.max_scale)))
    val_set = SegmentationDataset(scan_split(config.data, "val"),
                                  EvalTransform(config.height, config.width))
    world = distributed.world_size()
    batch_size = math.ceil(config.resolved_batch_size() / world)
    sampler = DistributedSampler(train_set, world, distributed.rank(), seed=config.seed) if world > 1 else None
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=sampler is None, sampler=sampler,
                              drop_last=math.ceil(len(train_set) / world) > batch_size,
                              num_workers=config.workers, persistent_workers=config.workers > 0)
    if world > 1:
        val_set = Subset(val_set, distributed.share(range(len(val_set))))
    val_loader = DataLoader(val_set, batch_size=batch_size, num_workers=config.workers)
    return train_loader, val_loader


def data_parallel(model, device, sync_bn=True):
    """``model`` for training on every rank: wrapped in DDP (its BatchNorm synchronised on CUDA when
    ``sync_bn``; SyncBatchNorm has no CPU kernel); ``model`` itself alone."""
    if distributed.world_size() == 1:
        return model
    if sync_bn and device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def build_optimizer(model, config):
    """Adam; a model whose catalog spec names its encoder (FPN) learns in its decoder ``head_lr_mult``
    times faster."""
    prefixes = model_spec(config.model).encoder_prefixes
    encoder, decoder = [], []
    for name, param in model.named_parameters():
        in_encoder = not prefixes or name.startswith(prefixes)
        (encoder if in_encoder else decoder).append(param)
    groups = [{"params": encoder, "lr": config.lr}]
    if decoder:
        groups.append({"params": decoder, "lr": config.lr * config.head_lr_mult})
    return torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)


def poly_with_warmup(total_steps, warmup_steps, power=0.9):
    """Learning-rate factor per step: linear warm-up, then polynomial decay to zero."""
    def factor(step):
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return max(0.0, 1.0 - progress) ** power
    return factor


def segmentation_loss(criterion, outputs, targets):
    """``criterion(logits, targets)``; for a model with an auxiliary head, whose training output is
    ``{"out", "aux"}`` (``pruneseg.models.tv``), plus ``AUX_WEIGHT`` times the auxiliary loss."""
    if isinstance(outputs, dict):
        return criterion(outputs["out"], targets) + AUX_WEIGHT * criterion(outputs["aux"], targets)
    return criterion(outputs, targets)


def train_one_epoch(model, loader, criterion, optimizer, scheduler, scaler, device, on_step, cpu_bf16=False,
                    distill=None):
    """One pass over ``loader`` minimising ``segmentation_loss(criterion, ...)``, plus ``distill(images, outputs)``
    when given (``pruneseg.distill.Distiller``); ``on_step(step, loss, lr)`` after every step. Mixed precision:
    float16 when ``scaler`` is enabled (CUDA), bfloat16 on the CPU with ``cpu_bf16``. Returns the mean loss
    (over all ranks' steps)."""
    if isinstance(getattr(loader, "sampler", None), DistributedSampler):
        loader.sampler.set_epoch(scheduler.last_epoch)  # a new shuffle every epoch, the same on all ranks
    autocast = scaler.is_enabled() or (cpu_bf16 and device.type == "cpu")
    model.train()
    total = 0.0
    for step, (images, targets) in enumerate(loader):
        images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        with torch.autocast(device.type, enabled=autocast):
            outputs = model(images)
            loss = segmentation_loss(criterion, outputs, targets)
            if distill is not None:
                loss = loss + distill(images, outputs)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        total += loss.item()
        on_step(step, loss.item(), optimizer.param_groups[0]["lr"])
    distributed.broadcast_buffers(model)  # the model evaluated and saved next is the same on every rank
    total, steps = distributed.all_reduce_sum(np.array([total, len(loader)], dtype=np.float64))
    return total / max(1, steps)


def resumed_config(config, recorded):
    """``config`` for a run resuming from a checkpoint that trained with ``recorded`` (the config dict it saved):
    every setting as recorded but ``RESUME_OVERRIDES``, so ``config.json`` and the checkpoints never claim
    settings the weights did not train with. A setting ``config`` gives otherwise is reported and ignored."""
    names = {f.name for f in fields(TrainConfig)}
    kept = {key: value for key, value in recorded.items() if key in names and key not in RESUME_OVERRIDES}
    ignored = [f"{key} {getattr(config, key)!r} (it trained with {value!r})" for key, value in kept.items()
               if getattr(config, key) != value and getattr(config, key) not in ("", [])]  # unset: filled at start
    if ignored:
        print(f"resuming with the settings {Path(config.out) / LAST_CHECKPOINT} trained with; ignoring "
              + "; ".join(ignored) + ". Start a new run (another --out) to train with other settings.", flush=True)
    return replace(config, **kept)


def main(config: TrainConfig, clock=time.monotonic):
    """Train as ``config`` says, resuming from ``config.out/checkpoint.pt`` when present.

    A resumed run keeps the settings its checkpoint trained with (``resumed_config``) and its plan; only
    where and how it runs, and how many epochs in all, come from ``config``. The model predicts the
    dataset's classes (``dataset_classes``); the run's ``config.json`` and checkpoints record them, the
    precision it trains in (``train_precision``) and the machine. With ``budget_minutes`` the epochs
    follow the clock (``pruneseg.train_plan``).

    Args:
        clock: seconds, monotonic; the budget is kept on it (tests pass a fake one).
    """
    started = clock()
    last = Path(config.out) / LAST_CHECKPOINT
    state = load_checkpoint(last) if last.exists() else None  # on the CPU; loaded into the model below
    if state:
        config = resumed_config(config, state.get("config") or {})
    check_input_size(config.model, config.height, config.width)
    classes = dataset_classes(config.data)
    config = fill_class_weights(config)  # computed once, then saved with the config
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    device = distributed.init()
    writer = distributed.is_main()  # rank 0 alone writes the run folder
    profile = machine_profile(threads=torch.get_num_threads())
    bf16 = use_cpu_bf16(config.cpu_bf16, device.type, profile)
    precision = train_precision(device.type, config.amp, bf16)
    criterion = build_loss(config, len(classes), device)
    torch.manual_seed(config.seed)
    train_loader, val_loader = build_loaders(config)

    model = build_model(config.model, len(classes)).to(device)
    if is_model_file(config.model):  # a user's model fails now, not after training
        check_output_shape(model, config.model, len(classes), config.height, config.width)
        check_prunable(model)
    optimizer = build_optimizer(model, config)
    steps_per_epoch = len(train_loader)
    scaler = torch.amp.GradScaler(device.type, enabled=config.amp and device.type == "cuda")

    start_epoch, best_miou, budget = 0, -1.0, None
    if state:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])  # moves its state to the parameters' device
        scaler.load_state_dict(state["scaler"])
        start_epoch, best_miou, budget = state["epoch"] + 1, state["best_miou"], state.get("budget")
        print(f"resuming {out} at epoch {start_epoch + 1} (best mIoU so far {best_miou:.4f})")
    if config.cpu_bf16 == "on" and device.type == "cpu" and not native_bf16(profile):
        fp32_s, bf16_s = train_probe.bf16_cost(model, train_loader, criterion, config, device, clock)
        print(emulated_bf16_warning(fp32_s, bf16_s, profile), file=sys.stderr, flush=True)
    spent_before = budget["spent_seconds"] if budget else 0.0  # what the sessions before this one spent
    if budget is None and config.budget_minutes:
        probe = train_probe.probe(model, train_loader, val_loader, criterion, config, device, bf16, len(classes), clock)
        budget = distributed.broadcast(new_budget(config.budget_minutes, clock() - started, probe, steps_per_epoch,
                                                  config.epochs - start_epoch))
        budget = dict(budget, cap=config.epochs, planned_epochs=start_epoch + budget["planned_epochs"])
    planned = budget["planned_epochs"] if budget else config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_schedule(config, planned, steps_per_epoch))
    if state:
        scheduler.load_state_dict(state["scheduler"])
        del state  # its tensors are in the model and the optimizer now
    trainer = data_parallel(model, device, config.sync_bn)  # shares model's parameters
    # config.json, and each checkpoint's "config": the settings, the classes, the precision and the machine
    run_config = {**asdict(config), **classes.record(), "train_precision": precision, "machine": profile}
    if writer:
        write_record(out / RUN_CONFIG, run_record(run_config, budget))
        _truncate_log(out / STEPS_LOG, start_epoch)
        _truncate_log(out / EPOCHS_LOG, start_epoch)
    if budget:
        print(budget_text(budget), flush=True)

    meta = checkpoint_meta(config.model, classes, [config.height, config.width], run_config, precision,
                           model_source(config.model))  # a user's model file: where it is, its sha256
    progress = Progress((planned - start_epoch) * steps_per_epoch, f"train {config.model}", "step")
    with progress, (open(out / STEPS_LOG, "a") if writer else contextlib.nullcontext()) as steps_log:
        epoch = start_epoch
        while epoch < planned:
            epoch_started = clock()

            def on_step(step, loss, lr):
                if steps_log:
                    _append(steps_log, {"epoch": epoch, "step": step,
                                        "iteration": epoch * steps_per_epoch + step, "loss": loss, "lr": lr})
                progress.update(1, epoch=epoch + 1, loss=loss)

            train_loss = train_one_epoch(trainer, train_loader, criterion, optimizer, scheduler, scaler, device,
                                         on_step, bf16)
            metrics = evaluate(model, val_loader, device, len(classes), across_ranks=True)
            is_best = metrics["miou"] > best_miou
            best_miou = max(best_miou, metrics["miou"])
            seconds = clock() - epoch_started
            if budget:  # rank 0's clock decides for all
                budget = distributed.broadcast(after_epoch(budget, epoch + 1, spent_before + clock() - started, seconds))
                if budget["planned_epochs"] != planned:
                    planned = budget["planned_epochs"]
                    scheduler.lr_lambdas = [lr_schedule(config, planned, steps_per_epoch)] * len(optimizer.param_groups)
                    progress.set_total((planned - start_epoch) * steps_per_epoch)
                    progress.write(budget_text(budget))
            if writer:
                record = {"epoch": epoch, "train_loss": train_loss, "seconds": seconds, **metrics,
                          "train_precision": precision, "machine": profile}
                with open(out / EPOCHS_LOG, "a") as epochs_log:  # before the checkpoint: a resume truncates it
                    _append(epochs_log, record)
                if is_best:
                    save_checkpoint(out / BEST_CHECKPOINT, model=model.state_dict(), epoch=epoch,
                                    metrics=metrics, **meta)
                save_checkpoint(last, model=model.state_dict(), optimizer=optimizer.state_dict(),
                                scheduler=scheduler.state_dict(), scaler=scaler.state_dict(), epoch=epoch,
                                best_miou=best_miou, metrics=metrics, budget=budget, **meta)
                if budget:
                    write_record(out / RUN_CONFIG, run_record(run_config, budget))
                progress.write(f"epoch {epoch + 1}/{planned}: loss {train_loss:.4f} "
                               f"val mIoU {metrics['miou']:.4f} pixel acc {metrics['pixel_accuracy']:.4f}")
            epoch += 1
    if budget:
        print(f"{budget_text(budget)}; {planned} done in {(spent_before + clock() - started) / 60:.1f} min", flush=True)
    return best_miou


def lr_schedule(config, epochs, steps_per_epoch):
    """The learning-rate factor per step of a run of ``epochs`` epochs: the warm-up (at most a tenth of
    them, so short runs still train), then poly decay to zero at the last step."""
    warmup_epochs = min(config.warmup_epochs, epochs / 10)
    return poly_with_warmup(epochs * steps_per_epoch, math.ceil(warmup_epochs * steps_per_epoch))


def run_record(run_config, budget):
    """``config.json``: the run's config and, with a budget, its plan (``pruneseg.train_plan``)."""
    if not budget:
        return run_config
    return {**run_config, "planned_epochs": budget["planned_epochs"], "budget": budget}


def _truncate_log(path, start_epoch):
    """Drop records of epochs that will be run again after a resume."""
    kept = [r for r in read_jsonl(path) if r.get("epoch", start_epoch) < start_epoch]
    path.write_text("".join(json.dumps(r) + "\n" for r in kept))


def _append(handle, record):
    handle.write(json.dumps(record) + "\n")
    handle.flush()
