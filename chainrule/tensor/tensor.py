"""The tensor engine: `Tensor`, the design of `Value` carried over to numpy arrays.

A `Value` holds one number; a `Tensor` holds a whole array, so one node of the graph does the
work of thousands of scalar nodes and the Python cost per node is paid once per array. The
autograd is the same, piece for piece:

* every operation computes its result (the forward value, in the method below) and records
  its operands in the result;
* every operation has a vector-Jacobian product (`VJPS`, found from `_op`; an op of the table
  `chainrule.ops` uses its row's derivatives) that multiplies the incoming gradient by the
  local derivative. It is written once, with operations arrays and Tensors both have: on
  arrays it is the training step, on Tensors the recorded one (`create_graph=True`), whose
  gradients can be differentiated again. The arithmetic and relu keep a hand-written numpy
  step (`RULES`, fewer temporaries), checked against their table rows;
* `backward()` hands the graph to `chainrule.autograd.backpropagate`, the very walk `Value` uses.

The array helpers (broadcast gradients summed back, the error messages) are in `arrays.py`.
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
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from .. import ops
from ..autograd import (
    AnomalyError,
    anomaly_mode,
    backpropagate,
    checked_step,
    describe,
    grad_mode,
    no_grad,
    record_backward,
    topological_order,
)
from ..ops import Op
from .arrays import (
    Axis,
    axis_error,
    broadcast_error,
    kept_shape,
    matmul_error,
    ones,
    scattered,
    sum_to_shape,
    tensor_name,
)

__all__ = ["Tensor", "no_grad"]

_ndarray = np.ndarray
_asarray = np.asarray
_add_reduce: Any = np.add.reduce  # the ufuncs' own reduce: less overhead than the methods
_max_reduce: Any = np.maximum.reduce
_sigmoid = ops.SIGMOID.array
_float32 = np.dtype(np.float32)
_np_dot = np.dot
_new = object.__new__
_needs_grad = attrgetter("requires_grad")


def _reflected(method: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    """`other op self`: the other operand lifted to a Tensor (`_lift`), then `method` on both.

    Python calls these when the left operand (a number, an array, a list) cannot do the op
    with a Tensor; what cannot be lifted gives NotImplemented, so Python raises its TypeError.
    """

    def reflected(self: Tensor, other: Any) -> Tensor:
        b = _lift(other, self)
        return NotImplemented if b is None else method(b, self)

    return reflected


def _row_method(name: str) -> Callable[[Tensor], Tensor]:
    """A method applying the op table's row `name` to the tensor, elementwise."""

    def method(self: Tensor) -> Tensor:
        return ops.TABLE[name](self)

    method.__name__ = method.__qualname__ = name
    return method


