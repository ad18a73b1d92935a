"""The one seam between the two engines and everything built on them.

chainrule has two engines: `Value` holds one Python float per node, `Tensor` a numpy array per
node. Everything above them (training, losses, optimizers, gradient checks, derivatives as
functions, pictures, narration, the animation) is written once, and reaches an engine only
here, in one of two ways:

* a node, of either engine, speaks the `chainrule.autograd.Node` protocol: `data`, `grad`,
  `label`, `_op`, `_prev` (the walk), `_rule`, `shape`, `tolist()`, `backward()`,
  `zero_grad()`, and `_vjp(g)`, its chain-rule step recorded as graph nodes;
* what depends on how an engine holds its numbers is asked of the node's `Engine`:
  `engine_of(x)` (for a node, a list of nodes, or a model) gives `SCALAR` or `TENSOR`, the
  one `ScalarEngine` and the one `TensorEngine`, found by the node class's `engine` name,
  never by importing the tensor engine, so numpy is imported only once a Tensor exists.

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

from .autograd import no_grad
from .value import Value, _children, dot

__all__ = [
    "ENGINES",
    "SCALAR",
    "TENSOR",
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

    Examples:
        >>> from chainrule import Value
        >>> x = Value(2.0, label="x")
        >>> y = x * x
        >>> y._op, y._prev == (x,), y.shape, y.tolist()
        ('*', True, (), 4.0)
    """

    data: Any
    grad: Any
    label: str
    _op: str

    @property
    def _prev(self) -> tuple[Any, ...]: ...

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the data: `()` for a Value."""

    def backward(self, gradient: Any = ..., create_graph: bool = ...) -> None:
        """Fill the gradients of everything this node depends on."""

    def zero_grad(self) -> None:
        """Reset the gradients of this node and everything it was computed from."""

    def tolist(self) -> Any:
        """Give the data as plain Python numbers (nested lists for an array)."""

    def _vjp(self, g: Any) -> Iterable[tuple[Any, Any]]: ...


class Engine(Protocol):
    """What an engine provides: each engine is one object (`SCALAR`, `TENSOR`) of a subclass.

    A protocol, so the stubs here are only signatures and what each one is for.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.engines import engine_of
        >>> engine = engine_of(Value(2.0))
        >>> engine.kind, engine.grads(Value(2.0)), engine.zeros_like(3.5)
        ('Value', [0.0], 0.0)
    """

    name: ClassVar[str]
    kind: ClassVar[str]  # what its nodes are called in messages: 'Value' or 'Tensor'
    PARAMETERS: ClassVar[str]  # what its parameters are called in messages

    # -- its leaves --------------------------------------------------------------------------

    def leaf(self, x: Any) -> Any:
        """Make a new leaf holding a copy of `x`'s numbers, which takes a gradient.

        What a gradient check may nudge freely.
        """

    def as_input(self, x: Any) -> Any:
        """Give `x` itself if it takes a gradient, else a leaf over the same numbers that does."""

    def why_not_differentiable(self, x: Any) -> str | None:
        """Say why `x` cannot be differentiated with respect to, or None."""
        return None

    def seed(self, out: Any) -> Any:
        """Give d out / d out: the gradient a recorded backward pass starts from."""

    def zero_grad(self, p: Any) -> None:
        """Forget a parameter's gradient."""

    def restored(self, name: str, p: Any, value: Any) -> Any:
        """Check a state dict's entry against parameter `p`, ready for `assign`."""

    def assign(self, p: Any, value: Any) -> None:
        """Set parameter `p` to `value` (checked by `restored`)."""

    # -- its graph -----------------------------------------------------------------------------

    def operands(self, node: Any) -> tuple[Any, ...]:
        """List every operand of `node` that is a node, in the order written, once per use.

        `a + a` lists `a` twice: what a picture draws an arrow from. (`_prev` holds only those
        that receive a gradient.)
        """

    def step(self, node: Any, g: Any) -> list[tuple[Any, Any]]:
        """Run `node`'s chain-rule step on `g`, recording nothing: (operand, contribution).

        What `explain` narrates, one node at a time, in the engine's own numbers.
        """

    # -- numbers out -------------------------------------------------------------------------

    def grads(self, x: Any) -> list[float]:
        """Give a leaf's gradient as plain floats, one per element (zeros before any backward)."""

    def backward(self, y: Any, seed: list[float]) -> None:
        """Backpropagate from `y`, seeded with one number per element of `y`."""

    # -- batches -----------------------------------------------------------------------------

    def owns(self, model: Any) -> bool:
        """Say whether this engine runs `model`."""

    def inputs(self, X: Sequence[Sequence[float]]) -> Any:
        """Put the data in the engine's own form, once per run."""

    def targets(self, targets: list[Any]) -> Any:
        """Put the targets in the engine's own form, once per run."""

    def take(self, data: Any, index: list[int]) -> Any:
        """Take the rows `index` of inputs or targets (a minibatch)."""

    def forward(self, model: Any, inputs: Any) -> Any:
        """Run the model on a batch."""

    def penalty(self, params: list[Any]) -> Any:
        """Sum the squared parameters, as a node (the L2 term)."""

    def scores(self, outputs: Any) -> list[float] | list[list[float]]:
        """Give the outputs as plain numbers: one score per sample, or one row of scores."""

    def correct(self, outputs: Any, classes: list[int], threshold: float) -> int:
        """Count the outputs that predict their class (score > threshold, or the largest)."""

    def width(self, outputs: Any) -> int:
        """Count the numbers the model returns per sample."""

    # -- optimizer arithmetic ------------------------------------------------------------------

    def copy(self, g: Any) -> Any:
        """Copy a gradient, so that a later backward pass cannot change the copy."""

    def zeros_like(self, g: Any) -> Any:
        """Give zeros of a gradient's shape."""

    def sqrt(self, x: Any) -> Any:
        """Take the square root, elementwise."""

    # -- what a loss needs (`chainrule.learn.losses` writes each loss once over these) ----------

    def column(self, outputs: Any, who: str, what: str) -> Any:
        """Check one score per sample, and give them as the engine's column of nodes.

        What a loss of one output per sample (mse, hinge, bce) is computed on.
        """

    def rows(self, outputs: Any, who: str) -> tuple[Any, int]:
        """Check one row of scores per sample: give (the rows, how many scores each holds)."""

    def each(self, term: Callable[[Any, Any], Any], xs: Any, ys: list[float]) -> Any:
        """Apply `term(x, y)` to every sample: a column of terms.

        x comes from the column `xs`, y is the plain number of `ys`.
        """

    def total(self, terms: Any) -> Any:
        """Sum a column of terms, as one node."""

    def nll(self, rows: Any, classes: list[int]) -> Any:
        """Compute `-log softmax(row)[class]` of every row: a column of terms.

        Computed stably: the row's largest score is subtracted first, so no exponential
        overflows.
        """


