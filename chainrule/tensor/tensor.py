"""The tensor engine: `Tensor`, the design of `Value` carried over to numpy arrays.

A `Value` holds one number; a `Tensor` holds a whole array, so one node of the graph does the
work of thousands of scalar nodes and the Python cost per node is paid once per array. The
autograd is the same, piece for piece:

* every operation computes its result (the forward value, in the method below) and records
  its operands in the result;
* every operation has a local rule (`_d_*` further down, found from `_op` in `_RULES`) that
  multiplies the incoming gradient by the local derivative and adds it into the operands;
* `backward()` hands the graph to `chainrule.autograd.backpropagate`, the very walk `Value` uses.

What is new with arrays, and why:

* Broadcasting. `x + b` with `x` of shape (32, 10) and `b` of shape (10,) adds `b` to every
  row, so every row's gradient flows back into the same `b`: the chain rule *sums* them.
  `_unbroadcast` does that sum, once, for every op that broadcasts.
* Only what needs a gradient is recorded. A result remembers its operands only when one of
  them `requires_grad` (and grad mode is on), and a rule computes a gradient only for the
  operands that want one: the input batch of a network never gets a (32, 64) gradient that
  nobody reads.
* Gradients are not copied needlessly. The first gradient a tensor receives is usually a fresh
  array that nothing else refers to, and it is kept as it is; a tensor you made yourself (a
  leaf, such as a weight) adds later contributions into its own array in place. Gradients an
  op merely passes on (`+` hands its gradient to both operands unchanged) are shared between
  intermediate nodes and copied only when they reach a leaf, so no array is ever written to
  while something else still reads it.

Data types: Python numbers and lists become float32, the type networks train in (as
`torch.tensor` makes float32 from Python floats). A numpy array keeps its dtype and its memory,
like `torch.from_numpy`: float64 arrays stay float64 (gradient checks use them) and integer
arrays stay integers (class labels, indices). Python and numpy scalars in an expression take
the tensor's float type, so `0.5 * x` stays float32. Only float tensors can require gradients.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import Any

import numpy as np

from .. import ops
from ..autograd import backpropagate, grad_mode, no_grad, topological_order

__all__ = ["Tensor", "binary_cross_entropy_with_logits", "cross_entropy", "linear", "no_grad"]

_ndarray = np.ndarray
_asarray = np.asarray
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce
_dot = np.dot
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_new = object.__new__
_float32 = np.dtype(np.float32)

Axis = int | tuple[int, ...] | None


class Tensor:
    """An n-dimensional array in a computation graph, with its gradient.

    `Tensor(data, requires_grad=False, label='', dtype=None)`: `data` is a number, a (nested)
    list or a numpy array (see the module notes for the dtype it gets); set `requires_grad`
    on the tensors you want gradients for (the weights of a model); `label` names the tensor
    in error messages and pictures.
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_args", "_prev", "_ctx")

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

    def backward(self, gradient: Any = None) -> None:
        """Fill `grad` of every tensor this one depends on, by the chain rule.

        Called on a one-element tensor (a loss), the gradient starts at 1. For any other
        shape pass `gradient`, d(something)/d(this tensor), of this tensor's shape.
        Leaves (tensors you made, such as weights) accumulate over calls as in PyTorch: zero
        them between steps (`Module.zero_grad`, `optimizer.zero_grad`). Intermediate tensors
        are reset first, so they always show this call's gradient.
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

        def seed(order: list[Tensor]) -> None:
            for node in order:
                if node._op:
                    node.grad = None
            _add_grad(self, seed_grad, fresh)

        backpropagate(self, _edges, _local_step, seed)

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

    def __abs__(self) -> Tensor:
        return ops.ABS(self)

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


# -- functional ops (what torch.nn.functional has) -------------------------------------------


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`x @ weight.T + bias` as ONE node, like `torch.nn.functional.linear`.

    `weight` has shape (out_features, in_features), as in PyTorch. Fusing the product and the
    bias saves a node, an array and a pass over the output, in the forward and the backward
    pass alike; the gradients are those of the two-op version.
    """
    if x.__class__ is not Tensor:
        x = _lift(x, weight)
        if x is None:
            raise TypeError("linear: the input must be a Tensor or an array")
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
        logits = _lift(logits, None)
        if logits is None:
            raise TypeError("cross_entropy: the logits must be a Tensor or an array")
    x = logits.data
    y = labels.data if isinstance(labels, Tensor) else _asarray(labels)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )
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
        nll = np.log(total[:, 0]) - z[_rows(len(y)), y]  # -log softmax at the labels
    else:
        nll = np.log(total[0]) - z[y]
    if reduction == "none":
        loss = nll
    else:
        loss = _add_reduce(nll, axis=None)
        if reduction == "mean":
            loss = loss / nll.dtype.type(max(nll.size, 1))
    return _unary(loss, "cross_entropy", logits, (y, e, total, reduction))


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
        logits = _lift(logits, None)
        if logits is None:
            raise TypeError("binary_cross_entropy_with_logits: the logits must be a Tensor")
    x = logits.data
    y = labels.data if isinstance(labels, Tensor) else _asarray(labels, dtype=x.dtype)
    who = "binary_cross_entropy_with_logits"
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if y.shape != x.shape:
        raise ValueError(
            f"{who}: logits of shape {x.shape} need labels of the same shape, got {y.shape}"
        )
    terms = np.logaddexp(0, x) - x * y
    if reduction == "none":
        loss = terms
    else:
        loss = _add_reduce(terms, axis=None)
        if reduction == "mean":
            loss = loss / terms.dtype.type(max(terms.size, 1))
    return _unary(loss, "bce_with_logits", logits, (y, reduction))


