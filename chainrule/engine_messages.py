"""What the scalar engine says when something is wrong: numbers checked on the way in, and
errors that name the op, the Values (by label) and their values, never Python's bare message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ops

if TYPE_CHECKING:
    from .value import Value

Number = int | float


def _number(data: object, label: str) -> float | int:
    """`data` as a Python number for a Value, or a TypeError that says what to use instead."""
    what = f" for {label!r}" if label else ""
    if isinstance(data, bool):
        return float(data)  # Value(True) holds 1.0, as torch.tensor(True, dtype=float) does
    if isinstance(data, (int, float)):
        return data
    shape = getattr(data, "shape", None)
    if shape:  # an array or a tensor of one or more dimensions
        raise TypeError(
            f"a Value holds one number{what}, got {type(data).__name__} of shape {tuple(shape)}: "
            "for arrays use chainrule.Tensor (import numpy as np; Tensor(np.array(...)))"
        )
    if isinstance(data, (str, bytes)) or not hasattr(data, "__float__"):
        raise TypeError(
            f"Value data must be a real number{what}, got {type(data).__name__} {data!r}"
        )
    return float(data)  # numpy scalars and friends


def _op_error(op: ops.Op, operands: list[Value], err: Exception) -> Exception:
    """`sqrt of a = -1.0 is undefined (sqrt needs a number >= 0)`: the op, names, values."""
    given = ", ".join(f"{_name(o)} = {o.data}" for o in operands)
    why = op.domain or str(err)
    if isinstance(err, OverflowError):
        return OverflowError(f"{op.name} of {given} overflows a float")
    if isinstance(err, ZeroDivisionError):
        return ZeroDivisionError(f"{op.name} of {given}: division by zero")
    return ValueError(f"{op.name} of {given} is undefined ({why})")


def _real(data: object, op: ops.Op, operands: list[Value]) -> float:
    """A user op's result as a float; a complex or non-numeric result is named."""
    if isinstance(data, complex) or not hasattr(data, "__float__"):  # str has no __float__
        given = ", ".join(f"{_name(o)} = {o.data}" for o in operands)
        raise TypeError(f"{op.name} of {given} gave {data!r}, not a real number")
    return float(data)  # type: ignore[arg-type]


def _exponent_error(base: Value, exponent: Value) -> ValueError:
    """d(a**b)/db = a**b·ln(a) at a base where ln is undefined: the op, the names, the base."""
    return ValueError(
        f"d/d{_name(exponent)} of {_name(base)}**{_name(exponent)} needs a positive base, "
        f"but {_name(base)} = {base.data}"
    )


def _name(node: Value) -> str:
    return node.label if node.label else "an unlabeled Value"


def _power(base: Value, exponent: Number, exp_node: Value | None) -> float:
    """`base.data ** exponent` with Python's semantics, but errors that say what happened."""
    x = base.data
    try:
        result = x**exponent
    except ZeroDivisionError:
        raise ZeroDivisionError(
            f"{_name(base)} ** {exponent}: {_name(base)} = {x} is zero, "
            "and zero cannot be raised to a negative power"
        ) from None
    except OverflowError:
        raise OverflowError(
            f"{_name(base)} ** {exponent} overflows a float ({x} ** {exponent})"
        ) from None
    if isinstance(result, complex):
        what = _name(exp_node) if exp_node is not None else str(exponent)
        raise ValueError(
            f"{_name(base)} ** {what}: a negative base ({x}) to a fractional power "
            f"({exponent}) is not a real number"
        )
    return result