class ScalarEngine(Engine):
    """The engine of `Value`s (`chainrule.nn`).

    A model maps one row of numbers to a Value (one output) or a list of Values (one per
    class), so a batch is a list of rows.

    Examples:
        >>> from chainrule import Value, nn
        >>> from chainrule.engines import SCALAR
        >>> model = nn.Neuron(2, activation=None, seed=0)
        >>> outputs = SCALAR.forward(model, SCALAR.inputs([[1.0, 0.0], [-3.0, 0.0]]))
        >>> SCALAR.scores(outputs), SCALAR.correct(outputs, [1, 0], 0.0)
        ([0.5299868647117862, -2.2253879474885987], 2)
    """

    name = "scalar"
    kind = "Value"
    PARAMETERS = "Values"

    def leaf(self, x: Value) -> Value:
        """Make a new Value with `x`'s number and label."""
        return Value(float(x.data), label=x.label)

    def as_input(self, x: Value) -> Value:
        """Give `x` itself: every Value takes a gradient."""
        return x

    def seed(self, out: Value) -> float:
        """Give 1.0."""
        return 1.0

    def zero_grad(self, p: Value) -> None:
        """Set the gradient to 0.0."""
        p.grad = 0.0  # a Value's gradient accumulates from 0

    def restored(self, name: str, p: Value, value: Any) -> float:
        """Check that a state entry is a finite real number, and make it a float."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            kind = type(value).__name__
            raise TypeError(f"state[{name!r}] must be a number, got {kind} {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"state[{name!r}] must be finite, got {value}")
        return value

    def assign(self, p: Value, value: float) -> None:
        """Set the Value's number."""
        p.data = value

    def operands(self, node: Value) -> tuple[Value, ...]:
        """List the Value's operands that are nodes."""
        return _children(node)  # (a constant exponent, `x**2`, is no node)

    def step(self, node: Value, g: Any) -> list[tuple[Any, Any]]:
        """Run the Value's recorded step with grad mode off: plain numbers in and out."""
        with no_grad():
            return list(node._vjp(g))

    def grads(self, x: Value) -> list[float]:
        """Give the Value's gradient, in a list of one."""
        return [float(x.grad)]

    def backward(self, y: Value, seed: list[float]) -> None:
        """Backpropagate from the Value, seeded with its one number."""
        y.backward(seed[0])

    def row(self, x: Any, names: Sequence[str]) -> list[Value]:
        """Make one row of a scalar model's inputs into Values.

        Each number becomes a constant labeled by `names` (x1, x2, ...), each Value is kept as
        it is; a single number or Value is a row of one. Made once per layer, not once per
        neuron.

        Args:
            x: A row of numbers or Values, or one of them.
            names: The labels of the numbers.

        Returns:
            The Values.
        """
        if x.__class__ is Value or isinstance(x, numbers.Real):
            x = (x,)
        n = len(names)
        return [
            v if v.__class__ is Value else Value(v, label=names[i] if i < n else "")
            for i, v in enumerate(x)
        ]

    def owns(self, model: Any) -> bool:
        """Say yes to any callable: the fallback engine, for models whose parameters are Values."""
        return callable(model)

    def inputs(self, X: Sequence[Sequence[float]]) -> list[list[Value]]:
        """Make each number a constant Value, once for the whole run (not once per step)."""
        return [[Value(x) for x in row] for row in X]

    def targets(self, targets: list[Any]) -> list[Any]:
        """Keep the targets as they are: plain numbers."""
        return targets

    def take(self, data: list[Any], index: list[int]) -> list[Any]:
        """Take the rows `index` of a list."""
        return [data[i] for i in index]

    def forward(self, model: Any, inputs: list[list[Value]]) -> list[Any]:
        """Call the model on each row in turn."""
        return list(map(model, inputs))

    def penalty(self, params: list[Value]) -> Value:
        """Sum the squared weights, as one node (the L2 term of micrograd's demo)."""
        return dot(params, params, 0.0)

    def scores(self, outputs: list[Any]) -> list[float] | list[list[float]]:
        """Give each output's number, or each row's numbers."""
        if outputs and isinstance(outputs[0], (list, tuple)):
            return [[v.data for v in row] for row in outputs]
        return [v.data if isinstance(v, Value) else float(v) for v in outputs]

    def correct(self, outputs: list[Any], classes: list[int], threshold: float) -> int:
        """Count the outputs that predict their class, one row at a time."""
        scores: list[Any] = self.scores(outputs)
        if scores and isinstance(scores[0], list):
            return sum(row.index(max(row)) == c for row, c in zip(scores, classes))
        return sum((s > threshold) == c for s, c in zip(scores, classes))

    def width(self, outputs: list[Any]) -> int:
        """Count the outputs of the first sample."""
        first = outputs[0]
        return len(first) if isinstance(first, (list, tuple)) else 1

    def copy(self, g: float) -> float:
        """Give the float itself."""
        return g  # floats are immutable: nothing can change it behind the optimizer's back

    def zeros_like(self, g: float) -> float:
        """Give 0.0."""
        return 0.0

    def sqrt(self, x: float) -> float:
        """Take `math.sqrt`."""
        return math.sqrt(x)

    def column(self, outputs: Any, who: str, what: str) -> list[Value]:
        """Check a list of Values; plain numbers become constants."""
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

    def rows(self, outputs: Any, who: str) -> tuple[list[list[Value]], int]:
        """Check a list of rows of equal length (a model with C outputs returns one per sample)."""
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
            rows.append(self.column(row, who, f"logits_rows[{i}]"))
            if len(rows[-1]) != len(rows[0]):
                raise ValueError(
                    f"{who}: logits_rows[{i}] has {len(rows[-1])} scores, the first row "
                    f"{len(rows[0])}"
                )
        return rows, len(rows[0])

    def each(
        self, term: Callable[[Any, Any], Any], xs: list[Value], ys: list[float]
    ) -> list[Value]:
        """Apply the term to each sample in turn."""
        return list(map(term, xs, ys))

    def total(self, terms: list[Value]) -> Value:
        """Sum the terms as one `dot` node with a shared constant 1: exactly `sum(terms)`.

        One node instead of one per term, so a loss over a batch backpropagates cheaply.
        """
        return dot(terms, [Value(1.0)] * len(terms), 0.0)

    def nll(self, rows: list[list[Value]], classes: list[int]) -> list[Value]:
        """Compute each row's `log Σ exp(z - m) - (z[class] - m)` with Values."""
        out = []
        for zs, c in zip(rows, classes):
            m = max(z.data for z in zs)  # a constant: the value and gradient are unchanged
            shifted = [z - m for z in zs]
            out.append(self.total([d.exp() for d in shifted]).log() - shifted[c])
        return out


