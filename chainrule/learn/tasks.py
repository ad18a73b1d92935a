"""What a loss makes of the labels: which model it needs, how it codes the classes, where a
score splits them. `fit` and `chainrule train` ask here; the losses themselves are the table
`chainrule.learn.losses.LOSSES`.

    hinge          one score per sample, two classes coded -1/+1, split at 0
    bce            one score (a logit) per sample, two classes coded 0/1, split at 0
    mse            one number per sample, the targets as given (the lecture's +1/-1); two
                   classes split half way between the two label values
    cross_entropy  one score per class; labels are class indices, the largest score wins

A callable loss gets the targets as given, as mse does.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from .losses import LOSSES

__all__ = [
    "ONE_OUTPUT",
    "TWO_CLASS_CODES",
    "Task",
    "compute_loss",
    "default_loss",
    "outputs_needed",
]

# Losses on one number per sample; the others (cross_entropy) need one score per class.
ONE_OUTPUT = ("hinge", "mse", "bce")
# The two-class losses: how each codes (negative, positive). Their scores split at 0.
TWO_CLASS_CODES = {"hinge": (-1.0, 1.0), "bce": (0.0, 1.0)}


def default_loss(n_classes: int) -> str:
    """micrograd's hinge for two classes, softmax cross-entropy for more."""
    return "hinge" if n_classes <= 2 else "cross_entropy"


def outputs_needed(loss: str, n_classes: int) -> int:
    """How many numbers per sample a model trained with `loss` must return."""
    return 1 if loss in ONE_OUTPUT else max(n_classes, 2)


def compute_loss(loss: str | Callable[..., Any], outputs: Any, targets: Any) -> Any:
    """The loss named `loss` in `chainrule.learn.losses.LOSSES`, or `loss` itself if it is a
    callable: a node to call backward() on. Each loss there serves both engines."""
    return LOSSES[loss](outputs, targets) if isinstance(loss, str) else loss(outputs, targets)


class Task:
    """What the labels mean for a loss: the loss's targets, the classes, the score threshold."""

    def __init__(self, loss: Any, y: Sequence[float], width: int) -> None:
        self.loss, self.width = loss, width
        values = sorted(set(y))
        if width > 1:
            if loss in ONE_OUTPUT:
                raise ValueError(
                    f"fit: the {loss} loss needs a model with one output, this one has {width} "
                    "(use loss='cross_entropy' for several classes)"
                )
            bad = [v for v in values if not _is_index(v, width)]
            if bad:
                raise ValueError(
                    f"fit: labels must be class indices 0..{width - 1} for a model with "
                    f"{width} outputs, got {bad[0]!r}"
                )
            self.binary, self.threshold = False, 0.0
            return
        if loss == "cross_entropy":
            raise ValueError(
                "fit: cross_entropy needs a model with one output per class (at least 2); "
                "this one has 1 (use 'hinge' or 'bce' for two classes)"
            )
        self.binary = len(values) <= 2
        if loss in TWO_CLASS_CODES and not self.binary:
            raise ValueError(
                f"fit: the {loss} loss is for two classes, the labels have {len(values)} "
                f"distinct values (use loss='cross_entropy' and one output per class)"
            )
        # Two label values: the larger one is the positive class. Scores of hinge and bce
        # split at 0; an mse model aims at the labels themselves, so it splits half way.
        self.low, self.high = values[0], values[-1]
        if len(values) == 1:  # one class present: say which side it is on
            self.low, self.high = (values[0], 1) if values[0] < 1 else (0, values[0])
        mid = (self.low + self.high) / 2
        self.threshold = 0.0 if loss in TWO_CLASS_CODES else float(mid)

    def targets(self, y: Sequence[float]) -> list[Any]:
        """`y` coded for the loss: -1/+1 for hinge, 0/1 for bce, as given otherwise."""
        if self.loss in TWO_CLASS_CODES:
            negative, positive = TWO_CLASS_CODES[self.loss]
            return [positive if v == self.high else negative for v in y]
        return list(y)

    def classes(self, y: Sequence[float]) -> list[int] | None:
        """Class of each label, for accuracy; None for regression targets."""
        if self.width > 1:
            return [int(v) for v in y]
        if not self.binary:
            return None
        mid = (self.low + self.high) / 2
        return [int(v > mid) for v in y]


def _is_index(v: Any, width: int) -> bool:
    return not isinstance(v, bool) and isinstance(v, numbers.Integral) and 0 <= v < width
