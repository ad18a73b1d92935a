"""The scalar autograd engine: `Value`, exactly the object the lecture builds, made fast and safe.

A `Value` wraps one number (`data`), remembers the Values it was computed from (`_prev`) and the
operation that made it (`_op`), and receives d(output)/d(itself) in `grad` when `backward()` runs.

Each operation below computes its forward value the way the lecture writes it. Its local
derivative, which the backward pass multiplies by the incoming gradient (the chain rule), is
the op's row in the table `chainrule.ops`; `engine_rules.py` holds the float fast path of the
lecture's ops, checked against those rows, and `recorded.py` the path that records the
backward pass so it can be differentiated again. `engine_messages.py` words the errors.

What differs from the lecture, and why:

* No closure per node. The lecture stores a fresh `_backward` closure in every result; the
  closure refers back to its node, which makes a reference cycle per node, so no graph is ever
  freed by reference counting and Python's cyclic collector ends up doing most of the work.
  Here each op's local rule is a plain function found from `_op`, so a dropped graph is freed
  at once. `node._backward()` still works, and so does assigning your own closure to it.
* `__slots__` and two child slots instead of a `set`: about a fifth of the memory per node.
* The topological order is found iteratively (`chainrule.autograd`), so a graph a million nodes
  deep backpropagates where a recursive sort dies at a depth of about a thousand.
* `tanh` uses `math.tanh`, which is exact to the last bit and never overflows, where the
  lecture's `(e**2x - 1)/(e**2x + 1)` overflows for x > 355.
* Failures name the operation and the operand: `log of x = -1.0 is undefined ...`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from functools import reduce
from operator import add, attrgetter, mul

from . import anomaly, ops
from .autograd import backpropagate, enable_grad, grad_mode, no_grad, sweep, topological_order
from .engine_messages import _name, _number, _op_error, _power, _real
from .engine_rules import _local_step
from .recorded import value_vjp

__all__ = ["Value", "dot", "no_grad", "zero_grad"]

Number = int | float
Operand = "Value | int | float"

_new = object.__new__
_get_data = attrgetter("data")


class Value:
    """One scalar in a computation graph, with its gradient.

    `Value(data, _children=(), _op='', label='')` is the lecture's signature: users pass
    `data` and maybe `label`; an op written the lecture's way passes its operands and op name.
    """

    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_fn")

    # numpy, meeting `array * value`, must not build an array of objects: it steps aside, and
    # Python calls `Value.__rmul__`, which says to use a Tensor.
    __array_ufunc__ = None

    def __init__(
        self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        if isinstance(data, Value):
            raise TypeError(
                f"Value(...) takes a number, got a Value ({data!r}); use that Value itself"
            )
        if data.__class__ is not float and data.__class__ is not int:
            data = _number(data, label)
        self.data = data
        self.grad = 0.0
        self.label = label
        self._op = _op
        self._fn = None
        children = tuple(_children)
        for child in children:
            if not isinstance(child, Value):
                raise TypeError(f"children of {_op or 'a Value'} must be Values, got {child!r}")
        if len(children) <= 2:
            self._a = children[0] if children else None
            self._b = children[1] if len(children) == 2 else None
        else:  # an op of many operands (written the lecture's way, or `dot`)
            self._a = children
            self._b = None

    # -- the graph ------------------------------------------------------------------------

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The distinct Values this one was computed from (the lecture keeps them in a set)."""
        kids = _children(self)
        return kids if len(kids) < 2 or len(set(map(id, kids))) == len(kids) else _unique(kids)

    @property
    def _backward(self) -> Callable[[], None]:
        """This node's local chain-rule step: add `grad` x local derivative into the children."""
        if self._fn is not None:
            return self._fn
        return lambda: _local_step(self)

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        # An op written the lecture's way assigns its own closure; backward() will call it.
        self._fn = fn

    def backward(self, gradient: float = 1.0, create_graph: bool = False) -> None:
        """Fill `grad` of every Value this one depends on, by the chain rule, output to inputs.

        Gradients of the Values you made yourself (inputs, weights: the leaves) *accumulate*
        over calls, as in PyTorch: call `zero_grad` between steps, as a training loop does.
        Intermediate nodes are reset first, so they always show this call's gradient.

        With `create_graph=True` (PyTorch's meaning) the backward pass is itself recorded:
        each `.grad` is then a `Value`, a node of a graph computed from this one, which can be
        drawn (`draw_dot(x.grad)`) and differentiated again (`x.grad.backward()`).
        """
        if create_graph:
            _backward_recorded(self, gradient)
            return

        def seed(order: list[Value]) -> None:
            for node in order:
                if node._a is not None:
                    node.grad = 0.0
            self.grad += gradient

        backpropagate(self, _children, _local_step, seed)

    def zero_grad(self) -> None:
        """Set `grad` to 0 on this Value and everything it was computed from."""
        for node in topological_order(self, _children):
            node.grad = 0.0

    # -- conversions and display ---------------------------------------------------------

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    def __float__(self) -> float:
        return float(self.data)

    # -- arithmetic: the forward value here, the local derivative in engine_rules.py -------

    def __add__(self, other: Operand) -> Value:
        other = other if other.__class__ is Value else _lift(other, "+", self)
        return _result(self.data + other.data, self, other, "+")

    def __mul__(self, other: Operand) -> Value:
        other = other if other.__class__ is Value else _lift(other, "*", self)
        return _result(self.data * other.data, self, other, "*")

    def __pow__(self, other: Operand) -> Value:
        if other.__class__ is Value or isinstance(other, Value):
            return _result(_power(self, other.data, other), self, other, "**")
        if not isinstance(other, (int, float)):
            return NotImplemented
        # A constant exponent is not a graph input: it stays out of the children (`_prev`),
        # and `_op` reads '**2' as in the lecture; the exponent itself is kept in `_b`.
        out = _result(_power(self, other, None), self, None, f"**{other}")
        if out._a is not None:
            out._b = other
        return out

    def __rpow__(self, other: Number) -> Value:  # 2 ** x
        return _lift(other, "**", self) ** self

    def __radd__(self, other: Number) -> Value:  # other + self
        return self + other

    def __rmul__(self, other: Number) -> Value:  # other * self
        return self * other

    def __neg__(self) -> Value:  # -self, as the lecture builds it
        return self * -1

    def __sub__(self, other: Operand) -> Value:
        return self + (-other)

    def __rsub__(self, other: Number) -> Value:  # other - self
        return other + (-self)

    def __truediv__(self, other: Operand) -> Value:  # self / other == self * other**-1
        if other.__class__ is not Value:
            other = _lift(other, "/", self)
        if other.data == 0:
            raise ZeroDivisionError(f"division by zero: {_name(self)} / {_name(other)} = 0.0")
        return self * other**-1

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        if self.data == 0:
            raise ZeroDivisionError(f"division by zero: {other!r} / {_name(self)} = 0.0")
        return other * self**-1

    def exp(self) -> Value:
        try:
            return _result(math.exp(self.data), self, None, "exp")
        except OverflowError:
            raise OverflowError(f"exp of {_name(self)} = {self.data} overflows a float") from None

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(
                f"log of {_name(self)} = {self.data} is undefined (log needs a positive number)"
            )
        return _result(math.log(self.data), self, None, "log")

    def tanh(self) -> Value:
        return _result(math.tanh(self.data), self, None, "tanh")

    def relu(self) -> Value:
        x = self.data
        return _result(x if x > 0 or x != x else 0.0, self, None, "relu")  # nan stays nan

    def sigmoid(self) -> Value:
        x = self.data
        if x >= 0:  # two forms, so that exp never sees a large positive argument
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return _result(s, self, None, "sigmoid")

    def __abs__(self) -> Value:
        return ops.ABS(self)

    # -- every other op of the table (`chainrule.ops`): sin, cos, sqrt, ... and `define_op`'s

    def _apply_op(self, op: ops.Op, args: tuple[object, ...]) -> Value:
        """Record `op` applied to `args` (this Value among them): the table's generic path."""
        operands = [a if a.__class__ is Value else _lift(a, op.name, self) for a in args]
        try:
            data = op.scalar(*[o.data for o in operands])
        except (ValueError, ArithmeticError) as err:
            raise _op_error(op, operands, err) from None
        if data.__class__ is not float:
            data = _real(data, op, operands)
        return _result(data, operands[0], operands[1] if op.arity == 2 else None, op.name)