class TensorEngine(Engine):
    """The engine of `Tensor`s (`chainrule.tensor`).

    A model maps a batch (N, features) to outputs (N, outputs) in one call, so the data become
    one float32 array per run, a minibatch is a slice of it, and the forward pass, the loss and
    the accuracy are each a handful of array operations however many rows there are. numpy is
    imported here only when it is used: by then a Tensor exists, so numpy is there.

    Examples:
        >>> import numpy as np
        >>> from chainrule import Tensor
        >>> from chainrule.engines import TENSOR
        >>> outputs = Tensor(np.array([[1.0], [-2.0]]))
        >>> TENSOR.scores(outputs), TENSOR.correct(outputs, [1, 1], 0.0)
        ([1.0, -2.0], 1)
    """

    name = "tensor"
    kind = "Tensor"
    PARAMETERS = "Tensors that require grad"

    def leaf(self, x: Any) -> Any:
        """Make a new Tensor over a copy of `x`'s array, taking a gradient."""
        return type(x)(x.data.copy(), requires_grad=True, label=x.label)

    def as_input(self, x: Any) -> Any:
        """Give `x`, or a Tensor over its array that takes a gradient."""
        return x if x.requires_grad else type(x)(x.data, requires_grad=True, label=x.label)

    def why_not_differentiable(self, x: Any) -> str | None:
        """Refuse a tensor of whole numbers or booleans."""
        if x.dtype.kind != "f":
            return f"a tensor of dtype {x.dtype}, which cannot be differentiated; make it float"
        return None

    def seed(self, out: Any) -> Any:
        """Give ones of the output's shape and dtype, as a Tensor."""
        return type(out)(out.data * 0 + 1, dtype=out.dtype)

    def zero_grad(self, p: Any) -> None:
        """Set the gradient to None."""
        p.grad = None  # no array until the next backward (PyTorch's set_to_none)

    def restored(self, name: str, p: Any, value: Any) -> Any:
        """Check that a state entry is an array of finite numbers of the parameter's shape."""
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

    def assign(self, p: Any, value: Any) -> None:
        """Copy the numbers into the parameter's array, in place."""
        p.data[...] = value  # in place: optimizers and views keep seeing the parameter

    def operands(self, node: Any) -> tuple[Any, ...]:
        """List the Tensor's operands, constants included."""
        return node._args  # constants included: backward() walks `_prev`, the others

    def step(self, node: Any, g: Any) -> list[tuple[Any, Any]]:
        """Run the Tensor's step on arrays (every op has one there), each result a Tensor."""
        kind = type(node)
        return [(a, kind(c, dtype=c.dtype)) for a, c in node._vjp(g.data)]

    def grads(self, x: Any) -> list[float]:
        """Give the Tensor's gradient, flattened (zeros before any backward)."""
        if x.grad is None:
            return [0.0] * int(x.data.size)
        return [float(g) for g in x.grad.reshape(-1).tolist()]

    def backward(self, y: Any, seed: list[float]) -> None:
        """Backpropagate from the Tensor, seeded with an array of `seed`'s numbers."""
        if y.requires_grad:  # else nothing checked reaches it
            gradient = y.data.copy()
            gradient.reshape(-1)[:] = seed
            y.backward(gradient=gradient)

    def owns(self, model: Any) -> bool:
        """Say whether `model` takes a whole batch (a tensor layer) or has Tensor parameters."""
        if getattr(model, "batched", False):
            return True
        parameters = getattr(model, "parameters", None)
        if not callable(parameters):
            return False
        params = parameters()
        return bool(params) and getattr(type(params[0]), "engine", None) == "tensor"

    def inputs(self, X: Sequence[Sequence[float]]) -> Any:
        """Make the data a float32 array, the type networks train in.

        An integer array stays as it is (token ids for an Embedding, which takes no floats).
        """
        import numpy as np

        if isinstance(X, np.ndarray) and X.dtype.kind in "iu":
            return X
        return np.asarray(X, dtype=np.float32)

    def targets(self, targets: list[Any]) -> Any:
        """Make the targets an array (float32 for numbers with a fraction)."""
        import numpy as np

        y = np.asarray(targets)
        return y.astype(np.float32) if y.dtype.kind == "f" else y

    def take(self, data: Any, index: list[int]) -> Any:
        """Index the array with `index`."""
        return data[index]

    def forward(self, model: Any, inputs: Any) -> Any:
        """Call the model once on the whole batch."""
        return model(inputs)

    def penalty(self, params: list[Any]) -> Any:
        """Sum p² over every element of every parameter, as a node."""
        return sum((p * p).sum() for p in params)

    def scores(self, outputs: Any) -> list[float] | list[list[float]]:
        """Give the outputs as lists: one score per row for one output."""
        data = outputs.data
        if data.ndim == 2 and data.shape[1] == 1:
            return data[:, 0].tolist()
        return data.tolist()

    def correct(self, outputs: Any, classes: list[int], threshold: float) -> int:
        """Count the outputs that predict their class, with numpy."""
        import numpy as np

        data = outputs.data
        if data.ndim == 2 and data.shape[1] > 1:
            predicted = data.argmax(axis=1)
        else:
            predicted = data.reshape(-1) > threshold
        return int(np.count_nonzero(predicted == np.asarray(classes)))

    def width(self, outputs: Any) -> int:
        """Give the size of the outputs' last axis."""
        shape = outputs.data.shape
        return shape[-1] if len(shape) > 1 else 1

    def copy(self, g: Any) -> Any:
        """Copy the array."""
        return g.copy()  # backward may later add into the same array

    def zeros_like(self, g: Any) -> Any:
        """Give `numpy.zeros_like`."""
        import numpy as np

        return np.zeros_like(g)

    def sqrt(self, x: Any) -> Any:
        """Take `numpy.sqrt`."""
        import numpy as np

        return np.sqrt(x)

    def column(self, outputs: Any, who: str, what: str) -> Any:
        """Check a column of shape (N,); the (N, 1) outputs of a one-output model are flattened."""
        if outputs.ndim == 2 and outputs.shape[1] == 1:
            return outputs.reshape(-1)
        if outputs.ndim != 1:
            raise ValueError(
                f"{who}: {what} must have shape (N,) or (N, 1) (one score per sample), "
                f"got {outputs.shape}"
            )
        return outputs

    def rows(self, outputs: Any, who: str) -> tuple[Any, int]:
        """Check logits of shape (N, C)."""
        if outputs.ndim != 2:
            raise ValueError(f"{who}: logits must have shape (N, C), got {outputs.shape}")
        return outputs, outputs.shape[1]

    def each(self, term: Callable[[Any, Any], Any], xs: Any, ys: list[float]) -> Any:
        """Apply the term in one call on the whole column: its arithmetic is elementwise."""
        import numpy as np

        return term(xs, np.asarray(ys, dtype=xs.dtype))

    def total(self, terms: Any) -> Any:
        """Sum the column with `.sum()`."""
        return terms.sum()

    def nll(self, rows: Any, classes: list[int]) -> Any:
        """Compute the fused, stable `log_softmax`, read at each row's class."""
        return -rows.log_softmax(axis=-1)[list(range(len(classes))), classes]


