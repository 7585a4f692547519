import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from pruneseg.config import TrainConfig
from pruneseg.data.classes import IGNORE_INDEX
from pruneseg.losses import LOSSES, build_loss, class_weights_from_counts, ohem_cross_entropy, split_class_weights

IGN = IGNORE_INDEX


def test_class_weights_follow_enet_formula():
    weights = class_weights_from_counts([50, 30, 20, 0, 0, 0])
    expected = [1 / math.log(1.02 + share) for share in (0.5, 0.3, 0.2, 0, 0, 0)]
    assert weights == pytest.approx(expected)
    assert weights[3] == pytest.approx(1 / math.log(1.02))  # an absent class gets the largest, finite weight
    with pytest.raises(ValueError, match="no labelled pixels"):
        class_weights_from_counts([0] * 6)


def test_split_class_weights_count_labelled_pixels_only(tmp_path):
    # two 2x4 masks in label ids: road (class 0), building (1), sky (2), vegetation (ignored)
    masks = [np.array([[7, 7, 7, 7], [11, 11, 23, 21]]), np.array([[7, 7, 21, 21], [11, 23, 23, 21]])]
    for index, mask in enumerate(masks):
        for top, suffix, array in (("gtFine", "gtFine_labelIds", mask.astype(np.uint8)),
                                   ("leftImg8bit", "leftImg8bit", np.zeros((2, 4, 3), np.uint8))):
            folder = tmp_path / top / "train" / "city"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(array).save(folder / f"city_{index:06d}_000019_{suffix}.png")
    # 12 labelled pixels: 6 other, 3 static, 3 sky; the 4 vegetation pixels do not count
    expected = [1 / math.log(1.02 + share) for share in (0.5, 0.25, 0.25, 0, 0, 0)]
    assert split_class_weights(tmp_path) == pytest.approx(expected)


def test_weighted_ce_equals_hand_computation():
    logits = torch.zeros(1, 6, 1, 4)
    logits[0, 0, 0, 0] = 2.0  # pixel 0: class 0 at logit 2, the other five at 0
    logits[0, 1, 0, 1] = 1.0
    logits[0, :2, 0, 2] = 1.0
    logits[0, 0, 0, 3] = 9.0
    target = torch.tensor([[[0, 0, 1, IGN]]])
    weights = [1.0, 3.0, 1.0, 1.0, 1.0, 1.0]
    loss = build_loss({"loss": "weighted_ce", "class_weights": weights}, len(weights))(logits, target)
    e = math.e
    nll = [-math.log(e ** 2 / (e ** 2 + 5)), -math.log(1 / (e + 5)), -math.log(e / (2 * e + 4))]
    hand = (1 * nll[0] + 1 * nll[1] + 3 * nll[2]) / (1 + 1 + 3)  # the ignored pixel counts nowhere
    assert loss.item() == pytest.approx(hand, rel=1e-6)


def test_ohem_keeps_only_the_hardest_pixels():
    # true-class probabilities: 0.99 (easy), 0.5, 0.1, 0.6 (hard at thresh 0.7), and an ignored pixel
    probs = torch.tensor([0.99, 0.5, 0.1, 0.6, 0.01])
    logits = torch.stack([probs.log(), (1 - probs).log()]).reshape(1, 2, 1, 5)
    target = torch.tensor([[[0, 0, 0, 0, IGN]]])
    hard = -torch.tensor([0.5, 0.1, 0.6]).log().mean()
    assert ohem_cross_entropy(logits, target, thresh=0.7, min_kept=0.1).item() == pytest.approx(hard.item())
    # at least 3 of the 4 labelled pixels: the threshold rises to the third least confident (0.6)
    assert ohem_cross_entropy(logits, target, thresh=0.3, min_kept=0.75).item() == pytest.approx(hard.item())
    # at least half of them: the two hardest only
    two = -torch.tensor([0.5, 0.1]).log().mean()
    assert ohem_cross_entropy(logits, target, thresh=0.05, min_kept=0.5).item() == pytest.approx(two.item())


def test_weighted_ohem_averages_by_the_kept_pixels_weights():
    probs = torch.tensor([0.99, 0.5, 0.1])
    logits = torch.stack([probs.log(), (1 - probs).log()]).reshape(1, 2, 1, 3)
    target = torch.tensor([[[1, 0, 1]]])  # true-class probabilities 0.01, 0.5 (both hard) and 0.9 (easy)
    weight = torch.tensor([1.0, 4.0])
    loss = ohem_cross_entropy(logits, target, weight, thresh=0.7, min_kept=0.1)
    nll = -torch.tensor([0.01, 0.5]).log()
    assert loss.item() == pytest.approx(((4 * nll[0] + 1 * nll[1]) / (4 + 1)).item(), rel=1e-6)


@pytest.mark.parametrize("loss", LOSSES)
def test_ignored_pixels_never_count(loss):
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 4, 4, requires_grad=True)
    target = torch.randint(0, 6, (2, 4, 4))
    target[:, :2] = IGN
    criterion = build_loss({"loss": loss, "class_weights": [1.0, 2, 3, 4, 5, 6], "ohem_min_kept": 1.0}, 6)
    value = criterion(logits, target)
    changed = logits.detach().clone()
    changed[:, :, :2] = 100 * torch.randn(2, 6, 2, 4)  # whatever the model says where nothing is labelled
    assert criterion(changed, target).item() == pytest.approx(value.item())
    value.backward()
    assert logits.grad[:, :, :2].abs().max() == 0
    if loss in ("ce", "ohem"):  # min_kept 1.0 keeps every labelled pixel: plain mean cross-entropy
        assert value.item() == pytest.approx(F.cross_entropy(logits, target, ignore_index=IGN).item())


def test_all_ignored_batch_gives_zero_loss():
    logits = torch.randn(1, 6, 2, 2, requires_grad=True)
    target = torch.full((1, 2, 2), IGN)
    loss = build_loss({"loss": "ohem"}, 6)(logits, target)
    loss.backward()
    assert loss.item() == 0 and logits.grad.abs().max() == 0


def test_build_loss_reads_a_config_and_names_the_choices():
    assert build_loss(TrainConfig(), 6)(torch.zeros(1, 6, 1, 1), torch.zeros(1, 1, 1, dtype=torch.long)).item() \
        == pytest.approx(math.log(6))
    assert build_loss({}, 6)  # a config recorded before losses existed means plain cross-entropy
    with pytest.raises(ValueError, match="unknown loss 'focal'; choose one of: ce, weighted_ce, ohem, weighted_ohem"):
        build_loss({"loss": "focal"}, 6)
    with pytest.raises(ValueError, match="needs 6 class weights, got 0"):
        build_loss(TrainConfig(loss="weighted_ce"), 6)
