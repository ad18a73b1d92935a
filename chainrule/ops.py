"""The op table: every elementwise op defined once, as data, and read by everything else.

A row (`Op`) says what an op computes and what its local derivatives are:

* `scalar(*xs)`: the forward value on Python floats (what a `Value` holds);
* `array(*xs)`: the forward value on numpy arrays (what a `Tensor` holds);
* `partials[i](*xs, out)`: d out / d xs[i], the local derivative the chain rule multiplies by
  the incoming gradient;
* `formulas[i]`: that derivative as text for `explain`, written with `x`, `y` and `out`.

The partials are written with arithmetic and with the table's own functions (`cos`, `sigmoid`,
`step`, ...), never with `math` or numpy directly. Called on floats they give floats, on arrays
arrays, and on `Value`s or `Tensor`s they record a graph of their own: that is what lets a
derivative be differentiated again (HIPS autograd's trick), with no second set of rules.

Calling a row dispatches on its operands: `SIN(2.0)` is `math.sin(2.0)`, `SIN(array)` is
`numpy.sin(array)`, and `SIN(value)` asks the operand's engine to record the op
(`type(value)._apply_op(row, operands)`). This module imports neither engine nor numpy (numpy
is imported on the first array), so the scalar engine stays dependency-free.

`define_op` is the public door to the same table: the built-ins below are defined through it.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Any

__all__ = ["Op", "METHODS", "TABLE", "add_methods", "define_op", "functions"]

Fn = Callable[..., Any]


class Op:
    """One row of the table: an elementwise op of one or two operands, and its derivatives."""

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
        return f"<op {self.name!r} of {self.arity} operand{'s' if self.arity > 1 else ''}>"

    def expression(self, *names: str) -> str:
        """How a result is computed, in its operands' names: `a * b`, `sin(a)`."""
        if self.symbol is not None and len(names) == 2:
            return f"{names[0]} {self.symbol} {names[1]}"
        return f"{self.name}({', '.join(names)})"

    def formula(self, i: int, names: tuple[str, ...], out: str) -> str:
        """The local derivative d out / d operand i as text, in the graph's own names."""
        text = self.formulas[i] if i < len(self.formulas) else None
        if not text:
            return f"d{self.name}/d(operand {i + 1})"
        words = {"out": out, "x": names[0]}
        if len(names) > 1:
            words["y"] = names[1]
        return _WORD.sub(lambda m: words.get(m.group(0), m.group(0)), text)


_WORD = re.compile(r"(?<![A-Za-z0-9_])(out|x|y)(?![A-Za-z0-9_])")

TABLE: dict[str, Op] = {}

# Op names the engines record for their own non-elementwise ops: not free for `define_op`.
RESERVED = frozenset({
    "dot", "@", "linear", "sum", "mean", "max", "reshape", "permute", "index", "scatter", "softmax",
    "log_softmax", "cross_entropy", "bce_with_logits",
})  # fmt: skip

# The rows that are also methods of `Value` and `Tensor` (`x.sin()`); engines add each one
# they do not define by hand.
METHODS = ("exp", "log", "tanh", "relu", "sigmoid", "sin", "cos", "sqrt", "abs", "softplus",
           "silu", "gelu")  # fmt: skip


def add_methods(cls: type) -> None:
    """Give an engine's class the table's functions it does not define by hand, as methods:
    `Value(0.5).sin()`, `Tensor(...).gelu()`. One loop for both engines, so a row added to
    `METHODS` is a method everywhere."""
    for name in METHODS:
        if not hasattr(cls, name):
            setattr(cls, name, _method(TABLE[name]))


def _method(op: Op) -> Callable[[Any], Any]:
    def method(self: Any) -> Any:
        return op(self)

    method.__name__ = op.name
    method.__doc__ = f"{op.name}, recorded with its derivative {op.formula(0, ('x',), 'out')}"
    return method


