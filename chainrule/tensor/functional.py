"""The functional ops, as `torch.nn.functional` has them: each one fused node of the graph.

Fused, because the composition of smaller ops would cost more nodes, arrays and passes (and, for
the losses, lose numerical stability).

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

Each op's vector-Jacobian product sits after it, registered in `VJPS` by the op's name, and is
written once, with operations that arrays and Tensors both have: on arrays it is the training
step, on Tensors the recorded one of `backward(create_graph=True)`. Where a step is a numpy
loop (im2col's copies, pooling's masks), the loop and its adjoint are a pair of ops, each the
other's VJP (`_LOOPS`: im2col / col2im, unpool / pick), so the recorded step can be
differentiated again too. The derivation of each step is written next to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from ..autograd import grad_mode
from .arrays import kept_shape, ones, rows
from .tensor import (
    VJPS,
    Pairs,
    Tensor,
    _as_input,
    _binary,
    _dot,
    _like,
    _node,
    _permuted,
    _scatter,
    _unary,
)

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

_asarray = np.asarray
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_GENERATOR = np.random.default_rng()  # dropout's masks when no generator is given
_ONE_HOT_LIMIT = 1 << 18  # table rows x picks up to which the gradient is a one-hot product


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`x @ weight.T + bias` as ONE node, like `torch.nn.functional.linear`.

    Fusing the product and the bias saves a node, an array and a pass over the output, in the
    forward and the backward pass alike; the gradients are those of the two-op version.

    Args:
        x: The input, (..., in_features): a Tensor, an array or a list.
        weight: (out_features, in_features), PyTorch's layout.
        bias: (out_features,), or None for none.

    Returns:
        The output, (..., out_features).

    Raises:
        ValueError: The input's last dimension or the bias does not fit the weight.

    Examples:
        >>> from chainrule.tensor import Tensor, linear
        >>> w = Tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]], requires_grad=True)
        >>> y = linear(Tensor([[1.0, 1.0]]), w, Tensor([0.5, 0.5, 0.5]))
        >>> y.tolist()
        [[3.5, -0.5, 4.5]]
        >>> y.sum().backward()
        >>> w.grad.tolist()
        [[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]
    """
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
    """Softmax cross-entropy of `logits` against integer class `labels`, one fused node.

    Like `torch.nn.functional.cross_entropy`. Fused and stable: the log-softmax is computed with
    the max subtracted, only the entries at the labels are read, and the backward pass is the
    one-line (softmax - one_hot) / N instead of a chain of exp, sum, log and indexing nodes.

    Args:
        logits: (N, C) scores, or (C,) for one sample.
        labels: (N,) integer classes in 0..C-1 (one label for (C,) logits).
        reduction: 'mean', 'sum' or 'none' (the loss of each sample).

    Returns:
        The loss: one number, or (N,) for 'none'.

    Raises:
        ValueError: The shapes do not match, a label is not an integer in range, or the
            reduction is unknown.

    Examples:
        >>> from chainrule.tensor import Tensor, cross_entropy
        >>> logits = Tensor([[2.0, 0.0], [0.0, 0.0]], requires_grad=True)
        >>> loss = cross_entropy(logits, [0, 1])
        >>> round(loss.item(), 4)
        0.41
        >>> loss.backward()
        >>> logits.grad.round(3)
        array([[-0.06,  0.06],
               [ 0.25, -0.25]], dtype=float32)
    """
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
    """Binary cross-entropy of raw scores against labels in [0, 1], as one stable node.

    Like `torch.nn.functional.binary_cross_entropy_with_logits`. Per element
    `log(1 + e^x) - x*y` (= -[y log s(x) + (1-y) log(1-s(x))]), with `log(1 + e^x)` from
    `np.logaddexp(0, x)`, which never overflows; the gradient is the one-line `sigmoid(x) - y`.

    Args:
        logits: Raw scores, any shape.
        labels: Targets in [0, 1], of the logits' shape.
        reduction: 'mean', 'sum' or 'none' (the loss of each element).

    Returns:
        The loss: one number, or the logits' shape for 'none'.

    Raises:
        ValueError: The shapes differ or the reduction is unknown.

    Examples:
        >>> from chainrule.tensor import Tensor, binary_cross_entropy_with_logits
        >>> loss = binary_cross_entropy_with_logits(Tensor([0.0, 0.0]), [1.0, 0.0])
        >>> round(loss.item(), 4)
        0.6931
    """
    who = "binary_cross_entropy_with_logits"
    logits = _as_input(logits, None, who, "logits")
    x = logits.data
    y = labels.data if isinstance(labels, Tensor) else _asarray(labels, dtype=x.dtype)
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
    """A loss's per-element `terms` as `reduction` asks: as they are ('none'), summed or averaged.

    0-d results are numpy's scalars, which `_unary` turns into arrays.
    """
    if reduction == "none":
        return terms
    loss = _add_reduce(terms, axis=None)
    if reduction == "mean":
        loss = loss / terms.dtype.type(max(terms.size, 1))
    return loss


