"""Functional tensor ops, as `torch.nn.functional` has them: each one a single fused node with
its own backward rule, where the composition of smaller ops would cost more nodes, arrays and
passes (and, for the losses, lose numerical stability).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from .grads import _add_grad, _ones, _rows
from .nodes import _as_input
from .rules import RULES
from .tensor import Tensor, _binary, _node, _unary

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "linear"]

_asarray = np.asarray
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce
_dot = np.dot
_sigmoid = ops.SIGMOID.array
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`x @ weight.T + bias` as ONE node, like `torch.nn.functional.linear`.

    `weight` has shape (out_features, in_features), as in PyTorch. Fusing the product and the
    bias saves a node, an array and a pass over the output, in the forward and the backward
    pass alike; the gradients are those of the two-op version.
    """
    if x.__class__ is not Tensor:
        x = _as_input(x, weight, "linear")
    W = weight.data
    try:
        data = _dot(x.data, W.T)  # np.dot: less overhead than @ on small matrices
    except ValueError:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape}: "
            f"the input's last dimension must be {W.shape[-1]}"
        ) from None
    if bias is not None:
        try:
            data += bias.data  # into the fresh product: no extra array
        except ValueError:
            raise ValueError(
                f"linear: bias of shape {bias.shape} does not fit output of shape {data.shape}"
            ) from None
        return _node(data, "linear", (x, weight, bias))
    return _binary(data, "linear", x, weight)


