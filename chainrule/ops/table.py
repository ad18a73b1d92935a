"""The op table: every elementwise op defined once, forward and backward, and read by everything.

The lecture teaches backpropagation one op at a time: an op computes its output from its
inputs (the forward pass), and knows its *local derivative*, d out / d input, which the chain
rule multiplies by the gradient arriving from above (the backward pass). A row of this table
(`Op`) is exactly that, written once:

* `scalar(*xs)`: the forward value on Python floats (what a `Value` holds);
* `array(*xs)`: the forward value on numpy arrays (what a `Tensor` holds);
* `partials[i](*xs, out)`: d out / d xs[i], the local derivative. Its vector-Jacobian product
  is `g * partials[i](...)`: the gradient times the local derivative, as the lecture writes it;
* `formulas[i]`: that derivative as text for `explain`, written with `x`, `y` and `out`.

One definition serves every path. The scalar engine calls the partials on floats, the tensor
engine on arrays, and both call them on their own nodes (Values, Tensors) to record the
backward pass itself, so that a gradient can be differentiated again (HIPS autograd's trick):
the partials are written with arithmetic and with the table's own rows (`COS`, `SIGMOID`,
`STEP`, ...), never with `math` or numpy directly, so they work on all four kinds.

Calling a row dispatches on its operands: `TANH(2.0)` is `math.tanh(2.0)`, `TANH(array)` is
`numpy.tanh(array)`, and `TANH(value)` asks the operand's engine to record the op
(`type(value)._apply_op(row, operands)`). This module imports neither engine nor numpy (numpy
is imported on the first array), so the scalar engine stays dependency-free.

This module holds the rows the lecture's `Value` is made of; `functions.py` the other
functions (sin, cos, sqrt, softplus, silu, gelu, ...) and `define_op`, which adds a row.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["TABLE", "Op", "functions", "numbers", "row"]

Fn = Callable[..., Any]


class Op:
    """One row of the table: an elementwise op of one or two operands, and its derivatives.

    Calling a row applies it: to floats (`scalar`), to arrays (`array`), or to Values and
    Tensors, whose engine records it.

    Args:
        name: The op's name (`'tanh'`, `'*'`).
        scalar: The forward on Python floats.
        partials: One local derivative per operand, `partials[i](*xs, out)`.
        formulas: Each derivative as text for `explain`, in `x`, `y` and `out`.
        array: The forward on numpy arrays (default: `scalar`).
        symbol: `'+'` for an infix op; None for a function, shown as `name(x)`.
        domain: What the op needs of its operands, said when they fail it.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.ops import TANH
        >>> TANH
        <op 'tanh' of 1 operand>
        >>> TANH(0.5)
        0.46211715726000974
        >>> TANH(Value(0.5))
        Value(data=0.46211715726000974, grad=0.0)
    """

    __slots__ = ("name", "arity", "scalar", "array", "partials", "formulas", "symbol", "domain")

    def __init__(
        self,
        name: str,
        scalar: Fn,
        partials: tuple[Fn, ...],
        formulas: tuple[str | None, ...],
        array: Fn | None = None,
        symbol: str | None = None,
        domain: str = "",
    ) -> None:
        self.name = name
        self.arity = len(partials)
        self.scalar = scalar
        self.array = array if array is not None else scalar
        self.partials = partials
        self.formulas = formulas
        self.symbol = symbol  # '+' for an infix op; None for a function, shown as name(x)
        self.domain = domain  # what the op needs of its operands, said when they fail it

    def __call__(self, *args: Any) -> Any:
        """Apply the op: to floats, to arrays, or recorded by a Value's or a Tensor's engine."""
        if args[0].__class__ is float and len(args) == 1 == self.arity:  # the common case
            return self.scalar(args[0])
        if len(args) != self.arity:
            raise TypeError(
                f"{self.name} takes {self.arity} operand{'s' if self.arity > 1 else ''}, "
                f"got {len(args)}"
            )
        for a in args:
            apply = getattr(a.__class__, "_apply_op", None)
            if apply is not None:  # a Value or a Tensor: its engine records the op
                return apply(a, self, args)
        if all(isinstance(a, (int, float)) for a in args):
            return self.scalar(*args)
        return self.array(*args)

    def __repr__(self) -> str:
        """Show the op's name and how many operands it takes."""
        return f"<op {self.name!r} of {self.arity} operand{'s' if self.arity > 1 else ''}>"

    def expression(self, *names: str) -> str:
        """Write how a result is computed, in its operands' names: `a * b`, `sin(a)`.

        Args:
            *names: The operands' names.

        Returns:
            The expression.

        Examples:
            >>> from chainrule.ops import MUL, SIN
            >>> MUL.expression("a", "b"), SIN.expression("a")
            ('a * b', 'sin(a)')
        """
        if self.symbol is not None and len(names) == 2:
            return f"{names[0]} {self.symbol} {names[1]}"
        return f"{self.name}({', '.join(names)})"

    def formula(self, i: int, names: Sequence[str], out: str) -> str:
        """Write the local derivative d out / d operand i as text, in the graph's own names.

        Args:
            i: The operand, from 0.
            names: The operands' names.
            out: The result's name.

        Returns:
            The formula.

        Examples:
            >>> from chainrule.ops import MUL, TANH
            >>> MUL.formula(0, ["a", "b"], "c"), TANH.formula(0, ["n"], "o")
            ('b', '1 - o**2')
        """
        text = self.formulas[i] if i < len(self.formulas) else None
        if not text:
            return f"d{self.name}/d(operand {i + 1})"
        words = {"out": out, "x": names[0]}
        if len(names) > 1:
            words["y"] = names[1]
        return _WORD.sub(lambda m: words.get(m.group(0), m.group(0)), text)