ops.add_methods(Value)  # sin, cos, sqrt, ...: the table rows not spelled out above

_JUST_VALUE = frozenset({Value})


def _backward_recorded(root: Value, gradient: float) -> None:
    """`backward(create_graph=True)`: the sweep of `chainrule.recorded`, with Values as grads.

    Leaves add the new gradient to what they hold, intermediates are overwritten, as in the
    float sweep. A gradient that is a fresh node gets a name, `dL/dx`, for pictures.
    """
    with enable_grad():
        order, grads = sweep(root, gradient, _children, value_vjp)
    top = root.label or "L"
    for node in reversed(order):  # from the output down: a shared gradient is named nearest it
        g = grads.get(id(node), 0.0)
        if node._a is None and node is not root:
            old = node.grad
            g = g if _is_zero(old) else old + g
        if g.__class__ is Value and not g.label and node.label:
            g.label = f"d{top}/d{node.label}"
        node.grad = g


def _is_zero(x: object) -> bool:
    return x.__class__ is not Value and x == 0


# -- the fused neuron sum ----------------------------------------------------------------


def dot(ws: Sequence[Value], xs: Sequence[Operand], bias: Operand = 0.0) -> Value:
    """`bias + w1*x1 + w2*x2 + ...` as ONE node (`_op == 'dot'`) instead of 2n nodes.

    The result and every gradient are bit-for-bit what the lecture's
    `sum((wi*xi for wi, xi in zip(w, x)), b)` gives (the same float operations in the same
    order), but the graph holds one node per neuron instead of one per multiply and add,
    which is what makes a pure-Python MLP train quickly. `chainrule.nn` neurons use it.
    """
    if len(ws) != len(xs):
        raise ValueError(f"dot: {len(ws)} weights but {len(xs)} inputs")
    if not set(map(type, ws)) <= _JUST_VALUE:
        raise TypeError("dot: the weights must be Values (they are what gets a gradient)")
    if not set(map(type, xs)) <= _JUST_VALUE:  # checked in C: the common case copies nothing
        xs = [x if x.__class__ is Value else _lift(x, "dot", None) for x in xs]
    bias = bias if bias.__class__ is Value else _lift(bias, "dot", None)
    total = reduce(add, map(mul, map(_get_data, ws), map(_get_data, xs)), bias.data)
    out = _result(total, None, None, "dot")
    if grad_mode.enabled:
        out._a = (bias, *ws, *xs)
    return out


