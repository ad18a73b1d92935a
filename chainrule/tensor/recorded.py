"""The tensor backward pass as a graph of its own (`backward(create_graph=True)`, `grad`).

Each function below is the chain-rule step of one of the tensor's own ops, written with Tensor
operations instead of numpy, so the gradient it produces is a node that can be differentiated
again. Elementwise ops need nothing here: their row in `chainrule.ops` gives the local
derivative, evaluated on the operand tensors. Constants of a step (a mask, a one-hot matrix,
a row of ones) are plain arrays: they are not functions of the inputs.

The float path (`rules.py`) stays the one training uses; the catalogue and property tests
check that both give the same first derivatives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import ops
from .grads import _kept_shape
from .grads import sum_to_shape as _unbroadcast

if TYPE_CHECKING:
    from .tensor import Tensor

Pairs = Iterator[tuple["Tensor", "Tensor"]]


def tensor_vjp(node: Tensor, g: Tensor) -> Pairs:
    """(operand, contribution) for each operand of `node` that needs a gradient."""
    if not node._op:
        return  # a leaf
    ctx = node._ctx
    op = ctx if ctx.__class__ is ops.Op else ops.TABLE.get(node._op)
    if op is not None:
        args = node._args
        for i, a in enumerate(args):
            if a.requires_grad:
                local = _pow_base_partial(*args) if op is ops.POW and i == 0 else None
                if local is None:
                    local = op.partials[i](*args, node)
                yield a, _unbroadcast(g if _is_one(local) else g * local, a.shape)
        return
    step = _STEPS.get(node._op)
    if step is None:
        raise RuntimeError(f"the op {node._op!r} has no recorded backward step")
    for a, contribution in step(node, g):
        if a.requires_grad:
            yield a, contribution


def _pow_base_partial(x: Tensor, y: Tensor) -> Tensor | None:
    """d(x**y)/dx = y * x**(y-1), except where y is 0: x**0 is the constant 1, flat even at
    x = 0, where x**-1 would make 0 * inf = nan (the float rule masks the same entries).
    Shifting those exponents to 0 keeps them finite: y * x**0 = 0 there."""
    zero = y.data == 0
    if not zero.any():
        return None  # the row's own partial
    return y * x ** (y - 1 + zero)


def _is_one(local: Any) -> bool:
    return local.__class__ is int and local == 1


def _matmul(node: Tensor, g: Tensor) -> Pairs:  # dA = G @ Bᵀ, dB = Aᵀ @ G
    a, b = node._args
    A = a if a.ndim > 1 else a.reshape(1, -1)
    B = b if b.ndim > 1 else b.reshape(-1, 1)
    G = g
    if a.ndim == 1:
        G = G.reshape(*G.shape[:-1], 1, G.shape[-1]) if G.ndim else G.reshape(1, 1)
    if b.ndim == 1:
        G = G.reshape(*G.shape, 1)
    yield a, _unbroadcast(G @ B.transpose(-1, -2), A.shape).reshape(a.shape)
    yield b, _unbroadcast(A.transpose(-1, -2) @ G, B.shape).reshape(b.shape)


def _linear(node: Tensor, g: Tensor) -> Pairs:  # out = x Wᵀ + b
    x, W = node._args[0], node._args[1]
    g2 = g.reshape(-1, g.shape[-1])
    yield x, g @ W
    yield W, g2.T @ x.reshape(-1, x.shape[-1])
    if len(node._args) == 3:
        yield node._args[2], g2.sum(axis=0)


def _spread(g: Tensor, a: Tensor, axis: Any, keepdims: bool) -> Tensor:
    """A reduction's gradient copied back over the reduced elements (times a row of ones)."""
    if axis is not None and not keepdims:
        g = g.reshape(_kept_shape(a.shape, axis))
    return g * np.ones(a.shape, a.dtype)


def _sum(node: Tensor, g: Tensor) -> Pairs:
    a = node._args[0]
    axis, keepdims = node._ctx
    yield a, _spread(g, a, axis, keepdims)


def _mean(node: Tensor, g: Tensor) -> Pairs:
    a = node._args[0]
    axis, keepdims, count = node._ctx
    yield a, _spread(g, a, axis, keepdims) / count


def _max(node: Tensor, g: Tensor) -> Pairs:  # to the maxima, shared between ties (a constant)
    a = node._args[0]
    axis, keepdims = node._ctx
    m = node.data
    if axis is not None and not keepdims:
        kept = _kept_shape(a.shape, axis)
        g = g.reshape(kept)
        m = m.reshape(kept)
    hit = a.data == m
    share = (hit / hit.sum(axis=axis, keepdims=True)).astype(a.dtype)
    yield a, g * share


def _reshape(node: Tensor, g: Tensor) -> Pairs:
    a = node._args[0]
    yield a, g.reshape(a.shape)


def _permute(node: Tensor, g: Tensor) -> Pairs:
    yield node._args[0], g.permute(node._ctx)


def _index(node: Tensor, g: Tensor) -> Pairs:  # the picked elements' gradients put back
    a = node._args[0]
    yield a, g._scatter(a.shape, node._ctx)


def _scatter(node: Tensor, g: Tensor) -> Pairs:  # the inverse of _index: pick them again
    yield node._args[0], g[node._ctx[0]]


def _softmax(node: Tensor, g: Tensor) -> Pairs:  # s ⊙ (g - Σ g⊙s)
    axis = node._ctx
    yield node._args[0], node * (g - (g * node).sum(axis=axis, keepdims=True))


def _log_softmax(node: Tensor, g: Tensor) -> Pairs:  # g - softmax ⊙ Σ g
    axis = node._ctx
    yield node._args[0], g - node.exp() * g.sum(axis=axis, keepdims=True)


def _cross_entropy(node: Tensor, g: Tensor) -> Pairs:  # (softmax - one_hot(y)) · g
    logits = node._args[0]
    y, _, _, reduction = node._ctx
    one_hot = np.zeros(logits.shape, logits.dtype)
    if y.ndim:
        one_hot[np.arange(len(y)), y] = 1
    else:
        one_hot[y] = 1
    if reduction == "mean" and y.ndim:
        g = g / max(y.size, 1)
    elif reduction == "none" and y.ndim:
        g = g.reshape(-1, 1)
    yield logits, (logits.softmax(-1) - one_hot) * g


def _bce_with_logits(node: Tensor, g: Tensor) -> Pairs:  # (sigmoid(x) - y) · g
    x = node._args[0]
    y, reduction = node._ctx
    if reduction == "mean":
        g = g / max(y.size, 1)
    yield x, (x.sigmoid() - y) * g


_STEPS: dict[str, Callable[[Tensor, Tensor], Pairs]] = {
    "@": _matmul,
    "linear": _linear,
    "sum": _sum,
    "mean": _mean,
    "max": _max,
    "reshape": _reshape,
    "permute": _permute,
    "index": _index,
    "scatter": _scatter,
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "cross_entropy": _cross_entropy,
    "bce_with_logits": _bce_with_logits,
}