def _vjp_linear(node: Tensor, g: Any) -> Pairs:  # out = x @ W.T + b
    args = node._args
    x, W = args[0], args[1]
    if x.requires_grad:  # d/dx = G @ W
        yield x, _dot(g, _like(g, W))
    g2, X2 = g, _like(g, x)
    if g.ndim != 2:  # one sample, or extra batch axes: flatten them into one batch axis
        g2 = g.reshape(-1, g.shape[-1])
        X2 = X2.reshape(-1, X2.shape[-1])
    if W.requires_grad:  # d/dW = G^T @ x
        yield W, _dot(g2.T, X2)
    if len(args) == 3 and args[2].requires_grad:  # d/db = G summed over the batch
        # as a product with a row of ones: BLAS sums the columns several times faster
        # than numpy's sum(axis=0) does on a small batch
        yield args[2], _dot(ones(len(g2), g2.dtype), g2)


def _vjp_cross_entropy(node: Tensor, g: Any) -> Pairs:  # (softmax - one_hot(y)) · g
    logits = node._args[0]
    y, e, total, reduction = node._ctx
    if reduction == "mean" and y.ndim:
        g = g / max(y.size, 1)
    elif reduction == "none" and y.ndim:
        g = g.reshape(-1, 1)
    # g times the softmax the forward pass computed, or the softmax as a node when the step
    # is recorded
    pg = logits.softmax(-1) * g if g.__class__ is Tensor else e * (g / total)
    one_hot = np.zeros(e.shape, e.dtype)
    one_hot[(rows(len(y)), y) if y.ndim else y] = 1
    yield logits, pg - one_hot * g


def _vjp_bce_with_logits(node: Tensor, g: Any) -> Pairs:  # (sigmoid(x) - y) · g
    y, reduction = node._ctx
    if reduction == "mean":
        g = g / max(y.size, 1)
    yield node._args[0], (ops.SIGMOID(_like(g, node._args[0])) - y) * g


# -- convolution and pooling ----------------------------------------------------------------


