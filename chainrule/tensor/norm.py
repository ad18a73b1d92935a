"""Normalisation on the tensor engine: `batch_norm` and `layer_norm`, as `torch.nn.functional`
has them, each one fused node with its backward pass written by hand.

Both compute xhat = (x - mean) / sqrt(var + eps) over some axes and then weight * xhat + bias;
they differ in the axes. BatchNorm averages each feature over the batch (so a sample's output
depends on the other samples of its batch, and evaluation needs running statistics instead);
LayerNorm averages each sample over its own features. Written as a chain of small ops the
normalisation would cost a dozen nodes and arrays; as one node its gradient is the closed form
derived below, a few passes over the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .grads import _add_grad, _ones
from .nodes import _as_input
from .rules import RULES
from .tensor import Tensor, _node

__all__ = ["batch_norm", "layer_norm"]

_add_reduce = np.add.reduce
_dot = np.dot


def _data(t: Any) -> np.ndarray | None:
    return None if t is None else (t.data if isinstance(t, Tensor) else np.asarray(t))


def _affine(xhat: np.ndarray, w: np.ndarray | None, b: np.ndarray | None) -> np.ndarray:
    """weight * xhat + bias, into xhat's own array when it can (it is kept for backward)."""
    out = xhat * w if w is not None else xhat.copy()
    if b is not None:
        out += b
    return out


def _d_normalized(dxhat: np.ndarray, xhat: np.ndarray, invstd: np.ndarray, axes: Any) -> Any:
    """dL/dx of xhat = (x - mean(x)) * invstd, with mean and variance taken over `axes`.

    With n the number of elements averaged, d mean / dx_k = 1/n and d var / dx_k =
    2 (x_k - mean) / n; the chain rule through both gives, per group averaged together,

        dL/dx = invstd / n * (n * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

    (the two sums over `axes`): the gradient of xhat itself, less its mean, less its
    projection on xhat. This is the closed form Andrej Karpathy derives in makemore part 4.
    """
    n = xhat.size // invstd.size
    total = _add_reduce(dxhat, axis=axes, keepdims=True)
    projection = _add_reduce(dxhat * xhat, axis=axes, keepdims=True)
    dx = dxhat * xhat.dtype.type(n)
    dx -= total
    dx -= xhat * projection
    dx *= invstd / xhat.dtype.type(n)
    return dx


# -- BatchNorm --------------------------------------------------------------------------------


