"""The tensor engine: `Tensor`, the design of `Value` carried over to numpy arrays.

A `Value` holds one number; a `Tensor` holds a whole array, so one node of the graph does the
work of thousands of scalar nodes and the Python cost per node is paid once per array. The
autograd is the same, piece for piece:

* every operation computes its result (the forward value, in the method below) and records
  its operands in the result;
* every operation has a local rule (in `rules.py`, found from `_op`; an op of the table
  `chainrule.ops` uses its row's derivatives) that multiplies the incoming gradient by the
  local derivative and adds it into the operands;
* `backward()` hands the graph to `chainrule.autograd.backpropagate`, the very walk `Value` uses.

What is new with arrays (broadcasting, gradients added without copies) is in `grads.py`.
Only what needs a gradient is recorded: a result remembers its operands only when one of them
`requires_grad` (and grad mode is on), so the input batch of a network never gets a gradient.

Data types: Python numbers and lists become float32, the type networks train in (as
`torch.tensor` makes float32 from Python floats). A numpy array keeps its dtype and its memory,
like `torch.from_numpy`: float64 arrays stay float64 (gradient checks use them) and integer
arrays stay integers (class labels, indices). Python and numpy scalars in an expression take
the tensor's float type, so `0.5 * x` stays float32. Only float tensors can require gradients.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from .. import ops
from ..autograd import (
    anomaly_mode,
    backpropagate,
    checked_step,
    no_grad,
    record_backward,
    topological_order,
)
from .errors import _axis_error, _broadcast_error, _matmul_error, _name
from .grads import Axis, _add_grad, _scattered
from .nodes import _binary, _const, _elementwise, _lift, _node, _unary, bind
from .recorded import tensor_vjp
from .rules import local_step

__all__ = ["Tensor", "no_grad"]

_ndarray = np.ndarray
_asarray = np.asarray
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce
_sigmoid = ops.SIGMOID.array
_float32 = np.dtype(np.float32)


class Tensor:
    """An n-dimensional array in a computation graph, with its gradient.

    `Tensor(data, requires_grad=False, label='', dtype=None)`: `data` is a number, a (nested)
    list or a numpy array (see the module notes for the dtype it gets); set `requires_grad`
    on the tensors you want gradients for (the weights of a model); `label` names the tensor
    in error messages and pictures.
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_args", "_prev", "_ctx", "_rule")

    engine = "tensor"  # its engine in chainrule.engines, the seam everything else reads it by

    # Stop numpy from treating a Tensor as an opaque object in `array * tensor`: it returns
    # NotImplemented instead, so Python calls `Tensor.__rmul__` and the graph is recorded.
    __array_ufunc__ = None

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        label: str = "",
        dtype: Any = None,
    ) -> None:
        if isinstance(data, Tensor):
            raise TypeError(
                "Tensor(...) takes array data, got a Tensor; use that tensor itself, "
                "or tensor.detach() for a copy outside the graph"
            )
        what = f" for {label!r}" if label else ""
        try:
            if dtype is not None:
                array = _asarray(data, dtype=dtype)
            elif isinstance(data, (_ndarray, np.generic)):
                array = _asarray(data)
            else:
                array = _asarray(data, dtype=_float32)
        except (TypeError, ValueError) as err:
            raise TypeError(f"Tensor data{what} must be numeric array-like: {err}") from None
        if array.dtype.kind not in "fiub":
            raise TypeError(f"Tensor data{what} must be numeric, got dtype {array.dtype}")
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {array.dtype}"
                f"{what}; pass float data or dtype=np.float32"
            )
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = ""
        self._args = ()
        self._prev = ()
        self._ctx = None
        self._rule = None

    # -- what it holds ----------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def numpy(self) -> np.ndarray:
        """The array itself (shared, not copied), like `torch.Tensor.numpy`."""
        return self.data

    def tolist(self) -> Any:
        """The numbers as (nested) Python lists, like `torch.Tensor.tolist`."""
        return self.data.tolist()

    def item(self) -> float | int | bool:
        """The single number of a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, got shape {self.shape}"
            )
        return self.data.item()

    def detach(self) -> Tensor:
        """The same data (shared) as a new leaf that records nothing and needs no gradient."""
        return _const(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __bool__(self) -> bool:
        return bool(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """The sub-tensors along the first axis (each one indexed, so in the graph)."""
        if not self.data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # Lets np.asarray(t) and matplotlib read a tensor's values.
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ""
        if self.data.dtype != _float32:
            extra += f", dtype={self.data.dtype}"
        if self.requires_grad:
            extra += ", requires_grad=True"
        if self._op:
            extra += f", op={self._op!r}"
        if self.label:
            extra += f", label={self.label!r}"
        return f"Tensor({body}{extra})"

    # -- the graph ------------------------------------------------------------------------

    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Fill `grad` of every tensor this one depends on, by the chain rule.

        Called on a one-element tensor (a loss), the gradient starts at 1. For any other
        shape pass `gradient`, d(something)/d(this tensor), of this tensor's shape.
        Leaves (tensors you made, such as weights) accumulate over calls as in PyTorch: zero
        them between steps (`Module.zero_grad`, `optimizer.zero_grad`). Intermediate tensors
        are reset first, so they always show this call's gradient.

        With `create_graph=True` (PyTorch's meaning) the backward pass is recorded: each
        `.grad` is then a `Tensor` computed from this graph, which can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward() on {_name(self)}, which does not require grad: none of the "
                "tensors it was computed from has requires_grad=True, or it was computed "
                "under no_grad()"
            )
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a one-element output (a loss); "
                    f"{_name(self)} has shape {self.shape}: pass gradient=... of that shape"
                )
            seed_grad = np.ones(self.data.shape, self.data.dtype)
            fresh = True
        else:
            seed_grad = gradient.data if isinstance(gradient, Tensor) else _asarray(gradient)
            if seed_grad.shape != self.data.shape:
                raise ValueError(
                    f"backward(gradient): gradient of shape {seed_grad.shape} does not match "
                    f"{_name(self)} of shape {self.shape}"
                )
            fresh = False  # the caller still holds it

        if create_graph:
            record_backward(self, _const(seed_grad), None)
            return

        def seed(order: list[Tensor]) -> None:
            for node in order:
                if node._op:
                    node.grad = None
            _add_grad(self, seed_grad, fresh)

        backpropagate(self, _edges, _checked_step if anomaly_mode.enabled else local_step, seed)

    def _vjp(self, g: Tensor) -> Iterator[tuple[Tensor, Tensor]]:
        """This node's chain-rule step recorded as Tensors: (operand, contribution) pairs."""
        return tensor_vjp(self, g)

    def zero_grad(self) -> None:
        """Forget the gradients of this tensor and of everything it was computed from."""
        for node in topological_order(self, _edges):
            node.grad = None

    # -- elementwise arithmetic, numpy broadcasting both ways ---------------------------------

    def __add__(self, other: Any) -> Tensor:
        return _elementwise(self, other, "+", operator.add)

    def __sub__(self, other: Any) -> Tensor:
        return _elementwise(self, other, "-", operator.sub)

    def __mul__(self, other: Any) -> Tensor:
        return _elementwise(self, other, "*", operator.mul)

    def __truediv__(self, other: Any) -> Tensor:
        return _elementwise(self, other, "/", operator.truediv)

    def __pow__(self, other: Any) -> Tensor:
        return _elementwise(self, other, "**", operator.pow)

    def __neg__(self) -> Tensor:
        return _unary(-self.data, "neg", self)

    def __radd__(self, other: Any) -> Tensor:  # other + self
        return self + other

    def __rmul__(self, other: Any) -> Tensor:  # other * self
        return self * other

    def __rsub__(self, other: Any) -> Tensor:  # other - self
        b = _lift(other, self)
        return NotImplemented if b is None else b - self

    def __rtruediv__(self, other: Any) -> Tensor:  # other / self
        b = _lift(other, self)
        return NotImplemented if b is None else b / self

    def __rpow__(self, other: Any) -> Tensor:  # other ** self
        b = _lift(other, self)
        return NotImplemented if b is None else b**self

    # -- matrix product -----------------------------------------------------------------------

    def __matmul__(self, other: Any) -> Tensor:
        b = other if other.__class__ is Tensor else _lift(other, self)
        if b is None:
            return NotImplemented
        try:
            data = self.data @ b.data
        except ValueError:
            raise _matmul_error(self, b) from None
        return _binary(data, "@", self, b)

    def __rmatmul__(self, other: Any) -> Tensor:  # other @ self
        b = _lift(other, self)
        return NotImplemented if b is None else b @ self

    # -- elementwise functions ------------------------------------------------------------------

    def exp(self) -> Tensor:
        return _unary(np.exp(self.data), "exp", self)

    def log(self) -> Tensor:
        return _unary(np.log(self.data), "log", self)

    def tanh(self) -> Tensor:
        return _unary(np.tanh(self.data), "tanh", self)

    def relu(self) -> Tensor:
        return _unary(np.maximum(self.data, 0), "relu", self)

    def sigmoid(self) -> Tensor:
        return _unary(_sigmoid(self.data), "sigmoid", self)

    def abs(self) -> Tensor:
        return ops.ABS(self)

    __abs__ = abs

    def sin(self) -> Tensor:
        return ops.SIN(self)

    def cos(self) -> Tensor:
        return ops.COS(self)

    def sqrt(self) -> Tensor:
        return ops.SQRT(self)

    def softplus(self) -> Tensor:
        return ops.SOFTPLUS(self)

    def silu(self) -> Tensor:
        return ops.SILU(self)

    def gelu(self) -> Tensor:
        return ops.GELU(self)

    def _apply_op(self, op: ops.Op, args: tuple[Any, ...]) -> Tensor:
        """Record the table's `op` applied to `args` (this tensor among them), elementwise."""
        operands = []
        for a in args:
            t = a if a.__class__ is Tensor else _lift(a, self)
            if t is None:
                raise TypeError(
                    f"{op.name}: unsupported operand {type(a).__name__} {a!r} with {_name(self)}"
                )
            operands.append(t)
        try:
            data = op.array(*[t.data for t in operands])
        except ValueError:
            if len(operands) == 2:
                raise _broadcast_error(op.name, operands[0], operands[1]) from None
            raise
        return _node(data, op.name, tuple(operands), op)

    # -- reductions ---------------------------------------------------------------------------

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over `axis` (an int, a tuple of ints, or None for all)."""
        try:
            data = _add_reduce(self.data, axis=axis, keepdims=keepdims)
        except ValueError as err:  # numpy's AxisError is a ValueError
            raise _axis_error("sum", self, axis, err) from None
        return _unary(data, "sum", self, (axis, keepdims))

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over `axis` (an int, a tuple of ints, or None for all)."""
        x = self.data
        try:
            if x.dtype.kind == "f":  # the sum, then one division: what ndarray.mean does
                total = _add_reduce(x, axis=axis, keepdims=keepdims)
                count = x.size // max(total.size, 1)
                data = total / x.dtype.type(count)
            else:  # integers average to float64, as in numpy
                data = x.mean(axis=axis, keepdims=keepdims)
                count = x.size // max(data.size, 1)
        except ValueError as err:
            raise _axis_error("mean", self, axis, err) from None
        return _unary(data, "mean", self, (axis, keepdims, count))

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Largest value over `axis` (an int, a tuple of ints, or None for all).

        Where several elements tie for the maximum, the gradient is shared equally between
        them, as `torch.amax(x, dim)` and the full `torch.max(x)` do; `torch.max(x, dim)`,
        which also returns indices, gives it all to the first one instead.
        """
        try:
            data = self.data.max(axis=axis, keepdims=keepdims)
        except ValueError as err:
            raise _axis_error("max", self, axis, err) from None
        return _unary(data, "max", self, (axis, keepdims))

    def _scatter(self, shape: tuple[int, ...], index: Any) -> Tensor:
        """A zero tensor of `shape` with this one added in at `index` (the gradient of
        indexing; repeated indices add up)."""
        data = _scattered(self.data, index, shape, self.data.dtype)
        return _unary(data, "scatter", self, (index, shape))

    def argmax(self, axis: int | None = None) -> Tensor:
        """Index of the largest value (an integer tensor; not part of the graph)."""
        return _const(_asarray(self.data.argmax(axis=axis)))

    # -- shape ----------------------------------------------------------------------------------

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """Same elements, new shape: `x.reshape(2, 6)` or `x.reshape((2, -1))`."""
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = tuple(shape[0])
        try:
            data = self.data.reshape(shape)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"reshape: cannot reshape {_name(self)} of shape {self.shape} "
                f"({self.size} elements) into shape {tuple(shape)}: {err}"
            ) from None
        return _unary(data, "reshape", self)

    def permute(self, *dims: int) -> Tensor:
        """Reorder the axes: `out.shape[i] == x.shape[dims[i]]` (numpy's `transpose(dims)`)."""
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = tuple(dims[0])
        n = self.data.ndim
        if sorted(d % n if -n <= d < n else d for d in dims) != list(range(n)):
            raise ValueError(
                f"permute: {tuple(dims)} is not an ordering of the {n} axes of {_name(self)} "
                f"of shape {self.shape}"
            )
        inverse = [0] * n
        for i, d in enumerate(dims):
            inverse[d % n] = i
        return _unary(self.data.transpose(dims), "permute", self, tuple(inverse))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two axes, as `torch.transpose`; with no arguments, the last two (the matrix
        transpose, also for a batch of matrices)."""
        n = self.data.ndim
        if not (-n <= dim0 < n and -n <= dim1 < n):
            raise ValueError(
                f"transpose: axes ({dim0}, {dim1}) out of range for {_name(self)} "
                f"of shape {self.shape}"
            )
        dims = list(range(n))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return _unary(self.data.transpose(dims), "permute", self, tuple(dims))

    @property
    def T(self) -> Tensor:
        """All axes reversed: the transpose of a matrix (numpy's `.T`)."""
        dims = tuple(range(self.data.ndim - 1, -1, -1))
        return _unary(self.data.T, "permute", self, dims)

    def __getitem__(self, index: Any) -> Tensor:
        """Slices, integers, integer or boolean arrays, `None` and `...`, as in numpy."""
        index = _plain_index(index)
        try:
            data = self.data[index]
        except IndexError as err:
            raise IndexError(f"indexing {_name(self)} of shape {self.shape}: {err}") from None
        return _unary(data, "index", self, index)

    # -- normalised exponentials ------------------------------------------------------------

    def softmax(self, axis: int = -1) -> Tensor:
        """e^x / Σ e^x along `axis`; the max is subtracted first so e^x cannot overflow."""
        x = self.data
        try:
            e = np.exp(x - _max_reduce(x, axis=axis, keepdims=True))
        except ValueError as err:
            raise _axis_error("softmax", self, axis, err) from None
        e /= _add_reduce(e, axis=axis, keepdims=True)
        return _unary(e, "softmax", self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - log Σ e^x along `axis`, computed without overflow (the log-sum-exp trick)."""
        x = self.data
        try:
            z = x - _max_reduce(x, axis=axis, keepdims=True)
        except ValueError as err:
            raise _axis_error("log_softmax", self, axis, err) from None
        z -= np.log(_add_reduce(np.exp(z), axis=axis, keepdims=True))
        return _unary(z, "log_softmax", self, axis)


bind(Tensor)  # the nodes `nodes.py` makes are Tensors

_edges = attrgetter("_prev")  # what the shared walk follows: operands that need a gradient


def _plain_index(index: Any) -> Any:
    """An index with any Tensors in it replaced by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _finite(x: Any) -> bool:
    return bool(np.all(np.isfinite(x)))


_checked_step = checked_step(local_step, _finite)  # anomaly mode's backward step