# The engines: one object each, which the code above them asks its questions of. Each node
# class names its engine (`Value.engine == 'scalar'`): ENGINES is the one registry of engines.
SCALAR = ScalarEngine()
TENSOR = TensorEngine()
ENGINES: dict[str, Engine] = {"scalar": SCALAR, "tensor": TENSOR}


def engine_of(x: Any) -> Engine | None:
    """Find the engine whose node `x` is; None for plain numbers, lists and anything else.

    Found by the node class's `engine` name, never by importing the tensor engine.

    Args:
        x: Anything.

    Returns:
        `SCALAR`, `TENSOR` or None.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.engines import engine_of
        >>> engine_of(Value(1.0)).name, engine_of(1.0)
        ('scalar', None)
    """
    return ENGINES.get(getattr(type(x), "engine", None))  # type: ignore[arg-type]


def engine_for(model: Any) -> Engine:
    """Find the engine that knows how to run `model` (the scalar engine takes any callable).

    Args:
        model: A model of either engine.

    Returns:
        `SCALAR` or `TENSOR`.

    Raises:
        TypeError: `model` is not callable.

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.engines import engine_for
        >>> engine_for(nn.MLP(2, [1], seed=0)).name
        'scalar'
    """
    if TENSOR.owns(model):
        return TENSOR
    if SCALAR.owns(model):
        return SCALAR
    raise TypeError(f"no engine can train a {type(model).__name__}: models must be callable")