_WORD = re.compile(r"(?<![A-Za-z0-9_])(out|x|y)(?![A-Za-z0-9_])")

TABLE: dict[str, Op] = {}  # name -> row: every op either engine can record elementwise


def functions(arity: int = 1) -> dict[str, Op]:
    """List the rows of `arity` operands that read as functions, `sin(x)`.

    What expression parsers accept by name and what a network may use as its activation.

    Args:
        arity: How many operands.

    Returns:
        name -> row.

    Examples:
        >>> from chainrule.ops import functions
        >>> list(functions(1))[:5]
        ['tanh', 'exp', 'neg', 'log', 'step']
    """
    return {n: op for n, op in TABLE.items() if op.arity == arity and op.symbol is None}


def numbers(x: Any) -> Any:
    """Give the plain number or array inside `x`: a node's data, or `x` itself.

    Args:
        x: A Value, a Tensor, a number or an array.

    Returns:
        The number or array.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.ops import numbers
        >>> numbers(Value(2.0)), numbers(3.0)
        (2.0, 3.0)
    """
    return x.data if hasattr(x.__class__, "_apply_op") else x


def row(op: Op) -> Op:
    """Add `op` to the table (the built-in rows and `define_op` both come this way).

    Args:
        op: The row.

    Returns:
        The same row.

    Examples:
        >>> from chainrule.ops import TABLE, Op
        >>> from chainrule.ops.table import row
        >>> double = row(Op("double", lambda x: 2 * x, (lambda x, out: 2.0,), ("2",)))
        >>> TABLE["double"](3.0)
        6.0
        >>> del TABLE["double"]  # the table is shared by everything: leave it as it was
    """
    TABLE[op.name] = op
    return op


def _numpy(name: str) -> Fn:
    """Call numpy.<name>, looked up on first use so that importing this module needs no numpy."""

    def call(*xs: Any) -> Any:
        import numpy

        return getattr(numpy, name)(*xs)

    call.__name__ = name
    return call


# -- the lecture's ops: + * ** tanh exp -------------------------------------------------------
# Each row: the forward on floats, then one local derivative per operand, then its text.

ADD = row(Op("+", operator.add, (lambda x, y, out: 1.0, lambda x, y, out: 1.0), ("1", "1"),
             symbol="+"))  # fmt: skip
MUL = row(Op("*", operator.mul, (lambda x, y, out: y, lambda x, y, out: x), ("y", "x"),
             symbol="*"))  # fmt: skip


