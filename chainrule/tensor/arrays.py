"""Array helpers of the tensor engine, in plain numpy: they never see a Tensor.

What is new with arrays, and why:

* Broadcasting. `x + b` with `x` of shape (32, 10) and `b` of shape (10,) adds `b` to every
  row, so every row's gradient flows back into the same `b`: the chain rule *sums* them.
  `sum_to_shape` does that sum, once, for every op that broadcasts (on arrays, and on Tensors
  when the backward pass is recorded).
* Reductions and indexing: a reduction's gradient is spread back over what was reduced
  (`kept_shape`), an indexing's put back in place (`scattered`).
* Error messages name the op, the tensors (by label) and the shapes, instead of numpy's
  message about arrays the user never made.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

import numpy as np

Axis = int | tuple[int, ...] | None


def sum_to_shape(g: Any, shape: tuple[int, ...]) -> Any:
    """The sum of `g` over the axes broadcasting added or stretched, for an array or a Tensor.

    The recorded backward pass sums with Tensor ops, so the sum is differentiable too.

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


def kept_shape(shape: tuple[int, ...], axis: int | tuple[int, ...]) -> tuple[int, ...]:
    """The shape a reduction over `axis` has with keepdims=True: those axes become 1."""
    kept = list(shape)
    for i in axis if isinstance(axis, tuple) else (axis,):
        kept[i] = 1
    return tuple(kept)


@lru_cache(maxsize=128)
def ones(shape: int | tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Ones of `shape` (cached, read-only).

    A row of them sums a batch's gradients with one BLAS call; times a reduction's gradient,
    they spread it over what was reduced.
    """
    out = np.ones(shape, dtype)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=64)
def rows(n: int) -> np.ndarray:
    """0..n-1, cached: cross-entropy picks one entry per row with it on every call."""
    out = np.arange(n)
    out.flags.writeable = False
    return out


def scattered(values: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A zero array of `shape` with `values` added in at `index`: the gradient of indexing.

    An element picked twice collects both values.
    """
    out = np.zeros(shape, values.dtype)
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts):
        out[index] = values  # numpy's basic indexing picks each element at most once
    else:  # integer arrays may pick an element twice: add.at sums the repeats
        np.add.at(out, index, values)
    return out


# -- error messages ---------------------------------------------------------------------------


class Named(Protocol):
    """What an error message reads of a tensor: its label and its shape."""

    label: str

    @property
    def shape(self) -> tuple[int, ...]:
        """The operand's shape."""


def tensor_name(t: Named) -> str:
    """'tensor 'x'' or 'a tensor': how a message names an operand."""
    return f"tensor {t.label!r}" if t.label else "a tensor"


def described(t: Named) -> str:
    """An operand's shape, and its label when it has one."""
    return f"{t.shape} ({t.label!r})" if t.label else f"{t.shape}"


def broadcast_error(op: str, a: Named, b: Named) -> ValueError:
    """The shapes of `a op b` do not broadcast."""
    return ValueError(
        f"{op}: cannot broadcast shapes {described(a)} and {described(b)} (aligned from the "
        "right, each pair of dimensions must be equal or one of them 1)"
    )


def matmul_error(a: Named, b: Named) -> ValueError:
    """The shapes of `a @ b` do not multiply: which dimensions disagree."""
    A, B = a.shape, b.shape
    head = f"@: cannot multiply shapes {described(a)} and {described(b)}"
    if not A or not B:
        return ValueError(f"{head}: both operands need at least one dimension")
    inner_right = B[-2] if len(B) > 1 else B[0]
    if A[-1] != inner_right:
        where = "second-to-last" if len(B) > 1 else "only"
        return ValueError(
            f"{head}: the left's last dimension ({A[-1]}) must equal the right's {where} "
            f"dimension ({inner_right})"
        )
    return ValueError(f"{head}: the batch dimensions {A[:-2]} and {B[:-2]} do not broadcast")


def axis_error(op: str, t: Named, axis: Axis, err: Exception) -> ValueError:
    """`op` over an axis the operand does not have."""
    return ValueError(f"{op} over axis {axis!r} of {tensor_name(t)} of shape {t.shape}: {err}")
