"""Distillation losses on hand-made logits, the frozen teacher, and the teacher checks."""
import math

import pytest
import torch
from torch import nn

from pruneseg.checkpoint import save_checkpoint
from pruneseg.distill import Distiller, channel_distillation, load_teacher, pixel_distillation
from pruneseg.preflight import distill_problem
from pruneseg.errors import PruneSegError
from pruneseg.models import build_model
from pruneseg.train import train_one_epoch


def kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q))


def softmax(values, tau):
    exps = [math.exp(v / tau) for v in values]
    return [e / sum(exps) for e in exps]


@pytest.mark.parametrize("loss", [pixel_distillation, channel_distillation])
def test_equal_logits_give_zero(loss):
    logits = torch.randn(2, 6, 8, 16)
    assert loss(logits, logits.clone(), tau=2.0).item() == pytest.approx(0.0, abs=1e-6)
    assert loss(logits + 1.0, logits, tau=2.0).item() > -1e-6  # a KL is never negative


def test_pixel_distillation_on_hand_made_logits_at_two_temperatures():
    # one image, 2 classes, 1 x 2 pixels: the teacher sure at pixel 0, unsure at pixel 1
    teacher = torch.tensor([[[[4.0, 0.0]], [[0.0, 0.0]]]])
    student = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])
    for tau in (1.0, 2.0):
        pixels = [kl(softmax([4.0, 0.0], tau), softmax([1.0, 0.0], tau)),
                  kl(softmax([0.0, 0.0], tau), softmax([0.0, 1.0], tau))]
        expected = sum(pixels) / 2 * tau ** 2
        assert pixel_distillation(student, teacher, tau).item() == pytest.approx(expected, rel=1e-5)


def test_channel_distillation_spreads_each_class_map_over_the_positions():
    # one image, 2 class maps of 1 x 3 positions: each map is a distribution over the 3 positions
    teacher = torch.tensor([[[[2.0, 0.0, 0.0]], [[0.0, 0.0, 3.0]]]])
    student = torch.tensor([[[[0.0, 1.0, 0.0]], [[0.0, 0.0, 3.0]]]])
    for tau in (1.0, 4.0):
        maps = [kl(softmax([2.0, 0.0, 0.0], tau), softmax([0.0, 1.0, 0.0], tau)), 0.0]  # the second map agrees
        expected = sum(maps) / 2 * tau ** 2
        assert channel_distillation(student, teacher, tau).item() == pytest.approx(expected, rel=1e-5)
    # channel-wise ignores a shift of a whole map (softmax over positions); per pixel it does not
    shifted = teacher.clone()
    shifted[:, 1] += 5.0
    assert channel_distillation(shifted, teacher, 4.0).item() == pytest.approx(0.0, abs=1e-6)
    assert pixel_distillation(shifted, teacher, 4.0).item() > 0.1


def test_the_forms_kinds_are_the_losses():
    from pruneseg.choices import DISTILL_KINDS
    from pruneseg.distill import LOSSES

    assert set(DISTILL_KINDS) == set(LOSSES)


def test_bad_settings_are_refused():
    assert "distill-kind 'feature'" in distill_problem("feature", 1.0, 1.0)
    assert "distill-weight" in distill_problem("pixel", 0.0, 1.0)
    assert "distill-tau" in distill_problem("channel", 1.0, -1.0)
    assert distill_problem("channel", 3.0, 1.0) is None
    with pytest.raises(PruneSegError, match="distill-weight"):
        Distiller(Tiny(), "pixel", 0.0)


class Tiny(nn.Module):
    """A 2-layer segmenter with BatchNorm, so a teacher left in training mode would change."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 6, 1))

    def forward(self, x):
        return self.body(x)


def test_the_teacher_stays_frozen_through_a_fine_tuning_epoch():
    torch.manual_seed(0)
    student, teacher = Tiny(), Tiny()
    before = {name: value.clone() for name, value in teacher.state_dict().items()}
    distiller = Distiller(teacher, "channel", 3.0, 4.0)
    loader = [(torch.randn(2, 3, 8, 8), torch.randint(0, 6, (2, 8, 8))) for _ in range(3)]
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    student_before = [p.clone() for p in student.parameters()]
    teacher.train()  # a caller switching it to training mode must not reach its BatchNorm statistics
    train_one_epoch(student, loader, nn.CrossEntropyLoss(), optimizer, scheduler, scaler, torch.device("cpu"),
                    lambda *a: None, distill=distiller)
    assert all(not p.requires_grad and p.grad is None for p in teacher.parameters())
    assert all(torch.equal(before[name], value) for name, value in teacher.state_dict().items())
    assert any(not torch.equal(a, b) for a, b in zip(student_before, student.parameters()))  # the student learned


def test_the_distillation_term_is_added_to_the_loss():
    torch.manual_seed(0)
    student, teacher = Tiny(), Tiny()
    images = torch.randn(2, 3, 8, 8)
    term = Distiller(teacher, "pixel", 2.0, 1.0)(images, {"out": student(images), "aux": None})
    with torch.no_grad():
        expected = 2.0 * pixel_distillation(student(images), teacher.eval()(images), 1.0)
    assert term.item() == pytest.approx(expected.item(), rel=1e-5) and term.requires_grad


def test_a_teacher_of_other_classes_or_another_model_is_refused(tmp_path):
    def checkpoint(name, model_name, classes, size=(64, 128)):
        path = tmp_path / name
        save_checkpoint(path, model=build_model(model_name, len(classes)).state_dict(), model_name=model_name,
                        num_classes=len(classes), class_names=list(classes), input_size=list(size))
        return path
    six = ["other", "static", "sky", "person", "vehicle", "bike"]
    student = {"model_name": "fpn", "class_names": six, "input_size": [64, 128]}
    assert not any(p.requires_grad for p in load_teacher(checkpoint("ok.pt", "fpn", six), student, "cpu").parameters())
    with pytest.raises(PruneSegError, match="predicts 3 classes"):
        load_teacher(checkpoint("three.pt", "fpn", ["road", "car", "tree"]), student, "cpu")
    with pytest.raises(PruneSegError, match="a tv:lraspp_mobilenet_v3_large model; the student is a fpn"):
        load_teacher(checkpoint("lraspp.pt", "tv:lraspp_mobilenet_v3_large", six), student, "cpu")
    with pytest.raises(PruneSegError, match="trained at 128x256"):
        load_teacher(checkpoint("big.pt", "fpn", six, (128, 256)), student, "cpu")