def zero_grad(params: Iterable[Value] | Value) -> None:
    """Set `grad` to 0 on each Value of `params` (or on a whole graph, given its root)."""
    if isinstance(params, Value):
        params.zero_grad()
        return
    for p in params:
        p.grad = 0.0


# -- helpers --------------------------------------------------------------------------


def _result(data: Number, a: Value | None, b: Value | None, op: str) -> Value:
    """A new node: records its operands unless grad mode is off (`no_grad()`)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._fn = None
    if grad_mode.enabled:
        out._op = op
        out._a = a
        out._b = b
    else:
        out._op = ""
        out._a = None
        out._b = None
    return out


def _children(node: Value) -> tuple[Value, ...]:
    """The operands of `node` that are graph nodes (a constant exponent is not)."""
    a = node._a
    if a is None:
        return ()
    if a.__class__ is tuple:
        return a
    b = node._b
    return (a, b) if b.__class__ is Value else (a,)


def _unique(nodes: tuple[Value, ...]) -> tuple[Value, ...]:
    seen: set[int] = set()
    return tuple(n for n in nodes if not (id(n) in seen or seen.add(id(n))))


def _lift(other: object, op: str, node: Value | None) -> Value:
    """Wrap a plain number as a constant Value; anything else is a clear TypeError."""
    if hasattr(other.__class__, "_apply_op"):  # another engine's node (a Tensor)
        raise TypeError(
            f"cannot combine a Value with a {type(other).__name__} in {op}: a Value holds one "
            "number; use Tensors on both sides, or pass .item() of a one-element tensor"
        )
    where = f" with {_name(node)}" if node is not None else ""
    try:
        return Value(_number(other, ""))
    except TypeError as err:
        raise TypeError(f"unsupported operand for {op}{where}: {err}") from None


# Anomaly mode (`chainrule.detect_anomaly()`) swaps these two for versions that check.
anomaly.register(
    globals(),
    {
        "_result": anomaly.checked_value_result(_result),
        "_local_step": anomaly.checked_step(_local_step, _children, anomaly.finite_float),
    },
)