def pair(value: Any, what: str, low: int = 0) -> tuple[int, int]:
    """An int or a pair of ints (height, width), as PyTorch's `kernel_size=3` or `(3, 5)`.

    Args:
        value: An int (both), or a tuple or list of two ints.
        what: What it is, for the error message.
        low: The least value allowed.

    Returns:
        (height, width).

    Raises:
        ValueError: Not an int or a pair of ints, or below `low`.

    Examples:
        >>> from chainrule.tensor.functional import pair
        >>> pair(3, "kernel_size"), pair([2, 1], "stride", low=1)
        ((3, 3), (2, 1))
    """
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items
    ):
        raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
    if min(items) < low:
        raise ValueError(f"{what} must be >= {low}, got {value!r}")
    return int(items[0]), int(items[1])


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many positions a kernel takes along one axis: floor((size + 2p - k) / s) + 1.

    Args:
        size: The input's length along the axis.
        kernel: The kernel's.
        stride: The step between positions.
        padding: The zeros added on each side.

    Returns:
        The output's length along the axis (below 1: the kernel does not fit).

    Examples:
        >>> from chainrule.tensor.functional import conv_output_size
        >>> conv_output_size(28, 3, 1, 1), conv_output_size(28, 2, 2, 0)
        (28, 14)
    """
    return (size + 2 * padding - kernel) // stride + 1


def _pool_sizes(
    who: str, kernel_size: Any, stride: Any, padding: Any
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """The kernel, stride and padding of a max pool, checked; `who` starts the messages.

    The stride defaults to the kernel; the padding (-inf) may be at most half the kernel, as in
    PyTorch, so that every window holds a real element.
    """
    kernel = pair(kernel_size, f"{who} kernel_size", 1)
    steps = kernel if stride is None else pair(stride, f"{who} stride", 1)
    pad = pair(padding, f"{who} padding")
    if 2 * pad[0] > kernel[0] or 2 * pad[1] > kernel[1]:
        raise ValueError(f"{who} padding {pad} must be at most half the kernel size {kernel}")
    return kernel, steps, pad


def _batched(x: Tensor, who: str, shape_hint: str) -> tuple[Tensor, bool]:
    """(x as a batch (N, C, H, W), whether it was one image (C, H, W) to be unbatched)."""
    if x.ndim == 4:
        return x, False
    if x.ndim == 3:
        return x.reshape((1, *x.shape)), True
    raise ValueError(f"{who}: expected input of shape {shape_hint}, got {x.shape}")


def _fitted(
    who: str, what: str, sizes: Any, channels: str, shape: tuple[int, ...]
) -> tuple[int, int]:
    """(OH, OW), the positions the kernel takes; a ValueError when it takes none.

    `sizes` is ((KH, KW), stride, padding), each a (height, width) pair.
    """
    (KH, KW), (sh, sw), (ph, pw) = sizes
    OH = conv_output_size(shape[-2], KH, sh, ph)
    OW = conv_output_size(shape[-1], KW, sw, pw)
    if OH < 1 or OW < 1:
        raise ValueError(
            f"{who}: the {KH}x{KW} {what} does not fit: expected input of shape "
            f"(N, {channels}, H, W) with H >= {KH - 2 * ph} and W >= {KW - 2 * pw}, got {shape}"
        )
    return OH, OW


def _padded(x: np.ndarray, ph: int, pw: int, fill: float = 0.0) -> np.ndarray:
    """`x` with `ph` rows and `pw` columns of `fill` on each side of the last two axes.

    Laid out channel-major in memory, as the convolutions here produce and read their arrays.
    """
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
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Like `torch.nn.functional.conv2d` without dilation and groups. The forward pass, with xp
    the input padded with zeros:

        out[n, o, p, q] = b[o] + sum_{c,i,j} W[o, c, i, j] * xp[n, c, s*p + i, s*q + j]

    im2col copies every patch into a column, cols[(c,i,j), (n,p,q)] = xp[n, c, s*p+i, s*q+j]
    (the patches of the whole batch side by side), so that with W2 = W reshaped to
    (O, C*KH*KW) the whole sum is ONE matrix product, out = W2 @ cols + b, of shape
    (O, N*OH*OW), then moved to (N, O, OH, OW).

    Args:
        input: Images (N, C, H, W), or one image (C, H, W).
        weight: The kernels, (O, C, KH, KW).
        bias: (O,), or None for none.
        stride: The step between kernel positions: an int or (height, width).
        padding: The zeros added on each side: an int or (height, width).

    Returns:
        (N, O, OH, OW), OH = floor((H + 2*padding - KH) / stride) + 1 and so OW; (O, OH, OW)
        for one image.

    Raises:
        ValueError: A shape does not fit, or the stride or the padding is out of range.

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor import Tensor, conv2d
        >>> image = Tensor(np.arange(9.0).reshape(1, 1, 3, 3))
        >>> conv2d(image, Tensor(np.ones((1, 1, 2, 2)))).tolist()
        [[[[8.0, 12.0], [20.0, 24.0]]]]
    """
    who = "conv2d"
    x = _as_input(input, weight, who)
    sh, sw = pair(stride, f"{who}: stride", 1)
    ph, pw = pair(padding, f"{who}: padding")
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
    OH, OW = _fitted(who, "kernel", ((KH, KW), (sh, sw), (ph, pw)), str(C), x.shape)
    # The first layer of a network (an input that needs no gradient) keeps the plain layout:
    # its backward pass is only the weights', which would pay for the wide rows and gain
    # nothing from them.
    weights_only = grad_mode.enabled and not x4.requires_grad
    wide = (sh, sw) == (1, 1) and not weights_only
    width = W + 2 * pw if wide else OW
    geometry = (N, C, H, W, KH, KW, sh, sw, ph, pw, OH, OW, width)
    cols = _im2col_array(x4.data, geometry)
    out = _dot(weight.data.reshape(O, C * KH * KW), cols)  # (O, N*OH*width)
    if bias is not None:
        out += bias.data[:, None]
    # (N, O, OH, OW) as a view: the memory stays channel-major, which is the order the next
    # layer's im2col reads and this layer's backward pass wants its gradient in (no copies).
    out = out.reshape(O, N, OH, width)[:, :, :, :OW].transpose(1, 0, 2, 3)
    args = (x4, weight) if bias is None else (x4, weight, bias)
    result = _node(out, "conv2d", args, (cols, geometry))
    return result.reshape(out.shape[1:]) if one else result


