"""The one seam between the two engines and everything built on them.

chainrule has two engines: `Value` holds one Python float per node, `Tensor` a numpy array per
node. Everything above them (training, losses, optimizers, gradient checks, derivatives as
functions, pictures, narration, the animation) is written once, and reaches an engine only
here, in one of two ways:

* a node, of either engine, speaks the `chainrule.autograd.Node` protocol: `data`, `grad`,
  `label`, `_op`, `_prev` (the walk), `_rule`, `shape`, `tolist()`, `backward()`,
  `zero_grad()`, and `_vjp(g)`, its chain-rule step recorded as graph nodes;
* what depends on how an engine holds its numbers is asked of the node's `Engine`:
  `engine_of(x)` (for a node, a list of nodes, or a model) gives `ScalarEngine` or
  `TensorEngine`, found by the node class's `engine` name, never by importing the tensor
  engine, so numpy is imported only once a Tensor exists.

An engine answers four kinds of question, each a few lines: its leaves (what is a parameter,
a fresh leaf to differentiate with respect to, how a saved value is restored), shapes, numbers
out (plain floats for reports and plots) and batches (how a model is run over a data set: a
scalar model on one row at a time, a tensor model on the whole batch).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol

from .value import Value, _children, dot

__all__ = [
    "ENGINES",
    "Engine",
    "Node",
    "ScalarEngine",
    "TensorEngine",
    "engine_for",
    "engine_of",
    "is_parameter",
    "numbers_of",
]


class Node(Protocol):
    """One node of either engine's graph, as everything outside the engines sees it.

    `data` is a float (Value) or an array (Tensor); `grad` its gradient (a float, an array,
    None before a tensor's first backward, or a node when the backward pass was recorded);
    `shape` is `()` for a Value. `_prev` lists the operands that receive a gradient, `_op`
    names the op that made the node ('' for a leaf) and `_rule` is that op's definition (an
    `ops.Op` row, or an op of the engine's own; None for a leaf or an op written the lecture's
    way). `_vjp(g)` is the node's chain-rule step recorded as nodes: (operand, contribution).
    `_ctx` is what the op kept for its backward pass (an axis, a shape), if anything.
    """

    data: Any
    grad: Any
    label: str
    _op: str

    @property
    def _prev(self) -> tuple[Any, ...]: ...

    @property
    def shape(self) -> tuple[int, ...]: ...

    def backward(self, gradient: Any = ..., create_graph: bool = ...) -> None: ...

    def zero_grad(self) -> None: ...

    def tolist(self) -> Any: ...

    def _vjp(self, g: Any) -> Iterable[tuple[Any, Any]]: ...


class Engine(Protocol):
    """What an engine provides. Each engine is one subclass of static methods (a protocol, so
    the stubs here are only signatures and what each one is for)."""

    name: ClassVar[str]
    kind: ClassVar[str]  # what its nodes are called in messages: 'Value' or 'Tensor'
    PARAMETERS: ClassVar[str]  # what its parameters are called in messages

    # -- its leaves --------------------------------------------------------------------------

    @staticmethod
    def leaf(x: Any) -> Any:
        """A new leaf holding a copy of `x`'s numbers, which takes a gradient: what a gradient
        check may nudge freely."""

    @staticmethod
    def as_input(x: Any) -> Any:
        """`x` itself if it takes a gradient, else a leaf over the same numbers that does."""

    @staticmethod
    def why_not_differentiable(x: Any) -> str | None:
        """Why `x` cannot be differentiated with respect to, or None."""
        return None

    @staticmethod
    def seed(out: Any) -> Any:
        """d out / d out: the gradient a recorded backward pass starts from."""

    @staticmethod
    def zero_grad(p: Any) -> None:
        """Forget a parameter's gradient."""

    @staticmethod
    def restored(name: str, p: Any, value: Any) -> Any:
        """A state dict's entry checked against parameter `p`, ready for `assign`."""

    @staticmethod
    def assign(p: Any, value: Any) -> None: ...

    # -- its graph -----------------------------------------------------------------------------

    @staticmethod
    def operands(node: Any) -> tuple[Any, ...]:
        """Every operand of `node` that is a node, in the order written, once per use (`a + a`
        lists `a` twice): what a picture draws an arrow from. (`_prev` holds only those that
        receive a gradient.)"""

    # -- numbers out -------------------------------------------------------------------------

    @staticmethod
    def grads(x: Any) -> list[float]:
        """A leaf's gradient as plain floats, one per element (zeros before any backward)."""

    @staticmethod
    def backward(y: Any, seed: list[float]) -> None:
        """Backpropagate from `y`, seeded with one number per element of `y`."""

    # -- batches -----------------------------------------------------------------------------

    @staticmethod
    def owns(model: Any) -> bool: ...

    @staticmethod
    def inputs(X: Sequence[Sequence[float]]) -> Any:
        """The data in the engine's own form, made once per run."""

    @staticmethod
    def targets(targets: list[Any]) -> Any: ...

    @staticmethod
    def take(data: Any, index: list[int]) -> Any:
        """The rows `index` of inputs or targets (a minibatch)."""

    @staticmethod
    def forward(model: Any, inputs: Any) -> Any:
        """The model's outputs for a batch."""

    @staticmethod
    def penalty(params: list[Any]) -> Any:
        """The sum of squared parameters, as a node (the L2 term)."""

    @staticmethod
    def scores(outputs: Any) -> list[float] | list[list[float]]:
        """The outputs as plain numbers: one score per sample, or one row of scores."""

    @staticmethod
    def correct(outputs: Any, classes: list[int], threshold: float) -> int:
        """How many outputs predict their class (score > threshold, or the largest score)."""

    @staticmethod
    def width(outputs: Any) -> int:
        """How many numbers the model returns per sample."""

    # -- optimizer arithmetic ------------------------------------------------------------------

    @staticmethod
    def copy(g: Any) -> Any: ...

    @staticmethod
    def zeros_like(g: Any) -> Any: ...

    @staticmethod
    def sqrt(x: Any) -> Any: ...

    # -- what a loss needs (`chainrule.learn.losses` writes each loss once over these) ----------

    @staticmethod
    def column(outputs: Any, who: str, what: str) -> Any:
        """One score per sample, checked, as the engine's column of nodes: what a loss of one
        output per sample (mse, hinge, bce) is computed on."""

    @staticmethod
    def rows(outputs: Any, who: str) -> tuple[Any, int]:
        """One row of scores per sample, checked: (the rows, how many scores each holds)."""

    @staticmethod
    def each(term: Callable[[Any, Any], Any], xs: Any, ys: list[float]) -> Any:
        """`term(x, y)` for every sample, x from the column `xs` and y the plain number of
        `ys`: a column of terms."""

    @staticmethod
    def total(terms: Any) -> Any:
        """The sum of a column of terms, as one node."""

    @staticmethod
    def nll(rows: Any, classes: list[int]) -> Any:
        """`-log softmax(row)[class]` of every row: a column of terms, computed stably (the
        row's largest score subtracted first, so no exponential overflows)."""


