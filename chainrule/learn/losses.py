"""Loss functions: one number that says how wrong the predictions are, for both engines.

Each loss takes the model's outputs and the targets and returns one node to call `backward()`
on: given a list of `Value`s (plain numbers are treated as constants) it returns a `Value`;
given a `Tensor` (a tensor model's batch) it returns a Tensor. Their values and gradients match
PyTorch's functions of the same meaning (checked in the tests, float64).

One table, `LOSSES`, names them for `fit` and the command line. Each function below checks its
arguments once for both engines, asks the outputs' engine adapter which engine they belong to
(the one place that dispatches), and hands the arithmetic to that engine's half: `ScalarLosses`
here, `TensorLosses` in `chainrule.tensor.losses` (imported only when a Tensor is met, so the
scalar engine needs no numpy).

The scalar graphs are kept small on purpose: sums of many terms are one `dot` node rather than
a chain of additions, so backpropagating a loss over a batch stays cheap.

Which reduction the lecture uses: the lecture's loss is the SUM of squared errors,
`sum((yout - ygt)**2 ...)`, i.e. `mse(preds, targets, reduction='sum')`. PyTorch's
`mse_loss`, and `mse` here by default, take the mean (the sum divided by the count); the two
differ only by a constant factor, which a learning rate absorbs.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from operator import index
from typing import Any

from ..engines import ScalarEngine, batch_engine, is_parameter
from ..value import Value, dot

__all__ = [
    "LOSSES",
    "ScalarLosses",
    "accuracy",
    "bce_with_logits",
    "binary_accuracy",
    "categorical_accuracy",
    "cross_entropy",
    "hinge",
    "mse",
]

Operand = Value | float | int
REDUCTIONS = ("mean", "sum")


# -- the losses, for both engines ----------------------------------------------------------


def mse(preds: Any, targets: Any, reduction: str = "mean") -> Any:
    """Squared error between predictions and targets, averaged (default) or summed.

    `reduction='sum'` is the lecture's loss, `sum((yout - ygt)**2 ...)`; `'mean'` is
    PyTorch's `mse_loss` default. On the scalar engine it is one node for the sum of squares,
    over one node per difference.
    """
    who = "mse"
    _check_reduction(reduction, who)
    _, half = _engine(preds)
    p = half.outputs(preds, who, "preds")
    return half.mse(p, half.targets(targets, p, who, "targets"), reduction)


def hinge(
    scores: Any, labels: Any, params: Sequence[Any] | None = None, alpha: float = 1e-4
) -> Any:
    """micrograd's SVM max-margin loss: `mean(relu(1 - y*s)) + alpha * sum(p*p for p in params)`.

    Labels are -1 or +1. A sample costs nothing once its score is on the right side by a
    margin of 1; otherwise it costs how far it falls short. The optional L2 term (pass the
    model's parameters) keeps the weights small, as in micrograd's demo (alpha 1e-4).
    """
    who = "hinge"
    engine, half = _engine(scores)
    s = half.outputs(scores, who, "scores")
    y = half.targets(labels, s, who, "labels")
    _check_labels(half, y, lambda v: abs(v) == 1, "-1 or +1", "pm1", who)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha >= 0:
        raise ValueError(f"{who}: alpha must be a number >= 0, got {alpha!r}")
    loss = half.hinge(s, y)
    if params is not None:
        ps = list(params)
        if not all(map(is_parameter, ps)):
            raise TypeError(f"{who}: params must be {half.PARAMETERS} (e.g. model.parameters())")
        if ps and alpha:
            loss = loss + alpha * engine.penalty(ps)
    return loss


def bce_with_logits(logits: Any, labels: Any, reduction: str = "mean") -> Any:
    """Binary cross-entropy on raw scores (logits), stable for any size of score.

    Per sample, `-[y*log(sigmoid(x)) + (1-y)*log(1 - sigmoid(x))]` written as
    `max(x, 0) - x*y + log(1 + exp(-|x|))`, so `exp` never overflows and the log never sees 0
    (PyTorch's `binary_cross_entropy_with_logits`). Labels are in [0, 1] (usually 0 or 1).
    The gradient is exactly `sigmoid(x) - y`, even at x = 0.
    """
    who = "bce_with_logits"
    _check_reduction(reduction, who)
    _, half = _engine(logits)
    x = half.outputs(logits, who, "logits")
    y = half.targets(labels, x, who, "labels")
    _check_labels(half, y, lambda v: (v >= 0) & (v <= 1), "in [0, 1]", "01", who)
    return half.bce(x, y, reduction)


def cross_entropy(logits_rows: Any, labels: Any, reduction: str = "mean") -> Any:
    """Softmax cross-entropy: `-log softmax(row)[label]`, averaged over rows by default.

    Each row holds one score per class (a model with several outputs returns one such list per
    sample, or a Tensor of shape (N, C)); labels are class indices 0..C-1. Computed as
    `log Σ exp(z - m) - (z[label] - m)` with m the row's largest score, a constant: exp never
    overflows, the value and gradient (`softmax - onehot`) are unchanged. Matches PyTorch's
    `cross_entropy`.
    """
    _check_reduction(reduction, "cross_entropy")
    _, half = _engine(logits_rows)
    return half.cross_entropy(logits_rows, labels, reduction)


# Loss names for `fit(loss=...)` and `chainrule train --loss`: name -> loss(outputs, targets).
LOSSES: dict[str, Callable[..., Any]] = {
    "hinge": hinge,
    "mse": mse,
    "bce": bce_with_logits,
    "cross_entropy": cross_entropy,
}


# -- what both engines share: dispatch and checks ---------------------------------------------


def _engine(outputs: Any) -> tuple[Any, Any]:
    """(the outputs' engine adapter, that engine's half of the losses)."""
    engine = batch_engine(outputs)
    if engine is ScalarEngine:
        return engine, ScalarLosses
    from ..tensor.losses import TensorLosses  # needs numpy: only once a Tensor is met

    return engine, TensorLosses


def _check_reduction(reduction: str, who: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{who}: unknown reduction {reduction!r}; valid: 'mean', 'sum'")


def _check_labels(half: Any, y: Any, ok: Callable[[Any], Any], what: str, code: str, who: str):
    """Refuse labels the loss cannot use, naming the first one and the data option that fits."""
    i = half.first_failing(y, ok)
    if i is not None:
        raise ValueError(
            f"{who}: labels must be {what}, got labels[{i}] = {float(y[i]):g} "
            f"(load the data with labels='{code}')"
        )


# -- the scalar engine's half --------------------------------------------------------------------


class ScalarLosses:
    """The arithmetic of each loss on lists of `Value`s, the node count kept small."""

    PARAMETERS = "Values"

    @staticmethod
    def outputs(items: object, who: str, what: str) -> list[Value]:
        return _values(items, who, what)

    @staticmethod
    def targets(items: object, like: list[Value], who: str, what: str) -> list[float]:
        return _numbers(items, len(like), who, what)

    @staticmethod
    def first_failing(y: list[float], ok: Callable[[float], bool]) -> int | None:
        return next((i for i, v in enumerate(y) if not ok(v)), None)

    @staticmethod
    def mse(ps: list[Value], ys: list[float], reduction: str) -> Value:
        diffs = [p - y for p, y in zip(ps, ys)]
        squares = dot(diffs, diffs, 0.0)  # Σ d*d; d gets d*g twice, i.e. 2*d*g
        return squares if reduction == "sum" else squares * (1.0 / len(diffs))

    @staticmethod
    def hinge(ss: list[Value], ys: list[float]) -> Value:
        # 1 - y*s as one node (1 + s*(-y)), then the ReLU: relu(1 - y*s)
        margins = [dot((s,), (-y,), 1.0).relu() for s, y in zip(ss, ys)]
        return _reduce(margins, "mean")

    @staticmethod
    def bce(xs: list[Value], ys: list[float], reduction: str) -> Value:
        # The sign of each x picks one of two equal forms, so exp never overflows.
        terms = []
        for x, y in zip(xs, ys):
            if x.data >= 0:  # x - x*y + log(1 + exp(-x))
                terms.append(x * (1.0 - y) + (1.0 + (-x).exp()).log())
            else:  # -x*y + log(1 + exp(x))
                terms.append(x * (-y) + (1.0 + x.exp()).log())
        return _reduce(terms, reduction)

    @staticmethod
    def cross_entropy(logits_rows: Any, labels: Any, reduction: str) -> Value:
        who = "cross_entropy"
        if isinstance(logits_rows, (Value, str, bytes)) or not isinstance(logits_rows, Sequence):
            raise TypeError(f"{who}: logits_rows must be a list of rows, got {logits_rows!r}")
        if not logits_rows:
            raise ValueError(f"{who}: logits_rows is empty")
        if not _is_list_like(labels):
            raise TypeError(f"{who}: labels must be a list of class indices, got {labels!r}")
        if len(labels) != len(logits_rows):
            raise ValueError(f"{who}: {len(logits_rows)} rows but {len(labels)} labels")
        n_classes = None
        terms = []
        for i, (row, label) in enumerate(zip(logits_rows, labels)):
            if row.__class__ is Value or isinstance(row, numbers.Real):
                raise TypeError(
                    f"{who}: logits_rows[{i}] is a single score; each row needs one score per "
                    "class (a model with C outputs)"
                )
            zs = _values(row, who, f"logits_rows[{i}]")
            if n_classes is None:
                n_classes = len(zs)
            elif len(zs) != n_classes:
                raise ValueError(
                    f"{who}: logits_rows[{i}] has {len(zs)} scores, the first row {n_classes}"
                )
            c = _class_index(label, n_classes, f"{who}: labels[{i}]")
            m = max(z.data for z in zs)
            shifted = [z - m for z in zs]
            log_sum = _total([d.exp() for d in shifted]).log()
            terms.append(log_sum - shifted[c])
        return _reduce(terms, reduction)


def _values(items: object, who: str, what: str) -> list[Value]:
    """A non-empty list of Values; numbers become constants; anything else is named."""
    if isinstance(items, (Value, str, bytes)) or not isinstance(items, Sequence):
        raise TypeError(f"{who}: {what} must be a list of Values or numbers, got {items!r}")
    out = []
    for i, v in enumerate(items):
        if v.__class__ is Value:
            out.append(v)
        elif isinstance(v, numbers.Real) and not isinstance(v, bool):
            out.append(Value(float(v)))
        else:
            hint = " (one row per sample? use cross_entropy)" if isinstance(v, list) else ""
            raise TypeError(f"{who}: {what}[{i}] must be a Value or a number, got {v!r}{hint}")
    if not out:
        raise ValueError(f"{who}: {what} is empty")
    return out


def _numbers(items: object, n: int, who: str, what: str = "targets") -> list[float]:
    """`n` plain real numbers (targets and labels are data, not graph nodes)."""
    if not _is_list_like(items):
        raise TypeError(f"{who}: {what} must be a list of numbers, got {items!r}")
    if len(items) != n:
        raise ValueError(f"{who}: {n} predictions but {len(items)} {what}")
    out = []
    for i, y in enumerate(items):
        if y.__class__ is Value:
            y = y.data
        if isinstance(y, bool) or not isinstance(y, numbers.Real) or not math.isfinite(y):
            raise ValueError(f"{who}: {what}[{i}] must be a finite number, got {y!r}")
        out.append(float(y))
    return out


def _is_list_like(items: object) -> bool:
    """A list, tuple or array of data (numpy arrays of labels are welcome), not a string."""
    return (
        not isinstance(items, (str, bytes, Value))
        and hasattr(items, "__len__")
        and hasattr(items, "__getitem__")
    )


def _total(terms: Sequence[Value]) -> Value:
    """The sum of `terms` as one node: a `dot` with a shared constant 1 (exactly `sum`)."""
    one = Value(1.0)
    return dot(terms, [one] * len(terms), 0.0)


def _reduce(terms: list[Value], reduction: str) -> Value:
    s = _total(terms)
    return s if reduction == "sum" else s * (1.0 / len(terms))


def _class_index(label: object, n_classes: int, where: str) -> int:
    try:
        if isinstance(label, bool):
            raise TypeError
        c = index(label)  # ints and numpy integers; 1.0 is not a class index
    except TypeError:
        raise TypeError(f"{where} must be an integer class index, got {label!r}") from None
    if not 0 <= c < n_classes:
        raise ValueError(f"{where} = {c} is not a class index in 0..{n_classes - 1}")
    return c


# -- accuracy (no graph: plain numbers) --------------------------------------------------


_score = ScalarEngine.number  # a Value's number, or the number itself


def binary_accuracy(scores: Sequence[Operand], labels: Sequence[float]) -> float:
    """Fraction of samples on the right side of 0: score > 0 predicts the positive class.

    The positive class is label > 0, so it works for labels in {-1, +1} (hinge) and in
    {0, 1} (logits for `bce_with_logits`) alike, as micrograd's demo counts it.
    """
    if len(scores) != len(labels):
        raise ValueError(f"binary_accuracy: {len(scores)} scores but {len(labels)} labels")
    if len(scores) == 0:
        raise ValueError("binary_accuracy: no scores")
    hits = sum((_score(s) > 0) == (_score(y) > 0) for s, y in zip(scores, labels))
    return hits / len(scores)


def categorical_accuracy(logits_rows: Sequence[Sequence[Operand]], labels: Sequence[int]) -> float:
    """Fraction of rows whose largest score is at the label's index (ties: the first)."""
    if len(logits_rows) != len(labels):
        raise ValueError(f"categorical_accuracy: {len(logits_rows)} rows but {len(labels)} labels")
    if len(logits_rows) == 0:
        raise ValueError("categorical_accuracy: no rows")
    hits = 0
    for row, label in zip(logits_rows, labels):
        data = [_score(z) for z in row]
        hits += data.index(max(data)) == label
    return hits / len(logits_rows)


def accuracy(outputs: Sequence[object], labels: Sequence[float]) -> float:
    """`categorical_accuracy` when each output is a row of scores, else `binary_accuracy`."""
    if len(outputs) and isinstance(outputs[0], (list, tuple)):
        return categorical_accuracy(outputs, labels)  # type: ignore[arg-type]
    return binary_accuracy(outputs, labels)  # type: ignore[arg-type]
