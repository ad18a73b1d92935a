"""One small adapter per engine: what the pictures and the narrations need to know of a node.

`adapter_for(root)` gives `VALUES` for a `Value` graph and `TENSORS` for a `Tensor` graph.
An adapter says what a node was computed from (`children`), how the op that made it is written
in a picture (`op_label`), which operand slot is which (`edge_labels`) and what a node's box
shows (`fields`). Everything else in `viz` is written once for both engines.

A Tensor is recognised without importing numpy: if `chainrule.tensor.tensor` was never imported,
nothing can be a Tensor, so importing `chainrule.viz` stays light.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from .. import ops
from ..value import Value, _children, _closure
from .labels import nested, number

__all__ = ["Adapter", "TENSORS", "VALUES", "adapter_for", "is_tensor", "op_label"]

SMALL = 6  # a tensor of at most this many elements is drawn with all its numbers


def tensor_class() -> type | None:
    """The Tensor class, if its module has been imported (else no object can be a Tensor)."""
    module = sys.modules.get("chainrule.tensor.tensor")
    return getattr(module, "Tensor", None) if module is not None else None


def is_tensor(x: object) -> bool:
    cls = tensor_class()
    return cls is not None and isinstance(x, cls)


class Adapter:
    """How `viz` reads one engine's nodes."""

    def __init__(
        self,
        kind: str,
        children: Callable[[Any], Sequence[Any]],
        fields: Callable[[Any], list[str]],
        special_label: Callable[[Any], str | None],
    ) -> None:
        self.kind = kind  # 'values' or 'tensors': what a count of nodes is called
        self.children = children  # every operand, constants included (what a picture shows)
        self.fields = fields  # the lines of a node's box after its label
        self._special_label = special_label

    def op_label(self, node: Any) -> str:
        """How the op is written in its oval: the table row's symbol or name where the op is
        one of the table's, the engine's own wording for its other ops."""
        special = self._special_label(node)
        if special is not None:
            return special
        row = ops.TABLE.get(node._op)
        if row is not None:
            return row.symbol or row.name
        return node._op

    def edge_labels(self, node: Any, kids: Sequence[Any]) -> list[str]:
        """Names for operand slots where the order matters and the op alone does not tell it."""
        op = node._op
        if op == "dot" and _closure(node) is None and len(kids) % 2 == 1:
            n = len(kids) // 2
            return ["b"] + [f"w{i}" for i in range(1, n + 1)] + [f"x{i}" for i in range(1, n + 1)]
        if op == "linear" and len(kids) in (2, 3):
            return ["input", "weight", "bias"][: len(kids)]
        if len(kids) == 2 and op not in ("+", "*"):
            if op == "**":
                return ["base", "exponent"]
            if op == "@" or (op in ops.TABLE and ops.TABLE[op].arity == 2):
                return ["left", "right"]
        return [""] * len(kids)


# -- Value --------------------------------------------------------------------------------------


def _value_fields(node: Value) -> list[str]:
    return [f"data {number(node.data)}", f"grad {number(node.grad)}"]


def _value_label(node: Value) -> str | None:
    if node._op == "dot":
        return "Σ w·x + b"
    return None  # '**2' (a constant exponent) is written as the lecture writes it: as the op


VALUES = Adapter("values", _children, _value_fields, _value_label)


# -- Tensor -------------------------------------------------------------------------------------


def summary(array: Any) -> str:
    """An array in a few characters: all its numbers when it is small, else mean, min and max."""
    if array.size == 0:
        return "(empty)"
    if array.size <= SMALL:
        show = number if array.dtype.kind in "fc" else str
        return nested(array.tolist(), show)
    if array.dtype.kind == "b":
        return f"{int(array.sum())} of {array.size} true"
    values = array.astype(float)
    return f"mean {number(values.mean())} min {number(values.min())} max {number(values.max())}"


def shape_text(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def _tensor_fields(t: Any) -> list[str]:
    head = f"{shape_text(t.shape)} {t.dtype}"
    if t.grad is not None:
        grad = f"grad {summary(t.grad)}"
    else:
        grad = "grad None" if t.requires_grad else "needs no grad"
    return [head, f"data {summary(t.data)}", grad]


def _axis(axis: Any) -> str:
    return "" if axis is None else f" axis={axis}"


def _tensor_label(t: Any) -> str | None:
    op, ctx = t._op, t._ctx
    if op == "linear":
        return "x·Wᵀ + b" if len(t._args) == 3 else "x·Wᵀ"
    if op in ("sum", "mean", "max") and isinstance(ctx, tuple):
        return op + _axis(ctx[0])
    if op in ("softmax", "log_softmax"):
        return f"{op} axis={ctx}"
    if op == "permute" and isinstance(ctx, tuple):
        forward = permutation(ctx)
        return "ᵀ" if forward == (1, 0) else f"permute {forward}"
    if op == "index":
        return "[ ]"
    return None


def permutation(inverse: tuple[int, ...]) -> tuple[int, ...]:
    """The axis order a permute node applied, from the inverse order it keeps for backward."""
    return tuple(sorted(range(len(inverse)), key=lambda d: inverse[d]))


def _tensor_children(t: Any) -> tuple[Any, ...]:
    return t._args


TENSORS = Adapter("tensors", _tensor_children, _tensor_fields, _tensor_label)


def adapter_for(root: object) -> Adapter:
    """The adapter for `root`'s engine; a TypeError for anything that is not a graph node."""
    if isinstance(root, Value):
        return VALUES
    if is_tensor(root):
        return TENSORS
    raise TypeError(
        "expected the Value or Tensor at the end of a computation, "
        f"got {type(root).__name__} {root!r}"
    )


def op_label(node: Any) -> str:
    """How a node's op is written in the picture: `+`, `*`, `**2`, `tanh`, `Σ w·x + b`, `@`."""
    return adapter_for(node).op_label(node)