def _im2col_array(x: np.ndarray, geometry: tuple[int, ...]) -> np.ndarray:
    """The patches of the batch `x` (N, C, H, W) as columns, (C*KH*KW, N*OH*width).

    cols[(c,i,j), (n,p,q)] = xp[n, c, s*p+i, s*q+j], with xp the input padded with zeros.
    With stride 1 (`width` = the padded width Wp), each image is flattened row after row and
    the kernel offset (i, j) meets the pixels i*Wp + j + (p*Wp + q): one contiguous run of
    OH*Wp pixels per image if the output is computed at all Wp columns of each row, OW of
    them real and the rest (wrapping past the row's end) thrown away. Contiguous copies are
    several times faster than OH*OW-sized strided ones; the extra columns cost Wp/OW more
    products. Otherwise each offset is one strided copy of a whole batch of pixels.
    """
    N, C, H, W, KH, KW, sh, sw, ph, pw, OH, OW, width = geometry
    Hp, Wp = H + 2 * ph, W + 2 * pw
    if width != OW:  # the wide rows of stride 1 (with a 1-wide kernel both layouts agree)
        flat = np.zeros((C, N, Hp * Wp + KW - 1), x.dtype)  # the tail: the last run's end
        flat[:, :, : Hp * Wp].reshape(C, N, Hp, Wp)[:, :, ph : ph + H, pw : pw + W] = x.transpose(
            1, 0, 2, 3
        )
        cols = np.empty((C, KH, KW, N, OH * Wp), x.dtype)
        for i in range(KH):
            for j in range(KW):
                start = i * Wp + j
                cols[:, i, j] = flat[:, :, start : start + OH * Wp]
    else:
        xp = _padded(x, ph, pw).transpose(1, 0, 2, 3)  # (C, N, H, W): channel-major
        cols = np.empty((C, KH, KW, N, OH, OW), xp.dtype)
        for i in range(KH):
            for j in range(KW):
                cols[:, i, j] = xp[_window(i, j, sh, sw, OH, OW)]
    return cols.reshape(C * KH * KW, N * OH * width)


def _col2im_array(dcols: np.ndarray, geometry: tuple[int, ...]) -> np.ndarray:
    """The adjoint of `_im2col_array`: each column's gradient sent back to its pixel.

    A pixel that appeared in several patches (every pixel does when the stride
    is smaller than the kernel) collects the sum, dxp[n, c, s*p+i, s*q+j] +=
    dcols[(c,i,j), (n,p,q)]; cutting the padding off dxp gives dL/dx, (N, C, H, W).
    """
    N, C, H, W, KH, KW, sh, sw, ph, pw, OH, OW, width = geometry
    Hp, Wp = H + 2 * ph, W + 2 * pw
    if width != OW:  # the forward pass's runs, in reverse
        dcols = dcols.reshape(C, KH, KW, N, OH * Wp)
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
    return dxp[:, :, ph : Hp - ph, pw : Wp - pw].transpose(1, 0, 2, 3)