# -- local derivatives, one rule per op: out.grad times d(out)/d(operand), added in ----------


def _d_add(out: Tensor) -> None:  # d(a+b)/da = 1, d(a+b)/db = 1
    a, b = out._args
    g = out.grad
    if a.requires_grad:
        _add_grad(a, g, False)
    if b.requires_grad:
        _add_grad(b, g, False)


def _d_sub(out: Tensor) -> None:  # d(a-b)/da = 1, d(a-b)/db = -1
    a, b = out._args
    g = out.grad
    if a.requires_grad:
        _add_grad(a, g, False)
    if b.requires_grad:
        _add_grad(b, -g)


def _d_mul(out: Tensor) -> None:  # d(a*b)/da = b, d(a*b)/db = a
    a, b = out._args
    g = out.grad
    if a is b:  # a*a: both paths at once, d(a*a)/da = 2a
        ga = g * a.data
        ga *= 2
        _add_grad(a, ga)
        return
    if a.requires_grad:
        _add_grad(a, g * b.data)
    if b.requires_grad:
        _add_grad(b, g * a.data)


def _d_div(out: Tensor) -> None:  # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2 = -(a/b)/b
    a, b = out._args
    g = out.grad
    if a.requires_grad:
        _add_grad(a, g / b.data)
    if b.requires_grad:
        _add_grad(b, -g * out.data / b.data)


def _d_pow(out: Tensor) -> None:  # d(a**b)/da = b * a**(b-1), d(a**b)/db = a**b * ln(a)
    a, b = out._args
    g = out.grad
    A, B = a.data, b.data
    with np.errstate(divide="ignore", invalid="ignore"):
        if a.requires_grad:
            local = B * A ** (B - 1)
            if not np.all(B):  # x**0 is the constant 1: slope 0, even where 0**-1 is inf
                local = np.where(B == 0, 0, local)
            _add_grad(a, g * local)
        if b.requires_grad:
            local = out.data * np.log(A)
            if not np.all(A):  # 0**b is flat at 0 for b > 0 (PyTorch takes the same limit)
                local = np.where((A == 0) & (B >= 0), 0, local)
            _add_grad(b, g * local)


def _d_neg(out: Tensor) -> None:  # d(-a)/da = -1
    _add_grad(out._args[0], -out.grad)