def functions(arity: int = 1) -> dict[str, Op]:
    """The rows of `arity` operands that read as functions, `sin(x)`: what expression
    parsers accept by name."""
    return {n: op for n, op in TABLE.items() if op.arity == arity and op.symbol is None}


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
    `array` is an optional separate forward for arrays (the built-ins use numpy's functions).
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
    if arity == 1:
        partials: tuple[Fn, ...] = (derivative,)
    else:

        def pick(i: int) -> Fn:
            def partial(*xs: Any) -> Any:
                parts = derivative(*xs)
                if not isinstance(parts, tuple) or len(parts) != 2:
                    raise TypeError(
                        f"{name}: the derivative of a two-operand op must return a tuple "
                        f"(d/dx, d/dy), got {parts!r}"
                    )
                return parts[i]

            return partial

        partials = (pick(0), pick(1))
    if formula is None or isinstance(formula, str):
        formulas: tuple[str | None, ...] = (formula,) if arity == 1 else (formula, None)
    else:
        formulas = tuple(formula)
    op = Op(name, forward, partials, formulas, array=array, symbol=symbol, domain=domain)
    TABLE[name] = op
    return op


def _arity(fn: Fn, name: str) -> int:
    import inspect  # here, not at the top: it is slow to import and only define_op needs it

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        raise TypeError(f"define_op({name!r}): cannot read forward's arguments") from None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in kinds and p.default is p.empty)


def _builtin(
    name: str,
    scalar: Fn,
    partials: tuple[Fn, ...],
    formulas: tuple[str, ...],
    numpy_name: str | None = None,
    array: Fn | None = None,
    symbol: str | None = None,
    domain: str = "",
) -> Op:
    """A built-in row: like `define_op`, with per-operand partials and numpy's own function."""
    if array is None and numpy_name is not None:
        array = _numpy_fn(numpy_name)
    op = Op(name, scalar, partials, formulas, array=array, symbol=symbol, domain=domain)
    TABLE[name] = op
    return op


def _numpy_fn(name: str) -> Fn:
    """numpy.<name>, looked up on first use so that importing this module needs no numpy."""
    cache: list[Fn] = []

    def call(*xs: Any) -> Any:
        if not cache:
            import numpy

            cache.append(getattr(numpy, name))
        return cache[0](*xs)

    call.__name__ = name
    return call


# -- the scalar forwards that need more than `math` ------------------------------------------


