"""Distillation while fine-tuning a pruned model: a frozen teacher's logits guide the student's.

Two kinds, both on the logits (N, K, H, W) at temperature tau and scaled by tau^2 so that their
gradients keep their size as tau changes (Hinton et al. 2015):

- ``pixel``: the KL divergence of the teacher's class distribution from the student's at every
  pixel (softmax over the K classes), averaged over the pixels;
- ``channel``: channel-wise distillation (Shu et al., ICCV 2021): each class map becomes a
  distribution over the H x W positions (softmax of logits / tau), KL teacher -> student,
  summed over the positions and averaged over the N x K maps: the student learns where each
  class is, which suits dense prediction.

The teacher is the dense checkpoint (or another of the same model, classes and input size): in
eval mode, its parameters frozen, run without gradients, under the training step's autocast
(bfloat16 on the CPU where the recipe uses it). Under torchrun every rank holds its own teacher;
it is never wrapped in DDP, since it does not train.
"""
import torch
import torch.nn.functional as F

from pruneseg.checkpoint import load_model
from pruneseg.data.classes import classes_of
from pruneseg.errors import PruneSegError
from pruneseg.preflight import distill_problem, require


def pixel_distillation(student, teacher, tau=1.0):
    """Mean over pixels of KL(softmax(teacher / tau) || softmax(student / tau)) over the classes, x tau^2.

    Args:
        student, teacher: logits (N, K, H, W).
    Returns:
        scalar tensor (0 when the logits are equal).
    """
    log_student = F.log_softmax(student.float() / tau, dim=1)
    log_teacher = F.log_softmax(teacher.float() / tau, dim=1)
    kl = (log_teacher.exp() * (log_teacher - log_student)).sum(dim=1)
    return kl.mean() * tau ** 2


def channel_distillation(student, teacher, tau=1.0):
    """Channel-wise distillation: per class map, KL over the H x W positions of softmax(logits / tau),
    teacher -> student, averaged over the N x K maps, x tau^2.

    Args:
        student, teacher: logits (N, K, H, W).
    Returns:
        scalar tensor (0 when the logits are equal).
    """
    n, k = student.shape[:2]
    log_student = F.log_softmax(student.float().reshape(n, k, -1) / tau, dim=2)
    log_teacher = F.log_softmax(teacher.float().reshape(n, k, -1) / tau, dim=2)
    kl = (log_teacher.exp() * (log_teacher - log_student)).sum(dim=2)
    return kl.mean() * tau ** 2


LOSSES = {"pixel": pixel_distillation, "channel": channel_distillation}


def freeze(model):
    """``model`` in eval mode with every parameter frozen (no gradient is ever computed for it)."""
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


class Distiller:
    """The distillation term of a training step: ``distiller(images, outputs) -> weight x loss``.

    ``outputs`` is what the student returned (logits, or ``{"out", "aux"}`` where it has an
    auxiliary head: the main logits are distilled). Called inside the step's autocast, so the
    teacher runs in the same precision as the student.
    """

    def __init__(self, teacher, kind="channel", weight=3.0, tau=1.0):
        require(distill_problem(kind, weight, tau))
        self.teacher, self.loss, self.weight, self.tau = freeze(teacher), LOSSES[kind], weight, tau

    def __call__(self, images, outputs):
        logits = outputs["out"] if isinstance(outputs, dict) else outputs
        self.teacher.eval()  # a caller's model.train() must never reach the teacher
        with torch.no_grad():
            target = self.teacher(images)
        return self.weight * self.loss(logits, target, self.tau)


def load_teacher(path, student, device):
    """The frozen teacher in checkpoint ``path`` for the student of checkpoint dict ``student``.

    Raises:
        PruneSegError naming the teacher when it is another model, predicts other classes or takes
        another input size: its logits would not mean what the student's mean.
    """
    teacher, meta = load_model(path, device)
    theirs, ours = classes_of(meta).names, classes_of(student).names
    if meta["model_name"] != student["model_name"]:
        raise PruneSegError(f"--teacher {path}: a {meta['model_name']} model; the student is a {student['model_name']}: "
                            "distil from the dense checkpoint of the same model")
    if list(theirs) != list(ours):
        raise PruneSegError(f"--teacher {path}: predicts {len(theirs)} classes ({', '.join(theirs)}); the student "
                            f"predicts {len(ours)} ({', '.join(ours)})")
    if list(meta["input_size"]) != list(student["input_size"]):
        raise PruneSegError(f"--teacher {path}: trained at {meta['input_size'][0]}x{meta['input_size'][1]}; the "
                            f"student at {student['input_size'][0]}x{student['input_size'][1]}")
    return freeze(teacher)
