import math

import pytest
import torch

from ggnet_d2.layers import gather_at_index
from ggnet_d2.modeling.losses import apm_l1_loss, focal_loss, hna_focal_loss, masked_l1_loss


def _sig(x):
    return 1 / (1 + math.exp(-x))


LOGITS = [0.3, -1.2, 0.8, -0.5, 2.0]
M = [1.0, -1.0, 0.5, 0.0, -0.4]


def _hand_hna(logits, m, a=2, b=7, g=4, hna=True):
    total, n = 0.0, 0
    for x, mm in zip(logits, m):
        p = _sig(x)
        if not hna:
            mm = max(mm, 0.0)
        if mm == 1:
            total += (1 - p) ** a * math.log(p)
            n += 1
        elif mm == -1:
            total += (1 - mm) ** b * p ** a * math.log(1 - p)
        else:
            total += (1 - mm) ** g * p ** a * math.log(1 - p)
    return -total / n if n else -total


def test_hna_loss_hand_computation_with_hard_negative():
    got = hna_focal_loss(torch.tensor(LOGITS).view(1, 1, 1, 5), torch.tensor(M).view(1, 1, 1, 5))
    assert got.item() == pytest.approx(_hand_hna(LOGITS, M), rel=1e-5)
    # the hard negative carries (1 - (-1))^7 = 128 times the weight of a plain negative
    p = _sig(-1.2)
    assert _hand_hna(LOGITS, M) - _hand_hna(LOGITS, [1, 0, 0.5, 0, -0.4]) == pytest.approx(
        -(128 - 1) * p ** 2 * math.log(1 - p))


def test_hna_loss_no_positive_is_plain_sum():
    m = [-1.0, 0.3, 0.0, -0.4, 0.0]
    got = hna_focal_loss(torch.tensor(LOGITS).view(1, 5, 1, 1), torch.tensor(m).view(1, 5, 1, 1))
    assert got.item() == pytest.approx(_hand_hna(LOGITS, m), rel=1e-5)


def test_plain_focal_ignores_hard_negatives():
    got = focal_loss(torch.tensor(LOGITS).view(1, 1, 1, 5), torch.tensor(M).view(1, 1, 1, 5))
    assert got.item() == pytest.approx(_hand_hna(LOGITS, M, hna=False), rel=1e-5)


def test_loss_is_finite_for_saturated_logits():
    logits = torch.tensor([100.0, -100.0, 100.0]).view(1, 1, 1, 3)
    loss = hna_focal_loss(logits, torch.tensor([0.0, 1.0, -1.0]).view(1, 1, 1, 3))
    assert torch.isfinite(loss)
    # clamped P = 1 - 1e-4 on negatives, 1e-4 on the positive
    p = 1 - 1e-4
    expected = -((1 - 1e-4) ** 2 * math.log(1e-4) + p ** 2 * math.log(1 - p) + 2 ** 7 * p ** 2 * math.log(1 - p))
    assert loss.item() == pytest.approx(expected, rel=1e-4)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="differ in shape"):
        hna_focal_loss(torch.zeros(1, 2, 3, 3), torch.zeros(1, 3, 3, 3))


def test_masked_l1_hand_computation():
    pred = torch.zeros(1, 2, 2, 3)
    pred[0, :, 1, 2] = torch.tensor([4.0, 1.0])  # index 5
    pred[0, :, 0, 1] = torch.tensor([2.0, 2.0])  # index 1
    index = torch.tensor([[5, 1, 0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    target = torch.tensor([[[3.0, 3.0], [2.5, 0.0], [9.0, 9.0]]])
    # |4-3| + |1-3| + |2-2.5| + |2-0| = 5.5 over 4 masked entries
    assert masked_l1_loss(pred, index, mask, target).item() == pytest.approx(5.5 / (4 + 1e-4))
    assert gather_at_index(pred, index)[0, 0].tolist() == [4.0, 1.0]
    with pytest.raises(ValueError, match="outside"):
        gather_at_index(pred, torch.tensor([[6]]))


def test_apm_loss_uses_labelled_verb_only_and_shared_form():
    v = 3
    pred = torch.zeros(1, 2 * v, 1, 2)
    pred[0, :, 0, 1] = torch.tensor([10.0, 10.0, 1.0, 2.0, 10.0, 10.0])
    index = torch.tensor([[1]])
    mask = torch.tensor([[[0.0, 0, 1, 1, 0, 0]]])
    target = torch.tensor([[[0.0, 0, 3.0, -1.0, 0, 0]]])
    # verb 1: |1-3| + |2+1| = 5 over 2 channels
    assert apm_l1_loss(pred, index, mask, target).item() == pytest.approx(5 / (2 + 1e-4))
    shared = torch.zeros(1, 2, 1, 2)
    shared[0, :, 0, 1] = torch.tensor([1.0, 2.0])
    assert apm_l1_loss(shared, index, mask, target).item() == pytest.approx(5 / (2 + 1e-4))
    with pytest.raises(ValueError, match="expected 2 or 6"):
        apm_l1_loss(torch.zeros(1, 4, 1, 2), index, mask, target)