def _sigmoid(x: float) -> float:
    if x >= 0:  # two forms, so that exp never sees a large positive argument
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid_array(x: Any) -> Any:
    """1 / (1 + e^-x) without overflow: e = e^-|x| never overflows, and e / (1 + e) keeps
    full precision in the negative tail, where 1 - s would round to 0."""
    import numpy as np

    e = np.exp(-np.abs(x))
    s = 1 / (1 + e)
    return np.where(x >= 0, s, e * s)


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
    """PyTorch's `gelu(x, approximate='tanh')`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    return 0.5 * x * (1.0 + TANH(_GELU_C * (x + _GELU_K * x * x * x)))


def _gelu_partial(x: Any, out: Any) -> Any:
    t = TANH(_GELU_C * (x + _GELU_K * x * x * x))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * x * x)


# NaN follows PyTorch: relu passes a nan's gradient on (its derivative there is 1, so `step` is 1
# at nan), and abs has derivative 0 there (`sign(nan)` is 0).


def _step_scalar(x: float) -> float:
    return 0.0 if x <= 0 else 1.0  # 1 where x > 0 or x is nan


def _sign_scalar(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)  # 0 at 0 and at nan


def _step_array(x: Any) -> Any:
    return (~(x <= 0)).astype(x.dtype)


def _sign_array(x: Any) -> Any:
    import numpy as np

    return np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype, copy=False)


def _relu_array(x: Any) -> Any:
    import numpy as np

    return np.maximum(x, 0)  # propagates nan, as PyTorch's relu does


def _zero(*xs: Any) -> int:
    """The derivative of a piecewise-constant op: 0, even at nan (the engines multiply it by
    the incoming gradient, which gives it its shape)."""
    return 0


# -- the built-in rows -----------------------------------------------------------------------
# Derivatives use the rows themselves (TANH, COS, STEP, ...), so they are differentiable too.

STEP = _builtin("step", _step_scalar, (_zero,), ("0",), array=_step_array)
SIGN = _builtin("sign", _sign_scalar, (_zero,), ("0",), array=_sign_array)

ADD = _builtin("+", operator.add, (lambda x, y, out: 1, lambda x, y, out: 1), ("1", "1"),
               array=operator.add, symbol="+")  # fmt: skip
SUB = _builtin("-", operator.sub, (lambda x, y, out: 1, lambda x, y, out: -1), ("1", "-1"),
               array=operator.sub, symbol="-")  # fmt: skip
MUL = _builtin("*", operator.mul, (lambda x, y, out: y, lambda x, y, out: x), ("y", "x"),
               array=operator.mul, symbol="*")  # fmt: skip
DIV = _builtin("/", operator.truediv, (lambda x, y, out: 1 / y, lambda x, y, out: -out / y),
               ("1/y", "-out/y"), array=operator.truediv, symbol="/")  # fmt: skip
NEG = _builtin("neg", operator.neg, (lambda x, out: -1,), ("-1",), array=operator.neg)
EXP = _builtin("exp", math.exp, (lambda x, out: out,), ("out",), numpy_name="exp")
LOG = _builtin("log", math.log, (lambda x, out: 1 / x,), ("1/x",), numpy_name="log",
               domain="log needs a positive number")  # fmt: skip
POW = _builtin("**", operator.pow,
               (lambda x, y, out: y * x ** (y - 1), lambda x, y, out: out * LOG(x)),
               ("y * x**(y - 1)", "x**y * log(x)"), array=operator.pow, symbol="**")  # fmt: skip
TANH = _builtin("tanh", math.tanh, (lambda x, out: 1 - out**2,), ("1 - out**2",),
                numpy_name="tanh")  # fmt: skip
RELU = _builtin("relu", lambda x: x if x > 0 or x != x else 0.0, (lambda x, out: STEP(x),),
                ("1 if x > 0 else 0",), array=_relu_array)  # fmt: skip
SIGMOID = _builtin("sigmoid", _sigmoid, (lambda x, out: out * (1 - out),),
                   ("out * (1 - out)",), array=_sigmoid_array)  # fmt: skip
SIN = _builtin("sin", math.sin, (lambda x, out: COS(x),), ("cos(x)",), numpy_name="sin")
COS = _builtin("cos", math.cos, (lambda x, out: -SIN(x),), ("-sin(x)",), numpy_name="cos")
SQRT = _builtin("sqrt", math.sqrt, (lambda x, out: 0.5 / out,), ("0.5/out",),
                numpy_name="sqrt", domain="sqrt needs a number >= 0")  # fmt: skip
ABS = _builtin("abs", abs, (lambda x, out: SIGN(x),), ("sign(x)",), numpy_name="abs")
SOFTPLUS = _builtin("softplus", _softplus, (lambda x, out: SIGMOID(x),), ("sigmoid(x)",),
                    array=_softplus_array)  # fmt: skip
SILU = _builtin("silu", lambda x: x * _sigmoid(x),
                (lambda x, out: SIGMOID(x) * (1 + x * (1 - SIGMOID(x))),),
                ("sigmoid(x)·(1 + x·(1 - sigmoid(x)))",),
                array=lambda x: x * _sigmoid_array(x))  # fmt: skip
GELU = _builtin("gelu", _gelu, (_gelu_partial,), ("½(1 + tanh u) + ½x(1 - tanh² u)·u′",),
                array=_gelu)  # fmt: skip

# The rows defined above: the catalogue test checks that each one has its PyTorch twin.
BUILTINS = tuple(TABLE)