def cross_entropy(logits: Tensor, labels: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of `logits` (N, C) against integer class `labels` (N,), like
    `torch.nn.functional.cross_entropy` (also logits (C,) with one label).

    Fused and stable: the log-softmax is computed with the max subtracted, only the entries at
    the labels are read, and the backward pass is the one-line (softmax - one_hot) / N instead
    of a chain of exp, sum, log and indexing nodes. `reduction` is 'mean', 'sum' or 'none'.
    """
    if logits.__class__ is not Tensor:
        logits = _as_input(logits, None, "cross_entropy", "logits")
    x = logits.data
    y = labels.data if isinstance(labels, Tensor) else _asarray(labels)
    _check_reduction("cross_entropy", reduction)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"cross_entropy: logits must have shape (N, C) or (C,), got shape {x.shape}"
        )
    if y.shape != x.shape[:-1]:
        raise ValueError(
            f"cross_entropy: logits of shape {x.shape} need labels of shape {x.shape[:-1]}, "
            f"got labels of shape {y.shape}"
        )
    if y.dtype.kind not in "iu":
        raise ValueError(
            f"cross_entropy: labels must be integer class indices, got dtype {y.dtype}"
        )
    classes = x.shape[-1]
    # One pass checks both ends: read as unsigned, a negative label becomes a huge number.
    unsigned = y if y.dtype.kind == "u" else y.view(_UNSIGNED[y.dtype.itemsize])
    if y.size and _max_reduce(unsigned, axis=None) >= classes:
        flat = y.reshape(-1)
        where = int(np.flatnonzero((flat < 0) | (flat >= classes))[0])
        position = f" at position {where}" if y.ndim else ""
        raise ValueError(
            f"cross_entropy: label {flat[where]}{position} is out of range for "
            f"{classes} classes (valid labels are 0..{classes - 1})"
        )
    z = x - _max_reduce(x, axis=-1, keepdims=True)
    e = np.exp(z)
    total = _add_reduce(e, axis=-1, keepdims=True)
    if x.ndim == 2:
        nll = np.log(total[:, 0]) - z[_rows(len(y)), y]  # -log softmax at the labels
    else:
        nll = np.log(total[0]) - z[y]
    return _unary(_reduced(nll, reduction), "cross_entropy", logits, (y, e, total, reduction))


def binary_cross_entropy_with_logits(
    logits: Tensor, labels: Any, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of raw scores against labels in [0, 1], as one stable node, like
    `torch.nn.functional.binary_cross_entropy_with_logits`.

    Per element `log(1 + e^x) - x*y` (= -[y log s(x) + (1-y) log(1-s(x))]), with
    `log(1 + e^x)` from `np.logaddexp(0, x)`, which never overflows; the gradient is the
    one-line `sigmoid(x) - y`. `labels` must have the logits' shape.
    """
    if logits.__class__ is not Tensor:
        logits = _as_input(logits, None, "binary_cross_entropy_with_logits", "logits")
    x = logits.data
    y = labels.data if isinstance(labels, Tensor) else _asarray(labels, dtype=x.dtype)
    who = "binary_cross_entropy_with_logits"
    _check_reduction(who, reduction)
    if y.shape != x.shape:
        raise ValueError(
            f"{who}: logits of shape {x.shape} need labels of the same shape, got {y.shape}"
        )
    terms = np.logaddexp(0, x) - x * y
    return _unary(_reduced(terms, reduction), "bce_with_logits", logits, (y, reduction))


def _check_reduction(who: str, reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduced(terms: np.ndarray, reduction: str) -> Any:
    """A loss's per-element `terms` as `reduction` asks: as they are ('none'), their sum, or
    their mean (0-d results: numpy's scalars, which `_unary` turns into arrays)."""
    if reduction == "none":
        return terms
    loss = _add_reduce(terms, axis=None)
    if reduction == "mean":
        loss = loss / terms.dtype.type(max(terms.size, 1))
    return loss


def _d_linear(out: Tensor) -> None:  # out = x @ W.T + b
    args = out._args
    x, W = args[0], args[1]
    g = out.grad
    g2, X2 = g, x.data
    if g.ndim != 2:  # one sample, or extra batch axes: flatten them into one batch axis
        g2 = g.reshape(-1, g.shape[-1])
        X2 = X2.reshape(-1, X2.shape[-1])
    if W.requires_grad:  # d/dW = G^T @ x
        _add_grad(W, _dot(g2.T, X2))
    if len(args) == 3 and args[2].requires_grad:  # d/db = G summed over the batch
        # as a product with a row of ones: BLAS sums the columns several times faster
        # than numpy's sum(axis=0) does on a small batch
        _add_grad(args[2], _dot(_ones(len(g2), g2.dtype), g2))
    if x.requires_grad:  # d/dx = G @ W
        _add_grad(x, _dot(g, W.data))


def _d_cross_entropy(out: Tensor) -> None:  # d(-log softmax_y)/dlogits = softmax - one_hot(y)
    y, e, total, reduction = out._ctx
    g = out.grad
    if reduction == "mean" and y.ndim:
        g = g / g.dtype.type(max(y.size, 1))
    elif reduction == "none" and y.ndim:
        g = g[:, None]
    grad = e * (g / total)  # g times the softmax, in one pass over the logits
    if y.ndim:
        grad[_rows(len(y)), y] -= g if reduction != "none" else g[:, 0]
    else:
        grad[y] -= g
    _add_grad(out._args[0], grad)


def _d_bce_with_logits(out: Tensor) -> None:  # d(log(1 + e^x) - x*y)/dx = sigmoid(x) - y
    x = out._args[0]
    y, reduction = out._ctx
    g = out.grad
    if reduction == "mean":
        g = g / g.dtype.type(max(y.size, 1))
    _add_grad(x, (_sigmoid(x.data) - y) * g)


RULES.update(
    {
        "linear": _d_linear,
        "cross_entropy": _d_cross_entropy,
        "bce_with_logits": _d_bce_with_logits,
    }
)

# The other functional ops, each in its module with its rules: reachable from here too, as
# from torch.nn.functional.
from .conv import conv2d, max_pool2d  # noqa: E402
from .embedding import dropout, embedding  # noqa: E402
from .norm import batch_norm, layer_norm  # noqa: E402

__all__ += ["batch_norm", "conv2d", "dropout", "embedding", "layer_norm", "max_pool2d"]