class Tensor:
    """An n-dimensional array in a computation graph, with its gradient.

    Every operation on a tensor computes its array and, when an operand requires a gradient,
    records the operands in the result; `backward()` on a loss then fills the `grad` of every
    tensor it was computed from, as in PyTorch. The methods are PyTorch's (and numpy's) names,
    each a node of the graph; their one-line notes say what differs, if anything.

    Args:
        data: A number, a (nested) list or a numpy array (the module notes say which dtype
            each becomes).
        requires_grad: Whether `backward()` fills this tensor's `grad`: set it on the tensors
            you want gradients for (a model's weights). Float tensors only.
        label: A name for error messages and pictures.
        dtype: The numpy dtype to store, instead of the one `data` gives.

    Raises:
        TypeError: `data` is a Tensor or not numeric, or an integer tensor requires a gradient.

    Examples:
        >>> from chainrule import Tensor
        >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, label="x")
        >>> w = Tensor([0.5, -1.0], requires_grad=True, label="w")
        >>> loss = ((x * w).sum(axis=1) ** 2).mean()
        >>> loss
        Tensor(4.25, requires_grad=True, op='mean')
        >>> loss.backward()
        >>> x.grad
        array([[-0.75,  1.5 ],
               [-1.25,  2.5 ]], dtype=float32)
        >>> w.grad.tolist(), x.shape, x.T.shape, x[0].tolist()
        ([-9.0, -13.0], (2, 2), (2, 2), [1.0, 2.0])
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_args", "_prev", "_ctx", "_rule")
    data: np.ndarray
    grad: Any  # None, an array, or a Tensor when the backward pass was recorded
    requires_grad: bool
    label: str
    _op: str
    _args: tuple[Tensor, ...]  # the operands, constants included
    _prev: tuple[Tensor, ...]  # the operands that need a gradient: what backward() walks
    _ctx: Any  # what the op kept for its backward step (an axis, a mask, an Op row)
    _rule: Op | None

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
            if dtype is None and not isinstance(data, (_ndarray, np.generic)):
                dtype = _float32  # an array keeps its own
            array = _asarray(data, dtype=dtype)
        except (TypeError, ValueError) as err:
            raise TypeError(f"Tensor data{what} must be numeric array-like: {err}") from None
        if array.dtype.kind not in "fiub":
            raise TypeError(f"Tensor data{what} must be numeric, got dtype {array.dtype}")
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {array.dtype}"
                f"{what}; pass float data or dtype=np.float32"
            )
        _leaf(self, array, bool(requires_grad), label)

    # -- what it holds ----------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each axis, as numpy's `shape`."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of the data."""
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
        """The single number, as a Python float."""
        return float(self.item())

    def __bool__(self) -> bool:
        """The truth of a one-element tensor (numpy's rule for larger ones: an error)."""
        return bool(self.data)

    def __len__(self) -> int:
        """The size of the first axis."""
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """The sub-tensors along the first axis (each one indexed, so in the graph)."""
        if not self.data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The data, so that `np.asarray(t)` and matplotlib read a tensor's values."""
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __repr__(self) -> str:
        """`Tensor([...])`, with the dtype (when not float32), the op and the label."""
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
                f"backward() on {tensor_name(self)}, which does not require grad: none of the "
                "tensors it was computed from has requires_grad=True, or it was computed "
                "under no_grad()"
            )
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a one-element output (a loss); "
                    f"{tensor_name(self)} has shape {self.shape}: pass gradient=... of that shape"
                )
            seed_grad = np.ones(self.data.shape, self.data.dtype)
            fresh = True
        else:
            seed_grad = gradient.data if isinstance(gradient, Tensor) else _asarray(gradient)
            if seed_grad.shape != self.data.shape:
                raise ValueError(
                    f"backward(gradient): gradient of shape {seed_grad.shape} does not match "
                    f"{tensor_name(self)} of shape {self.shape}"
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

    def _vjp(self, g: Any) -> Iterator[tuple[Tensor, Any]]:
        """This node's chain-rule step: (operand, contribution) pairs (`vjp`)."""
        return vjp(self, g)

    def zero_grad(self) -> None:
        """Forget the gradients of this tensor and of everything it was computed from."""
        for node in topological_order(self, _edges):
            node.grad = None

    # -- elementwise arithmetic, numpy broadcasting both ways ---------------------------------

    def __add__(self, other: Any) -> Tensor:
        """`self + other`."""
        return _elementwise(self, other, "+", operator.add)

    def __sub__(self, other: Any) -> Tensor:
        """`self - other`."""
        return _elementwise(self, other, "-", operator.sub)

    def __mul__(self, other: Any) -> Tensor:
        """`self * other`."""
        return _elementwise(self, other, "*", operator.mul)

    def __truediv__(self, other: Any) -> Tensor:
        """`self / other`."""
        return _elementwise(self, other, "/", operator.truediv)

    def __pow__(self, other: Any) -> Tensor:
        """`self ** other`."""
        return _elementwise(self, other, "**", operator.pow)

    def __matmul__(self, other: Any) -> Tensor:
        """`self @ other`, the matrix product (batch axes broadcast, as in numpy)."""
        return _elementwise(self, other, "@", operator.matmul)

    def __neg__(self) -> Tensor:
        """`-self`."""
        return _unary(-self.data, "neg", self)

    def __radd__(self, other: Any) -> Tensor:
        """`other + self`."""
        return self + other

    def __rmul__(self, other: Any) -> Tensor:
        """`other * self`."""
        return self * other

    __rsub__ = _reflected(operator.sub)
    __rtruediv__ = _reflected(operator.truediv)
    __rpow__ = _reflected(operator.pow)
    __rmatmul__ = _reflected(operator.matmul)

    # -- elementwise functions ------------------------------------------------------------------

    def exp(self) -> Tensor:
        """The exponential e^x of each element."""
        return _unary(np.exp(self.data), "exp", self)

    def log(self) -> Tensor:
        """The natural logarithm of each element."""
        return _unary(np.log(self.data), "log", self)

    def tanh(self) -> Tensor:
        """The hyperbolic tangent of each element."""
        return _unary(np.tanh(self.data), "tanh", self)

    def relu(self) -> Tensor:
        """max(x, 0) of each element."""
        return _unary(np.maximum(self.data, 0), "relu", self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e^-x) of each element."""
        return _unary(_sigmoid(self.data), "sigmoid", self)

    # The other functions of the op table (`chainrule.ops.functions` adds them): x.sin(), abs(x).
    sin, cos, sqrt, softplus, silu, gelu, abs = map(
        _row_method, ("sin", "cos", "sqrt", "softplus", "silu", "gelu", "abs")
    )
    __abs__ = abs

    def _apply_op(self, op: ops.Op, args: tuple[Any, ...]) -> Tensor:
        """Record the table's `op` applied to `args` (this tensor among them), elementwise."""
        operands = []
        for a in args:
            t = a if a.__class__ is Tensor else _lift(a, self)
            if t is None:
                raise TypeError(
                    f"{op.name}: unsupported operand {type(a).__name__} {a!r} "
                    f"with {tensor_name(self)}"
                )
            operands.append(t)
        try:
            data = op.array(*[t.data for t in operands])
        except ValueError:
            if len(operands) == 2:
                raise broadcast_error(op.name, operands[0], operands[1]) from None
            raise
        return _node(data, op.name, tuple(operands), op)

    # -- reductions ---------------------------------------------------------------------------

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over `axis` (an int, a tuple of ints, or None for all)."""
        data = self._reduce("sum", _add_reduce, axis, keepdims)
        return _unary(data, "sum", self, (axis, keepdims))

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over `axis` (an int, a tuple of ints, or None for all)."""
        # the sum, then one division: what ndarray.mean does (integers sum as float64)
        wide = None if self.data.dtype.kind == "f" else np.float64
        total = self._reduce("mean", _add_reduce, axis, keepdims, wide)
        count = self.data.size // max(total.size, 1)
        return _unary(total / total.dtype.type(count), "mean", self, (axis, keepdims, count))

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Largest value over `axis` (an int, a tuple of ints, or None for all).

        Where several elements tie for the maximum, the gradient is shared equally between
        them, as `torch.amax(x, dim)` and the full `torch.max(x)` do; `torch.max(x, dim)`,
        which also returns indices, gives it all to the first one instead.
        """
        data = self._reduce("max", _max_reduce, axis, keepdims)
        return _unary(data, "max", self, (axis, keepdims))

    def _reduce(
        self, op: str, reduce: Callable[..., Any], axis: Axis, keepdims: bool, dtype: Any = None
    ) -> Any:
        """`reduce` (a ufunc's reduce) of the data over `axis`; a bad axis is named for `op`."""
        try:
            return reduce(self.data, axis=axis, keepdims=keepdims, dtype=dtype)
        except ValueError as err:  # numpy's AxisError is a ValueError
            raise axis_error(op, self, axis, err) from None

    def _scatter(self, shape: tuple[int, ...], index: Any) -> Tensor:
        """A zero tensor of `shape` with this one added in at `index`.

        The gradient of indexing: repeated indices add up.
        """
        data = scattered(self.data, index, shape)
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
                f"reshape: cannot reshape {tensor_name(self)} of shape {self.shape} "
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
                f"permute: {tuple(dims)} is not an ordering of the {n} axes of {tensor_name(self)} "
                f"of shape {self.shape}"
            )
        inverse = tuple(sorted(range(n), key=lambda i: dims[i] % n))  # the permutation undone
        return _unary(self.data.transpose(dims), "permute", self, inverse)

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two axes, as `torch.transpose`.

        With no arguments, the last two: the matrix transpose, also of a batch of matrices.
        """
        n = self.data.ndim
        if not (-n <= dim0 < n and -n <= dim1 < n):
            raise ValueError(
                f"transpose: axes ({dim0}, {dim1}) out of range for {tensor_name(self)} "
                f"of shape {self.shape}"
            )
        dims = list(range(n))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return _unary(self.data.transpose(dims), "permute", self, tuple(dims))

    swapaxes = transpose  # numpy's name, so that a VJP swaps the axes of arrays and Tensors alike

    @property
    def T(self) -> Tensor:
        """All axes reversed: the transpose of a matrix (numpy's `.T`)."""
        return self.permute(*range(self.data.ndim - 1, -1, -1))

    def __getitem__(self, index: Any) -> Tensor:
        """Slices, integers, integer or boolean arrays, `None` and `...`, as in numpy."""
        index = _plain_index(index)
        try:
            data = self.data[index]
        except IndexError as err:
            raise IndexError(f"indexing {tensor_name(self)} of shape {self.shape}: {err}") from None
        return _unary(data, "index", self, index)

    # -- normalised exponentials ------------------------------------------------------------

    def softmax(self, axis: int = -1) -> Tensor:
        """e^x / Σ e^x along `axis`; the max is subtracted first so e^x cannot overflow."""
        e = np.exp(self._shifted("softmax", axis))
        e /= _add_reduce(e, axis=axis, keepdims=True)
        return _unary(e, "softmax", self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """The log of the softmax, x - log Σ e^x along `axis`, without overflow (log-sum-exp)."""
        z = self._shifted("log_softmax", axis)
        z -= np.log(_add_reduce(np.exp(z), axis=axis, keepdims=True))
        return _unary(z, "log_softmax", self, axis)

    def _shifted(self, op: str, axis: int) -> np.ndarray:
        """The data less its max along `axis`: what the softmaxes exponentiate, never above 0."""
        return self.data - self._reduce(op, _max_reduce, axis, True)


# -- making nodes: every op's result, and the functional ops' too ---------------------------
#
# An op computes its array, then hands it here: `_unary`, `_binary` and `_node` record the
# operands (only those that need a gradient, and only while grad mode is on) or make a plain
# leaf that holds no reference to them; `_lift` turns the other operand of an op (a number, an
# array, a list) into a constant tensor, and `_as_input` the main operand of a functional op.


def _unary(data: Any, op: str, a: Tensor, ctx: Any = None) -> Tensor:
    """The result of a one-operand op: a node recording `a` when it needs a gradient.

    Only while grad mode is on; otherwise the result is a plain leaf holding no reference to `a`.
    """
    if a.requires_grad and grad_mode.enabled:
        args = (a,)
        return _recorded(data, op, args, args, ctx)
    return _const(_as_array(data))


def _elementwise(a: Tensor, other: Any, op: str, compute: Callable[[Any, Any], Any]) -> Any:
    """`a op other` with numpy broadcasting: the arithmetic ops and the matrix product.

    A shape mismatch becomes a ValueError naming the op and both shapes, not numpy's message.
    """
    b = other if other.__class__ is Tensor else _lift(other, a)
    if b is None:
        return NotImplemented
    try:
        data = compute(a.data, b.data)
    except ValueError:
        raise (matmul_error(a, b) if op == "@" else broadcast_error(op, a, b)) from None
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
    out._rule = ctx if ctx.__class__ is Op else None  # the op's definition, for the pictures
    if anomaly_mode.enabled and not np.all(np.isfinite(out.data)):
        bad = int(np.flatnonzero(~np.isfinite(out.data.reshape(-1)))[0])
        given = ", ".join(describe(a) for a in args)
        raise AnomalyError(
            f"anomaly: {op} of {given} produced {out.data.reshape(-1)[bad]} "
            f"at flat index {bad} of its result (shape {out.data.shape})"
        )
    return out


def _as_array(data: Any) -> np.ndarray:
    return data if data.__class__ is _ndarray else _asarray(data)


def _const(array: np.ndarray) -> Tensor:
    """A leaf that needs no gradient (a lifted constant, a detached copy)."""
    return _leaf(_new(Tensor), array, False, "")


def _leaf(out: Tensor, array: np.ndarray, requires_grad: bool, label: str) -> Tensor:
    """`out` made a leaf holding `array`: no operands, no gradient yet."""
    out.data = array
    out.grad = None
    out.requires_grad = requires_grad
    out.label = label
    out._op = ""
    out._args = out._prev = ()
    out._ctx = out._rule = None
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


def _as_input(x: Any, like: Tensor | None, who: str, what: str = "input") -> Tensor:
    """The operand `x` of the functional op `who` as a Tensor.

    Itself, or lifted (`_lift`) from an array, a list or a number; anything else is a TypeError
    that names the op.
    """
    if x.__class__ is Tensor:
        return x
    t = _lift(x, like)
    if t is None:
        raise TypeError(f"{who}: the {what} must be a Tensor or an array, got {type(x).__name__}")
    return t


# -- the backward pass on arrays ------------------------------------------------------------


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
        g = _asarray(sum_to_shape(g, data.shape))
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


def _d_add(out: Tensor) -> None:  # d(a±b)/da = 1, d(a±b)/db = ±1
    a, b = out._args
    g = out.grad
    if a.requires_grad:
        _add_grad(a, g, False)
    if b.requires_grad:
        minus = out._op == "-"
        _add_grad(b, -g if minus else g, minus)  # -g is a new array, g is shared


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


def _d_relu(out: Tensor) -> None:  # d(relu a)/da = 1 where a > 0 (or nan, as torch), else 0
    _add_grad(out._args[0], out.grad * (out.data != 0))  # relu is 0 exactly where a <= 0


def _d_table(out: Tensor) -> None:  # a row of the op table: g times each local derivative
    op = out._ctx if out._ctx.__class__ is Op else ops.TABLE[out._op]
    args = out._args
    g = out.grad
    xs = [a.data for a in args]
    for i, a in enumerate(args):
        if a.requires_grad:
            _add_grad(a, g * op.partials[i](*xs, out.data))


RULES: dict[str, Callable[[Tensor], None]] = {
    "+": _d_add,
    "-": _d_add,
    "*": _d_mul,
    "/": _d_div,
    "**": _d_pow,
    "relu": _d_relu,
    # the others' rows are as cheap as a hand-written step: g times the row's local derivative
    "neg": _d_table,
    "exp": _d_table,
    "log": _d_table,
    "tanh": _d_table,
    "sigmoid": _d_table,
}


def local_step(node: Tensor) -> None:
    """One node's chain-rule step (leaves and constants have none)."""
    if node._op:
        rule = _d_table if node._ctx.__class__ is Op else RULES.get(node._op)
        if rule is not None:
            rule(node)
            return
        g = node.grad
        for a, c in VJPS[node._op](node, g):  # a view of g (a reshape) is shared, not owned
            _add_grad(a, c, c is not g and c.base is None)


# -- vector-Jacobian products: one per op, on arrays or recorded as Tensors ------------------

Pairs = Iterator[tuple["Tensor", Any]]
VJP = Callable[["Tensor", Any], Pairs]


def vjp(node: Tensor, g: Any) -> Pairs:
    """(operand, contribution) for each operand of `node` that needs a gradient.

    `g` is d(loss)/d(node): an array, and the contributions are arrays (what `explain`
    shows), or a Tensor, and they are Tensors computed from the graph, so that the gradient
    can be differentiated again (`backward(create_graph=True)`). Each op's VJP is written once,
    with operations that arrays and Tensors both have (`@`, `.T`, `reshape`, `sum`, the op
    table's rows); `_like` hands it each operand as one or the other.
    """
    if not node._op:
        return  # a leaf
    ctx = node._ctx
    op = ctx if ctx.__class__ is Op else ops.TABLE.get(node._op)
    if op is not None:
        args, out = [_like(g, a) for a in node._args], _like(g, node)
        for i, a in enumerate(node._args):
            if a.requires_grad:
                local = op.partials[i](*args, out)
                one = local.__class__ is int and local == 1  # a slope of 1: g itself
                yield a, sum_to_shape(g if one else g * local, a.shape)
        return
    for a, c in VJPS[node._op](node, g):
        if a.requires_grad:
            yield a, c


def _like(g: Any, t: Tensor) -> Any:
    """`t` as a VJP computes with it: its array when `g` is an array, else the Tensor itself.

    With Tensors every product of the step is recorded.
    """
    return t if g.__class__ is Tensor else t.data


def _dot(a: Any, b: Any) -> Any:
    """The product a @ b; for two arrays `np.dot`, which has less overhead on small matrices."""
    return _np_dot(a, b) if a.__class__ is _ndarray is b.__class__ else a @ b


def _permuted(g: Any, dims: tuple[int, ...]) -> Any:
    return g.permute(dims) if g.__class__ is Tensor else g.transpose(dims)


def _scatter(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """`g` added into zeros of `shape` at `index`: an array, or a recorded Tensor op."""
    return g._scatter(shape, index) if g.__class__ is Tensor else scattered(g, index, shape)


def _kept(g: Any, a: Tensor, axis: Axis, keepdims: bool) -> Any:
    """A reduction's result or gradient with the reduced axes kept as 1s, to line up with `a`."""
    return g if axis is None or keepdims else g.reshape(kept_shape(a.data.shape, axis))


def _spread(g: Any, a: Tensor, axis: Axis, keepdims: bool) -> Any:
    """A reduction's gradient copied back over every element that was reduced."""
    g = _kept(g, a, axis, keepdims)
    return g * ones(a.data.shape, a.data.dtype)  # times ones: the spread, for arrays and Tensors


def _vjp_matmul(node: Tensor, g: Any) -> Pairs:  # dA = G @ Bᵀ, dB = Aᵀ @ G
    a, b = node._args
    A, B = _like(g, a), _like(g, b)
    if A.ndim == 2 == B.ndim:  # the common case, straight to BLAS
        if a.requires_grad:
            yield a, _dot(g, B.T)
        if b.requires_grad:
            yield b, _dot(A.T, g)
        return
    # A vector operand acts as a one-row (left) or one-column (right) matrix; batch axes
    # broadcast, so each gradient is summed back to its operand's shape.
    A2 = A if A.ndim > 1 else A.reshape(1, -1)
    B2 = B if B.ndim > 1 else B.reshape(-1, 1)
    G = g if A.ndim > 1 else g.reshape(*g.shape[:-1], 1, g.shape[-1]) if g.ndim else g.reshape(1, 1)
    G = G if B.ndim > 1 else G.reshape(*G.shape, 1)
    if a.requires_grad:
        yield a, sum_to_shape(G @ B2.swapaxes(-1, -2), A2.shape).reshape(A.shape)
    if b.requires_grad:
        yield b, sum_to_shape(A2.swapaxes(-1, -2) @ G, B2.shape).reshape(B.shape)


def _vjp_sum(node: Tensor, g: Any) -> Pairs:  # every summed element gets the sum's gradient
    a, ctx = node._args[0], node._ctx  # (a mean's: 1/count of it)
    yield a, _spread(g / ctx[2] if node._op == "mean" else g, a, ctx[0], ctx[1])


def _vjp_max(node: Tensor, g: Any) -> Pairs:  # to the maxima, shared between ties (a constant)
    a = node._args[0]
    axis, keepdims = node._ctx
    g = _kept(g, a, axis, keepdims)
    hit = a.data == _kept(node.data, a, axis, keepdims)
    yield a, g * (hit / hit.sum(axis=axis, keepdims=True)).astype(a.data.dtype, copy=False)


def _vjp_softmax(node: Tensor, g: Any) -> Pairs:  # ds_i/da_j = s_i (δ_ij - s_j)
    s = _like(g, node)
    gs = g * s
    yield node._args[0], gs - s * gs.sum(axis=node._ctx, keepdims=True)


def _vjp_log_softmax(node: Tensor, g: Any) -> Pairs:  # d(log s_i)/da_j = δ_ij - s_j
    yield node._args[0], g - ops.EXP(_like(g, node)) * g.sum(axis=node._ctx, keepdims=True)


VJPS: dict[str, VJP] = {
    "@": _vjp_matmul,
    "sum": _vjp_sum,
    "mean": _vjp_sum,
    "max": _vjp_max,
    "reshape": lambda node, g: iter([(node._args[0], g.reshape(node._args[0].data.shape))]),
    "permute": lambda node, g: iter([(node._args[0], _permuted(g, node._ctx))]),
    "index": lambda node, g: iter([(node._args[0], _scatter(g, node._ctx, node._args[0].shape))]),
    "scatter": lambda node, g: iter([(node._args[0], g[node._ctx[0]])]),
    "softmax": _vjp_softmax,
    "log_softmax": _vjp_log_softmax,
}


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
