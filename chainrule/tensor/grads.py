"""Gradient bookkeeping for the tensor engine: summing broadcast gradients back to an operand's
shape, spreading a reduction's gradient, putting an indexing's gradient back in place, and
adding a gradient into a tensor without copies.

These functions see arrays and the few tensor attributes they write (`data`, `grad`, `_op`);
they know nothing of how a node was made, so the backward rules of every op share them.

What is new with arrays, and why:

* Broadcasting. `x + b` with `x` of shape (32, 10) and `b` of shape (10,) adds `b` to every
  row, so every row's gradient flows back into the same `b`: the chain rule *sums* them.
  `_unbroadcast` does that sum, once, for every op that broadcasts.
* Gradients are not copied needlessly. The first gradient a tensor receives is usually a fresh
  array that nothing else refers to, and it is kept as it is; a tensor you made yourself (a
  leaf, such as a weight) adds later contributions into its own array in place. Gradients an
  op merely passes on (`+` hands its gradient to both operands unchanged) are shared between
  intermediate nodes and copied only when they reach a leaf, so no array is ever written to
  while something else still reads it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

_ndarray = np.ndarray
_asarray = np.asarray

Axis = int | tuple[int, ...] | None


def _add_grad(t: Tensor, g: np.ndarray, fresh: bool = True) -> None:
    """`t.grad += g`, with `g` first summed back to `t`'s shape and cast to its dtype.

    `fresh` says that nothing else refers to `g`, so `t` may keep it without a copy. A leaf
    always owns its gradient array (it is what optimizers read and users inspect), so it adds
    later contributions in place; an intermediate's gradient may be shared with the node it
    came from, so it is never written to: a second contribution makes a new array.
    """
    data = t.data
    if g.__class__ is not _ndarray:  # numpy turns 0-d results into scalars
        g = _asarray(g)
        fresh = True
    if g.shape != data.shape:
        g = _unbroadcast(g, data.shape)
        fresh = True
    if g.dtype is not data.dtype and g.dtype != data.dtype:
        g = g.astype(data.dtype)
        fresh = True
    old = t.grad
    if old is None:
        t.grad = g if fresh or t._op else g.copy()
    elif t._op:
        t.grad = old + g
    else:
        old += g


def _spread(g: np.ndarray, like: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
    """The gradient of a reduction, copied back over every element that was reduced.

    Written into a new array (not numpy's zero-copy `broadcast_to` view): it costs one fill,
    but the result belongs to the receiving tensor outright and needs no copy later.
    """
    out = np.empty(like.shape, like.dtype)
    if keepdims or g.ndim == 0:  # the shape already lines up with `like`
        np.copyto(out, g)
    else:
        np.copyto(out, g.reshape(_kept_shape(like.shape, axis)))
    return out


def _kept_shape(shape: tuple[int, ...], axis: int | tuple[int, ...]) -> tuple[int, ...]:
    """The shape a reduction over `axis` has with keepdims=True: those axes become 1."""
    kept = list(shape)
    for i in axis if isinstance(axis, tuple) else (axis,):
        kept[i] = 1
    return tuple(kept)


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `g` over the axes that broadcasting added or stretched, so it has `shape` again."""
    g = sum_to_shape(g, shape)
    return g if g.__class__ is _ndarray else _asarray(g)


def sum_to_shape(g: Any, shape: tuple[int, ...]) -> Any:
    """The sum of `g` over the axes broadcasting added or stretched, for an array or a Tensor
    (the recorded backward pass sums with Tensor ops, so the sum is differentiable too).

    If `x` of shape (10,) was added to every row of a (32, 10) array, each of the 32 rows
    sent a gradient back to the same `x`: the total is the sum over that leading axis.
    An axis of size 1 that was stretched is summed the same way, keeping the axis.
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


@lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A row of n ones (cached, read-only), to sum a batch's gradients with one BLAS call."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


@lru_cache(maxsize=64)
def _rows(n: int) -> np.ndarray:
    """0..n-1, cached: cross-entropy picks one entry per row with it on every call."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


def _scattered(
    values: np.ndarray, index: Any, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """A zero array of `shape` with `values` added in at `index`: the gradient of indexing,
    where an element picked twice collects both values."""
    out = np.zeros(shape, dtype)
    if _is_basic(index):  # slices and integers pick each element at most once
        out[index] = values
    else:  # integer arrays may pick an element twice: add.at sums the repeats
        np.add.at(out, index, values)
    return out


def _is_basic(index: Any) -> bool:
    """True for numpy 'basic' indexing (ints, slices, None, ...), which never repeats an
    element; lists and arrays are 'advanced' indexing, which can."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts)