def _vjp_conv2d(node: Tensor, g: Any) -> Pairs:
    """The backward pass of `conv2d`.

    out = W2 @ cols + b is a matrix product plus a bias, so its rule is the matmul rule.
    With G = dL/dout laid out like the product, (O, N*OH*width), zero in the thrown-away
    columns of the stride-1 layout (so that they add nothing):

        dL/dW2   = G @ cols^T     (O, C*KH*KW), reshaped to W's shape
        dL/db[o] = sum over the batch and the positions of G[o]
        dL/dcols = W2^T @ G       (C*KH*KW, N*OH*width), and dL/dx = col2im(dL/dcols)

    Recorded (`create_graph=True`), cols is im2col(x) as a node, so that dL/dW2 is a
    function of x too.
    """
    args = node._args
    x, weight = args[0], args[1]
    cols, geometry = node._ctx
    N, C, H, W, KH, KW, sh, sw, ph, pw, OH, OW, width = geometry
    O = weight.data.shape[0]
    G = _permuted(g, (1, 0, 2, 3))
    if width != OW:
        G = _scatter(G, (slice(None), slice(None), slice(None), slice(0, OW)), (O, N, OH, width))
    G = G.reshape(O, N * OH * width)
    if x.requires_grad:
        yield x, _looped("col2im", _dot(_like(g, weight).reshape(O, -1).T, G), geometry)
    if weight.requires_grad:
        cols = _looped("im2col", x, geometry) if g.__class__ is Tensor else cols
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
    """The largest value of each window, like `torch.nn.functional.max_pool2d`.

    No dilation, no ceil_mode. The padding is -inf, so it is never the maximum. Computed as a
    running maximum over the KH*KW kernel offsets, each one strided slice of the whole batch,
    so a 2x2 pool is three `np.maximum` calls on quarter-size arrays.

    Args:
        input: Images (N, C, H, W), or one image (C, H, W); floats.
        kernel_size: The window: an int or (height, width).
        stride: The step between windows (default: the kernel size, windows that tile).
        padding: Added on each side, at most half the kernel (as in PyTorch).

    Returns:
        (N, C, OH, OW), or (C, OH, OW) for one image.

    Raises:
        ValueError: A size is out of range, or the window does not fit the input.
        TypeError: The input is not floating-point.

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor import Tensor, max_pool2d
        >>> max_pool2d(Tensor(np.arange(16.0).reshape(1, 4, 4)), 2).tolist()
        [[[5.0, 7.0], [13.0, 15.0]]]
    """
    who = "max_pool2d"
    x = _as_input(input, None, who)
    sizes = _pool_sizes(f"{who}:", kernel_size, stride, padding)
    (KH, KW), (sh, sw), (ph, pw) = sizes
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: expected a float input, got dtype {x.dtype}")
    x4, one = _batched(x, who, "(N, C, H, W) or (C, H, W)")
    N, C, H, W = x4.shape
    OH, OW = _fitted(who, "window", sizes, "C", x.shape)
    xp = _padded(x4.data, ph, pw, -np.inf)
    windows = [xp[_window(k // KW, k % KW, sh, sw, OH, OW)] for k in range(KH * KW)]
    out = np.maximum(windows[0], windows[1]) if len(windows) > 1 else windows[0].copy()
    for window in windows[2:]:
        np.maximum(out, window, out=out)
    result = _unary(out, "max_pool2d", x4, (xp, (KH, KW, sh, sw, ph, pw)))
    return result.reshape(out.shape[1:]) if one else result


def _vjp_max_pool2d(node: Tensor, g: Any) -> Pairs:
    """The backward pass of `max_pool2d`: each window's gradient goes to its maximum.

    out[n, c, p, q] = max_{i,j} xp[n, c, s*p + i, s*q + j], so d out / d xp is 1 at the
    element that is the maximum and 0 elsewhere (`_winners`): the step is "unpool", linear in
    the gradient, whose own VJP picks the winners' gradients again ("pick").
    """
    xp, pool = node._ctx
    yield node._args[0], _looped("unpool", g, (_winners(xp, node.data, pool), xp, pool))


def _winners(xp: np.ndarray, m: np.ndarray, pool: tuple[int, ...]) -> list[np.ndarray]:
    """For each kernel offset, the outputs whose maximum is there.

    Where several elements of a
    window tie, the first in row-major order takes it all, as PyTorch does (it records that
    element's index): the offsets are visited in that order, and an output already served is
    skipped. Windows that tile the input (stride = kernel, the usual pool) give the last
    offset every output not yet served, without a comparison.
    """
    KH, KW, sh, sw, ph, pw = pool
    OH, OW = m.shape[2], m.shape[3]
    tiled = (sh, sw) == (KH, KW) and not ph and not pw
    hits: list[np.ndarray] = []
    free = None  # outputs whose maximum is still to be found (None: all of them)
    for k in range(KH * KW):
        if tiled and k == KH * KW - 1 and free is not None:
            hits.append(free)
            break
        hit = np.empty_like(m, bool)  # in m's memory order: one pass, in order
        np.equal(xp[_window(k // KW, k % KW, sh, sw, OH, OW)], m, out=hit)
        if free is not None:
            hit &= free
            free ^= hit
        else:
            free = ~hit
        hits.append(hit)
    return hits


def _unpool_array(g: np.ndarray, how: tuple[Any, ...]) -> np.ndarray:
    """Each output's gradient put where its window's maximum was, (N, C, H, W).

    Windows that overlap (stride < kernel) add into the same pixel; windows that tile the input
    write each pixel once, straight into place.
    """
    hits, xp, (KH, KW, sh, sw, ph, pw) = how
    if g.strides != hits[0].strides:  # bring the gradient into the masks' memory order once
        g = _in_order_of(hits[0], g)
    OH, OW = g.shape[2], g.shape[3]
    tiled = (sh, sw) == (KH, KW) and not ph and not pw
    covered = tiled and xp.shape[2] == OH * KH and xp.shape[3] == OW * KW
    # laid out in memory as the input is (channel-major after a convolution), so the strided
    # writes below and the layers before this one read it in order
    dxp = (np.empty_like if covered else np.zeros_like)(xp, g.dtype)
    for k, hit in enumerate(hits):
        window = _window(k // KW, k % KW, sh, sw, OH, OW)
        if tiled:
            np.multiply(g, hit, out=dxp[window])
        else:
            dxp[window] += g * hit
    return dxp[:, :, ph : xp.shape[2] - ph, pw : xp.shape[3] - pw]


def _pick_array(dx: np.ndarray, how: tuple[Any, ...]) -> np.ndarray:
    """The adjoint of `_unpool_array`: each output takes the value at its window's maximum."""
    hits, _, (KH, KW, sh, sw, ph, pw) = how
    OH, OW = hits[0].shape[2], hits[0].shape[3]
    dxp = _padded(dx, ph, pw)
    out = np.zeros(hits[0].shape, dx.dtype)
    for k, hit in enumerate(hits):
        out += dxp[_window(k // KW, k % KW, sh, sw, OH, OW)] * hit
    return out


# The numpy loops whose steps are ops too, by name: (the loop on arrays, the op whose loop is
# its adjoint, and so its VJP). The recorded backward pass of a convolution or a pool is then
# made of these nodes, which can be differentiated again.
_LOOPS: dict[str, tuple[Callable[[np.ndarray, Any], np.ndarray], str]] = {
    "im2col": (_im2col_array, "col2im"),
    "col2im": (_col2im_array, "im2col"),
    "unpool": (_unpool_array, "pick"),
    "pick": (_pick_array, "unpool"),
}


def _looped(op: str, x: Any, ctx: Any) -> Any:
    """The loop of `op` (`_LOOPS`) on an array, or on a Tensor as a node of the graph."""
    loop = _LOOPS[op][0]
    if x.__class__ is Tensor:
        return _unary(loop(x.data, ctx), op, x, ctx)
    return loop(x, ctx)


def _vjp_looped(node: Tensor, g: Any) -> Pairs:  # a loop's VJP: the loop of its adjoint
    yield node._args[0], _looped(_LOOPS[node._op][1], g, node._ctx)


def _in_order_of(like: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A copy of `a` laid out in memory as `like` is.

    The elementwise passes that combine them then walk both in order, instead of one of them
    across its strides.
    """
    out = np.empty_like(like, a.dtype)
    np.copyto(out, a)
    return out


# -- normalisation -------------------------------------------------------------------------


def _data(t: Any) -> np.ndarray | None:
    return None if t is None else (t.data if isinstance(t, Tensor) else np.asarray(t))


def _normalized(
    op: str, x: Tensor, centred: np.ndarray, var: np.ndarray, eps: float, affine: tuple[Any, ...]
) -> Tensor:
    """The node of `batch_norm` or `layer_norm`: weight * xhat + bias, xhat = centred * invstd.

    `var` has the shape that broadcasts against x (one number per group normalised together);
    `affine` is (weight, bias, the shape they broadcast as, `axes`, `paxes`, `centre`), what
    the backward step (`_vjp_normalized`) needs besides xhat and invstd.
    """
    weight, bias, view, *rest = affine
    invstd = (1.0 / np.sqrt(var + x.dtype.type(eps))).astype(x.dtype, copy=False)
    xhat = centred
    xhat *= invstd
    out = xhat * weight.data.reshape(view) if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.data.reshape(view)
    args = tuple(t for t in (x, weight, bias) if t is not None)
    return _node(out, op, args, (xhat, invstd, *rest, eps, weight is not None))


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
    """Batch normalisation per channel C, like `torch.nn.functional.batch_norm`.

    Same arguments, same order. In training, each channel is normalised with the batch's mean
    and (biased) variance over N (and L), and the running statistics, when given, move towards
    them in place, as PyTorch does: running = (1 - momentum) * running + momentum * batch
    statistic, the variance's unbiased (times n / (n - 1)). In evaluation, the running
    statistics normalise.

    Args:
        input: (N, C) or (N, C, L), floats.
        running_mean: (C,) array or Tensor, or None (then training must be True).
        running_var: (C,) array or Tensor, or None.
        weight: (C,) scale, or None for none.
        bias: (C,) shift, or None for none.
        training: Normalise with the batch's statistics (and update the running ones).
        momentum: How far the running statistics move towards each batch's.
        eps: Added to the variance, so that a constant channel does not divide by 0.

    Returns:
        The normalised input, its shape.

    Raises:
        ValueError: A shape does not fit, training has one value per channel, or evaluation
            has no running statistics.
        TypeError: The input is not floating-point.

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor import Tensor, batch_norm
        >>> mean, var = np.zeros(1), np.ones(1)
        >>> batch_norm(Tensor([[1.0], [3.0]]), mean, var, training=True).data.round(4)
        array([[-1.],
               [ 1.]], dtype=float32)
        >>> mean, var
        (array([0.2]), array([1.1]))
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
        mean = _total(X, axes).reshape(C) * inv_n
        centred = X - mean.reshape(view)
        var = _total(centred * centred, axes).reshape(C) * inv_n  # biased, as the forward's
        # each running statistic moves by `momentum` towards the batch's (the variance
        # unbiased, as PyTorch keeps it)
        for stat, new, step in ((rm, mean, momentum), (rv, var, momentum * n / (n - 1))):
            if stat is not None:
                stat *= 1 - momentum
                stat += step * new
    else:
        if rm is None or rv is None:
            raise ValueError(
                f"{who}: evaluation (training=False) needs running_mean and running_var"
            )
        centred = X - rm.reshape(view)
        var = rv
    centre = None if training else rm.reshape(view).copy()  # type: ignore[union-attr]
    affine = (weight, bias, view, axes, axes, centre)
    return _normalized("batch_norm", x, centred, var.reshape(view), eps, affine)


# -- LayerNorm --------------------------------------------------------------------------------


def layer_norm(
    input: Any,
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the last dimensions, like `torch.nn.functional.layer_norm`.

    Each sample is normalised with its own mean and (biased) variance, then scaled and shifted.
    The same in training and evaluation: there are no running statistics.

    Args:
        input: (*, *normalized_shape), floats.
        normalized_shape: The last dimensions, normalised together: a size or a list of them.
        weight: The scale, of `normalized_shape`, or None for none.
        bias: The shift, of `normalized_shape`, or None for none.
        eps: Added to the variance, so that a constant sample does not divide by 0.

    Returns:
        The normalised input, its shape.

    Raises:
        ValueError: The input, the weight or the bias does not end in `normalized_shape`.
        TypeError: The input is not floating-point.

    Examples:
        >>> from chainrule.tensor import Tensor, layer_norm
        >>> layer_norm(Tensor([[1.0, 3.0], [2.0, 2.0]]), 2).data.round(4)
        array([[-1.,  1.],
               [ 0.,  0.]], dtype=float32)
    """
    who = "layer_norm"
    x = _as_input(input, None, who)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if not k or x.shape[x.ndim - k :] != shape or x.ndim < k:
        raise ValueError(
            f"{who}: expected input of shape (*, {', '.join(map(str, shape))}), got {x.shape}"
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
    affine = (weight, bias, shape, axes, tuple(range(X.ndim - k)), None)
    return _normalized("layer_norm", x, xhat, var, eps, affine)


def _total(a: Any, axes: tuple[int, ...]) -> Any:
    """The sum over `axes`, kept as axes of 1.

    Over the rows of a matrix (a batch), a product with a row of ones, which BLAS does several
    times faster than numpy's sum(axis=0).
    """
    if axes == (0,) and a.ndim == 2:
        return _dot(ones(len(a), a.dtype), a).reshape(1, -1)
    if a.__class__ is Tensor:
        return a.sum(axis=axes, keepdims=True)
    return _add_reduce(a, axis=axes, keepdims=True)


def _vjp_normalized(node: Tensor, g: Any) -> Pairs:
    """The step of `batch_norm` and `layer_norm`: out = weight * xhat + bias.

    With xhat = (x - mean) * invstd over `axes`, and the weight and bias repeated over `paxes`:

        dL/dweight = G * xhat and dL/dbias = G, each summed over `paxes`
        dL/dxhat   = G * weight

    With the mean and variance constants (BatchNorm evaluating, on its running statistics),
    dL/dx = dL/dxhat * invstd. With the batch's own: n the number of elements averaged,
    d mean / dx_k = 1/n and d var / dx_k = 2 (x_k - mean) / n, and the chain rule through both
    gives, per group averaged together,

        dL/dx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))

    the gradient of xhat itself, less its mean, less its projection on xhat: the closed form
    Andrej Karpathy derives in makemore part 4. BatchNorm's weight is constant where the means
    are taken, so it is factored out of them, and the two sums are those its weight and bias
    need anyway. Recorded (`create_graph=True`), xhat and
    invstd are computed again from x as Tensors, so that the step's own derivative sees them
    depend on x.
    """
    args = node._args
    x = args[0]
    xhat, invstd, axes, paxes, centre, eps, has_w = node._ctx
    batch = centre is None  # normalised with the batch's own statistics
    if g.__class__ is Tensor:
        if batch:
            centre = x.mean(axis=axes, keepdims=True)
            invstd = (((x - centre) ** 2).mean(axis=axes, keepdims=True) + eps) ** -0.5
        xhat = (x - centre) * invstd
    w = _like(g, args[1]).reshape(kept_shape(x.data.shape, paxes)) if has_w else None
    if paxes == axes:  # BatchNorm: the weight is constant where the means are taken
        dxhat, scale = g, invstd if w is None else invstd * w  # so it is factored out
    else:
        dxhat, scale = g if w is None else g * w, invstd
    sums = _total(dxhat, axes), _total(dxhat * xhat, axes)  # (BatchNorm: the bias's, weight's)
    if x.requires_grad:
        if batch:  # (`-=` and `*=` work in place on arrays, and make new nodes of Tensors)
            n = xhat.size // invstd.size
            dx = dxhat - sums[0] / n
            dx -= xhat * (sums[1] / n)
            dx *= scale
        else:
            dx = dxhat * scale
        yield x, dx
    for t, i in zip(args[1:], (1, 0) if has_w else (0,)):
        if t.requires_grad:
            total = sums[i] if paxes == axes else _total(g * xhat if i else g, paxes)
            yield t, total.reshape(t.shape)


# -- lookup and masking --------------------------------------------------------------------


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` picked by integer indices, like `torch.nn.functional.embedding`.

    Args:
        input: Integer indices in [0, num_embeddings), any shape (a float array is refused,
            as in PyTorch).
        weight: The table, (num_embeddings, embedding_dim).
        padding_idx: A row that gets no gradient (it stays as it is, usually zeros).

    Returns:
        The rows, input.shape + (embedding_dim,).

    Raises:
        TypeError: The indices are not integers.
        ValueError: The table is not a matrix.
        IndexError: An index is out of range.

    Examples:
        >>> from chainrule.tensor import Tensor, embedding
        >>> table = Tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> out = embedding([[2, 1, 2]], table)
        >>> out.shape, out.tolist()
        ((1, 3, 2), [[[3.0, 4.0], [1.0, 2.0], [3.0, 4.0]]])
        >>> out.sum().backward()
        >>> table.grad.tolist()
        [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]
    """
    who = "embedding"
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"{who}: expected integer indices (token ids), got dtype {idx.dtype}; "
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
    """The step of `embedding`: each row of the table gets the gradients of its picks, summed.

    out[..., :] = weight[idx[...], :], so row r of the table receives the sum of the
    gradients of every position that picked r (a token seen twice in a batch gets both):
    dL/dweight[r] = sum over positions with idx == r of G[position], that is
    onehot(idx)^T @ G. For a small table and batch (makemore's 27 characters) that product is
    the fastest way (one BLAS call); for a large one the rows are scattered (`np.add.at`)
    without making the one-hot matrix. The padding row gets no gradient.
    """
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
    """Zero each element with probability `p`, like `torch.nn.functional.dropout`.

    "Inverted" dropout: the others are scaled by 1 / (1 - p), so the expected value of every
    element is unchanged, and evaluation returns the input as it is.

    Args:
        input: Floats, any shape.
        p: The probability of zeroing an element, in [0, 1].
        training: False: return the input as it is.
        generator: A numpy Generator to draw the mask with (default: this module's own).

    Returns:
        The input, masked and scaled.

    Raises:
        ValueError: `p` is not a probability.
        TypeError: The input is not floating-point (in training).

    Examples:
        >>> import numpy as np
        >>> from chainrule.tensor import Tensor, dropout
        >>> out = dropout(Tensor(np.ones(1000)), 0.5, generator=np.random.default_rng(0))
        >>> sorted(set(out.tolist())), 400 < int((out.data == 0).sum()) < 600
        ([0.0, 2.0], True)
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
    """The step of out = x * scale (mask / (1 - p), fixed in the forward pass): G * scale."""
    yield node._args[0], g * node._ctx


VJPS.update(
    {
        **dict.fromkeys(_LOOPS, _vjp_looped),
        "linear": _vjp_linear,
        "cross_entropy": _vjp_cross_entropy,
        "bce_with_logits": _vjp_bce_with_logits,
        "conv2d": _vjp_conv2d,
        "max_pool2d": _vjp_max_pool2d,
        "batch_norm": _vjp_normalized,
        "layer_norm": _vjp_normalized,
        "embedding": _vjp_embedding,
        "dropout": _vjp_dropout,
    }
)
