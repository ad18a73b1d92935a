"""chainrule.learn.losses against PyTorch float64: same inputs -> same loss and same gradients."""

import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from chainrule import Value, no_grad
from chainrule.learn.losses import (
    accuracy,
    bce_with_logits,
    binary_accuracy,
    categorical_accuracy,
    cross_entropy,
    hinge,
    mse,
)

REL = 1e-12


def leaves(numbers):
    tensor = torch.tensor(numbers, dtype=torch.float64, requires_grad=True)
    return [Value(x) for x in numbers], tensor


def check(loss, ours, t_loss, t_leaf):
    loss.backward()
    t_loss.backward()
    assert loss.data == pytest.approx(t_loss.item(), rel=REL, abs=1e-300)
    t_leaves = t_leaf if isinstance(t_leaf, list) else [t_leaf]
    t_grads = [g for t in t_leaves for g in t.grad.reshape(-1).tolist()]
    grads = [v.grad for v in ours]
    assert grads == pytest.approx(t_grads, rel=REL, abs=1e-15)
    assert any(g != 0 for g in grads)


# -- mse --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_matches_pytorch(reduction):
    rng = random.Random(1)
    preds = [rng.uniform(-2, 2) for _ in range(7)]
    targets = [rng.uniform(-2, 2) for _ in range(7)]
    ours, t_preds = leaves(preds)
    t_loss = F.mse_loss(t_preds, torch.tensor(targets, dtype=torch.float64), reduction=reduction)
    check(mse(ours, targets, reduction=reduction), ours, t_loss, t_preds)


def test_mse_sum_is_the_lecture_loss():
    preds = [Value(0.8), Value(-0.3), Value(-0.9), Value(0.7)]
    ys = [1.0, -1.0, -1.0, 1.0]
    lecture = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, preds))
    ours = mse(preds, ys, reduction="sum")
    assert ours.data == pytest.approx(lecture.data, rel=1e-15)
    assert mse(preds, ys).data == pytest.approx(lecture.data / 4, rel=1e-15)
    # a small graph: one dot node over one difference node per sample
    assert ours._op == "dot"