class ScalarEngine(Engine):
    """`Value`s (`chainrule.nn`): a model maps one row of numbers to a Value (one output) or a
    list of Values (one per class), so a batch is a list of rows."""

    name = "scalar"
    kind = "Value"
    PARAMETERS = "Values"

    @staticmethod
    def leaf(x: Value) -> Value:
        return Value(float(x.data), label=x.label)

    @staticmethod
    def as_input(x: Value) -> Value:
        return x

    @staticmethod
    def seed(out: Value) -> float:
        return 1.0

    @staticmethod
    def zero_grad(p: Value) -> None:
        p.grad = 0.0  # a Value's gradient accumulates from 0

    @staticmethod
    def restored(name: str, p: Value, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            kind = type(value).__name__
            raise TypeError(f"state[{name!r}] must be a number, got {kind} {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"state[{name!r}] must be finite, got {value}")
        return value

    @staticmethod
    def assign(p: Value, value: float) -> None:
        p.data = value

    @staticmethod
    def operands(node: Value) -> tuple[Value, ...]:
        return _children(node)  # (a constant exponent, `x**2`, is no node)

    @staticmethod
    def grads(x: Value) -> list[float]:
        return [float(x.grad)]

    @staticmethod
    def backward(y: Value, seed: list[float]) -> None:
        y.backward(seed[0])

    @staticmethod
    def row(x: Any, names: Sequence[str]) -> list[Value]:
        """One row of a scalar model's inputs as Values: each number a constant labeled by
        `names` (x1, x2, ...), each Value kept as it is; a single number or Value is a row of
        one. Made once per layer, not once per neuron."""
        if x.__class__ is Value or isinstance(x, numbers.Real):
            x = (x,)
        n = len(names)
        return [
            v if v.__class__ is Value else Value(v, label=names[i] if i < n else "")
            for i, v in enumerate(x)
        ]

    @staticmethod
    def owns(model: Any) -> bool:
        """The fallback engine: any callable model whose parameters are Values."""
        return callable(model)

    @staticmethod
    def inputs(X: Sequence[Sequence[float]]) -> list[list[Value]]:
        """Each number as a constant Value, made once for the whole run (not once per step)."""
        return [[Value(x) for x in row] for row in X]

    @staticmethod
    def targets(targets: list[Any]) -> list[Any]:
        return targets

    @staticmethod
    def take(data: list[Any], index: list[int]) -> list[Any]:
        return [data[i] for i in index]

    @staticmethod
    def forward(model: Any, inputs: list[list[Value]]) -> list[Any]:
        return list(map(model, inputs))

    @staticmethod
    def penalty(params: list[Value]) -> Value:
        """The sum of squared weights, as one node (the L2 term of micrograd's demo)."""
        return dot(params, params, 0.0)

    @staticmethod
    def number(v: Value | float) -> float:
        """A Value's number, or a plain number as a float."""
        return v.data if isinstance(v, Value) else float(v)

    @staticmethod
    def scores(outputs: list[Any]) -> list[float] | list[list[float]]:
        if outputs and isinstance(outputs[0], (list, tuple)):
            return [[v.data for v in row] for row in outputs]
        return list(map(ScalarEngine.number, outputs))

    @staticmethod
    def correct(outputs: list[Any], classes: list[int], threshold: float) -> int:
        if outputs and isinstance(outputs[0], (list, tuple)):
            hits = 0
            for row, c in zip(outputs, classes):
                data = [v.data for v in row]
                hits += data.index(max(data)) == c
            return hits
        return sum((s.data > threshold) == c for s, c in zip(outputs, classes))

    @staticmethod
    def width(outputs: list[Any]) -> int:
        first = outputs[0]
        return len(first) if isinstance(first, (list, tuple)) else 1

    @staticmethod
    def copy(g: float) -> float:
        return g  # floats are immutable: nothing can change it behind the optimizer's back

    @staticmethod
    def zeros_like(g: float) -> float:
        return 0.0

    @staticmethod
    def sqrt(x: float) -> float:
        return math.sqrt(x)

    @staticmethod
    def column(outputs: Any, who: str, what: str) -> list[Value]:
        """A list of Values; plain numbers become constants."""
        if isinstance(outputs, (Value, str, bytes)) or not isinstance(outputs, Sequence):
            raise TypeError(f"{who}: {what} must be a list of Values or numbers, got {outputs!r}")
        out = []
        for i, v in enumerate(outputs):
            if v.__class__ is Value:
                out.append(v)
            elif isinstance(v, numbers.Real) and not isinstance(v, bool):
                out.append(Value(float(v)))
            else:
                hint = " (one row per sample? use cross_entropy)" if isinstance(v, list) else ""
                raise TypeError(f"{who}: {what}[{i}] must be a Value or a number, got {v!r}{hint}")
        if not out:
            raise ValueError(f"{who}: {what} is empty")
        return out

    @staticmethod
    def rows(outputs: Any, who: str) -> tuple[list[list[Value]], int]:
        """A list of rows of equal length (a model with C outputs returns one per sample)."""
        if isinstance(outputs, (Value, str, bytes)) or not isinstance(outputs, Sequence):
            raise TypeError(f"{who}: logits_rows must be a list of rows, got {outputs!r}")
        if not outputs:
            raise ValueError(f"{who}: logits_rows is empty")
        rows = []
        for i, row in enumerate(outputs):
            if row.__class__ is Value or isinstance(row, numbers.Real):
                raise TypeError(
                    f"{who}: logits_rows[{i}] is a single score; each row needs one score per "
                    "class (a model with C outputs)"
                )
            rows.append(ScalarEngine.column(row, who, f"logits_rows[{i}]"))
            if len(rows[-1]) != len(rows[0]):
                raise ValueError(
                    f"{who}: logits_rows[{i}] has {len(rows[-1])} scores, the first row "
                    f"{len(rows[0])}"
                )
        return rows, len(rows[0])

    @staticmethod
    def each(term: Callable[[Any, Any], Any], xs: list[Value], ys: list[float]) -> list[Value]:
        return list(map(term, xs, ys))

    @staticmethod
    def total(terms: list[Value]) -> Value:
        """One `dot` node with a shared constant 1: exactly `sum(terms)`, in one node instead
        of one per term, so a loss over a batch backpropagates cheaply."""
        return dot(terms, [Value(1.0)] * len(terms), 0.0)

    @staticmethod
    def nll(rows: list[list[Value]], classes: list[int]) -> list[Value]:
        out = []
        for zs, c in zip(rows, classes):
            m = max(z.data for z in zs)  # a constant: the value and gradient are unchanged
            shifted = [z - m for z in zs]
            out.append(ScalarEngine.total([d.exp() for d in shifted]).log() - shifted[c])
        return out


class TensorEngine(Engine):
    """`Tensor`s (`chainrule.tensor`): a model maps a batch (N, features) to outputs
    (N, outputs) in one call, so the data become one float32 array per run, a minibatch is a
    slice of it, and the forward pass, the loss and the accuracy are each a handful of array
    operations however many rows there are. numpy is imported here only when it is used: by
    then a Tensor exists, so numpy is there."""

    name = "tensor"
    kind = "Tensor"
    PARAMETERS = "Tensors that require grad"

    @staticmethod
    def leaf(x: Any) -> Any:
        return type(x)(x.data.copy(), requires_grad=True, label=x.label)

    @staticmethod
    def as_input(x: Any) -> Any:
        return x if x.requires_grad else type(x)(x.data, requires_grad=True, label=x.label)

    @staticmethod
    def why_not_differentiable(x: Any) -> str | None:
        if x.dtype.kind != "f":
            return f"a tensor of dtype {x.dtype}, which cannot be differentiated; make it float"
        return None

    @staticmethod
    def seed(out: Any) -> Any:
        return type(out)(out.data * 0 + 1, dtype=out.dtype)

    @staticmethod
    def zero_grad(p: Any) -> None:
        p.grad = None  # no array until the next backward (PyTorch's set_to_none)

    @staticmethod
    def restored(name: str, p: Any, value: Any) -> Any:
        import numpy as np

        try:
            array = np.asarray(value, dtype=p.data.dtype)
        except (TypeError, ValueError) as err:
            raise ValueError(f"state[{name!r}] is not an array of numbers: {err}") from None
        if array.shape != p.data.shape:
            raise ValueError(
                f"state[{name!r}] has shape {array.shape}, but the parameter has shape "
                f"{p.data.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"state[{name!r}] holds values that are not finite")
        return array

    @staticmethod
    def assign(p: Any, value: Any) -> None:
        p.data[...] = value  # in place: optimizers and views keep seeing the parameter

    @staticmethod
    def operands(node: Any) -> tuple[Any, ...]:
        return node._args  # constants included: backward() walks `_prev`, the others

    @staticmethod
    def grads(x: Any) -> list[float]:
        if x.grad is None:
            return [0.0] * int(x.data.size)
        return [float(g) for g in x.grad.reshape(-1).tolist()]

    @staticmethod
    def backward(y: Any, seed: list[float]) -> None:
        if y.requires_grad:  # else nothing checked reaches it
            gradient = y.data.copy()
            gradient.reshape(-1)[:] = seed
            y.backward(gradient=gradient)

    @staticmethod
    def owns(model: Any) -> bool:
        """A model that takes a whole batch (a tensor layer), or whose first parameter is a
        Tensor."""
        if getattr(model, "batched", False):
            return True
        parameters = getattr(model, "parameters", None)
        if not callable(parameters):
            return False
        params = parameters()
        return bool(params) and getattr(type(params[0]), "engine", None) == "tensor"

    @staticmethod
    def inputs(X: Sequence[Sequence[float]]) -> Any:
        """float32, the type networks train in; an integer array stays as it is (token ids
        for an Embedding, which takes no floats)."""
        import numpy as np

        if isinstance(X, np.ndarray) and X.dtype.kind in "iu":
            return X
        return np.asarray(X, dtype=np.float32)

    @staticmethod
    def targets(targets: list[Any]) -> Any:
        import numpy as np

        y = np.asarray(targets)
        return y.astype(np.float32) if y.dtype.kind == "f" else y

    @staticmethod
    def take(data: Any, index: list[int]) -> Any:
        return data[index]

    @staticmethod
    def forward(model: Any, inputs: Any) -> Any:
        return model(inputs)

    @staticmethod
    def penalty(params: list[Any]) -> Any:
        """Σ p² over every element of every parameter, as a node."""
        return sum((p * p).sum() for p in params)

    @staticmethod
    def scores(outputs: Any) -> list[float] | list[list[float]]:
        data = outputs.data
        if data.ndim == 2 and data.shape[1] == 1:
            return data[:, 0].tolist()
        return data.tolist()

    @staticmethod
    def correct(outputs: Any, classes: list[int], threshold: float) -> int:
        import numpy as np

        data = outputs.data
        if data.ndim == 2 and data.shape[1] > 1:
            predicted = data.argmax(axis=1)
        else:
            predicted = data.reshape(-1) > threshold
        return int(np.count_nonzero(predicted == np.asarray(classes)))

    @staticmethod
    def width(outputs: Any) -> int:
        shape = outputs.data.shape
        return shape[-1] if len(shape) > 1 else 1

    @staticmethod
    def copy(g: Any) -> Any:
        return g.copy()  # backward may later add into the same array

    @staticmethod
    def zeros_like(g: Any) -> Any:
        import numpy as np

        return np.zeros_like(g)

    @staticmethod
    def sqrt(x: Any) -> Any:
        import numpy as np

        return np.sqrt(x)

    @staticmethod
    def column(outputs: Any, who: str, what: str) -> Any:
        """Shape (N,); the (N, 1) outputs of a one-output model are flattened."""
        if outputs.ndim == 2 and outputs.shape[1] == 1:
            return outputs.reshape(-1)
        if outputs.ndim != 1:
            raise ValueError(
                f"{who}: {what} must have shape (N,) or (N, 1) (one score per sample), "
                f"got {outputs.shape}"
            )
        return outputs

    @staticmethod
    def rows(outputs: Any, who: str) -> tuple[Any, int]:
        if outputs.ndim != 2:
            raise ValueError(f"{who}: logits must have shape (N, C), got {outputs.shape}")
        return outputs, outputs.shape[1]

    @staticmethod
    def each(term: Callable[[Any, Any], Any], xs: Any, ys: list[float]) -> Any:
        """One call on the whole column: the term's arithmetic is elementwise."""
        import numpy as np

        return term(xs, np.asarray(ys, dtype=xs.dtype))

    @staticmethod
    def total(terms: Any) -> Any:
        return terms.sum()

    @staticmethod
    def nll(rows: Any, classes: list[int]) -> Any:
        """The fused, stable `log_softmax`, read at each row's class."""
        return -rows.log_softmax(axis=-1)[list(range(len(classes))), classes]


# Each node class names its engine (`Value.engine == 'scalar'`): the one registry of engines.
ENGINES: dict[str, type[Engine]] = {"scalar": ScalarEngine, "tensor": TensorEngine}


def engine_of(x: Any) -> type[Engine] | None:
    """The engine whose node `x` is; None for plain numbers, lists and anything else."""
    return ENGINES.get(getattr(type(x), "engine", None))  # type: ignore[arg-type]


def engine_for(model: Any) -> type[Engine]:
    """The engine that knows how to run `model` (the scalar engine takes any callable)."""
    if TensorEngine.owns(model):
        return TensorEngine
    if ScalarEngine.owns(model):
        return ScalarEngine
    raise TypeError(f"no engine can train a {type(model).__name__}: models must be callable")


def batch_engine(outputs: Any) -> type[Engine]:
    """The engine whose numbers `outputs` are (a Tensor, or a list of Values and numbers)."""
    return TensorEngine if engine_of(outputs) is TensorEngine else ScalarEngine  # lists: scalar


def is_parameter(obj: object) -> bool:
    """A learnable number of either engine: a `Value`, or a `Tensor` that asks for gradients.

    Asked of every attribute when a model lists its parameters, so the cheapest test (an
    MLP's parameters are all Values) comes first."""
    return obj.__class__ is Value or (
        getattr(type(obj), "engine", None) == "tensor" and getattr(obj, "requires_grad", False)
    )


def parameter_engine(p: Any) -> type[Engine]:
    """The engine of one parameter: a Value's is the scalar engine, and anything else that holds
    its numbers in `.data` and `.grad` (a Tensor) the tensor engine, whose arithmetic is
    numpy's."""
    return ScalarEngine if p.__class__ is Value else TensorEngine


def numbers_of(x: Any) -> list[float]:
    """Numbers out: the floats of a node, of a gradient (a float, an array, a recorded node)
    or of a plain number, flattened."""
    if hasattr(type(x), "engine"):
        x = x.data
    if hasattr(x, "reshape"):
        return [float(v) for v in x.reshape(-1).tolist()]
    return [float(x)]