def batch_norm(
    input: Any,
    running_mean: Any,
    running_var: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation of `input` (N, C) or (N, C, L) per channel C, like
    `torch.nn.functional.batch_norm` (same arguments, same order).

    training=True: normalise with the batch's mean and (biased) variance over N (and L), and
    update `running_mean` / `running_var` in place, when given, as PyTorch does:
    running = (1 - momentum) * running + momentum * batch statistic, the variance's unbiased
    (times n / (n - 1)). training=False: normalise with the running statistics.
    """
    who = "batch_norm"
    x = _as_input(input, None, who)
    if x.ndim not in (2, 3):
        raise ValueError(f"{who}: expected input of shape (N, C) or (N, C, L), got {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: expected a float input, got dtype {x.dtype}")
    C = x.shape[1]
    axes: tuple[int, ...] = (0,) if x.ndim == 2 else (0, 2)
    view = (1, C) if x.ndim == 2 else (1, C, 1)  # a per-channel array against the batch
    rm, rv = _data(running_mean), _data(running_var)
    for name, t in (("running_mean", rm), ("running_var", rv), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (C,):
            raise ValueError(f"{who}: {name} must have shape ({C},), got {tuple(t.shape)}")
    X = x.data
    if training:
        n = X.size // C
        if n <= 1:
            raise ValueError(
                f"{who}: expected more than 1 value per channel when training, got input of "
                f"shape {x.shape}"
            )
        inv_n = X.dtype.type(1 / n)
        mean = _channel_sum(X, axes) * inv_n
        centred = X - mean.reshape(view)
        var = _channel_sum(centred * centred, axes) * inv_n  # biased, as in the forward pass
        if rm is not None:
            rm *= 1 - momentum
            rm += momentum * mean
        if rv is not None:
            rv *= 1 - momentum
            rv += (momentum * n / (n - 1)) * var  # unbiased, as PyTorch keeps it
    else:
        if rm is None or rv is None:
            raise ValueError(
                f"{who}: evaluation (training=False) needs running_mean and running_var"
            )
        centred = X - rm.reshape(view)
        var = rv
    invstd = (1.0 / np.sqrt(var + X.dtype.type(eps))).astype(X.dtype, copy=False)  # (C,)
    xhat = centred
    xhat *= invstd.reshape(view)
    w = None if weight is None else weight.data.reshape(view)
    b = None if bias is None else bias.data.reshape(view)
    out = _affine(xhat, w, b)
    args = tuple(t for t in (x, weight, bias) if t is not None)
    ctx = (xhat, invstd, axes, view, training, weight is not None, bias is not None)
    return _node(out, "batch_norm", args, ctx)


def _channel_sum(a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The sum per channel, shape (C,): for (N, C) a product with a row of ones, which BLAS
    does several times faster than numpy's sum(axis=0) on a small batch."""
    if len(axes) == 1:
        return _dot(_ones(len(a), a.dtype), a)
    return _add_reduce(a, axis=axes)


def _d_batch_norm(out: Tensor) -> None:
    """out = weight * xhat + bias, per channel, so with G = dL/dout:

        dL/dweight = sum over the batch of G * xhat       dL/dbias = sum of G
        dL/dxhat   = G * weight

    In evaluation the mean and variance are constants and dL/dx = G * weight * invstd. In
    training they are the batch's, so dL/dx is `_d_normalized`; its two sums are those of
    dL/dxhat and dL/dxhat * xhat, which are weight times the two sums above, so

        dL/dx = weight * invstd * (G - sum(G) / n - xhat * sum(G * xhat) / n)

    costs no reduction beyond those the weight and bias need anyway.
    """
    args = out._args
    x = args[0]
    xhat, invstd, axes, view, training, has_w, has_b = out._ctx
    g = out.grad
    w = args[1] if has_w else None
    b = args[1 + has_w] if has_b else None
    need_sums = training and x.requires_grad
    if (w is not None and w.requires_grad) or need_sums:
        gx_sum = _channel_sum(g * xhat, axes)
        if w is not None and w.requires_grad:
            _add_grad(w, gx_sum)
    if (b is not None and b.requires_grad) or need_sums:
        g_sum = _channel_sum(g, axes)
        if b is not None and b.requires_grad:
            _add_grad(b, g_sum)
    if x.requires_grad:
        scale = invstd if w is None else invstd * w.data
        if training:
            inv_n = g.dtype.type(xhat.size // invstd.size) ** -1
            dx = g - (g_sum * inv_n).reshape(view)
            dx -= xhat * (gx_sum * inv_n).reshape(view)
            dx *= scale.reshape(view)
        else:
            dx = g * scale.reshape(view)
        _add_grad(x, dx)


# -- LayerNorm --------------------------------------------------------------------------------


def layer_norm(
    input: Any,
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the last dimensions (`normalized_shape`), like
    `torch.nn.functional.layer_norm`: each sample is normalised with its own mean and
    (biased) variance, then scaled by `weight` and shifted by `bias` (both of that shape).
    The same in training and evaluation: there are no running statistics.
    """
    who = "layer_norm"
    x = _as_input(input, None, who)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if not k or x.shape[x.ndim - k :] != shape or x.ndim < k:
        raise ValueError(
            f"{who}: expected input of shape (*, {', '.join(map(str, shape))}) "
            f"(normalized_shape {shape}), got {x.shape}"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: expected a float input, got dtype {x.dtype}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"{who}: {name} must have shape {shape}, got {t.shape}")
    X = x.data
    axes = tuple(range(X.ndim - k, X.ndim))
    mean = X.mean(axis=axes, keepdims=True)
    xhat = X - mean
    var = np.mean(xhat * xhat, axis=axes, keepdims=True)
    invstd = (1.0 / np.sqrt(var + X.dtype.type(eps))).astype(X.dtype, copy=False)
    xhat *= invstd
    w = None if weight is None else weight.data
    out = _affine(xhat, w, None if bias is None else bias.data)
    args = tuple(t for t in (x, weight, bias) if t is not None)
    ctx = (xhat, invstd, axes, weight is not None, bias is not None)
    return _node(out, "layer_norm", args, ctx)


def _d_layer_norm(out: Tensor) -> None:
    """out = weight * xhat + bias, elementwise over the normalised dimensions:

    dL/dweight = G * xhat summed over the leading (batch) axes,  dL/dbias = G summed so
    dL/dx      = `_d_normalized`(G * weight), the statistics being each sample's own.
    """
    args = out._args
    x = args[0]
    xhat, invstd, axes, has_w, has_b = out._ctx
    g = out.grad
    w = args[1] if has_w else None
    b = args[1 + has_w] if has_b else None
    lead = tuple(range(g.ndim - len(axes)))
    if w is not None and w.requires_grad:
        _add_grad(w, _add_reduce(g * xhat, axis=lead))
    if b is not None and b.requires_grad:
        _add_grad(b, _add_reduce(g, axis=lead))
    if x.requires_grad:
        dxhat = g if w is None else g * w.data
        _add_grad(x, _d_normalized(dxhat, xhat, invstd, axes))


RULES.update({"batch_norm": _d_batch_norm, "layer_norm": _d_layer_norm})