def _d_matmul(out: Tensor) -> None:  # d(A@B)/dA = G @ B^T, d(A@B)/dB = A^T @ G
    a, b = out._args
    g = out.grad
    A, B = a.data, b.data
    if A.ndim == 2 and B.ndim == 2:  # the common case, straight to BLAS
        if a.requires_grad:
            _add_grad(a, _dot(g, B.T))
        if b.requires_grad:
            _add_grad(b, _dot(A.T, g))
        return
    if A.ndim == 1 and B.ndim == 1:  # a dot product
        if a.requires_grad:
            _add_grad(a, g * B)
        if b.requires_grad:
            _add_grad(b, g * A)
        return
    # A vector operand acts as a one-row (left) or one-column (right) matrix; batch axes
    # broadcast, so each gradient is summed back to its operand's shape.
    A2 = A[None, :] if A.ndim == 1 else A
    B2 = B[:, None] if B.ndim == 1 else B
    G = g[..., None, :] if A.ndim == 1 else g
    G = G[..., None] if B.ndim == 1 else G
    if a.requires_grad:
        ga = _unbroadcast(G @ np.swapaxes(B2, -1, -2), A2.shape)
        _add_grad(a, ga.reshape(A.shape))
    if b.requires_grad:
        gb = _unbroadcast(np.swapaxes(A2, -1, -2) @ G, B2.shape)
        _add_grad(b, gb.reshape(B.shape))


def _d_linear(out: Tensor) -> None:  # out = x @ W.T + b
    args = out._args
    x, W = args[0], args[1]
    g = out.grad
    g2, X2 = g, x.data
    if g.ndim != 2:  # one sample, or extra batch axes: flatten them into one batch axis
        g2 = g.reshape(-1, g.shape[-1])
        X2 = X2.reshape(-1, X2.shape[-1])
    if W.requires_grad:  # d/dW = G^T @ x
        _add_grad(W, _dot(g2.T, X2))
    if len(args) == 3 and args[2].requires_grad:  # d/db = G summed over the batch
        # as a product with a row of ones: BLAS sums the columns several times faster
        # than numpy's sum(axis=0) does on a small batch
        _add_grad(args[2], _dot(_ones(len(g2), g2.dtype), g2))
    if x.requires_grad:  # d/dx = G @ W
        _add_grad(x, _dot(g, W.data))


def _d_exp(out: Tensor) -> None:  # d(e**a)/da = e**a
    _add_grad(out._args[0], out.grad * out.data)


def _d_log(out: Tensor) -> None:  # d(ln a)/da = 1/a
    a = out._args[0]
    _add_grad(a, out.grad / a.data)


def _d_tanh(out: Tensor) -> None:  # d(tanh a)/da = 1 - tanh(a)**2
    t = out.data
    _add_grad(out._args[0], out.grad * (1 - t * t))


def _d_relu(out: Tensor) -> None:  # d(relu a)/da = 1 where a > 0, else 0
    _add_grad(out._args[0], out.grad * (out.data > 0))


def _d_sigmoid(out: Tensor) -> None:  # d(s(a))/da = s(a) * (1 - s(a))
    s = out.data
    _add_grad(out._args[0], out.grad * (s * (1 - s)))


def _d_sum(out: Tensor) -> None:  # every summed element gets the gradient of the sum
    a = out._args[0]
    axis, keepdims = out._ctx
    _add_grad(a, _spread(out.grad, a.data, axis, keepdims))


def _d_mean(out: Tensor) -> None:  # every averaged element gets 1/count of the gradient
    a = out._args[0]
    axis, keepdims, count = out._ctx
    _add_grad(a, _spread(out.grad / count, a.data, axis, keepdims))


def _d_max(out: Tensor) -> None:  # the gradient goes to the maximum (shared between ties)
    a = out._args[0]
    axis, keepdims = out._ctx
    g, m = out.grad, out.data
    if axis is not None and not keepdims:
        kept = _kept_shape(a.data.shape, axis)
        g = g.reshape(kept)
        m = m.reshape(kept)
    hit = a.data == m
    ties = hit.sum(axis=axis, keepdims=True)
    _add_grad(a, hit * (g / ties).astype(a.data.dtype, copy=False))


def _d_reshape(out: Tensor) -> None:  # the same elements: reshape the gradient back
    a = out._args[0]
    _add_grad(a, out.grad.reshape(a.data.shape), False)


def _d_permute(out: Tensor) -> None:  # the same elements: move the axes back
    _add_grad(out._args[0], out.grad.transpose(out._ctx), False)


