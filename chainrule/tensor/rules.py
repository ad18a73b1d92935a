"""The tensor engine's backward rules: one per op, each adding `out.grad` times the op's local
derivative into the operands that need a gradient (the chain rule, one node at a time).

Elementwise ops that are rows of the op table (`chainrule.ops`) need no rule here: `_d_table`
reads their derivatives from the row. The arithmetic ops and the lecture's functions keep a
hand-written numpy rule (fewer temporaries), which the op catalogue test checks against their
rows; the rest (matmul, reductions, shapes, softmax) are not elementwise and live only here.
The functional ops add their rules to `RULES` from their own modules (`functional.py`, `conv.py`,
`norm.py`, `embedding.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .. import ops
from .grads import _add_grad, _kept_shape, _scattered, _spread, _unbroadcast

if TYPE_CHECKING:
    from .tensor import Tensor

_dot = np.dot


def _d_add(out: Tensor) -> None:  # d(a+b)/da = 1, d(a+b)/db = 1
    a, b = out._args
    g = out.grad
    if a.requires_grad:
        _add_grad(a, g, False)
    if b.requires_grad:
        _add_grad(b, g, False)


def _d_sub(out: Tensor) -> None:  # d(a-b)/da = 1, d(a-b)/db = -1
    a, b = out._args
    g = out.grad
    if a.requires_grad:
        _add_grad(a, g, False)
    if b.requires_grad:
        _add_grad(b, -g)


def _d_mul(out: Tensor) -> None:  # d(a*b)/da = b, d(a*b)/db = a
    a, b = out._args
    g = out.grad
    if a is b:  # a*a: both paths at once, d(a*a)/da = 2a
        ga = g * a.data
        ga *= 2
        _add_grad(a, ga)
        return
    if a.requires_grad:
        _add_grad(a, g * b.data)
    if b.requires_grad:
        _add_grad(b, g * a.data)


def _d_div(out: Tensor) -> None:  # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2 = -(a/b)/b
    a, b = out._args
    g = out.grad
    if a.requires_grad:
        _add_grad(a, g / b.data)
    if b.requires_grad:
        _add_grad(b, -g * out.data / b.data)


def _d_pow(out: Tensor) -> None:  # d(a**b)/da = b * a**(b-1), d(a**b)/db = a**b * ln(a)
    a, b = out._args
    g = out.grad
    A, B = a.data, b.data
    with np.errstate(divide="ignore", invalid="ignore"):
        if a.requires_grad:
            local = B * A ** (B - 1)
            if not np.all(B):  # x**0 is the constant 1: slope 0, even where 0**-1 is inf
                local = np.where(B == 0, 0, local)
            _add_grad(a, g * local)
        if b.requires_grad:
            local = out.data * np.log(A)
            if not np.all(A):  # 0**b is flat at 0 for b > 0 (PyTorch takes the same limit)
                local = np.where((A == 0) & (B >= 0), 0, local)
            _add_grad(b, g * local)


def _d_neg(out: Tensor) -> None:  # d(-a)/da = -1
    _add_grad(out._args[0], -out.grad)


def _d_matmul(out: Tensor) -> None:  # d(A@B)/dA = G @ B^T, d(A@B)/dB = A^T @ G
    a, b = out._args
    g = out.grad
    A, B = a.data, b.data
    if A.ndim == 2 and B.ndim == 2:  # the common case, straight to BLAS
        if a.requires_grad:
            _add_grad(a, _dot(g, B.T))
        if b.requires_grad:
            _add_grad(b, _dot(A.T, g))
        return
    if A.ndim == 1 and B.ndim == 1:  # a dot product
        if a.requires_grad:
            _add_grad(a, g * B)
        if b.requires_grad:
            _add_grad(b, g * A)
        return
    # A vector operand acts as a one-row (left) or one-column (right) matrix; batch axes
    # broadcast, so each gradient is summed back to its operand's shape.
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    G = g[..., None, :] if A.ndim == 1 else g
    G = G[..., None] if B.ndim == 1 else G
    if a.requires_grad:
        ga = _unbroadcast(G @ np.swapaxes(B2, -1, -2), A2.shape)
        _add_grad(a, ga.reshape(A.shape))
    if b.requires_grad:
        gb = _unbroadcast(np.swapaxes(A2, -1, -2) @ G, B2.shape)
        _add_grad(b, gb.reshape(B.shape))


def _d_exp(out: Tensor) -> None:  # d(e**a)/da = e**a
    _add_grad(out._args[0], out.grad * out.data)


def _d_log(out: Tensor) -> None:  # d(ln a)/da = 1/a
    a = out._args[0]
    _add_grad(a, out.grad / a.data)


def _d_tanh(out: Tensor) -> None:  # d(tanh a)/da = 1 - tanh(a)**2
    t = out.data
    _add_grad(out._args[0], out.grad * (1 - t * t))


def _d_relu(out: Tensor) -> None:  # d(relu a)/da = 1 where a > 0 (or nan, as torch), else 0
    _add_grad(out._args[0], out.grad * (out.data != 0))  # relu is 0 exactly where a <= 0


def _d_sigmoid(out: Tensor) -> None:  # d(s(a))/da = s(a) * (1 - s(a))
    s = out.data
    _add_grad(out._args[0], out.grad * (s * (1 - s)))


def _d_sum(out: Tensor) -> None:  # every summed element gets the gradient of the sum
    a = out._args[0]
    axis, keepdims = out._ctx
    _add_grad(a, _spread(out.grad, a.data, axis, keepdims))


def _d_mean(out: Tensor) -> None:  # every averaged element gets 1/count of the gradient
    a = out._args[0]
    axis, keepdims, count = out._ctx
    _add_grad(a, _spread(out.grad / count, a.data, axis, keepdims))


def _d_max(out: Tensor) -> None:  # the gradient goes to the maximum (shared between ties)
    a = out._args[0]
    axis, keepdims = out._ctx
    g, m = out.grad, out.data
    if axis is not None and not keepdims:
        kept = _kept_shape(a.data.shape, axis)
        g = g.reshape(kept)
        m = m.reshape(kept)
    hit = a.data == m
    ties = hit.sum(axis=axis, keepdims=True)
    _add_grad(a, hit * (g / ties).astype(a.data.dtype, copy=False))


def _d_reshape(out: Tensor) -> None:  # the same elements: reshape the gradient back
    a = out._args[0]
    _add_grad(a, out.grad.reshape(a.data.shape), False)


def _d_permute(out: Tensor) -> None:  # the same elements: move the axes back
    _add_grad(out._args[0], out.grad.transpose(out._ctx), False)


def _d_index(out: Tensor) -> None:  # each picked element gets its gradient back in place
    a = out._args[0]
    _add_grad(a, _scattered(out.grad, out._ctx, a.data.shape, a.data.dtype))


def _d_scatter(out: Tensor) -> None:  # the inverse of indexing: pick the elements again
    index, _ = out._ctx
    _add_grad(out._args[0], out.grad[index])


def _d_softmax(out: Tensor) -> None:  # ds_i/da_j = s_i (δ_ij - s_j)
    s = out.data
    axis = out._ctx
    gs = out.grad * s
    _add_grad(out._args[0], gs - s * gs.sum(axis=axis, keepdims=True))


def _d_log_softmax(out: Tensor) -> None:  # d(log s_i)/da_j = δ_ij - s_j
    g = out.grad
    axis = out._ctx
    _add_grad(out._args[0], g - np.exp(out.data) * g.sum(axis=axis, keepdims=True))


RULES: dict[str, Callable[[Tensor], None]] = {
    "+": _d_add,
    "-": _d_sub,
    "*": _d_mul,
    "/": _d_div,
    "**": _d_pow,
    "neg": _d_neg,
    "@": _d_matmul,
    "exp": _d_exp,
    "log": _d_log,
    "tanh": _d_tanh,
    "relu": _d_relu,
    "sigmoid": _d_sigmoid,
    "sum": _d_sum,
    "mean": _d_mean,
    "max": _d_max,
    "reshape": _d_reshape,
    "permute": _d_permute,
    "index": _d_index,
    "scatter": _d_scatter,
    "softmax": _d_softmax,
    "log_softmax": _d_log_softmax,
}


def _d_table(out: Tensor) -> None:  # a row of the op table: g times each local derivative
    op = out._ctx
    args = out._args
    g = out.grad
    xs = [a.data for a in args]
    for i, a in enumerate(args):
        if a.requires_grad:
            _add_grad(a, g * op.partials[i](*xs, out.data))


def local_step(node: Tensor) -> None:
    """One node's chain-rule step (leaves and constants have none)."""
    if node._op:
        if node._ctx.__class__ is ops.Op:
            _d_table(node)
        else:
            RULES[node._op](node)