def batch_engine(outputs: Any) -> Engine:
    """Find the engine whose numbers `outputs` are (a Tensor, or a list of Values and numbers)."""
    return TENSOR if engine_of(outputs) is TENSOR else SCALAR  # lists: scalar


def is_parameter(obj: object) -> bool:
    """Say whether `obj` is a learnable number: a `Value`, or a `Tensor` that asks for gradients.

    Asked of every attribute when a model lists its parameters, so the cheapest test (an
    MLP's parameters are all Values) comes first.

    Args:
        obj: Anything.

    Returns:
        True for a parameter of either engine.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.engines import is_parameter
        >>> is_parameter(Value(1.0)), is_parameter(1.0)
        (True, False)
    """
    return obj.__class__ is Value or (
        getattr(type(obj), "engine", None) == "tensor" and getattr(obj, "requires_grad", False)
    )


def parameter_engine(p: Any) -> Engine:
    """Find the engine of one parameter.

    A Value's is the scalar engine, and anything else that holds its numbers in `.data` and
    `.grad` (a Tensor) the tensor engine, whose arithmetic is numpy's.
    """
    return SCALAR if p.__class__ is Value else TENSOR


def numbers_of(x: Any) -> list[float]:
    """Give the floats of a node, a gradient (float, array, recorded node) or a number, flat.

    Args:
        x: A node, a gradient or a number.

    Returns:
        Its numbers, as a flat list of floats.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.engines import numbers_of
        >>> numbers_of(Value(2.5)), numbers_of(3)
        ([2.5], [3.0])
    """
    if hasattr(type(x), "engine"):
        x = x.data
    if hasattr(x, "reshape"):
        return [float(v) for v in x.reshape(-1).tolist()]
    return [float(x)]