def _d_index(out: Tensor) -> None:  # each picked element gets its gradient back in place
    a = out._args[0]
    index = out._ctx
    grad = np.zeros(a.data.shape, a.data.dtype)
    if _is_basic(index):  # slices and integers pick each element at most once
        grad[index] = out.grad
    else:  # integer arrays may pick an element twice: add.at sums the repeats
        np.add.at(grad, index, out.grad)
    _add_grad(a, grad)


def _d_softmax(out: Tensor) -> None:  # ds_i/da_j = s_i (δ_ij - s_j)
    s = out.data
    axis = out._ctx
    gs = out.grad * s
    _add_grad(out._args[0], gs - s * gs.sum(axis=axis, keepdims=True))


def _d_log_softmax(out: Tensor) -> None:  # d(log s_i)/da_j = δ_ij - s_j
    g = out.grad
    axis = out._ctx
    _add_grad(out._args[0], g - np.exp(out.data) * g.sum(axis=axis, keepdims=True))


def _d_cross_entropy(out: Tensor) -> None:  # d(-log softmax_y)/dlogits = softmax - one_hot(y)
    y, e, total, reduction = out._ctx
    g = out.grad
    if reduction == "mean" and y.ndim:
        g = g / g.dtype.type(max(y.size, 1))
    elif reduction == "none" and y.ndim:
        g = g[:, None]
    grad = e * (g / total)  # g times the softmax, in one pass over the logits
    if y.ndim:
        grad[_rows(len(y)), y] -= g if reduction != "none" else g[:, 0]
    else:
        grad[y] -= g
    _add_grad(out._args[0], grad)


def _d_bce_with_logits(out: Tensor) -> None:  # d(log(1 + e^x) - x*y)/dx = sigmoid(x) - y
    x = out._args[0]
    y, reduction = out._ctx
    g = out.grad
    if reduction == "mean":
        g = g / g.dtype.type(max(y.size, 1))
    _add_grad(x, (_sigmoid(x.data) - y) * g)


_RULES: dict[str, Callable[[Tensor], None]] = {
    "+": _d_add,
    "-": _d_sub,
    "*": _d_mul,
    "/": _d_div,
    "**": _d_pow,
    "neg": _d_neg,
    "@": _d_matmul,
    "linear": _d_linear,
    "exp": _d_exp,
    "log": _d_log,
    "tanh": _d_tanh,
    "relu": _d_relu,
    "sigmoid": _d_sigmoid,
    "sum": _d_sum,
    "mean": _d_mean,
    "max": _d_max,
    "reshape": _d_reshape,
    "permute": _d_permute,
    "index": _d_index,
    "softmax": _d_softmax,
    "log_softmax": _d_log_softmax,
    "cross_entropy": _d_cross_entropy,
    "bce_with_logits": _d_bce_with_logits,
}

_edges = attrgetter("_prev")  # what the shared walk follows: operands that need a gradient
_needs_grad = attrgetter("requires_grad")


def _d_table(out: Tensor) -> None:  # a row of the op table: g times each local derivative
    op = out._ctx
    args = out._args
    g = out.grad
    xs = [a.data for a in args]
    for i, a in enumerate(args):
        if a.requires_grad:
            _add_grad(a, g * op.partials[i](*xs, out.data))


def _local_step(node: Tensor) -> None:
    """One node's chain-rule step (leaves and constants have none)."""
    if node._op:
        if node._ctx.__class__ is ops.Op:
            _d_table(node)
        else:
            _RULES[node._op](node)


def _table_method(op: ops.Op) -> Callable[[Tensor], Tensor]:
    def method(self: Tensor) -> Tensor:
        return op(self)

    method.__name__ = op.name
    method.__doc__ = f"{op.name}, elementwise; its derivative is {op.formula(0, ('x',), 'out')}"
    return method


for _method in ops.METHODS:  # the table's functions that Tensor does not spell out by hand
    if not hasattr(Tensor, _method):
        setattr(Tensor, _method, _table_method(ops.TABLE[_method]))
del _method


