"""Loss functions: one number that says how wrong the predictions are, for both engines.

Each loss takes the model's outputs and the targets and returns one node to call `backward()`
on: given a list of `Value`s (plain numbers are treated as constants) it returns a `Value`;
given a `Tensor` (a tensor model's batch) it returns a Tensor. Their values and gradients match
PyTorch's functions of the same meaning (checked in the tests, float64).

Each loss is written once, as the lecture would write it for one sample, a *term* such as
`relu(1 - y*s)`, over the few things that depend on the engine (`chainrule.engines.Engine`):
how a batch of outputs becomes a column (a list of Values; a Tensor of shape (N,)), how a term
is applied to every sample (once per sample; once on the whole column, since a term's arithmetic
is elementwise), and how the terms are totalled (one `dot` node; one `sum`). The checks of the
arguments are written once too, on plain numbers.

The scalar graphs are kept small on purpose: a total over many terms is one `dot` node rather
than a chain of additions, so backpropagating a loss over a batch stays cheap.

Which reduction the lecture uses: the lecture's loss is the SUM of squared errors,
`sum((yout - ygt)**2 ...)`, i.e. `mse(preds, targets, reduction='sum')`. PyTorch's
`mse_loss`, and `mse` here by default, take the mean (the sum divided by the count); the two
differ only by a constant factor, which a learning rate absorbs.

`LOSSES` is the one table of losses: `fit(loss=...)`, `chainrule train --loss`, the
playground's menu and the label coding below (`Task`) all read it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import index
from typing import Any

from ..engines import Engine, batch_engine, engine_of, is_parameter, numbers_of
from ..nn import check_number
from ..ops import RELU, SOFTPLUS

__all__ = [
    "LOSSES", "Loss", "Task", "accuracy", "bce_with_logits", "binary_accuracy",
    "categorical_accuracy", "compute_loss", "cross_entropy", "default_loss", "hinge", "mse",
    "outputs_needed",
]  # fmt: skip

REDUCTIONS = ("mean", "sum")


# -- the terms: one sample's loss, the same arithmetic on a Value and on a whole column -------


def _squared_error(p: Any, y: Any) -> Any:
    d = p - y
    return d * d  # d gets d*g twice, i.e. 2*d*g


def _margin(s: Any, y: Any) -> Any:
    return RELU(1 + s * -y)  # micrograd's `(1 + -yi*si).relu()`, float for float


def _logistic(x: Any, y: Any) -> Any:
    # log(1 + e^x) - x*y = -[y log sigmoid(x) + (1-y) log(1 - sigmoid(x))]; softplus never
    # overflows, and its derivative is sigmoid(x), so the gradient is exactly sigmoid(x) - y.
    return SOFTPLUS(x) - x * y


# -- the losses ---------------------------------------------------------------------------------


def mse(preds: Any, targets: Any, reduction: str = "mean") -> Any:
    """Squared error between predictions and targets, averaged (default) or summed.

    `reduction='sum'` is the lecture's loss, `sum((yout - ygt)**2 ...)`; `'mean'` is
    PyTorch's `mse_loss` default. On the scalar engine it is one node for the total, over a
    difference and a square per sample.

    Args:
        preds: One prediction per sample: Values (or numbers), or a Tensor.
        targets: One target per sample.
        reduction: `'mean'` or `'sum'`.

    Returns:
        The loss, a node to call `backward()` on.

    Raises:
        ValueError: The lengths differ, a target is not a finite number, or the reduction is
            unknown.
        TypeError: `targets` is not a list of numbers.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.losses import mse
        >>> preds = [Value(0.5), Value(-2.0)]
        >>> mse(preds, [1.0, -1.0]), mse(preds, [1.0, -1.0], reduction="sum")
        (Value(data=0.625, grad=0.0), Value(data=1.25, grad=0.0))
    """
    engine, p, y = _batch("mse", preds, "preds", targets, "targets", reduction)
    return _reduce(engine, engine.each(_squared_error, p, y), reduction, len(y))


def hinge(
    scores: Any, labels: Any, params: Sequence[Any] | None = None, alpha: float = 1e-4
) -> Any:
    """Compute micrograd's SVM max-margin loss, `mean(relu(1 - y*s)) + alpha * sum(p*p)`.

    Labels are -1 or +1. A sample costs nothing once its score is on the right side by a
    margin of 1; otherwise it costs how far it falls short. The optional L2 term (pass the
    model's parameters) keeps the weights small, as in micrograd's demo (alpha 1e-4).

    Args:
        scores: One score per sample: Values (or numbers), or a Tensor.
        labels: One label per sample, -1 or +1.
        params: The model's parameters, for the L2 term; None for none.
        alpha: The weight of the L2 term.

    Returns:
        The loss, a node to call `backward()` on.

    Raises:
        ValueError: A label that is not -1 or +1 (named, with the data option that fits), a
            negative `alpha`, or lengths that differ.
        TypeError: `params` holds something other than parameters.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.losses import hinge
        >>> hinge([Value(0.5), Value(-2.0)], [1, -1])  # (0.5 + 0) / 2
        Value(data=0.25, grad=0.0)
    """
    who = "hinge"
    engine, s, y = _batch(who, scores, "scores", labels, "labels")
    _check_labels(y, lambda v: abs(v) == 1, "-1 or +1", "pm1", who)
    check_number(alpha, f"{who}: alpha", lambda v: v >= 0, "a number >= 0")
    loss = _reduce(engine, engine.each(_margin, s, y), "mean", len(y))
    if params is not None:
        ps = list(params)
        if not all(map(is_parameter, ps)):
            raise TypeError(f"{who}: params must be {engine.PARAMETERS} (e.g. model.parameters())")
        if ps and alpha:
            loss = loss + alpha * engine.penalty(ps)
    return loss


def bce_with_logits(logits: Any, labels: Any, reduction: str = "mean") -> Any:
    """Binary cross-entropy on raw scores (logits), stable for any size of score.

    Per sample, `-[y*log(sigmoid(x)) + (1-y)*log(1 - sigmoid(x))]`, computed as
    `softplus(x) - x*y` (`softplus(x) = log(1 + e^x)`, written so that `exp` never overflows),
    as PyTorch's `binary_cross_entropy_with_logits`. Labels are in [0, 1] (usually 0 or 1).
    The gradient is exactly `sigmoid(x) - y`, even at x = 0.

    Args:
        logits: One raw score per sample: Values (or numbers), or a Tensor.
        labels: One label per sample, in [0, 1].
        reduction: `'mean'` or `'sum'`.

    Returns:
        The loss, a node to call `backward()` on.

    Raises:
        ValueError: A label outside [0, 1] (named), lengths that differ, or an unknown
            reduction.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.losses import bce_with_logits
        >>> x = Value(0.0)
        >>> loss = bce_with_logits([x], [1])
        >>> loss.backward()
        >>> round(loss.data, 6), x.grad  # log 2, and sigmoid(0) - 1
        (0.693147, -0.5)
    """
    who = "bce_with_logits"
    engine, x, y = _batch(who, logits, "logits", labels, "labels", reduction)
    _check_labels(y, lambda v: 0 <= v <= 1, "in [0, 1]", "01", who)
    return _reduce(engine, engine.each(_logistic, x, y), reduction, len(y))


def cross_entropy(logits_rows: Any, labels: Any, reduction: str = "mean") -> Any:
    """Softmax cross-entropy: `-log softmax(row)[label]`, averaged over rows by default.

    Each row holds one score per class (a model with several outputs returns one such list per
    sample, or a Tensor of shape (N, C)); labels are class indices 0..C-1. Computed as
    `log Σ exp(z - m) - (z[label] - m)` with m the row's largest score, a constant: exp never
    overflows, the value and gradient (`softmax - onehot`) are unchanged. Matches PyTorch's
    `cross_entropy`.

    Args:
        logits_rows: One row of scores per sample (lists of Values, or a Tensor (N, C)).
        labels: One class index per sample, 0..C-1.
        reduction: `'mean'` or `'sum'`.

    Returns:
        The loss, a node to call `backward()` on.

    Raises:
        TypeError: A label is not a whole number, or `labels` is not a list.
        ValueError: A label is out of range, the lengths differ, or the reduction is
            unknown.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.losses import cross_entropy
        >>> z = [Value(0.0), Value(0.0)]
        >>> loss = cross_entropy([z], [1])
        >>> loss.backward()
        >>> round(loss.data, 6), [g.grad for g in z]  # log 2, softmax - onehot
        (0.693147, [0.5, -0.5])
    """
    who = "cross_entropy"
    _check_reduction(reduction, who)
    engine = batch_engine(logits_rows)
    rows, width = engine.rows(logits_rows, who)
    labels = _listed(labels, f"{who}: labels must be a list of class indices")
    if len(labels) != len(rows):
        raise ValueError(f"{who}: {len(rows)} rows but {len(labels)} labels")
    classes = [_class_index(c, width, f"{who}: labels[{i}]") for i, c in enumerate(labels)]
    return _reduce(engine, engine.nll(rows, classes), reduction, len(classes))


@dataclass(frozen=True)
class Loss:
    """A row of `LOSSES`: the loss, and what it makes of the labels (`Task`).

    `codes` is how a two-class loss codes (negative, positive): hinge -1/+1, bce 0/1; None
    takes the targets as given. `per_class` losses need one score per class, the others one
    score per sample. Calling the row calls the loss.

    Attributes:
        fn: The loss function, `fn(outputs, targets) -> node`.
        codes: How a two-class loss codes (negative, positive), or None.
        per_class: Whether the model needs one score per class.

    Examples:
        >>> from chainrule.learn.losses import LOSSES
        >>> LOSSES["hinge"].codes, LOSSES["cross_entropy"].per_class
        ((-1.0, 1.0), True)
    """

    fn: Callable[..., Any]
    codes: tuple[float, float] | None = None
    per_class: bool = False

    def __call__(self, outputs: Any, targets: Any) -> Any:
        """Compute the loss: `fn(outputs, targets)`."""
        return self.fn(outputs, targets)


# Loss names for `fit(loss=...)`, `chainrule train --loss` and the playground.
LOSSES: dict[str, Loss] = {
    "hinge": Loss(hinge, codes=(-1.0, 1.0)),
    "mse": Loss(mse),
    "bce": Loss(bce_with_logits, codes=(0.0, 1.0)),
    "cross_entropy": Loss(cross_entropy, per_class=True),
}


# -- what a loss makes of the labels: which model it needs, how it codes the classes -----------
#
#     hinge          one score per sample, two classes coded -1/+1, split at 0
#     bce            one score (a logit) per sample, two classes coded 0/1, split at 0
#     mse            one number per sample, the targets as given (the lecture's +1/-1); two
#                    classes split half way between the two label values
#     cross_entropy  one score per class; labels are class indices, the largest score wins
#
# A callable loss gets the targets as given, as mse does. `fit`, `evaluate` and the command
# line ask here.


def default_loss(n_classes: int) -> str:
    """Name the loss to use by default: micrograd's hinge for two classes, else cross-entropy.

    Args:
        n_classes: How many classes the labels have.

    Returns:
        A name of `LOSSES`.

    Examples:
        >>> from chainrule.learn.losses import default_loss
        >>> default_loss(2), default_loss(10)
        ('hinge', 'cross_entropy')
    """
    return "hinge" if n_classes <= 2 else "cross_entropy"


def outputs_needed(loss: str, n_classes: int) -> int:
    """Count the numbers per sample a model trained with the loss named `loss` must return.

    Args:
        loss: A name of `LOSSES`.
        n_classes: How many classes the labels have.

    Returns:
        One per class (at least 2) for cross-entropy, else 1.

    Examples:
        >>> from chainrule.learn.losses import outputs_needed
        >>> outputs_needed("cross_entropy", 5), outputs_needed("hinge", 2)
        (5, 1)
    """
    return max(n_classes, 2) if LOSSES[loss].per_class else 1


def compute_loss(loss: str | Callable[..., Any], outputs: Any, targets: Any) -> Any:
    """Compute the loss named `loss` in `LOSSES`, or `loss` itself if it is a callable.

    Args:
        loss: A name of `LOSSES`, or a callable `loss(outputs, targets) -> node`.
        outputs: The model's outputs for a batch.
        targets: The targets, coded for the loss.

    Returns:
        A node to call `backward()` on.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.learn.losses import compute_loss
        >>> compute_loss("mse", [Value(0.5), Value(-2.0)], [1.0, -1.0])
        Value(data=0.625, grad=0.0)
    """
    return LOSSES[loss](outputs, targets) if isinstance(loss, str) else loss(outputs, targets)


class Task:
    """What the labels mean for a loss: the loss's targets, the classes, the score threshold.

    Args:
        loss: A name of `LOSSES`, or a callable.
        y: The labels.
        width: How many outputs the model has per sample.

    Raises:
        ValueError: The labels do not suit the loss or the model (the message says what to
            use instead).

    Examples:
        >>> from chainrule.learn.losses import Task
        >>> task = Task("hinge", [0, 1, 1], width=1)
        >>> task.targets([0, 1, 1]), task.classes([0, 1, 1]), task.threshold
        ([-1.0, 1.0, 1.0], [0, 1, 1], 0.0)
    """

    def __init__(self, loss: Any, y: Sequence[float], width: int) -> None:
        self.loss, self.width = loss, width
        row = LOSSES.get(loss) if isinstance(loss, str) else None
        self.codes = row.codes if row else None
        values = sorted(set(y))
        if width > 1:
            if row and not row.per_class:
                raise ValueError(
                    f"fit: the {loss} loss needs a model with one output, this one has {width} "
                    "(use loss='cross_entropy' for several classes)"
                )
            bad = [v for v in values if isinstance(v, bool) or _index(v) not in range(width)]
            if bad:
                raise ValueError(
                    f"fit: labels must be class indices 0..{width - 1} for a model with "
                    f"{width} outputs, got {bad[0]!r}"
                )
            self.binary, self.threshold = False, 0.0
            return
        if row and row.per_class:
            raise ValueError(
                f"fit: {loss} needs a model with one output per class (at least 2); "
                "this one has 1 (use 'hinge' or 'bce' for two classes)"
            )
        self.binary = len(values) <= 2
        if self.codes and not self.binary:
            raise ValueError(
                f"fit: the {loss} loss is for two classes, the labels have {len(values)} "
                f"distinct values (use loss='cross_entropy' and one output per class)"
            )
        # Two label values: the larger one is the positive class. Scores of hinge and bce
        # split at 0; an mse model aims at the labels themselves, so it splits half way.
        self.low, self.high = values[0], values[-1]
        if len(values) == 1:  # one class present: say which side it is on
            self.low, self.high = (values[0], 1) if values[0] < 1 else (0, values[0])
        self.threshold = 0.0 if self.codes else float((self.low + self.high) / 2)

    def targets(self, y: Sequence[float]) -> list[Any]:
        """Code `y` for the loss: -1/+1 for hinge, 0/1 for bce, as given otherwise.

        Args:
            y: The labels.

        Returns:
            The targets.
        """
        if self.codes:
            negative, positive = self.codes
            return [positive if v == self.high else negative for v in y]
        return list(y)

    def classes(self, y: Sequence[float]) -> list[int] | None:
        """Give the class of each label, for accuracy.

        Args:
            y: The labels.

        Returns:
            One class index per label; None for regression targets.
        """
        if self.width > 1:
            return [int(v) for v in y]
        if not self.binary:
            return None
        mid = (self.low + self.high) / 2
        return [int(v > mid) for v in y]


def _index(v: Any) -> int | None:
    """Give `v` as a class index (ints and numpy integers, not 1.0), or None."""
    try:
        return index(v)
    except TypeError:
        return None


# -- the checks, on plain numbers, for both engines -------------------------------------------


def _batch(
    who: str, outputs: Any, what: str, targets: Any, named: str, reduction: str = "mean"
) -> tuple[Engine, Any, list[float]]:
    """Check a batch: give the engine, the outputs as its column, the targets as numbers."""
    _check_reduction(reduction, who)
    engine = batch_engine(outputs)
    column = engine.column(outputs, who, what)
    n = len(column)
    targets = _listed(targets, f"{who}: {named} must be a list of numbers")
    if len(targets) != n:
        raise ValueError(f"{who}: {n} predictions but {len(targets)} {named}")
    ys = []
    for i, y in enumerate(targets):
        if engine_of(y) is not None:  # a node used as a target: its number
            y = y.item()
        if isinstance(y, bool) or not isinstance(y, numbers.Real) or not math.isfinite(y):
            raise ValueError(f"{who}: {named}[{i}] must be a finite number, got {y!r}")
        ys.append(float(y))
    return engine, column, ys


def _listed(items: Any, must: str) -> Any:
    """Give a list, an array or a Tensor as a list; a string or a number is refused: `must`."""
    if isinstance(items, (str, bytes)) or not hasattr(items, "__len__"):
        raise TypeError(f"{must}, got {items!r}")
    return items.tolist() if hasattr(items, "tolist") else items


def _check_reduction(reduction: str, who: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{who}: unknown reduction {reduction!r}; valid: 'mean', 'sum'")


def _check_labels(
    y: list[float], ok: Callable[[float], bool], what: str, code: str, who: str
) -> None:
    """Refuse labels the loss cannot use, naming the first one and the data option that fits."""
    i = next((i for i, v in enumerate(y) if not ok(v)), None)
    if i is not None:
        raise ValueError(
            f"{who}: labels must be {what}, got labels[{i}] = {y[i]:g} "
            f"(load the data with labels='{code}')"
        )


def _reduce(engine: Engine, terms: Any, reduction: str, n: int) -> Any:
    s = engine.total(terms)
    return s if reduction == "sum" else s * (1.0 / n)


def _class_index(label: Any, n_classes: int, where: str) -> int:
    c = None if isinstance(label, bool) else _index(label)
    if c is None:
        raise TypeError(f"{where} must be an integer class index, got {label!r}")
    if not 0 <= c < n_classes:
        raise ValueError(f"{where} = {c} is not a class index in 0..{n_classes - 1}")
    return c


# -- accuracy (no graph: plain numbers) --------------------------------------------------


def _score(x: Any) -> float:
    """Give a node's number, or a plain number, as a float."""
    return numbers_of(x)[0]


def _check_pairs(who: str, outputs: Sequence[Any], what: str, labels: Sequence[float]) -> None:
    if len(outputs) != len(labels):
        raise ValueError(f"{who}: {len(outputs)} {what} but {len(labels)} labels")
    if len(outputs) == 0:
        raise ValueError(f"{who}: no {what}")


def binary_accuracy(scores: Sequence[Any], labels: Sequence[float]) -> float:
    """Fraction of samples on the right side of 0: score > 0 predicts the positive class.

    The positive class is label > 0, so it works for labels in {-1, +1} (hinge) and in
    {0, 1} (logits for `bce_with_logits`) alike, as micrograd's demo counts it.

    Args:
        scores: One score per sample (numbers or nodes).
        labels: One label per sample.

    Returns:
        The fraction right, in [0, 1].

    Raises:
        ValueError: No scores, or the lengths differ.

    Examples:
        >>> from chainrule.learn.losses import binary_accuracy
        >>> binary_accuracy([0.5, -1.0, 2.0, -0.1], [1, -1, -1, 0])
        0.75
    """
    _check_pairs("binary_accuracy", scores, "scores", labels)
    hits = sum((_score(s) > 0) == (_score(y) > 0) for s, y in zip(scores, labels))
    return hits / len(scores)


def categorical_accuracy(logits_rows: Sequence[Sequence[Any]], labels: Sequence[float]) -> float:
    """Give the fraction of rows whose largest score is at the label's index (ties: the first).

    Args:
        logits_rows: One row of scores per sample.
        labels: One class index per sample.

    Returns:
        The fraction right, in [0, 1].

    Raises:
        ValueError: No rows, or the lengths differ.

    Examples:
        >>> from chainrule.learn.losses import categorical_accuracy
        >>> categorical_accuracy([[0.1, 0.9], [2.0, 1.0]], [1, 1])
        0.5
    """
    _check_pairs("categorical_accuracy", logits_rows, "rows", labels)
    rows = [[_score(z) for z in row] for row in logits_rows]
    return sum(row.index(max(row)) == label for row, label in zip(rows, labels)) / len(rows)


def accuracy(outputs: Sequence[Any], labels: Sequence[float]) -> float:
    """Give `categorical_accuracy` when each output is a row of scores, else `binary_accuracy`.

    Args:
        outputs: One score, or one row of scores, per sample.
        labels: One label per sample.

    Returns:
        The fraction right, in [0, 1].

    Raises:
        ValueError: No outputs, or the lengths differ.

    Examples:
        >>> from chainrule.learn.losses import accuracy
        >>> accuracy([[0.1, 0.9]], [1]), accuracy([0.3, -0.2], [1, 1])
        (1.0, 0.5)
    """
    if len(outputs) and isinstance(outputs[0], (list, tuple)):
        return categorical_accuracy(outputs, labels)
    return binary_accuracy(outputs, labels)
