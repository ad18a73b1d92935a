"""The functional ops, as `torch.nn.functional` has them: each one fused node of the graph,
where the composition of smaller ops would cost more nodes, arrays and passes (and, for the
losses, lose numerical stability).

* `linear`, `cross_entropy`, `binary_cross_entropy_with_logits`: a layer and the two losses;
* `conv2d`, `max_pool2d`: images are NCHW, PyTorch's layout: (batch, channels, height, width);
  one image (C, H, W) is taken too. A convolution is turned into ONE matrix product by im2col
  ("image to columns"): every k x k patch the kernel visits is copied out as a column, so
  sliding the kernel over the image becomes multiplying the weight matrix by the matrix of
  patches. numpy's BLAS then does all the arithmetic;
* `batch_norm`, `layer_norm`: xhat = (x - mean) / sqrt(var + eps) over some axes, then
  weight * xhat + bias. BatchNorm averages each feature over the batch (so evaluation needs
  running statistics instead), LayerNorm each sample over its own features;
* `embedding` (indexing, with its gradient summed into the table in one step) and `dropout`
  (a random mask kept for the backward pass).

Each op's vector-Jacobian product sits after it, registered in `VJPS` by the op's name: written
with operations that arrays and Tensors both have where that is all it takes (then it also
serves `backward(create_graph=True)`), and on arrays only (`ARRAY_ONLY`) for the convolution,
the pooling and the normalisations, whose steps are in-place numpy passes. The derivation of
each step is written next to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import ops
from ..autograd import grad_mode
from .arrays import ones, rows
from .tensor import ARRAY_ONLY, VJPS, Tensor, _as_input, _binary, _node, _scatter, _unary, _values

__all__ = [
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "conv_output_size",
    "cross_entropy",
    "dropout",
    "embedding",
    "layer_norm",
    "linear",
    "max_pool2d",
    "pair",
]

Pairs = Iterator[tuple[Tensor, Any]]
_asarray = np.asarray
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce
_dot = np.dot
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_GENERATOR = np.random.default_rng()  # dropout's masks when no generator is given
_ONE_HOT_LIMIT = 1 << 18  # table rows x picks up to which the gradient is a one-hot product


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
        nll = np.log(total[:, 0]) - z[rows(len(y)), y]  # -log softmax at the labels
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


def _vjp_linear(node: Tensor, g: Any) -> Pairs:  # out = x @ W.T + b
    args = node._args
    x, W = args[0], args[1]
    (X, Wv, *_), _ = _values(node, g)
    if x.requires_grad:  # d/dx = G @ W
        yield x, g @ Wv
    g2, X2 = g, X
    if g.ndim != 2:  # one sample, or extra batch axes: flatten them into one batch axis
        g2 = g.reshape(-1, g.shape[-1])
        X2 = X2.reshape(-1, X2.shape[-1])
    if W.requires_grad:  # d/dW = G^T @ x
        yield W, g2.T @ X2
    if len(args) == 3 and args[2].requires_grad:  # d/db = G summed over the batch
        # as a product with a row of ones: BLAS sums the columns several times faster
        # than numpy's sum(axis=0) does on a small batch
        yield args[2], ones(len(g2), g2.dtype) @ g2


def _vjp_cross_entropy(node: Tensor, g: Any) -> Pairs:  # (softmax - one_hot(y)) · g
    logits = node._args[0]
    y, e, total, reduction = node._ctx
    if reduction == "mean" and y.ndim:
        g = g / max(y.size, 1)
    elif reduction == "none" and y.ndim:
        g = g.reshape(-1, 1)
    # the softmax the forward pass computed, or as a node when the step is recorded
    p = logits.softmax(-1) if g.__class__ is Tensor else e / total
    one_hot = np.zeros(e.shape, e.dtype)
    one_hot[(rows(len(y)), y) if y.ndim else y] = 1
    yield logits, (p - one_hot) * g


def _vjp_bce_with_logits(node: Tensor, g: Any) -> Pairs:  # (sigmoid(x) - y) · g
    y, reduction = node._ctx
    (x,), _ = _values(node, g)
    if reduction == "mean":
        g = g / max(y.size, 1)
    yield node._args[0], (ops.SIGMOID(x) - y) * g


# -- convolution and pooling ----------------------------------------------------------------


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


def _vjp_conv2d(node: Tensor, g: Any) -> Pairs:
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
    args = node._args
    x, weight = args[0], args[1]
    cols, (N, C, Hp, Wp), (sh, sw), (ph, pw), width = node._ctx
    O, OH, OW = node.data.shape[1:]
    wide = width != OW  # the stride-1 layout: outputs at all Wp columns of a row
    if wide:  # the thrown-away columns get a zero gradient, so they add nothing below
        G = np.empty((O, N, OH, Wp), g.dtype)
        G[:, :, :, :OW] = g.transpose(1, 0, 2, 3)
        G[:, :, :, OW:] = 0
        G = G.reshape(O, N * OH * Wp)
    else:
        G = np.ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(O, N * OH * OW)
    if x.requires_grad:
        KH, KW = weight.data.shape[2:]
        dcols = _dot(weight.data.reshape(O, -1).T, G).reshape(C, KH, KW, N, OH * width)
        if wide:  # col2im as KH*KW contiguous runs, the forward pass's copies in reverse
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
        yield x, dx
    if weight.requires_grad:
        yield weight, _dot(G, cols.T).reshape(weight.data.shape)
    if len(args) == 3 and args[2].requires_grad:
        yield args[2], _dot(G, ones(G.shape[1], G.dtype))


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


def _vjp_max_pool2d(node: Tensor, g: Any) -> Pairs:
    """The backward pass of `max_pool2d`: each window's gradient goes to its maximum.

    out[n, c, p, q] = max_{i,j} xp[n, c, s*p + i, s*q + j], so d out / d xp is 1 at the
    element that is the maximum and 0 elsewhere. Where several elements of a window tie, the
    first in row-major order takes it all, as PyTorch does (it records that element's index):
    the offsets are visited in that order, and an output already served is skipped. Windows
    that overlap (stride < kernel) add their gradients into the same pixel; windows that tile
    the input (stride = kernel, the usual pool) write each pixel once, straight into place,
    and the last offset takes every output not yet served without a comparison.
    """
    x = node._args[0]
    xp, (KH, KW), (sh, sw), (ph, pw) = node._ctx
    m = node.data
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
    yield x, dxp[:, :, ph : ph + H, pw : pw + W]


def _in_order_of(like: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A copy of `a` laid out in memory as `like` is: the elementwise passes that combine
    them then walk both in order, instead of one of them across its strides."""
    out = np.empty_like(like, a.dtype)
    np.copyto(out, a)
    return out


# -- normalisation -------------------------------------------------------------------------


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
        return _dot(ones(len(a), a.dtype), a)
    return _add_reduce(a, axis=axes)


def _vjp_batch_norm(node: Tensor, g: Any) -> Pairs:
    """out = weight * xhat + bias, per channel, so with G = dL/dout:

        dL/dweight = sum over the batch of G * xhat       dL/dbias = sum of G
        dL/dxhat   = G * weight

    In evaluation the mean and variance are constants and dL/dx = G * weight * invstd. In
    training they are the batch's, so dL/dx is `_d_normalized`; its two sums are those of
    dL/dxhat and dL/dxhat * xhat, which are weight times the two sums above, so

        dL/dx = weight * invstd * (G - sum(G) / n - xhat * sum(G * xhat) / n)

    costs no reduction beyond those the weight and bias need anyway.
    """
    args = node._args
    x = args[0]
    xhat, invstd, axes, view, training, has_w, has_b = node._ctx
    w = args[1] if has_w else None
    b = args[1 + has_w] if has_b else None
    need_sums = training and x.requires_grad
    if (w is not None and w.requires_grad) or need_sums:
        gx_sum = _channel_sum(g * xhat, axes)
    if (b is not None and b.requires_grad) or need_sums:
        g_sum = _channel_sum(g, axes)
    if x.requires_grad:
        scale = invstd if w is None else invstd * w.data
        if training:
            inv_n = g.dtype.type(xhat.size // invstd.size) ** -1
            dx = g - (g_sum * inv_n).reshape(view)
            dx -= xhat * (gx_sum * inv_n).reshape(view)
            dx *= scale.reshape(view)
        else:
            dx = g * scale.reshape(view)
        yield x, dx
    if w is not None and w.requires_grad:
        yield w, gx_sum
    if b is not None and b.requires_grad:
        yield b, g_sum


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


def _vjp_layer_norm(node: Tensor, g: Any) -> Pairs:
    """out = weight * xhat + bias, elementwise over the normalised dimensions:

    dL/dweight = G * xhat summed over the leading (batch) axes,  dL/dbias = G summed so
    dL/dx      = `_d_normalized`(G * weight), the statistics being each sample's own.
    """
    args = node._args
    x = args[0]
    xhat, invstd, axes, has_w, has_b = node._ctx
    w = args[1] if has_w else None
    b = args[1 + has_w] if has_b else None
    lead = tuple(range(g.ndim - len(axes)))
    if x.requires_grad:
        dxhat = g if w is None else g * w.data
        yield x, _d_normalized(dxhat, xhat, invstd, axes)
    if w is not None and w.requires_grad:
        yield w, _add_reduce(g * xhat, axis=lead)
    if b is not None and b.requires_grad:
        yield b, _add_reduce(g, axis=lead)


# -- lookup and masking --------------------------------------------------------------------


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) picked by the integer `input` of any
    shape, like `torch.nn.functional.embedding`: the output has shape input.shape + (dim,).

    `padding_idx`: that row gets no gradient (it stays as it is, usually zeros). Indices must
    be integers in [0, num_embeddings), as in PyTorch; a float array is refused.
    """
    who = "embedding"
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"{who}: indices must be integers (token ids), got dtype {idx.dtype}; "
            "convert them with .astype(np.int64)"
        )
    if weight.ndim != 2:
        raise ValueError(f"{who}: weight must have shape (num_embeddings, dim), got {weight.shape}")
    num = weight.shape[0]
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= num:
            bad = low if low < 0 else high
            raise IndexError(
                f"{who}: index {bad} is out of range for {num} embeddings (valid: 0..{num - 1})"
            )
    return _unary(weight.data[idx], "embedding", weight, (idx, padding_idx))


def _vjp_embedding(node: Tensor, g: Any) -> Pairs:
    """out[..., :] = weight[idx[...], :], so row r of the table receives the sum of the
    gradients of every position that picked r (a token seen twice in a batch gets both):
    dL/dweight[r] = sum over positions with idx == r of G[position], that is
    onehot(idx)^T @ G. For a small table and batch (makemore's 27 characters) that product is
    the fastest way (one BLAS call); for a large one the rows are scattered (`np.add.at`)
    without making the one-hot matrix. The padding row gets no gradient."""
    weight = node._args[0]
    idx, padding_idx = node._ctx
    num, dim = weight.data.shape
    flat = idx.reshape(-1)
    g = g.reshape(-1, dim)
    if num * len(flat) > _ONE_HOT_LIMIT:
        if padding_idx is not None:
            g = g * (flat != padding_idx)[:, None].astype(g.dtype)
        yield weight, _scatter(g, flat, (num, dim))
        return
    one_hot = np.zeros((num, len(flat)), g.dtype)
    one_hot[flat, rows(len(flat))] = 1
    if padding_idx is not None:
        one_hot[padding_idx] = 0
    yield weight, one_hot @ g


def dropout(
    input: Any,
    p: float = 0.5,
    training: bool = True,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Zero each element with probability `p` and scale the others by 1 / (1 - p), like
    `torch.nn.functional.dropout` ("inverted" dropout: the expected value of every element is
    unchanged, so evaluation, training=False, returns the input as it is). `generator` draws
    the mask (a numpy Generator; default: this module's own).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = _as_input(input, None, "dropout")
    if not training or p == 0:
        return x
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: expected a float input, got dtype {x.dtype}")
    rng = _GENERATOR if generator is None else generator
    if p == 1:
        scale = np.zeros(x.shape, x.dtype)
    else:
        keep = rng.random(x.shape, dtype=np.float32) >= np.float32(p)
        scale = keep.astype(x.dtype)
        scale *= x.dtype.type(1 / (1 - p))
    return _node(x.data * scale, "dropout", (x,), scale)


def _vjp_dropout(node: Tensor, g: Any) -> Pairs:
    """out = x * scale (scale = mask / (1 - p), fixed in the forward pass): dL/dx = G * scale."""
    yield node._args[0], g * node._ctx


VJPS.update(
    {
        "linear": _vjp_linear,
        "cross_entropy": _vjp_cross_entropy,
        "bce_with_logits": _vjp_bce_with_logits,
        "conv2d": _vjp_conv2d,
        "max_pool2d": _vjp_max_pool2d,
        "batch_norm": _vjp_batch_norm,
        "layer_norm": _vjp_layer_norm,
        "embedding": _vjp_embedding,
        "dropout": _vjp_dropout,
    }
)
ARRAY_ONLY.update({"conv2d", "max_pool2d", "batch_norm", "layer_norm"})
