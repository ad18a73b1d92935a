"""Error messages of the tensor engine: each names the op, the tensors (by label) and the shapes,
instead of numpy's message about arrays the user never made."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .grads import Axis
    from .tensor import Tensor


def _name(t: Tensor) -> str:
    return f"tensor {t.label!r}" if t.label else "a tensor"


def _described(t: Tensor) -> str:
    return f"{t.shape} ({t.label!r})" if t.label else f"{t.shape}"


def _broadcast_error(op: str, a: Tensor, b: Tensor) -> ValueError:
    return ValueError(
        f"{op}: cannot broadcast shapes {_described(a)} and {_described(b)} (aligned from the "
        "right, each pair of dimensions must be equal or one of them 1)"
    )


def _matmul_error(a: Tensor, b: Tensor) -> ValueError:
    A, B = a.shape, b.shape
    head = f"@: cannot multiply shapes {_described(a)} and {_described(b)}"
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


def _axis_error(op: str, t: Tensor, axis: Axis, err: Exception) -> ValueError:
    return ValueError(f"{op} over axis {axis!r} of {_name(t)} of shape {t.shape}: {err}")