def _pow_dx(x: Any, y: Any, out: Any) -> Any:
    """Compute d(x**y)/dx = y·x**(y-1), and 0 where y is 0.

    x**0 is the constant 1, flat even at x = 0, where x**-1 would be 1/0. Shifting those
    exponents up by one keeps every term finite: y·x**0 = 0 there.
    """
    if y.__class__ is float or y.__class__ is int:  # one exponent (the scalar engine's)
        return 0.0 if y == 0 else y * x ** (y - 1)
    zero = numbers(y) == 0
    if zero is False or (zero is not True and not zero.any()):
        return y * x ** (y - 1)
    return y * x ** (y - 1 + zero)


def _pow_dy(x: Any, y: Any, out: Any) -> Any:
    """Compute d(x**y)/dy = x**y·ln x.

    At a base of 0 with y >= 0 the slope is taken as 0, the limit PyTorch takes too; below 0
    the logarithm is undefined (a float raises, an array gives nan, as numpy does).
    """
    base = numbers(x)
    if isinstance(base, (int, float)):
        return 0 if base == 0 and numbers(y) >= 0 else out * LOG(x)
    if hasattr(x.__class__, "_apply_op"):  # a recorded Tensor: the formula as it is
        return out * LOG(x)
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        local = out * np.log(base)
    flat = (base == 0) & (numbers(y) >= 0)
    return np.where(flat, 0, local) if flat.any() else local


POW = row(Op("**", operator.pow, (_pow_dx, _pow_dy), ("y * x**(y - 1)", "x**y * log(x)"),
             symbol="**"))  # fmt: skip
TANH = row(Op("tanh", math.tanh, (lambda x, out: 1 - out**2,), ("1 - out**2",),
              array=_numpy("tanh")))  # fmt: skip
EXP = row(Op("exp", math.exp, (lambda x, out: out,), ("out",), array=_numpy("exp")))

# -- the rest of the arithmetic ------------------------------------------------------------

SUB = row(Op("-", operator.sub, (lambda x, y, out: 1.0, lambda x, y, out: -1.0), ("1", "-1"),
             symbol="-"))  # fmt: skip
DIV = row(Op("/", operator.truediv, (lambda x, y, out: 1 / y, lambda x, y, out: -out / y),
             ("1/y", "-out/y"), symbol="/"))  # fmt: skip
NEG = row(Op("neg", operator.neg, (lambda x, out: -1.0,), ("-1",)))
LOG = row(Op("log", math.log, (lambda x, out: 1 / x,), ("1/x",), array=_numpy("log"),
             domain="log needs a positive number"))  # fmt: skip


# -- piecewise ops: relu and the two steps its derivatives need -------------------------------
# NaN follows PyTorch: relu passes a nan's gradient on (its derivative there is 1, so `step` is
# 1 at nan), and abs has derivative 0 there (`sign(nan)` is 0).


def _zero(*xs: Any) -> int:
    """Give the derivative of a piecewise-constant op: 0, even at nan.

    The engines multiply it by the incoming gradient, which gives it its shape.
    """
    return 0


def _relu_array(x: Any) -> Any:
    import numpy as np

    return np.maximum(x, 0)  # propagates nan, as PyTorch's relu does


STEP = row(Op("step", lambda x: 0.0 if x <= 0 else 1.0, (_zero,), ("0",),
              array=lambda x: (~(x <= 0)).astype(x.dtype)))  # fmt: skip
RELU = row(Op("relu", lambda x: x if x > 0 or x != x else 0.0, (lambda x, out: STEP(x),),
              ("1 if x > 0 else 0",), array=_relu_array))  # fmt: skip


# -- smooth functions --------------------------------------------------------------------------


def _sigmoid(x: float) -> float:
    if x >= 0:  # two forms, so that exp never sees a large positive argument
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid_array(x: Any) -> Any:
    """Compute 1 / (1 + e^-x) on arrays without overflow.

    e = e^-|x| never overflows, and e / (1 + e) keeps full precision in the negative tail,
    where 1 - s would round to 0.
    """
    import numpy as np

    e = np.exp(-np.abs(x))
    s = 1 / (1 + e)
    return np.where(x >= 0, s, e * s)


SIGMOID = row(Op("sigmoid", _sigmoid, (lambda x, out: out * (1 - out),), ("out * (1 - out)",),
                 array=_sigmoid_array))  # fmt: skip
