"""The scalar autograd engine: `Value`, exactly the object the lecture builds, made fast and safe.

A `Value` wraps one number (`data`), remembers the Values it was computed from (`_prev`) and the
operation that made it (`_op`), and receives d(output)/d(itself) in `grad` when `backward()` runs.

Read it in the lecture's order. Each operation below computes its forward value
(`self.data * other.data`) and records, in the new node, the op's row of the op table
(`chainrule.ops.table`; `MUL` for `*`). That row holds the op's local derivatives, written once
(`lambda x, y, out: y` for d(x*y)/dx): `_chain_rule` multiplies each by the gradient arriving
from above and adds the product into the operand, `a.grad += b.data * out.grad` for `*`, and
`_recorded_vjp` does the same with Values instead of floats, so that a gradient can itself be
differentiated (`backward(create_graph=True)`, `chainrule.grad`).

What differs from the lecture, and why:

* No closure per node. The lecture stores a fresh `_backward` closure in every result; the
  closure refers back to its node, which makes a reference cycle per node, so no graph is ever
  freed by reference counting and Python's cyclic collector ends up doing most of the work.
  Here each node keeps its op's definition (`_rule`), shared by every node of that op, so a
  dropped graph is freed at once. `node._backward()` still works, and so does assigning your
  own closure to it.
* `__slots__` and two child slots instead of a `set`: about a fifth of the memory per node.
* The topological order is found iteratively (`chainrule.autograd`), so a graph a million nodes
  deep backpropagates where a recursive sort dies at a depth of about a thousand.
* `tanh` uses `math.tanh`, which is exact to the last bit and never overflows, where the
  lecture's `(e**2x - 1)/(e**2x + 1)` overflows for x > 355.
* `dot(ws, xs, b)` is a neuron's whole weighted sum as one node, with the lecture's numbers to
  the last bit; it is what makes a pure-Python network train quickly.
* Failures name the operation and the operand: `log of x = -1.0 is undefined ...`. The wording
  is at the end of the module, out of the way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import reduce
from operator import add, attrgetter, mul
from typing import Any, SupportsFloat, TypeAlias, cast

from .autograd import (
    AnomalyError,
    anomaly_mode,
    checked_step,
    collector_paused,
    describe,
    finite_number,
    grad_mode,
    record_backward,
    topological_order,
)
from .ops.table import ADD, EXP, LOG, MUL, POW, RELU, SIGMOID, TABLE, TANH, Op, _sigmoid

__all__ = ["NotTwiceDifferentiable", "Value", "dot", "zero_grad"]

Number: TypeAlias = "int | float"
Operand: TypeAlias = "Value | int | float"

_new = object.__new__


def _row_method(name: str) -> Callable[[Value], Value]:
    def method(self: Value) -> Value:
        return TABLE[name](self)

    method.__name__ = method.__qualname__ = name
    return method


class Value:
    """One scalar in a computation graph, with its gradient.

    `Value(data, _children=(), _op='', label='')` is the lecture's signature: users pass
    `data` and maybe `label`; an op written the lecture's way passes its operands and op name.

    Arithmetic (`+ - * / **`, and the same with a plain number on either side) and the functions
    of the op table (`tanh`, `exp`, `log`, `relu`, `sigmoid`, `sin`, `abs`, ...) each make a new
    Value that remembers its operands, so that `backward()` can apply the chain rule.

    Args:
        data: The number, an int or a float (a numpy scalar is converted).
        _children: The Values this one was computed from (for an op written the lecture's way).
        _op: The name of the op that made it (`'+'`, `'tanh'`); a known name brings that op's
            derivative with it.
        label: A name for pictures and error messages (`draw_dot`, `explain`).

    Attributes:
        data: The number.
        grad: d(output)/d(this Value) after `backward()`; 0.0 before.
        label: The name given, or `''`.

    Raises:
        TypeError: `data` is not a real number (a string, an array, another Value), or a child
            is not a Value.

    Examples:
        >>> from chainrule import Value
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> c = a * b + a
        >>> c.backward()
        >>> c.data, a.grad, b.grad
        (-4.0, -2.0, 2.0)
        >>> c
        Value(data=-4.0, grad=1.0)
    """

    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_rule")

    # What a Value is in the terms both engines share (`chainrule.engines.Node`): one number,
    # always taking a gradient, of the scalar engine.
    engine = "scalar"
    shape: tuple[int, ...] = ()
    size = 1
    requires_grad = True

    # numpy, meeting `array * value`, must not build an array of objects: it steps aside, and
    # Python calls `Value.__rmul__`, which says to use a Tensor.
    __array_ufunc__ = None

    def __init__(
        self, data: Number, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        if data.__class__ is not float and data.__class__ is not int:
            data = _number(data, label)
        self.data, self.grad, self.label, self._op = data, 0.0, label, _op
        kids = tuple(_children)
        if not all(isinstance(k, Value) for k in kids):
            raise TypeError(f"children of {_op or 'a Value'} must be Values, got {kids!r}")
        self._a: Any = kids if len(kids) > 2 else kids[0] if kids else None
        self._b: Any = kids[1] if len(kids) == 2 else None
        # An op written the lecture's way under a known name gets that op's rule until it
        # assigns its own `_backward`.
        rule = TABLE.get(_op)
        self._rule: Any = rule if rule is not None and rule.arity == len(kids) else None

    # -- the lecture's operations: the forward value here, the derivative in its row ----------

    def __add__(self, other: Operand) -> Value:
        """Add: `self + other`. Backward: both operands get out.grad (d(a+b)/da = 1)."""
        other = other if type(other) is Value else _lift(other, "+", self)
        return _result(self.data + other.data, self, other, "+", ADD)

    def __mul__(self, other: Operand) -> Value:
        """Multiply: `self * other`. Backward: each gets out.grad times the other (d(ab)/da = b)."""
        other = other if type(other) is Value else _lift(other, "*", self)
        return _result(self.data * other.data, self, other, "*", MUL)

    def __pow__(self, other: Operand) -> Value:
        """Power: `self ** k`. Backward: d(a**k)/da = k * a**(k-1).

        For a Value exponent k, also d(a**k)/dk = a**k * ln a.
        """
        if isinstance(other, Value):
            return _result(_power(self, other.data, other), self, other, "**", POW)
        if not isinstance(other, (int, float)):
            return NotImplemented
        # A constant exponent is not a graph input: it stays out of the children (`_prev`),
        # and `_op` reads '**2' as in the lecture; the exponent itself is kept in `_b`.
        return _result(_power(self, other, None), self, other, f"**{other}", POW)

    def tanh(self) -> Value:
        """The hyperbolic tangent, the lecture's activation.

        Backward: d(tanh a)/da = 1 - tanh(a)**2, computed from the output itself. `math.tanh`
        is exact to the last bit and never overflows (the lecture's formula does for a > 355).

        Returns:
            A new Value, tanh(self).

        Examples:
            >>> from chainrule import Value
            >>> x = Value(0.5)
            >>> y = x.tanh()
            >>> y.backward()
            >>> round(y.data, 6), round(x.grad, 6)
            (0.462117, 0.786448)
        """
        return _result(math.tanh(self.data), self, None, "tanh", TANH)

    def exp(self) -> Value:
        """The exponential, e ** self. Backward: d(e**a)/da = e**a, the output itself.

        Returns:
            A new Value, e ** self.

        Raises:
            OverflowError: The result does not fit in a float (self > 709.78), naming the Value.

        Examples:
            >>> from chainrule import Value
            >>> x = Value(0.0)
            >>> y = x.exp()
            >>> y.backward()
            >>> y.data, x.grad
            (1.0, 1.0)
        """
        try:
            return _result(math.exp(self.data), self, None, "exp", EXP)
        except OverflowError:
            raise OverflowError(f"exp of {_name(self)} = {self.data} overflows a float") from None

    # -- built from those, as the lecture builds them ------------------------------------------

    def __neg__(self) -> Value:
        """Negate: `-self`, built as the lecture builds it, `self * -1`."""
        return self * -1

    def __sub__(self, other: Operand) -> Value:
        """Subtract: `self - other`, built as `self + (-other)`."""
        return self + (-other)

    def __truediv__(self, other: Operand) -> Value:
        """Divide: `self / other`, built as `self * other**-1`; dividing by 0 is named."""
        other = other if type(other) is Value else _lift(other, "/", self)
        if other.data == 0:
            raise ZeroDivisionError(f"division by zero: {_name(self)} / {_name(other)} = 0.0")
        return self * other**-1

    def __radd__(self, other: Number) -> Value:
        """Add with the number on the left: `other + self`."""
        return self + other

    def __rmul__(self, other: Number) -> Value:
        """Multiply with the number on the left: `other * self`."""
        return self * other

    def __rsub__(self, other: Number) -> Value:
        """Subtract from a number: `other - self`."""
        return other + (-self)

    def __rtruediv__(self, other: Number) -> Value:
        """Divide a number: `other / self`."""
        if self.data == 0:
            raise ZeroDivisionError(f"division by zero: {other!r} / {_name(self)} = 0.0")
        return other * self**-1

    def __rpow__(self, other: Number) -> Value:
        """Raise a number to this Value: `2 ** x`."""
        return _lift(other, "**", self) ** self

    # -- more functions, each a row of the table ------------------------------------------

    def log(self) -> Value:
        """The natural logarithm. Backward: d(ln a)/da = 1/a.

        Returns:
            A new Value, ln(self).

        Raises:
            ValueError: self is not positive; the message names the Value and its number.

        Examples:
            >>> from chainrule import Value
            >>> x = Value(2.0)
            >>> y = x.log()
            >>> y.backward()
            >>> round(y.data, 6), x.grad
            (0.693147, 0.5)
            >>> Value(-1.0, label="x").log()
            Traceback (most recent call last):
            ...
            ValueError: log of x = -1.0 is undefined (log needs a positive number)
        """
        if self.data <= 0:
            raise ValueError(
                f"log of {_name(self)} = {self.data} is undefined (log needs a positive number)"
            )
        return _result(math.log(self.data), self, None, "log", LOG)

    def relu(self) -> Value:
        """The rectifier, max(0, self). Backward: 1 where self > 0, else 0.

        Returns:
            A new Value, max(0, self); a nan stays nan, so a bad number is not hidden.

        Examples:
            >>> from chainrule import Value
            >>> Value(-2.0).relu().data, Value(3.0).relu().data
            (0.0, 3.0)
        """
        x = self.data
        return _result(x if x > 0 or x != x else 0.0, self, None, "relu", RELU)  # nan stays nan

    def sigmoid(self) -> Value:
        """The logistic function, 1 / (1 + e**-self). Backward: s * (1 - s), from the output s.

        Returns:
            A new Value between 0 and 1; computed so that it never overflows.

        Examples:
            >>> from chainrule import Value
            >>> x = Value(0.0)
            >>> y = x.sigmoid()
            >>> y.backward()
            >>> y.data, x.grad
            (0.5, 0.25)
        """
        return _result(_sigmoid(self.data), self, None, "sigmoid", SIGMOID)

    # The other functions of the table (`chainrule.ops.functions` adds them): x.sin(), abs(x).
    sin, cos, sqrt, softplus, silu, gelu, abs = map(
        _row_method, ("sin", "cos", "sqrt", "softplus", "silu", "gelu", "abs")
    )
    __abs__ = abs

    def _apply_op(self, op: Op, args: tuple[object, ...]) -> Value:
        """Record `op` applied to `args` (this Value among them).

        This is how any row of the table, `define_op`'s included, runs on Values.
        """
        operands = [a if isinstance(a, Value) else _lift(a, op.name, self) for a in args]
        try:
            data = op.scalar(*[o.data for o in operands])
        except (ValueError, ArithmeticError) as err:
            raise _op_error(op, operands, err) from None
        if data.__class__ is not float:
            data = _real(data, op, operands)
        return _result(data, operands[0], operands[1] if op.arity == 2 else None, op.name, op)

    # -- the graph and the backward pass -------------------------------------------------------

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The distinct Values this one was computed from (the lecture keeps them in a set)."""
        return tuple({id(k): k for k in _children(self)}.values())

    @property
    def _backward(self) -> Callable[[], None]:
        """This node's local chain-rule step: add `grad` x local derivative into the children."""
        return _closure(self) or (lambda: _chain_rule((self,)))

    @_backward.setter
    def _backward(self, fn: Callable[[], None]) -> None:
        self._rule = fn  # an op written the lecture's way: backward() will call it

    def backward(self, gradient: float = 1.0, create_graph: bool = False) -> None:
        """Fill `grad` of every Value this one depends on, by the chain rule, output to inputs.

        Gradients of the Values you made yourself (inputs, weights: the leaves) *accumulate*
        over calls, as in PyTorch: call `zero_grad` between steps, as a training loop does.
        Intermediate nodes are reset first, so they always show this call's gradient.

        With `create_graph=True` (PyTorch's meaning) the backward pass is itself recorded:
        each `.grad` is then a `Value`, a node of a graph computed from this one, which can be
        drawn (`draw_dot(x.grad)`) and differentiated again (`x.grad.backward()`).

        Args:
            gradient: d(final output)/d(this Value), the seed; 1.0 when this is the output.
            create_graph: Record the backward pass, making each `.grad` a Value.

        Raises:
            NotTwiceDifferentiable: `create_graph=True` through an op defined by its own
                `_backward` closure, whose derivative cannot be recorded.
            AnomalyError: Under `detect_anomaly()`, a gradient that is not finite, naming the
                op that made it.

        Examples:
            >>> from chainrule import Value
            >>> x = Value(3.0)
            >>> y = x * x
            >>> y.backward()
            >>> x.grad
            6.0
            >>> y.backward()  # the leaves accumulate
            >>> x.grad
            12.0
            >>> x.grad = 0.0
            >>> y = x**3
            >>> y.backward(create_graph=True)
            >>> x.grad  # 3 x**2, a Value that can be differentiated again
            Value(data=27.0, grad=0.0)
        """
        if create_graph:
            record_backward(self, gradient, 0.0)
            return
        with collector_paused():
            order = topological_order(self, _children)
            for node in order:  # intermediates start from 0; leaves accumulate, as in PyTorch
                if node._a is not None:
                    node.grad = 0.0
            self.grad += gradient
            if anomaly_mode.enabled:
                for node in reversed(order):
                    _checked_step(node)
            else:  # parents before children: each gradient is complete before it is passed on
                _chain_rule(reversed(order))

    def _vjp(self, g: Any) -> Iterator[tuple[Value, Any]]:
        """This node's chain-rule step recorded as Values: (operand, contribution) pairs."""
        return _recorded_vjp(self, g)

    def zero_grad(self) -> None:
        """Set `grad` to 0 on this Value and everything it was computed from.

        Examples:
            >>> from chainrule import Value
            >>> x = Value(2.0)
            >>> y = x * x
            >>> y.backward()
            >>> y.zero_grad()
            >>> x.grad, y.grad
            (0.0, 0.0)
        """
        for node in topological_order(self, _children) if self._a is not None else (self,):
            node.grad = 0.0

    # -- conversions and display ---------------------------------------------------------

    def item(self) -> float:
        """The number itself, as `Tensor.item()` gives a one-element tensor's.

        Returns:
            `data` as a float.

        Examples:
            >>> from chainrule import Value
            >>> Value(2).item()
            2.0
        """
        return float(self.data)

    tolist = item  # a Value is a tensor of no dimensions: its list is its number
    __float__ = item  # what `float(x)` asks for

    def __repr__(self) -> str:
        """Show `Value(data=..., grad=...)`, with the label where there is one."""
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"


def _result(data: Number, a: Any, b: Any, op: str, rule: Any) -> Value:
    """A new node: records its operands and its op's rule, unless grad mode is off."""
    out = _new(Value)
    out.data, out.grad, out.label = data, 0.0, ""
    if grad_mode.enabled:
        out._op, out._a, out._b, out._rule = op, a, b, rule
    else:
        out._op, out._a, out._b, out._rule = "", None, None, None
    if anomaly_mode.enabled and not math.isfinite(data):
        given = ", ".join(describe(x) for x in (a, b) if x.__class__ is Value) or "its operands"
        raise AnomalyError(f"anomaly: {op} of {given} produced {data}")
    return out


def _children(node: Value) -> tuple[Value, ...]:
    """The operands of `node` that are graph nodes (a constant exponent is not)."""
    a = node._a
    if a is None or a.__class__ is tuple:
        return a or ()
    b = node._b
    return (a, b) if b.__class__ is Value else (a,)


def _closure(node: Value) -> Callable[[], None] | None:
    """The `_backward` closure a node was given the lecture's way, if it was given one."""
    rule = node._rule
    return None if rule is None or rule.__class__ is Op or rule.__class__ is Fused else rule


# -- the chain rule, one node at a time -------------------------------------------------------


def _chain_rule(nodes: Iterable[Value]) -> None:
    """Each node's chain-rule step, in turn, in one loop for a whole backward pass.

    Each step adds out.grad times each local derivative into the operands' grads (`+=`: a Value
    used twice gets both contributions). The derivatives are the op's row of the table. One loop
    for a whole backward pass means no Python call per node.
    """
    for out in nodes:
        rule = out._rule
        if rule.__class__ is Op:
            a, b, g = out._a, out._b, out.grad
            try:
                if b is None:
                    a.grad += rule.partials[0](a.data, out.data) * g
                elif b.__class__ is Value:
                    da, db = rule.partials
                    x, y = a.data, b.data
                    a.grad += da(x, y, out.data) * g
                    b.grad += db(x, y, out.data) * g
                else:  # a constant operand (the exponent of `x**2`) takes no gradient
                    a.grad += rule.partials[0](a.data, b, out.data) * g
            except (ValueError, ArithmeticError) as err:
                raise _step_error(out, err) from None
        elif rule.__class__ is Fused:
            rule.step(out)
        elif rule is not None:  # a closure assigned the lecture's way
            rule()


_checked_step = checked_step(lambda node: _chain_rule((node,)), finite_number)


class NotTwiceDifferentiable(RuntimeError):
    """Raised when a gradient must be recorded through an op that cannot record it.

    An op written the lecture's way, with its own `_backward` closure, adds plain numbers into
    `.grad`; `backward(create_graph=True)` needs each derivative as a Value. Define the op with
    `chainrule.define_op` to get every order.

    Examples:
        >>> from chainrule import Value
        >>> x = Value(3.0)
        >>> out = Value(x.data**2, (x,), "square")  # the lecture's way: a closure
        >>> def _backward():
        ...     x.grad += 2 * x.data * out.grad
        >>> out._backward = _backward
        >>> out.backward()  # a plain backward pass runs the closure
        >>> x.grad
        6.0
        >>> out.backward(create_graph=True)
        Traceback (most recent call last):
        ...
        chainrule.value.NotTwiceDifferentiable: op 'square' was written with its own _backward ...
    """


def _recorded_vjp(node: Value, g: Any) -> Iterator[tuple[Value, Any]]:
    """Yield (operand, contribution) for each operand of `node`, as Values.

    The same rules as `_chain_rule`, evaluated on the nodes themselves, so every product is
    recorded.
    """
    rule = node._rule
    if rule.__class__ is Op:
        operands = (node._a,) if node._b is None else (node._a, node._b)
        for i, operand in enumerate(operands):
            if operand.__class__ is Value:
                try:
                    local = rule.partials[i](*operands, node)
                except (ValueError, ArithmeticError) as err:
                    raise _step_error(node, err) from None
                # no product recorded for a local derivative of 1 (+) or the seed dL/dL = 1
                yield operand, g if local == 1.0 else local if g == 1.0 else local * g
    elif rule.__class__ is Fused:  # the same step, run on stand-ins whose data are the nodes
        stand_ins = tuple(_StandIn(kid, _NOTHING) for kid in node._a)
        rule.step(_StandIn(node, g, stand_ins))
        for kid, done in zip(node._a, stand_ins):
            if done.grad is not _NOTHING:
                yield kid, done.grad
    elif rule is not None:
        what = f"op {node._op!r}" if node._op else "an unnamed op"
        who = f" ({node.label})" if node.label else ""
        raise NotTwiceDifferentiable(
            f"{what}{who} was written with its own _backward closure, which adds plain numbers "
            "into .grad: its derivative cannot be recorded and differentiated again. Define it "
            "with chainrule.define_op(name, forward, derivative) to get every order"
        )


# -- the fused neuron sum ----------------------------------------------------------------


class Fused:
    """An op of many operands that only Values have, such as a neuron's whole weighted sum.

    Its backward `step(out)` is written the lecture's way, `x.grad += w.data * out.grad`, and is
    its one definition: the fast pass runs it on the nodes (floats), and the recorded pass runs
    it on stand-ins whose `data` are the nodes themselves, so the same lines compute with Values
    and record every product. `formulas[i]` is the local derivative as `explain` writes it.
    """

    __slots__ = ("name", "step", "formulas", "symbol")

    def __init__(self, name: str, step: Callable, formulas: tuple[str, ...], symbol: str) -> None:
        self.name, self.step, self.formulas, self.symbol = name, step, formulas, symbol


class _StandIn:
    """A node as the recorded pass shows it to a `Fused` step.

    Its `data` is the node itself and its `grad` collects what the step adds (from `_NOTHING`,
    which adds as nothing at all).
    """

    __slots__ = ("data", "grad", "_a")

    def __init__(self, data: Any, grad: Any, kids: tuple[Any, ...] | None = None) -> None:
        self.data, self.grad, self._a = data, grad, kids


class _Nothing:
    def __add__(self, other: Any) -> Any:
        return other


_NOTHING = _Nothing()


def _dot_step(out: Any) -> None:  # d(b + Σ w_i x_i): b gets g, w_i gets x_i·g, x_i gets w_i·g
    g, kids = out.grad, out._a
    n = len(kids) // 2
    kids[0].grad += g
    for w, x in zip(kids[1 : n + 1], kids[n + 1 :]):
        w.grad += x.data * g
        x.grad += w.data * g


DOT = Fused("dot", _dot_step, ("1", "x", "w"), symbol="Σ w·x + b")
_JUST_VALUE = frozenset({Value})
_get_data = attrgetter("data")


def dot(ws: Sequence[Value], xs: Sequence[Operand], bias: Operand = 0.0) -> Value:
    """Compute `bias + w1*x1 + w2*x2 + ...` as ONE node (`_op == 'dot'`) instead of 2n nodes.

    The result and every gradient are bit-for-bit what the lecture's
    `sum((wi*xi for wi, xi in zip(w, x)), b)` gives (the same float operations in the same
    order), but the graph holds one node per neuron instead of one per multiply and add,
    which is what makes a pure-Python MLP train quickly. `chainrule.nn` neurons use it.

    Args:
        ws: The weights, Values (they are what gets a gradient).
        xs: The inputs, Values or plain numbers, as many as the weights.
        bias: The bias, a Value or a number.

    Returns:
        One Value whose operands are the bias, the weights and the inputs.

    Raises:
        ValueError: `ws` and `xs` differ in length.
        TypeError: A weight is not a Value, or an input is not a number.

    Examples:
        >>> from chainrule import Value, dot
        >>> w = [Value(2.0), Value(-1.0)]
        >>> out = dot(w, [3.0, 4.0], bias=0.5)
        >>> out.backward()
        >>> out.data, out._op, [wi.grad for wi in w]
        (2.5, 'dot', [3.0, 4.0])
    """
    if len(ws) != len(xs):
        raise ValueError(f"dot: {len(ws)} weights but {len(xs)} inputs")
    if not set(map(type, ws)) <= _JUST_VALUE:
        raise TypeError("dot: the weights must be Values (they are what gets a gradient)")
    if not set(map(type, xs)) <= _JUST_VALUE:  # checked in C: the common case copies nothing
        xs = [x if x.__class__ is Value else _lift(x, "dot", None) for x in xs]
    bias = bias if type(bias) is Value else _lift(bias, "dot", None)
    total = reduce(add, map(mul, map(_get_data, ws), map(_get_data, xs)), bias.data)
    return _result(total, (bias, *ws, *xs), None, "dot", DOT)


def zero_grad(params: Iterable[Value] | Value) -> None:
    """Set `grad` to 0 on each Value of `params` (or on a whole graph, given its root).

    Args:
        params: The Values to reset (a model's `parameters()`), or one Value, the root of a
            graph, to reset everything it was computed from.

    Examples:
        >>> from chainrule import Value, zero_grad
        >>> w = [Value(1.0), Value(2.0)]
        >>> (w[0] * w[1]).backward()
        >>> zero_grad(w)
        >>> [p.grad for p in w]
        [0.0, 0.0]
    """
    if isinstance(params, Value):
        params.zero_grad()
        return
    for p in params:
        p.grad = 0.0


# -- numbers in, and errors that say what went wrong ------------------------------------------


def _lift(other: object, op: str, node: Value | None) -> Value:
    """Wrap a plain number as a constant Value; anything else is a clear TypeError."""
    if hasattr(other.__class__, "_apply_op"):  # another engine's node (a Tensor)
        raise TypeError(
            f"cannot combine a Value with a {type(other).__name__} in {op}: a Value holds one "
            "number; use Tensors on both sides, or pass .item() of a one-element tensor"
        )
    try:
        return Value(_number(other, ""))
    except TypeError as err:
        where = f" with {_name(node)}" if node is not None else ""
        raise TypeError(f"unsupported operand for {op}{where}: {err}") from None


def _number(data: object, label: str) -> float | int:
    """`data` as a Python number for a Value, or a TypeError that says what to use instead."""
    what = f" for {label!r}" if label else ""
    if isinstance(data, Value):
        raise TypeError(f"Value(...) takes a number, got a Value ({data!r}); use that Value itself")
    if isinstance(data, (int, float)):
        return float(data) if isinstance(data, bool) else data  # True holds 1.0, as in torch
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
    return float(cast(SupportsFloat, data))  # numpy scalars and friends


def _name(node: Value) -> str:
    return node.label if node.label else "an unlabeled Value"


def _power(base: Value, exponent: Number, exp_node: Value | None) -> float:
    """`base.data ** exponent` with Python's semantics, but errors that say what happened."""
    x, who = base.data, _name(base)
    try:
        result = x**exponent
    except ZeroDivisionError:
        raise ZeroDivisionError(
            f"{who} ** {exponent}: {who} = {x} is zero, and zero cannot be raised to a "
            "negative power"
        ) from None
    except OverflowError:
        raise OverflowError(f"{who} ** {exponent} overflows a float ({x} ** {exponent})") from None
    if isinstance(result, complex):
        what = _name(exp_node) if exp_node is not None else exponent
        raise ValueError(
            f"{who} ** {what}: a negative base ({x}) to a fractional power ({exponent}) is not "
            "a real number"
        )
    return result


def _op_error(op: Op, operands: list[Value], err: Exception) -> Exception:
    """`sqrt of a = -1.0 is undefined (sqrt needs a number >= 0)`: the op, names, values."""
    given = ", ".join(f"{_name(o)} = {o.data}" for o in operands)
    if isinstance(err, OverflowError):
        return OverflowError(f"{op.name} of {given} overflows a float")
    if isinstance(err, ZeroDivisionError):
        return ZeroDivisionError(f"{op.name} of {given}: division by zero")
    return ValueError(f"{op.name} of {given} is undefined ({op.domain or err})")


def _step_error(out: Value, err: Exception) -> Exception:
    """The error for a local derivative that cannot be computed at these values.

    Named by op and operands: d(a**b)/db = a**b·ln(a) needs a positive base, and says so.
    """
    a, b = out._a, out._b
    if out._rule is POW and b.__class__ is Value and isinstance(err, ValueError):
        return ValueError(
            f"d/d{_name(b)} of {_name(a)}**{_name(b)} needs a positive base, "
            f"but {_name(a)} = {a.data}"
        )
    return _op_error(out._rule, [x for x in (a, b) if x.__class__ is Value], err)


def _real(data: object, op: Op, operands: list[Value]) -> float:
    """A user op's result as a float; a complex or non-numeric result is named."""
    if isinstance(data, complex) or not hasattr(data, "__float__"):  # str has no __float__
        given = ", ".join(f"{_name(o)} = {o.data}" for o in operands)
        raise TypeError(f"{op.name} of {given} gave {data!r}, not a real number")
    return float(cast(SupportsFloat, data))
