"""The losses of `chainrule.losses`, for models on the tensor engine.

Same names, arguments and numbers as the scalar versions, which hand their work to these when
they are given a `Tensor` (so `losses.hinge(model(X), y)` works with either kind of model).
Each is a few array operations on the whole batch, or one fused node (cross-entropy, BCE).

Scores of a one-output model come as shape (N, 1); they are matched to labels of shape (N,).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .functional import binary_cross_entropy_with_logits
from .functional import cross_entropy as _cross_entropy
from .tensor import Tensor

__all__ = ["bce_with_logits", "cross_entropy", "hinge", "mse", "squared_sum"]

REDUCTIONS = ("mean", "sum")


def _scores(scores: Any, who: str) -> Tensor:
    """Predictions as a tensor of shape (N,): one-output columns (N, 1) are flattened."""
    if not isinstance(scores, Tensor):
        raise TypeError(f"{who}: predictions must be a Tensor, got {type(scores).__name__}")
    if scores.ndim == 2 and scores.shape[1] == 1:
        return scores.reshape(-1)
    if scores.ndim != 1:
        raise ValueError(
            f"{who}: predictions must have shape (N,) or (N, 1) (one score per sample), "
            f"got {scores.shape}"
        )
    return scores


def _targets(targets: Any, like: Tensor, who: str, what: str = "targets") -> np.ndarray:
    y = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if y.dtype.kind not in "fiub":
        raise ValueError(f"{who}: {what} must be numbers, got dtype {y.dtype}")
    if y.shape != like.shape:
        raise ValueError(f"{who}: {like.shape[0]} predictions but {what} of shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{who}: {what} must be finite numbers")
    return y.astype(like.dtype, copy=False)


def _reduction(reduction: str, who: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{who}: unknown reduction {reduction!r}; valid: 'mean', 'sum'")


def squared_sum(params: Iterable[Tensor]) -> Tensor:
    """Σ p² over every element of every parameter: the L2 penalty."""
    return sum((p * p).sum() for p in params)


def mse(preds: Tensor, targets: Any, reduction: str = "mean") -> Tensor:
    """Squared error between predictions and targets, averaged (default) or summed."""
    who = "mse"
    _reduction(reduction, who)
    p = _scores(preds, who)
    d = p - _targets(targets, p, who)
    squares = d * d
    return squares.sum() if reduction == "sum" else squares.mean()


def hinge(
    scores: Tensor, labels: Any, params: Iterable[Tensor] | None = None, alpha: float = 1e-4
) -> Tensor:
    """micrograd's SVM max-margin loss, `mean(relu(1 - y*s)) + alpha * Σ p²`, labels -1/+1."""
    who = "hinge"
    s = _scores(scores, who)
    y = _targets(labels, s, who, "labels")
    bad = np.flatnonzero(np.abs(y) != 1)
    if bad.size:
        raise ValueError(
            f"hinge: labels must be -1 or +1, got labels[{bad[0]}] = {y[bad[0]]!r} "
            "(load the data with labels='pm1')"
        )
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha >= 0:
        raise ValueError(f"hinge: alpha must be a number >= 0, got {alpha!r}")
    loss = (1 - s * y).relu().mean()
    if params is not None and alpha:
        loss = loss + alpha * squared_sum(params)
    return loss


def bce_with_logits(logits: Tensor, labels: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on raw scores, labels in [0, 1]: one stable node."""
    who = "bce_with_logits"
    _reduction(reduction, who)
    x = _scores(logits, who)
    y = _targets(labels, x, who, "labels")
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"{who}: labels must be in [0, 1] (load the data with labels='01')")
    return binary_cross_entropy_with_logits(x, y, reduction)


def cross_entropy(logits: Tensor, labels: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits (N, C) against class indices (N,): one fused node."""
    _reduction(reduction, "cross_entropy")
    return _cross_entropy(logits, labels, reduction)
