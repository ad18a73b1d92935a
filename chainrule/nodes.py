"""One adapter per engine for the functions that take graph nodes of either kind: `grad`,
`value_and_grad`, `hessian` (`derivatives.py`) and `gradcheck` (`check.py`).

Those functions are written once; whatever differs between a `Value` (one float) and a
`Tensor` (an array) is asked of `ValueNodes` or `TensorNodes`, found by `nodes_for(x)`. This
module imports only the scalar engine: a Tensor is recognised only once the tensor engine has
been imported (someone made one), so numpy stays optional.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

from .value import Value, _children, _recorded_vjp

__all__ = ["TensorNodes", "ValueNodes", "nodes_for"]


class ValueNodes:
    """A `Value`: one number, its gradient a float (or a Value when recorded)."""

    name = "Value"

    @staticmethod
    def owns(x: Any) -> bool:
        return isinstance(x, Value)

    edges: Callable[[Any], tuple[Any, ...]] = staticmethod(_children)
    vjp: Callable[[Any, Any], Iterator[tuple[Any, Any]]] = staticmethod(_recorded_vjp)

    @staticmethod
    def seed(out: Value) -> float:
        """d out / d out."""
        return 1.0

    @staticmethod
    def zeros_like(x: Value) -> float:
        return 0.0

    @staticmethod
    def values(x: Any) -> list[float]:
        """The numbers of a node (or of a gradient: a float, or a recorded Value)."""
        return [float(x.data) if isinstance(x, Value) else float(x)]

    @staticmethod
    def shape(x: Value) -> None:
        return None

    @staticmethod
    def size(x: Value) -> int:
        return 1

    @staticmethod
    def leaf(x: Value) -> Value:
        """A new leaf with a copy of the number: what a check may nudge freely."""
        return Value(float(x.data), label=x.label)

    @staticmethod
    def checkable(x: Value) -> bool:
        return True

    @staticmethod
    def not_differentiable(x: Value) -> str | None:
        return None

    @staticmethod
    def as_input(x: Value) -> Value:
        return x

    @staticmethod
    def backward(y: Value, seed: list[float]) -> None:
        y.backward(seed[0])

    @staticmethod
    def clear_grad(x: Value) -> None:
        x.grad = 0.0

    @staticmethod
    def grads(x: Value) -> list[float]:
        return [float(x.grad)]


class TensorNodes:
    """A `Tensor`: an array, its gradient an array (or a Tensor when recorded, or None)."""

    name = "Tensor"

    @staticmethod
    def owns(x: Any) -> bool:
        module = sys.modules.get("chainrule.tensor.tensor")
        return module is not None and isinstance(x, module.Tensor)

    @staticmethod
    def edges(t: Any) -> tuple[Any, ...]:
        return t._prev

    @staticmethod
    def vjp(node: Any, g: Any) -> Iterator[tuple[Any, Any]]:
        from .tensor.recorded import tensor_vjp  # loaded: a Tensor exists

        return tensor_vjp(node, g)

    @staticmethod
    def seed(out: Any) -> Any:
        return type(out)(out.data * 0 + 1, dtype=out.dtype)

    @staticmethod
    def zeros_like(x: Any) -> Any:
        return x.data * 0.0

    @staticmethod
    def values(x: Any) -> list[float]:
        data = getattr(x, "data", x)
        return [float(v) for v in data.reshape(-1).tolist()]

    @staticmethod
    def shape(x: Any) -> tuple[int, ...]:
        return tuple(x.data.shape)

    @staticmethod
    def size(x: Any) -> int:
        return int(x.data.size)

    @staticmethod
    def leaf(x: Any) -> Any:
        return type(x)(x.data.copy(), requires_grad=True, label=x.label)

    @staticmethod
    def checkable(x: Any) -> bool:
        """Only tensors that ask for gradients are checked (as in PyTorch's gradcheck)."""
        return bool(x.requires_grad)

    @staticmethod
    def not_differentiable(x: Any) -> str | None:
        """Why `x` cannot be differentiated with respect to, or None."""
        if x.dtype.kind != "f":
            return f"a tensor of dtype {x.dtype}, which cannot be differentiated; make it float"
        return None

    @staticmethod
    def as_input(x: Any) -> Any:
        """A tensor to differentiate with respect to: itself, or a leaf that asks for grads."""
        if x.requires_grad:
            return x
        return type(x)(x.data, requires_grad=True, label=x.label)

    @staticmethod
    def backward(y: Any, seed: list[float]) -> None:
        if y.requires_grad:  # else nothing checked reaches it
            gradient = y.data.copy()
            gradient.reshape(-1)[:] = seed
            y.backward(gradient=gradient)

    @staticmethod
    def clear_grad(x: Any) -> None:
        x.grad = None

    @staticmethod
    def grads(x: Any) -> list[float]:
        if x.grad is None:
            return [0.0] * int(x.data.size)
        return [float(g) for g in x.grad.reshape(-1).tolist()]


def nodes_for(x: Any) -> type[ValueNodes] | type[TensorNodes] | None:
    """The adapter of the engine `x` is a node of, or None for anything else."""
    if ValueNodes.owns(x):
        return ValueNodes
    if TensorNodes.owns(x):
        return TensorNodes
    return None
