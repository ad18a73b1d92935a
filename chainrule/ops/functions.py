"""More functions for both engines, each one row of the op table, and `define_op` to add yours.

The lecture's `Value` needs only the rows of `table.py`; these are the functions a network
reaches for next (sin, cos, sqrt, abs, softplus, silu, gelu), each defined the same way: a
forward on floats and on arrays, and one local derivative per operand, written with the
table's own rows so that it works on numbers, arrays and graph nodes alike.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from .table import SIGMOID, TABLE, TANH, Fn, Op, _numpy, _sigmoid, _sigmoid_array, _zero, row

__all__ = ["ABS", "COS", "GELU", "SIGN", "SILU", "SIN", "SOFTPLUS", "SQRT", "define_op"]

# Op names the engines record for their own primitives: not free for `define_op`.
RESERVED = frozenset(
    {
        "dot", "@", "linear", "sum", "mean", "max", "reshape", "permute", "index", "scatter",
        "softmax", "log_softmax", "cross_entropy", "bce_with_logits",
    }
)  # fmt: skip


def define_op(
    name: str,
    forward: Fn,
    derivative: Fn,
    formula: str | tuple[str, ...] | None = None,
    *,
    array: Fn | None = None,
    symbol: str | None = None,
    domain: str = "",
) -> Op:
    """Add an elementwise op to both engines, with its derivative, in one definition.

    `forward(*xs)` takes the raw operands (floats for `Value`, numpy arrays for `Tensor`) and
    returns the raw result. `derivative(*xs, out)` returns d out / d x for a one-operand op,
    or a tuple (d out / d x, d out / d y) for a two-operand op. `formula` is the derivative
    as `explain` shows it (`"3·x²"`; a tuple for two operands). Write the derivative with
    arithmetic and table functions (`chainrule.ops.TABLE['cos']`, ...) and it also works on
    Values and Tensors, so the op can be differentiated twice.

    The returned `Op` is callable: `cube(Value(2.0))`, `cube(Tensor(...))`, `cube(2.0)`.

    Args:
        name: The op's name, an identifier not taken yet.
        forward: The forward on raw operands: `forward(x)` or `forward(x, y)`.
        derivative: `derivative(*xs, out)`: d out / d x, or a pair (d/dx, d/dy).
        formula: The derivative as `explain` shows it (a tuple for two operands).
        array: A separate forward for arrays (the built-ins use numpy's functions).
        symbol: An infix symbol, for an op written between its operands.
        domain: What the op needs of its operands, said when they fail it.

    Returns:
        The new row of the table, an `Op`.

    Raises:
        ValueError: The name is not an identifier or is taken, or `forward` takes neither one
            nor two operands.
        TypeError: `forward` or `derivative` is not callable.

    Examples:
        >>> from chainrule import Value, define_op, explain
        >>> cube = define_op("cube", lambda x: x**3, lambda x, out: 3 * x**2, formula="3·x²")
        >>> x = Value(2.0, label="x")
        >>> y = cube(x)
        >>> y.backward()
        >>> y.data, x.grad, cube(2.0)
        (8.0, 12.0, 8.0)
        >>> explain(y)[0].rule
        'd(cube x)/dx = 3·x²'
        >>> from chainrule.ops import TABLE
        >>> del TABLE["cube"]  # the table is shared by everything: leave it as it was
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define_op: the name must be an identifier, got {name!r}")
    if name in TABLE or name in RESERVED:
        raise ValueError(f"define_op: an op named {name!r} is already defined")
    for what, fn in (("forward", forward), ("derivative", derivative)):
        if not callable(fn):
            raise TypeError(f"define_op({name!r}): {what} must be callable, got {fn!r}")
    arity = _arity(forward, name)
    if arity not in (1, 2):
        raise ValueError(
            f"define_op({name!r}): forward must take one or two operands, it takes {arity}"
        )
    partials = (derivative,) if arity == 1 else tuple(_pick(name, derivative, i) for i in (0, 1))
    if formula is None or isinstance(formula, str):
        formulas: tuple[str | None, ...] = (formula,) if arity == 1 else (formula, None)
    else:
        formulas = tuple(formula)
    return row(Op(name, forward, partials, formulas, array=array, symbol=symbol, domain=domain))


def _pick(name: str, derivative: Fn, i: int) -> Fn:
    """Take operand i's partial of a two-operand op whose derivative returns both as a pair."""

    def partial(*xs: Any) -> Any:
        parts = derivative(*xs)
        if not isinstance(parts, tuple) or len(parts) != 2:
            raise TypeError(
                f"{name}: the derivative of a two-operand op must return a tuple "
                f"(d/dx, d/dy), got {parts!r}"
            )
        return parts[i]

    return partial


def _arity(fn: Fn, name: str) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        raise TypeError(f"define_op({name!r}): cannot read forward's arguments") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in kinds and p.default is p.empty)


def _sign_array(x: Any) -> Any:
    import numpy as np

    return np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype, copy=False)


SIGN = row(Op("sign", lambda x: 1.0 if x > 0 else (-1.0 if x < 0 else 0.0), (_zero,), ("0",),
              array=_sign_array))  # fmt: skip


_SOFTPLUS_THRESHOLD = 20.0  # above it softplus(x) is x to float precision (PyTorch's default)


def _softplus(x: float) -> float:
    if x > _SOFTPLUS_THRESHOLD:
        return x
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _softplus_array(x: Any) -> Any:
    import numpy as np

    with np.errstate(invalid="ignore"):  # nan in, nan out, without a warning
        return np.where(x > _SOFTPLUS_THRESHOLD, x, np.logaddexp(0, x))


_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715


def _gelu(x: Any) -> Any:
    """Compute PyTorch's `gelu(x, approximate='tanh')`.

    That is 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    """
    return 0.5 * x * (1.0 + TANH(_GELU_C * (x + _GELU_K * x * x * x)))


def _gelu_partial(x: Any, out: Any) -> Any:
    t = TANH(_GELU_C * (x + _GELU_K * x * x * x))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * x * x)


COS: Op  # defined below: sin's derivative is cos, and cos's is -sin
SIN = row(Op("sin", math.sin, (lambda x, out: COS(x),), ("cos(x)",), array=_numpy("sin")))
COS = row(Op("cos", math.cos, (lambda x, out: -SIN(x),), ("-sin(x)",), array=_numpy("cos")))
SQRT = row(Op("sqrt", math.sqrt, (lambda x, out: 0.5 / out,), ("0.5/out",),
              array=_numpy("sqrt"), domain="sqrt needs a number >= 0"))  # fmt: skip
ABS = row(Op("abs", abs, (lambda x, out: SIGN(x),), ("sign(x)",), array=_numpy("abs")))
SOFTPLUS = row(Op("softplus", _softplus, (lambda x, out: SIGMOID(x),), ("sigmoid(x)",),
                  array=_softplus_array))  # fmt: skip
SILU = row(Op("silu", lambda x: x * _sigmoid(x),
              (lambda x, out: SIGMOID(x) * (1 + x * (1 - SIGMOID(x))),),
              ("sigmoid(x)·(1 + x·(1 - sigmoid(x)))",),
              array=lambda x: x * _sigmoid_array(x)))  # fmt: skip
GELU = row(Op("gelu", _gelu, (_gelu_partial,), ("½(1 + tanh u) + ½x(1 - tanh² u)·u′",),
              array=_gelu))  # fmt: skip
