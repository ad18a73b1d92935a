"""The scalar engine's backward rules: one per op, each adding `out.grad` times the op's local
derivative into the operands' `.grad` (the chain rule, one node at a time), on plain floats.

These are the fast path of `Value.backward()`. The lecture's ops (`+ * ** exp log tanh relu
sigmoid`) are spelled out here, each written as `local * grad` with `local` the very
expression of its row in the op table (`chainrule.ops`), so the catalogue test can check them
against the row bit for bit; every other row is run from the table by `_d_table`. The fused
neuron `dot` is not elementwise and lives only here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import ops
from .engine_messages import _exponent_error, _power

if TYPE_CHECKING:
    from .value import Value


def _d_add(out: Value) -> None:  # d(a+b)/da = 1, d(a+b)/db = 1
    out._a.grad += out.grad
    out._b.grad += out.grad


def _d_mul(out: Value) -> None:  # d(a*b)/da = b, d(a*b)/db = a
    a, b = out._a, out._b
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def _d_pow_const(out: Value) -> None:  # d(a**k)/da = k * a**(k-1)
    a, k = out._a, out._b
    if k != 0:  # a**0 is the constant 1: slope 0, even at a = 0 where a**-1 is undefined
        a.grad += k * _power(a, k - 1, None) * out.grad


def _d_pow(out: Value) -> None:  # d(a**b)/da = b * a**(b-1),  d(a**b)/db = a**b * ln(a)
    a, b = out._a, out._b
    a.grad += b.data * _power(a, b.data - 1, b) * out.grad
    x = a.data
    if x > 0 or x != x:  # a nan base gives a nan slope, as in PyTorch and the recorded path
        b.grad += out.data * math.log(x) * out.grad
    elif x == 0 and b.data > 0:
        pass  # a**b is flat at 0 in b (PyTorch uses the same limit)
    else:
        raise _exponent_error(a, b)


def _d_exp(out: Value) -> None:  # d(e**a)/da = e**a
    out._a.grad += out.data * out.grad


def _d_log(out: Value) -> None:  # d(ln a)/da = 1/a
    out._a.grad += (1 / out._a.data) * out.grad


def _d_tanh(out: Value) -> None:  # d(tanh a)/da = 1 - tanh(a)**2
    out._a.grad += (1 - out.data**2) * out.grad


def _d_relu(out: Value) -> None:  # d(relu a)/da = 1 if a > 0 else 0 (and 1 at nan, as torch)
    if out.data != 0:  # relu's result is 0 exactly where a <= 0
        out._a.grad += out.grad


def _d_sigmoid(out: Value) -> None:  # d(s(a))/da = s(a) * (1 - s(a))
    out._a.grad += out.data * (1 - out.data) * out.grad


def _d_dot(out: Value) -> None:  # d(b + Σ w_i x_i)/db = 1, /dw_i = x_i, /dx_i = w_i
    g = out.grad
    kids = out._a
    n = len(kids) // 2
    kids[0].grad += g
    for w, x in zip(kids[1 : n + 1], kids[n + 1 :]):
        w.grad += x.data * g
        x.grad += w.data * g


_RULES: dict[str, Callable[[Value], None]] = {
    "+": _d_add,
    "*": _d_mul,
    "**": _d_pow,
    "exp": _d_exp,
    "log": _d_log,
    "tanh": _d_tanh,
    "relu": _d_relu,
    "sigmoid": _d_sigmoid,
    "dot": _d_dot,
}


def _d_table(out: Value, op: ops.Op) -> None:  # any other row: local derivative x grad
    a, b, g = out._a, out._b, out.grad
    if b is None:
        a.grad += op.partials[0](a.data, out.data) * g
    else:
        x, y = a.data, b.data
        a.grad += op.partials[0](x, y, out.data) * g
        b.grad += op.partials[1](x, y, out.data) * g


def _local_step(node: Value) -> None:
    """One node's chain-rule step, whichever way its op was defined."""
    if node._fn is not None:  # a closure assigned the lecture's way
        node._fn()
        return
    if node._a is None:
        return
    rule = _RULES.get(node._op)
    if rule is not None:
        rule(node)
    elif node._op.startswith("**"):
        _d_pow_const(node)
    else:
        op = ops.TABLE.get(node._op)
        if op is not None:
            _d_table(node, op)
