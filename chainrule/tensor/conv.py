"""Convolution and max pooling on the tensor engine: `conv2d` and `max_pool2d`, as
`torch.nn.functional` has them, each one node of the graph with a backward pass written by hand.

Images are NCHW, PyTorch's layout: (batch, channels, height, width); one image (C, H, W) is
taken too. A convolution is turned into ONE matrix product by im2col ("image to columns"): every
k x k patch the kernel visits is copied out as a column, so sliding the kernel over the image
becomes multiplying the weight matrix by the matrix of patches. numpy's BLAS then does all the
arithmetic, and the Python cost is a handful of array operations per layer, however large the
batch. The derivation of each backward pass is written next to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import grad_mode
from .grads import _add_grad, _ones
from .nodes import _as_input
from .rules import RULES
from .tensor import Tensor, _node, _unary

__all__ = ["conv2d", "conv_output_size", "max_pool2d", "pair"]

_dot = np.dot


def pair(value: Any, what: str) -> tuple[int, int]:
    """An int or a pair of ints (height, width), as PyTorch's `kernel_size=3` or `(3, 5)`."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
    ):
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    return int(items[0]), int(items[1])


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many positions a kernel takes along one axis: floor((size + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def _batched(x: Tensor, who: str, shape_hint: str) -> tuple[Tensor, bool]:
    """(x as a batch (N, C, H, W), whether it was one image (C, H, W) to be unbatched)."""
    if x.ndim == 4:
        return x, False
    if x.ndim == 3:
        return x.reshape((1, *x.shape)), True
    raise ValueError(f"{who}: expected input of shape {shape_hint}, got {x.shape}")


def _padded(x: np.ndarray, ph: int, pw: int, fill: float = 0.0) -> np.ndarray:
    """x with `ph` rows and `pw` columns of `fill` on each side of the last two axes, laid out
    channel-major in memory, as the convolutions here produce and read their arrays."""
    if not ph and not pw:
        return x
    N, C, H, W = x.shape
    out = np.full((C, N, H + 2 * ph, W + 2 * pw), fill, x.dtype).transpose(1, 0, 2, 3)
    out[:, :, ph : ph + H, pw : pw + W] = x
    return out


def _window(i: int, j: int, sh: int, sw: int, OH: int, OW: int) -> tuple[Any, ...]:
    """The index of the pixels that kernel offset (i, j) meets at every output position."""
    rows = slice(i, i + sh * (OH - 1) + 1, sh)
    columns = slice(j, j + sw * (OW - 1) + 1, sw)
    return (slice(None), slice(None), rows, columns)


# -- convolution ------------------------------------------------------------------------------


def conv2d(
    input: Any,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """2-D convolution (cross-correlation, as in every deep-learning library), like
    `torch.nn.functional.conv2d` without dilation and groups.

    `input` (N, C, H, W) or (C, H, W); `weight` (O, C, KH, KW); `bias` (O,) or None. The
    output is (N, O, OH, OW) with OH = floor((H + 2*padding - KH) / stride) + 1, and so OW.

    The forward pass, with xp the input padded with zeros:

        out[n, o, p, q] = b[o] + sum_{c,i,j} W[o, c, i, j] * xp[n, c, s*p + i, s*q + j]

    im2col copies every patch into a column, cols[(c,i,j), (n,p,q)] = xp[n, c, s*p+i, s*q+j]
    (the patches of the whole batch side by side), so that with W2 = W reshaped to
    (O, C*KH*KW) the whole sum is ONE matrix product, out = W2 @ cols + b, of shape
    (O, N*OH*OW), then moved to (N, O, OH, OW).
    """
    who = "conv2d"
    x = _as_input(input, weight, who)
    sh, sw = pair(stride, f"{who}: stride")
    ph, pw = pair(padding, f"{who}: padding")
    if sh < 1 or sw < 1 or ph < 0 or pw < 0:
        raise ValueError(
            f"{who}: stride must be >= 1 and padding >= 0, got {stride!r} and {padding!r}"
        )
    if weight.ndim != 4:
        raise ValueError(f"{who}: weight must have shape (O, C, KH, KW), got {weight.shape}")
    O, C, KH, KW = weight.shape
    x4, one = _batched(x, who, f"(N, {C}, H, W) or ({C}, H, W)")
    N, Cx, H, W = x4.shape
    if Cx != C:
        raise ValueError(
            f"{who}: expected input of shape (N, {C}, H, W) (weight {weight.shape} takes {C} "
            f"channels), got {x.shape}"
        )
    if bias is not None and bias.shape != (O,):
        raise ValueError(f"{who}: bias must have shape ({O},), got {bias.shape}")
    OH, OW = conv_output_size(H, KH, sh, ph), conv_output_size(W, KW, sw, pw)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{who}: the {KH}x{KW} kernel does not fit the input of size {H}x{W} with padding "
            f"{(ph, pw)}"
        )
    Hp, Wp = H + 2 * ph, W + 2 * pw
    # The first layer of a network (an input that needs no gradient) keeps the plain layout:
    # its backward pass is only the weights', which would pay for the wide rows and gain
    # nothing from them.
    weights_only = grad_mode.enabled and not x4.requires_grad
    if (sh, sw) == (1, 1) and not weights_only:
        # Stride 1: each image flattened row after row, the kernel offset (i, j) meets the
        # pixels i*Wp + j + (p*Wp + q): one contiguous run of OH*Wp pixels per image if the
        # output is computed at all Wp columns of each row, OW of them real and the rest
        # (wrapping past the row's end) thrown away. Contiguous copies are several times
        # faster than OH*OW-sized strided ones; the extra columns cost Wp/OW more products.
        flat = np.zeros((C, N, Hp * Wp + KW - 1), x4.dtype)  # the tail: the last run's end
        flat[:, :, : Hp * Wp].reshape(C, N, Hp, Wp)[:, :, ph : ph + H, pw : pw + W] = (
            x4.data.transpose(1, 0, 2, 3)
        )
        cols = np.empty((C, KH, KW, N, OH * Wp), x4.dtype)
        for i in range(KH):
            for j in range(KW):
                start = i * Wp + j
                cols[:, i, j] = flat[:, :, start : start + OH * Wp]
        width = Wp
    else:
        xp = _padded(x4.data, ph, pw).transpose(1, 0, 2, 3)  # (C, N, H, W): channel-major
        cols = np.empty((C, KH, KW, N, OH, OW), xp.dtype)
        for i in range(KH):  # KH*KW strided copies: each moves a whole batch of pixels
            for j in range(KW):
                cols[:, i, j] = xp[_window(i, j, sh, sw, OH, OW)]
        width = OW
    cols = cols.reshape(C * KH * KW, N * OH * width)
    out = _dot(weight.data.reshape(O, C * KH * KW), cols)  # (O, N*OH*width)
    if bias is not None:
        out += bias.data[:, None]
    # (N, O, OH, OW) as a view: the memory stays channel-major, which is the order the next
    # layer's im2col reads and this layer's backward pass wants its gradient in (no copies).
    out = out.reshape(O, N, OH, width)[:, :, :, :OW].transpose(1, 0, 2, 3)
    ctx = (cols, (N, C, Hp, Wp), (sh, sw), (ph, pw), width)
    args = (x4, weight) if bias is None else (x4, weight, bias)
    result = _node(out, "conv2d", args, ctx)
    return result.reshape(out.shape[1:]) if one else result


def _d_conv2d(out: Tensor) -> None:
    """The backward pass of `conv2d`.

    out = W2 @ cols + b is a matrix product plus a bias, so its rule is the matmul rule.
    With G = dL/dout laid out like the product, (O, N*OH*OW):

        dL/dW2   = G @ cols^T     (O, C*KH*KW), reshaped to W's shape
        dL/db[o] = sum over the batch and the positions of G[o]
        dL/dcols = W2^T @ G       (C*KH*KW, N*OH*OW)

    and col2im sends each column's gradient back to the pixel it was copied from: a pixel
    that appeared in several patches (every pixel does when the stride is smaller than the
    kernel) collects the sum, dxp[n, c, s*p+i, s*q+j] += dcols[(c,i,j), (n,p,q)]. Cutting
    the padding off dxp gives dL/dx.
    """
    args = out._args
    x, weight = args[0], args[1]
    cols, (N, C, Hp, Wp), (sh, sw), (ph, pw), width = out._ctx
    O, OH, OW = out.data.shape[1:]
    rows = width != OW  # the stride-1 layout: outputs at all Wp columns of a row
    if rows:  # the thrown-away columns get a zero gradient, so they add nothing below
        G = np.empty((O, N, OH, Wp), out.grad.dtype)
        G[:, :, :, :OW] = out.grad.transpose(1, 0, 2, 3)
        G[:, :, :, OW:] = 0
        G = G.reshape(O, N * OH * Wp)
    else:
        G = np.ascontiguousarray(out.grad.transpose(1, 0, 2, 3)).reshape(O, N * OH * OW)
    if weight.requires_grad:
        _add_grad(weight, _dot(G, cols.T).reshape(weight.data.shape))
    if len(args) == 3 and args[2].requires_grad:
        _add_grad(args[2], _dot(G, _ones(G.shape[1], G.dtype)))
    if x.requires_grad:
        KH, KW = weight.data.shape[2:]
        dcols = _dot(weight.data.reshape(O, -1).T, G).reshape(C, KH, KW, N, OH * width)
        if rows:  # col2im as KH*KW contiguous runs, the forward pass's copies in reverse
            flat = np.zeros((C, N, Hp * Wp + KW - 1), dcols.dtype)
            for i in range(KH):
                for j in range(KW):
                    start = i * Wp + j
                    flat[:, :, start : start + OH * Wp] += dcols[:, i, j]
            dxp = flat[:, :, : Hp * Wp].reshape(C, N, Hp, Wp)
        else:
            dcols = dcols.reshape(C, KH, KW, N, OH, OW)
            dxp = np.zeros((C, N, Hp, Wp), dcols.dtype)
            for i in range(KH):
                for j in range(KW):
                    dxp[_window(i, j, sh, sw, OH, OW)] += dcols[:, i, j]
        dx = dxp[:, :, ph : Hp - ph, pw : Wp - pw].transpose(1, 0, 2, 3)
        _add_grad(x, dx)


# -- max pooling ------------------------------------------------------------------------------


def max_pool2d(
    input: Any,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """The largest value of each window, like `torch.nn.functional.max_pool2d` (no dilation,
    no ceil_mode): `stride` defaults to `kernel_size`, and the padding (at most half the
    kernel, as in PyTorch) is -inf, so it is never the maximum.

    Computed as a running maximum over the KH*KW kernel offsets, each one strided slice of the
    whole batch, so a 2x2 pool is three `np.maximum` calls on quarter-size arrays.
    """
    who = "max_pool2d"
    x = _as_input(input, None, who)
    KH, KW = pair(kernel_size, f"{who}: kernel_size")
    sh, sw = (KH, KW) if stride is None else pair(stride, f"{who}: stride")
    ph, pw = pair(padding, f"{who}: padding")
    if min(KH, KW, sh, sw) < 1 or ph < 0 or pw < 0:
        raise ValueError(f"{who}: kernel_size and stride must be >= 1 and padding >= 0")
    if 2 * ph > KH or 2 * pw > KW:
        raise ValueError(
            f"{who}: padding {(ph, pw)} must be at most half the kernel size {(KH, KW)}"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: expected a float input, got dtype {x.dtype}")
    x4, one = _batched(x, who, "(N, C, H, W) or (C, H, W)")
    N, C, H, W = x4.shape
    OH, OW = conv_output_size(H, KH, sh, ph), conv_output_size(W, KW, sw, pw)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{who}: the {KH}x{KW} window does not fit the input of size {H}x{W} "
            f"(input shape {x.shape})"
        )
    xp = _padded(x4.data, ph, pw, -np.inf)
    offsets = [(i, j) for i in range(KH) for j in range(KW)]
    first = xp[_window(0, 0, sh, sw, OH, OW)]
    if len(offsets) == 1:
        out = first.copy()
    else:
        out = np.maximum(first, xp[_window(*offsets[1], sh, sw, OH, OW)])
        for i, j in offsets[2:]:
            np.maximum(out, xp[_window(i, j, sh, sw, OH, OW)], out=out)
    result = _unary(out, "max_pool2d", x4, (xp, (KH, KW), (sh, sw), (ph, pw)))
    return result.reshape(out.shape[1:]) if one else result


def _d_max_pool2d(out: Tensor) -> None:
    """The backward pass of `max_pool2d`: each window's gradient goes to its maximum.

    out[n, c, p, q] = max_{i,j} xp[n, c, s*p + i, s*q + j], so d out / d xp is 1 at the
    element that is the maximum and 0 elsewhere. Where several elements of a window tie, the
    first in row-major order takes it all, as PyTorch does (it records that element's index):
    the offsets are visited in that order, and an output already served is skipped. Windows
    that overlap (stride < kernel) add their gradients into the same pixel; windows that tile
    the input (stride = kernel, the usual pool) write each pixel once, straight into place,
    and the last offset takes every output not yet served without a comparison.
    """
    x = out._args[0]
    xp, (KH, KW), (sh, sw), (ph, pw) = out._ctx
    m, g = out.data, out.grad
    if g.strides != m.strides:  # bring the gradient into m's memory order once (one pass)
        g = _in_order_of(m, g)
    OH, OW = m.shape[2], m.shape[3]
    tiled = (sh, sw) == (KH, KW) and not ph and not pw
    covered = tiled and xp.shape[2] == OH * KH and xp.shape[3] == OW * KW
    # laid out in memory as the input is (channel-major after a convolution), so the strided
    # writes below and the layers before this one read it in order
    dxp = (np.empty_like if covered else np.zeros_like)(xp, g.dtype)
    offsets = [(i, j) for i in range(KH) for j in range(KW)]
    hit = np.empty_like(m, bool)  # in the same memory order as m: one pass, in order
    free = None  # outputs whose gradient is still to be placed (None: all of them)
    for k, (i, j) in enumerate(offsets):
        window = _window(i, j, sh, sw, OH, OW)
        if tiled and k == len(offsets) - 1 and free is not None:
            hit = free  # the maximum of a window nobody else claimed is here
        else:
            np.equal(xp[window], m, out=hit)
            if free is not None:
                hit &= free
        if tiled:
            np.multiply(g, hit, out=dxp[window])
        else:
            dxp[window] += g * hit
        if free is None:
            free = ~hit
        elif hit is not free:
            free ^= hit
    H, W = xp.shape[2] - 2 * ph, xp.shape[3] - 2 * pw
    _add_grad(x, dxp[:, :, ph : ph + H, pw : pw + W])


def _in_order_of(like: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A copy of `a` laid out in memory as `like` is: the elementwise passes that combine
    them then walk both in order, instead of one of them across its strides."""
    out = np.empty_like(like, a.dtype)
    np.copyto(out, a)
    return out


RULES.update({"conv2d": _d_conv2d, "max_pool2d": _d_max_pool2d})
