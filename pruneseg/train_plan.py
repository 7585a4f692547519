"""How a training run fits the machine it runs on: the precision it trains in and, under a time
budget, how many epochs it gets. Pure rules over numbers and a machine profile, no torch.

**Precision.** bfloat16 autocast pays only where the CPU computes bf16 natively (AVX512-BF16, AMX,
Arm BF16: a step about 1.5x faster here); elsewhere PyTorch emulates it and a step is about 3x
slower than in fp32 (17.4 s against 5.6 s on an AVX2-only EPYC, issue 17). ``cpu_bf16`` "auto"
follows ``pruneseg.target.machine.native_bf16``; a run records what it used as ``train_precision``
("bf16", "fp16" on CUDA with ``amp``, or "fp32").

**Budget.** ``--budget-minutes M`` makes the epoch count follow the clock: the first steps and a
validation pass are timed (``pruneseg.train_probe``), the run plans the epochs that fit in what is
left of M (``epochs`` stays the cap) and its learning-rate schedule spans them. The first epoch's
measured time re-plans once; after that an epoch that would overrun the budget is not started
(the plan is cut short and says so). A resumed run keeps its plan.
"""
import math

from pruneseg.errors import PruneSegError
from pruneseg.target.machine import native_bf16, profile_text


class BudgetError(PruneSegError):
    """A time budget that cannot hold one epoch; the message says how long one takes here."""


def use_cpu_bf16(setting, device_type, profile):
    """Whether to train under bfloat16 autocast: never off the CPU (CUDA has ``amp``), always for "on",
    never for "off", and for "auto" where ``profile``'s CPU computes bf16 natively."""
    if device_type != "cpu" or setting == "off":
        return False
    return setting == "on" or native_bf16(profile)


def train_precision(device_type, amp, cpu_bf16):
    """What a run's arithmetic is in: ``"fp16"`` (CUDA with ``amp``), ``"bf16"`` (CPU autocast) or ``"fp32"``."""
    if device_type == "cuda" and amp:
        return "fp16"
    return "bf16" if device_type == "cpu" and cpu_bf16 else "fp32"


def emulated_bf16_warning(fp32_seconds, bf16_seconds, profile):
    """The warning for ``--cpu-bf16 on`` on a CPU that emulates bf16, with a step's measured time both ways."""
    return (f"warning: --cpu-bf16 on, but this CPU ({profile_text(profile)}) has no native bfloat16: PyTorch emulates "
            f"it. Measured here, one training step takes {bf16_seconds:.2f} s in bf16 against {fp32_seconds:.2f} s in "
            f"fp32 ({bf16_seconds / fp32_seconds:.1f}x); --cpu-bf16 auto (the default) uses fp32 here")


def epoch_seconds(step_seconds, steps_per_epoch, val_seconds):
    """Estimated seconds of one epoch: its training steps and its validation pass."""
    return step_seconds * steps_per_epoch + val_seconds


def plan_epochs(budget_seconds, spent_seconds, seconds_per_epoch, done_epochs, cap):
    """The epochs a run gets: those done, and as many more as fit in what is left of the budget, at most ``cap``."""
    left = budget_seconds - spent_seconds
    more = math.floor(left / seconds_per_epoch) if seconds_per_epoch > 0 else cap
    return max(done_epochs, min(cap, done_epochs + max(0, more)))


def new_budget(minutes, spent_seconds, probe, steps_per_epoch, cap):
    """The plan of a run starting now, from its probe (``{"step_seconds", "val_seconds"}``, measured).

    Returns:
        ``{"minutes", "cap", "planned_epochs", "epoch_seconds", "spent_seconds", "probe", "stopped": False}``
    Raises:
        BudgetError when not one epoch fits in what is left of ``minutes``.
    """
    seconds = epoch_seconds(probe["step_seconds"], steps_per_epoch, probe["val_seconds"])
    planned = plan_epochs(minutes * 60, spent_seconds, seconds, 0, cap)
    if planned < 1:
        need = (spent_seconds + seconds) / 60
        raise BudgetError(
            f"--budget-minutes {minutes:g} is too small for one epoch: here an epoch takes about {seconds / 60:.1f} min "
            f"({steps_per_epoch} steps of {probe['step_seconds']:.2f} s and validation {probe['val_seconds']:.1f} s) "
            f"after {spent_seconds / 60:.1f} min of start-up; give at least {math.ceil(need * 10) / 10:g} minutes, "
            f"fewer or smaller images, or 0 for no budget")
    return {"minutes": minutes, "cap": cap, "planned_epochs": planned, "epoch_seconds": seconds,
            "spent_seconds": spent_seconds, "probe": dict(probe), "stopped": False}


def after_epoch(budget, done_epochs, spent_seconds, last_epoch_seconds):
    """The plan after ``done_epochs``, the last of which took ``last_epoch_seconds``.

    After the first epoch the plan is made again from its measured time (the probe leaves out data
    loading); after any epoch, the plan is cut to the epochs done when one more would overrun the
    budget (``stopped``). Returns a new dict.
    """
    budget = dict(budget, spent_seconds=spent_seconds, epoch_seconds=last_epoch_seconds)
    if done_epochs == 1:
        budget["planned_epochs"] = plan_epochs(budget["minutes"] * 60, spent_seconds, last_epoch_seconds, 1,
                                               budget["cap"])
    if done_epochs < budget["planned_epochs"] and spent_seconds + last_epoch_seconds > budget["minutes"] * 60:
        budget.update(planned_epochs=done_epochs, stopped=True)
    return budget


def budget_text(budget):
    """One line for the log: ``budget 10 min: 24 epochs of 25.0 s planned (at most 30)``."""
    text = (f"budget {budget['minutes']:g} min: {budget['planned_epochs']} epochs of {budget['epoch_seconds']:.1f} s "
            f"planned (at most {budget['cap']})")
    if budget.get("stopped"):
        text += "; stopped early: another epoch would overrun the budget"
    return text
