"""Timing a few training steps and a validation pass before a run starts, on a copy of its model.

What a time budget plans from (``pruneseg.train_plan``) and what ``--cpu-bf16 on`` on a CPU without
native bf16 warns with. The steps run on a copy of the model with its own optimizer, so the run
itself starts from the same weights as without them; they reuse one batch, so data loading is left
out (the first epoch's measured time corrects the plan). ``clock`` is injectable: tests run on a
fake one.
"""
import copy
import itertools
import statistics

import torch

from pruneseg.evaluate import evaluate
PROBE_STEPS = 3  # the first is a warm-up (kernels are picked, buffers allocated), the others are timed
PROBE_VAL_BATCHES = 2


def step_seconds(model, batch, criterion, config, device, bf16, clock, steps=PROBE_STEPS):
    """Median seconds of one training step of a copy of ``model`` on ``batch``, after a warm-up step.

    The copy trains with ``train.train_one_epoch`` itself (autocast as the run has it), so the time is
    that of the run's own steps.
    """
    from pruneseg.train import build_optimizer, train_one_epoch  # train imports this module

    trial = copy.deepcopy(model)
    optimizer = build_optimizer(trial, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    scaler = torch.amp.GradScaler(device.type, enabled=config.amp and device.type == "cuda")
    stamps = [clock()]
    train_one_epoch(trial, [batch] * steps, criterion, optimizer, scheduler, scaler, device,
                    lambda step, loss, lr: stamps.append(clock()), bf16)
    return statistics.median(b - a for a, b in zip(stamps[1:], stamps[2:]))


def val_seconds(model, val_loader, device, num_classes, clock, batches=PROBE_VAL_BATCHES):
    """Seconds of a whole validation pass of ``model``, from its first ``batches`` batches."""
    taken = list(itertools.islice(val_loader, batches))
    started = clock()
    evaluate(model, taken, device, num_classes)
    return (clock() - started) * len(val_loader) / max(1, len(taken))


def probe(model, train_loader, val_loader, criterion, config, device, bf16, num_classes, clock):
    """``{"step_seconds", "val_seconds"}`` of the run about to start (its precision ``bf16`` included)."""
    batch = next(iter(train_loader))
    return {"step_seconds": step_seconds(model, batch, criterion, config, device, bf16, clock),
            "val_seconds": val_seconds(model, val_loader, device, num_classes, clock)}


def bf16_cost(model, train_loader, criterion, config, device, clock):
    """``(fp32 seconds, bf16 seconds)`` of one training step, each timed after a warm-up step."""
    batch = next(iter(train_loader))
    return tuple(step_seconds(model, batch, criterion, config, device, bf16, clock) for bf16 in (False, True))
