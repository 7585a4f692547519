"""Fine-tuning a pruned model: epochs of the dense run's recipe until a goal holds, resumable.

The pruning loop fine-tunes each iteration until the mIoU is back within its tolerance (a
constant learning rate), and its final fine-tune for a fixed number of epochs with the learning
rate falling from its start to 0 (``cosine``). Both run ``FineTuner.run``: after every epoch the
model, optimizer, scheduler and the time spent go to ``current.pt``, so a killed job resumes at
the epoch it stopped in; with a ``Distiller`` (``pruneseg.distill``) every step adds its term.
"""
import math
import time

import torch

from pruneseg.checkpoint import save_checkpoint
from pruneseg.train import data_parallel, train_one_epoch


def constant_schedule(optimizer):
    """The iterations' learning rate: the configured one, throughout."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def cosine_schedule(optimizer, total_steps):
    """The final fine-tune's learning rate: from the configured one to 0 over ``total_steps`` (half a cosine)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(1, total_steps))))


class FineTuner:
    """Everything an epoch of fine-tuning needs but the model: data, loss, device, recipe, teacher.

    Args:
        evaluate: model -> validation metrics (``pruneseg.evaluate.evaluate`` over every rank's share).
        current: the resume checkpoint written after every epoch (rank 0 only, when ``writer``).
        distiller: a ``pruneseg.distill.Distiller``, or None.
        bf16: bfloat16 autocast on the CPU (``train_plan.use_cpu_bf16`` decided it for this machine).
    """

    def __init__(self, train_loader, criterion, device, train_config, evaluate, current, writer, progress,
                 distiller=None, bf16=False):
        self.train_loader, self.criterion, self.device, self.train_config = train_loader, criterion, device, train_config
        self.evaluate, self.current, self.writer, self.progress = evaluate, current, writer, progress
        self.distiller, self.bf16 = distiller, bf16

    def run(self, model, optimizer, scheduler, start, done, describe, saved):
        """Train epochs until ``done(metrics, epoch)``.

        Args:
            start: ``{"epoch", "metrics", "seconds", "steps"}`` where fine-tuning stands (a resume's saved values).
            describe: ``(epoch, loss, metrics, seconds) -> str``, the log line of an epoch.
            saved: what ``current.pt`` holds besides the training state (iteration, pruning history, meta...).
        Returns:
            ``{"epoch", "metrics", "seconds", "steps"}`` at the end: epochs done, the latest metrics, and the
            wall time and optimizer steps spent training (resumes included).
        """
        scaler = torch.amp.GradScaler(self.device.type, enabled=self.device.type == "cuda")
        trainer = data_parallel(model, self.device, self.train_config.sync_bn)
        now = dict(start)
        while not done(now["metrics"], now["epoch"]):
            started = time.time()
            loss = train_one_epoch(trainer, self.train_loader, self.criterion, optimizer, scheduler, scaler,
                                   self.device, lambda step, loss, lr: None, self.bf16,
                                   self.distiller)
            seconds = time.time() - started
            metrics = self.evaluate(model)
            now = {"epoch": now["epoch"] + 1, "metrics": metrics, "seconds": now["seconds"] + seconds,
                   "steps": now["steps"] + len(self.train_loader)}
            if self.writer:
                save_checkpoint(self.current, model=model.state_dict(), optimizer=optimizer.state_dict(),
                                scheduler=scheduler.state_dict(), **saved, **now)
            self.progress.update(1, iteration=saved["iteration"], miou=metrics["miou"])
            self.progress.write(describe(now["epoch"], loss, metrics, seconds))
        return now
