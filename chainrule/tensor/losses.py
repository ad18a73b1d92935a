"""The tensor engine's half of `chainrule.learn.losses`: each loss's arithmetic on a whole batch.

`chainrule.learn.losses` checks the arguments of each loss once for both engines and, given a
`Tensor` of outputs, hands the work to `TensorLosses` (so `losses.hinge(model(X), y)` works
with either kind of model). Each loss is a few array operations on the whole batch, or one
fused node (cross-entropy, BCE).

Scores of a one-output model come as shape (N, 1); they are matched to labels of shape (N,).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import Tensor, binary_cross_entropy_with_logits
from . import cross_entropy as _cross_entropy

__all__ = ["TensorLosses"]


class TensorLosses:
    """The arithmetic of each loss on a batch of outputs held in one Tensor."""

    PARAMETERS = "Tensors that require grad"

    @staticmethod
    def outputs(scores: Any, who: str, what: str) -> Tensor:
        """Predictions as a tensor of shape (N,): one-output columns (N, 1) are flattened."""
        if scores.ndim == 2 and scores.shape[1] == 1:
            return scores.reshape(-1)
        if scores.ndim != 1:
            raise ValueError(
                f"{who}: {what} must have shape (N,) or (N, 1) (one score per sample), "
                f"got {scores.shape}"
            )
        return scores

    @staticmethod
    def targets(targets: Any, like: Tensor, who: str, what: str) -> np.ndarray:
        y = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
        if y.dtype.kind not in "fiub":
            raise ValueError(f"{who}: {what} must be numbers, got dtype {y.dtype}")
        if y.shape != like.shape:
            raise ValueError(f"{who}: {like.shape[0]} predictions but {what} of shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{who}: {what} must be finite numbers")
        return y.astype(like.dtype, copy=False)

    @staticmethod
    def first_failing(y: np.ndarray, ok: Callable[[np.ndarray], np.ndarray]) -> int | None:
        bad = np.flatnonzero(~ok(y))
        return int(bad[0]) if bad.size else None

    @staticmethod
    def mse(p: Tensor, y: np.ndarray, reduction: str) -> Tensor:
        d = p - y
        squares = d * d
        return squares.sum() if reduction == "sum" else squares.mean()

    @staticmethod
    def hinge(s: Tensor, y: np.ndarray) -> Tensor:
        return (1 - s * y).relu().mean()

    @staticmethod
    def bce(x: Tensor, y: np.ndarray, reduction: str) -> Tensor:
        return binary_cross_entropy_with_logits(x, y, reduction)

    @staticmethod
    def cross_entropy(logits: Tensor, labels: Any, reduction: str) -> Tensor:
        return _cross_entropy(logits, labels, reduction)