def test_mse_accepts_numbers_as_predictions_and_checks_lengths():
    assert mse([1.0, 2.0], [0.0, 0.0]).data == 2.5
    with pytest.raises(ValueError, match="mse: 2 predictions but 3 targets"):
        mse([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="mse: preds is empty"):
        mse([], [])
    with pytest.raises(ValueError, match=r"mse: targets\[1\] must be a finite number"):
        mse([1.0, 2.0], [1.0, "x"])
    with pytest.raises(TypeError, match=r"mse: preds\[0\] must be a Value or a number"):
        mse([[Value(1.0)]], [1.0])
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        mse([1.0], [1.0], reduction="avg")
    with pytest.raises(TypeError, match="preds must be a list"):
        mse(Value(1.0), [1.0])


# -- hinge ------------------------------------------------------------------------------------


def test_hinge_with_l2_matches_pytorch():
    rng = random.Random(2)
    scores = [rng.uniform(-2, 2) for _ in range(9)]
    labels = [rng.choice([-1, 1]) for _ in range(9)]
    weights = [rng.uniform(-1, 1) for _ in range(5)]
    ours, t_scores = leaves(scores)
    params, t_params = leaves(weights)
    alpha = 1e-2
    loss = hinge(ours, labels, params=params, alpha=alpha)
    y = torch.tensor(labels, dtype=torch.float64)
    t_loss = torch.relu(1 - y * t_scores).mean() + alpha * (t_params * t_params).sum()
    check(loss, ours + params, t_loss, [t_scores, t_params])


def test_hinge_equals_micrograds_demo_formula():
    rng = random.Random(3)
    scores = [Value(rng.uniform(-2, 2)) for _ in range(6)]
    labels = [1, -1, 1, 1, -1, -1]
    params = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    losses = [(1 + -yi * si).relu() for yi, si in zip(labels, scores)]
    expected = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
    # the same float operations in the same order: equal to the last bit
    assert hinge(scores, labels, params).data == expected.data
    assert hinge(scores, labels).data == (sum(losses) * (1.0 / len(losses))).data


def test_hinge_rejects_zero_one_labels_and_bad_alpha():
    with pytest.raises(ValueError, match=r"labels\[1\] = 0.*labels='pm1'"):
        hinge([0.5, 0.2], [1, 0])
    with pytest.raises(ValueError, match="alpha"):
        hinge([0.5], [1], params=[Value(1.0)], alpha=-1)
    with pytest.raises(ValueError, match="hinge: 2 predictions but 1 labels"):
        hinge([0.5, 0.2], [1])
    with pytest.raises(TypeError, match="params must be Values"):
        hinge([0.5], [1], params=[1.0])


# -- binary cross-entropy on logits ------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits_matches_pytorch(reduction):
    logits = [-3.5, -0.4, 0.0, 0.0, 0.7, 2.2, 12.0, -15.0, 0.3]
    labels = [0, 1, 0, 1, 1, 0, 1, 0, 0.25]
    ours, t_logits = leaves(logits)
    t_loss = F.binary_cross_entropy_with_logits(
        t_logits, torch.tensor(labels, dtype=torch.float64), reduction=reduction
    )
    check(bce_with_logits(ours, labels, reduction=reduction), ours, t_loss, t_logits)


def test_bce_with_logits_is_stable_for_huge_logits():
    ours, t_logits = leaves([800.0, -800.0, 800.0, -800.0])
    labels = [0, 1, 1, 0]
    loss = bce_with_logits(ours, labels, reduction="sum")
    t_loss = F.binary_cross_entropy_with_logits(
        t_logits, torch.tensor(labels, dtype=torch.float64), reduction="sum"
    )
    assert math.isfinite(loss.data)
    assert loss.data == pytest.approx(t_loss.item(), rel=REL)  # 1600
    loss.backward()
    t_loss.backward()
    assert [v.grad for v in ours] == pytest.approx(t_logits.grad.tolist(), abs=1e-15)


def test_bce_rejects_labels_outside_zero_one():
    with pytest.raises(ValueError, match=r"labels\[0\] = -1.*labels='01'"):
        bce_with_logits([0.5], [-1])
    with pytest.raises(ValueError, match="bce_with_logits: 1 predictions but 2 labels"):
        bce_with_logits([0.5], [0, 1])


# -- softmax cross-entropy ----------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_pytorch(reduction):
    rng = random.Random(4)
    rows = [[rng.uniform(-3, 3) for _ in range(4)] for _ in range(6)]
    rows.append([1000.0, 0.0, -1000.0, 999.0])  # stable: no overflow
    labels = [rng.randrange(4) for _ in range(6)] + [3]
    ours = [[Value(z) for z in row] for row in rows]
    t_rows = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    t_loss = F.cross_entropy(t_rows, torch.tensor(labels), reduction=reduction)
    flat = [v for row in ours for v in row]
    check(cross_entropy(ours, labels, reduction=reduction), flat, t_loss, t_rows)


def test_cross_entropy_validates_rows_and_labels():
    rows = [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]
    with pytest.raises(ValueError, match=r"labels\[1\] = 3 is not a class index in 0..2"):
        cross_entropy(rows, [0, 3])
    with pytest.raises(ValueError, match=r"labels\[0\] = -1"):
        cross_entropy(rows, [-1, 0])
    with pytest.raises(TypeError, match=r"labels\[0\] must be an integer class index"):
        cross_entropy(rows, [1.0, 0])
    with pytest.raises(ValueError, match=r"logits_rows\[1\] has 2 scores, the first row 3"):
        cross_entropy([[0.1, 0.2, 0.3], [0.1, 0.2]], [0, 0])
    with pytest.raises(TypeError, match=r"logits_rows\[0\] is a single score"):
        cross_entropy([Value(0.1), Value(0.2)], [0, 0])
    with pytest.raises(ValueError, match="2 rows but 1 labels"):
        cross_entropy(rows, [0])
    with pytest.raises(ValueError, match="logits_rows is empty"):
        cross_entropy([], [])


def test_losses_work_without_recording_a_graph():
    with no_grad():
        loss = cross_entropy([[Value(1.0), Value(2.0)]], [1])
    assert loss._prev == ()
    assert loss.data == pytest.approx(math.log(1 + math.exp(-1.0)), rel=1e-15)


# -- accuracy ----------------------------------------------------------------------------------


def test_accuracy_helpers():
    scores = [Value(0.5), Value(-0.2), Value(0.1), Value(-3.0)]
    assert binary_accuracy(scores, [1, -1, -1, -1]) == 0.75
    assert binary_accuracy(scores, [1, 0, 0, 0]) == 0.75
    rows = [[0.1, 0.9, 0.0], [2.0, 1.0, 0.5], [Value(0.0), Value(0.0), Value(1.0)]]
    assert categorical_accuracy(rows, [1, 2, 2]) == pytest.approx(2 / 3)
    assert accuracy(rows, [1, 0, 2]) == 1.0
    assert accuracy(scores, [1, 1, 1, 1]) == 0.5
    with pytest.raises(ValueError, match="4 scores but 3 labels"):
        binary_accuracy(scores, [1, 1, 1])


def test_numpy_labels_are_accepted():
    scores = [Value(0.5), Value(-0.2)]
    assert hinge(scores, np.array([1, -1])).data == hinge(scores, [1, -1]).data
    assert mse(scores, np.array([0.5, 0.0])).data == mse(scores, [0.5, 0.0]).data
    rows = [[Value(0.1), Value(0.3)]]
    assert cross_entropy(rows, np.array([1])).data == cross_entropy(rows, [1]).data
    assert binary_accuracy(np.array([0.5, -0.2]), np.array([1, 1])) == 0.5
