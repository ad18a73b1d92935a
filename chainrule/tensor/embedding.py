"""Lookup and masking on the tensor engine: `embedding` and `dropout`, as `torch.nn.functional`
has them, each one node of the graph with its own backward rule.

`embedding` is indexing (row i of the table for token i), written as its own op so that its
gradient is summed into the table in one step (a one-hot product, or a scatter-add for a large
table) rather than by a general indexing rule; `dropout`
multiplies by a random mask, kept from the forward pass for the backward one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .grads import _add_grad, _rows
from .nodes import _as_input
from .rules import RULES
from .tensor import Tensor, _node, _unary

__all__ = ["dropout", "embedding"]

_GENERATOR = np.random.default_rng()  # dropout's masks when no generator is given
_ONE_HOT_LIMIT = 1 << 18  # table rows x picks up to which the gradient is a one-hot product
_dot = np.dot


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


def _d_embedding(out: Tensor) -> None:
    """out[..., :] = weight[idx[...], :], so row r of the table receives the sum of the
    gradients of every position that picked r (a token seen twice in a batch gets both):
    dL/dweight[r] = sum over positions with idx == r of G[position], that is
    onehot(idx)^T @ G. For a small table and batch (makemore's 27 characters) that product is
    the fastest way (one BLAS call); for a large one `np.add.at` scatters the rows without
    making the one-hot matrix. The padding row's gradient is then set to zero."""
    weight = out._args[0]
    idx, padding_idx = out._ctx
    num, dim = weight.data.shape
    flat = idx.reshape(-1)
    g = out.grad.reshape(-1, dim)
    if num * len(flat) <= _ONE_HOT_LIMIT:
        one_hot = np.zeros((num, len(flat)), g.dtype)
        one_hot[flat, _rows(len(flat))] = 1
        grad = _dot(one_hot, g)
    else:
        grad = np.zeros(weight.data.shape, g.dtype)
        np.add.at(grad, flat, g)
    if padding_idx is not None:
        grad[padding_idx] = 0
    _add_grad(weight, grad)


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


def _d_dropout(out: Tensor) -> None:
    """out = x * scale (scale = mask / (1 - p), fixed in the forward pass): dL/dx = G * scale."""
    _add_grad(out._args[0], out.grad * out._ctx)


RULES.update({"embedding": _d_embedding, "dropout": _d_dropout})
