"""How results become nodes of the tensor graph, in one place for every tensor op.

An op computes its array, then hands it here: `_unary`, `_binary` and `_node` record the
operands (only those that need a gradient, and only while grad mode is on) or make a plain
leaf that holds no reference to them; `_lift` turns the other operand of an op (a number, an
array, a list) into a constant tensor, and `_as_input` the main operand of a functional op
(refusing, by the op's name, what cannot be one). The functional ops (`functional.py`,
`conv.py`, ...) use the same functions, so a node is made the same way whoever makes it. The
`Tensor` class is handed in by `tensor.py` once it exists (`bind`), since this module sits
below it.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import AnomalyError, anomaly_mode, describe, grad_mode
from ..ops import Op
from .errors import _broadcast_error

if TYPE_CHECKING:
    from .tensor import Tensor

_ndarray = np.ndarray
_asarray = np.asarray
_new = object.__new__
_needs_grad = attrgetter("requires_grad")


def bind(cls: type) -> None:
    """Called once by `tensor.py`: the class every node made here is an instance of."""
    global Tensor
    Tensor = cls  # noqa: F811 (the runtime name behind the annotations' import)


def _unary(data: Any, op: str, a: Tensor, ctx: Any = None) -> Tensor:
    """The result of a one-operand op: records `a` when it needs a gradient (and grad mode
    is on); otherwise the result is a plain leaf holding no reference to `a`."""
    if a.requires_grad and grad_mode.enabled:
        args = (a,)
        return _recorded(data, op, args, args, ctx)
    return _const(_as_array(data))


def _elementwise(a: Tensor, other: Any, op: str, compute: Callable[[Any, Any], Any]) -> Any:
    """`a op other` with numpy broadcasting: the forward value of the five arithmetic ops.

    A shape mismatch becomes a ValueError naming the op and both shapes, not numpy's message.
    """
    b = other if other.__class__ is Tensor else _lift(other, a)
    if b is None:
        return NotImplemented
    try:
        data = compute(a.data, b.data)
    except ValueError:
        raise _broadcast_error(op, a, b) from None
    return _binary(data, op, a, b)


def _binary(data: Any, op: str, a: Tensor, b: Tensor) -> Tensor:
    """The result of a two-operand op; `_prev` lists only the operands that need a gradient."""
    if (a.requires_grad or b.requires_grad) and grad_mode.enabled:
        args = (a, b)
        if a.requires_grad:
            prev = args if b.requires_grad else (a,)
        else:
            prev = (b,)
        return _recorded(data, op, args, prev, None)
    return _const(_as_array(data))


def _node(data: Any, op: str, args: tuple[Tensor, ...], ctx: Any = None) -> Tensor:
    """The result of an op of any number of operands (the general form of `_binary`)."""
    prev = tuple(filter(_needs_grad, args)) if grad_mode.enabled else ()
    if prev:
        return _recorded(data, op, args, prev, ctx)
    return _const(_as_array(data))


def _recorded(
    data: Any, op: str, args: tuple[Tensor, ...], prev: tuple[Tensor, ...], ctx: Any
) -> Tensor:
    """A node of the graph: made by `op` from `args`, of which `prev` need a gradient."""
    out = _new(Tensor)
    out.data = _as_array(data)
    out.grad = None
    out.requires_grad = True
    out.label = ""
    out._op = op
    out._args = args
    out._prev = prev
    out._ctx = ctx
    out._rule = ctx if ctx.__class__ is Op else None  # the op's definition, for the pictures
    if anomaly_mode.enabled and not np.all(np.isfinite(out.data)):
        bad = int(np.flatnonzero(~np.isfinite(out.data.reshape(-1)))[0])
        given = ", ".join(describe(a) for a in args)
        raise AnomalyError(
            f"anomaly: {op} of {given} produced {out.data.reshape(-1)[bad]} "
            f"at flat index {bad} of its result (shape {out.data.shape})"
        )
    return out


def _as_array(data: Any) -> np.ndarray:
    return data if data.__class__ is _ndarray else _asarray(data)


def _const(array: np.ndarray) -> Tensor:
    """A leaf that needs no gradient (a lifted constant, a detached copy)."""
    out = _new(Tensor)
    out.data = array
    out.grad = None
    out.requires_grad = False
    out.label = ""
    out._op = ""
    out._args = out._prev = ()
    out._ctx = out._rule = None
    return out


def _lift(other: Any, like: Tensor | None) -> Tensor | None:
    """Turn the other operand of an op into a constant Tensor (None: not something we take).

    Python and numpy scalars take the float dtype of the tensor they meet, so `2.0 * x`
    stays float32 (numpy alone would make float64 of a float32 array times a float64 scalar).
    """
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (int, float, np.generic)):
        dtype = like.data.dtype if like is not None and like.data.dtype.kind == "f" else None
        return _const(_asarray(other, dtype=dtype))
    if isinstance(other, _ndarray):
        return _const(other)
    if isinstance(other, (list, tuple)):
        return Tensor(other)
    return None


def _as_input(x: Any, like: Tensor | None, who: str, what: str = "input") -> Tensor:
    """The operand `x` of the functional op `who` as a Tensor: itself, or lifted (`_lift`)
    from an array, a list or a number; anything else is a TypeError that names the op."""
    if x.__class__ is Tensor:
        return x
    t = _lift(x, like)
    if t is None:
        raise TypeError(f"{who}: the {what} must be a Tensor or an array, got {type(x).__name__}")
    return t
