"""The backward pass as a graph of its own: the chain-rule step of each `Value` node written with
Value operations, so that the gradients it produces can be differentiated again.

`backward(create_graph=True)` and `chainrule.grad` use these steps instead of the float fast
path. Each contribution is `local * g` where `local` comes from the op's row in the table
(`chainrule.ops`), evaluated on the Value nodes themselves (the operands and the node `out`),
so every multiplication of the chain rule is recorded. Nothing here is a second copy of a
derivative: the only ops spelled out are the fused neuron `dot` (not an elementwise row) and
the engines' limits (a power whose base is 0 or negative).

A node whose op was written the lecture's way, with its own `_backward` closure, cannot take
part: a closure adds floats into `.grad` and leaves no trace to differentiate. That is an error
that names the op, not a silent zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import ops
from .engine_messages import _exponent_error


class NotTwiceDifferentiable(RuntimeError):
    """Raised when a gradient must be recorded through an op that cannot record it."""


def value_vjp(node: Any, g: Any) -> Iterator[tuple[Any, Any]]:
    """(operand, d root/d operand contribution) for each operand of `node`, as graph nodes."""
    if node._fn is not None:
        what = f"op {node._op!r}" if node._op else "an unnamed op"
        who = f" ({node.label})" if node.label else ""
        raise NotTwiceDifferentiable(
            f"{what}{who} was written with its own _backward closure, which adds plain numbers "
            "into .grad: its derivative cannot be recorded and differentiated again. Define it "
            "with chainrule.define_op(name, forward, derivative) to get every order"
        )
    a = node._a
    if a is None:
        return
    op_name = node._op
    if op_name == "dot":  # b + Σ w_i x_i: d/db = 1, d/dw_i = x_i, d/dx_i = w_i
        n = len(a) // 2
        yield a[0], g
        for w, x in zip(a[1 : n + 1], a[n + 1 :]):
            yield w, x * g
            yield x, w * g
        return
    b = node._b
    if op_name.startswith("**") and op_name != "**":  # a constant exponent, kept in _b
        if b != 0:  # a**0 is the constant 1: nothing flows back
            yield a, ops.POW.partials[0](a, b, node) * g
        return
    op = ops.TABLE.get(op_name)
    if op is None:
        return  # an op with no rule passes nothing back, as in the first-order sweep
    if op.arity == 1:
        yield a, _times(op.partials[0](a, node), g)
        return
    yield a, _times(op.partials[0](a, b, node), g)
    if op is ops.POW:
        base = a.data
        if base == 0 and b.data > 0:
            return  # flat at 0 in the exponent: the limit the float path takes too
        if base <= 0:
            raise _exponent_error(a, b)
    yield b, _times(op.partials[1](a, b, node), g)


def _times(local: Any, g: Any) -> Any:
    """`local * g`, without recording a multiplication by a constant 1 (the local derivative
    of `+`, or the seed d root/d root): the product would be the other factor, bit for bit."""
    if local.__class__ is int and local == 1:
        return g
    if g.__class__ is float and g == 1.0:
        return local
    return local * g