# -- gradient bookkeeping -------------------------------------------------------------------


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


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: that form overflows for large negative x, while
    e = e^-|x| never does, and e / (1 + e) keeps full precision in the negative tail, where
    1 - s would round to 0."""
    e = np.exp(-np.abs(x))
    s = 1 / (1 + e)
    return np.where(x >= 0, s, e * s)


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
    """Sum `g` over the axes that broadcasting added or stretched, so it has `shape` again.

    If `x` of shape (10,) was added to every row of a (32, 10) array, each of the 32 rows
    sent a gradient back to the same `x`: the total is the sum over that leading axis.
    An axis of size 1 that was stretched is summed the same way, keeping the axis.
    """
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g if g.__class__ is _ndarray else _asarray(g)


# -- making nodes ---------------------------------------------------------------------------


def _unary(data: Any, op: str, a: Tensor, ctx: Any = None) -> Tensor:
    """The result of a one-operand op: records `a` when it needs a gradient (and grad mode
    is on); otherwise the result is a plain leaf holding no reference to `a`."""
    if a.requires_grad and grad_mode.enabled:
        args = (a,)
        return _recorded(data, op, args, args, ctx)
    return _const(_as_array(data))


def _elementwise(a: Tensor, other: Any, op: str, compute: Callable[[Any, Any], Any]) -> Any:
    """`a op other` with numpy broadcasting: the forward value of the five arithmetic ops.

    A shape mismatch becomes a ValueError naming the op and both shapes, not numpy's message.
    """
    b = other if other.__class__ is Tensor else _lift(other, a)
    if b is None:
        return NotImplemented
    try:
        data = compute(a.data, b.data)
    except ValueError:
        raise _broadcast_error(op, a, b) from None
    return _binary(data, op, a, b)


def _binary(data: Any, op: str, a: Tensor, b: Tensor) -> Tensor:
    """The result of a two-operand op; `_prev` lists only the operands that need a gradient."""
    if (a.requires_grad or b.requires_grad) and grad_mode.enabled:
        args = (a, b)
        if a.requires_grad:
            prev = args if b.requires_grad else (a,)
        else:
            prev = (b,)
        return _recorded(data, op, args, prev, None)
    return _const(_as_array(data))


def _node(data: Any, op: str, args: tuple[Tensor, ...], ctx: Any = None) -> Tensor:
    """The result of an op of any number of operands (the general form of `_binary`)."""
    prev = tuple(filter(_needs_grad, args)) if grad_mode.enabled else ()
    if prev:
        return _recorded(data, op, args, prev, ctx)
    return _const(_as_array(data))


def _recorded(
    data: Any, op: str, args: tuple[Tensor, ...], prev: tuple[Tensor, ...], ctx: Any
) -> Tensor:
    """A node of the graph: made by `op` from `args`, of which `prev` need a gradient."""
    out = _new(Tensor)
    out.data = _as_array(data)
    out.grad = None
    out.requires_grad = True
    out.label = ""
    out._op = op
    out._args = args
    out._prev = prev
    out._ctx = ctx
    return out


def _as_array(data: Any) -> np.ndarray:
    return data if data.__class__ is _ndarray else _asarray(data)


def _const(array: np.ndarray) -> Tensor:
    """A leaf that needs no gradient (a lifted constant, a detached copy)."""
    out = _new(Tensor)
    out.data = array
    out.grad = None
    out.requires_grad = False
    out.label = ""
    out._op = ""
    out._args = out._prev = ()
    out._ctx = None
    return out


def _lift(other: Any, like: Tensor | None) -> Tensor | None:
    """Turn the other operand of an op into a constant Tensor (None: not something we take).

    Python and numpy scalars take the float dtype of the tensor they meet, so `2.0 * x`
    stays float32 (numpy alone would make float64 of a float32 array times a float64 scalar).
    """
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (int, float, np.generic)):
        dtype = like.data.dtype if like is not None and like.data.dtype.kind == "f" else None
        return _const(_asarray(other, dtype=dtype))
    if isinstance(other, _ndarray):
        return _const(other)
    if isinstance(other, (list, tuple)):
        return Tensor(other)
    return None


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


def _plain_index(index: Any) -> Any:
    """An index with any Tensors in it replaced by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index: Any) -> bool:
    """True for numpy 'basic' indexing (ints, slices, None, ...), which never repeats an
    element; lists and arrays are 'advanced' indexing, which can."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts)


# -- error messages that name the op and the shapes ----------------------------------------


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
