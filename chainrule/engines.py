"""One small adapter per engine: everything that depends on whether numbers are `Value`s or
`Tensor`s, in one class of static methods each, `ScalarEngine` and `TensorEngine`.

Models (`chainrule.learn.module`), optimizers (`chainrule.learn.optim`), losses
(`chainrule.learn.losses`) and the training loop (`chainrule.learn.loop`) are written once for
both engines and ask these classes whenever the engines differ; none of them checks a type itself.

Parameters, for models and optimizers:

    is_parameter(obj) -> bool        is this one of my learnable numbers?
    size(p)                          how many numbers it holds
    zero_grad(p)                     forget its gradient (0.0 for a Value, None for a Tensor)
    saved(p)                         its values as JSON-able data (a state dict's entry)
    restored(name, p, value)         a state dict's entry checked against p, ready to assign
    assign(p, value)                 set its values (a Tensor's array is changed in place)
    copy(g), zeros_like(g), sqrt(x)  the optimizers' arithmetic on gradients

Optimizers read `p.grad` and write `p.data -= step` themselves: that arithmetic means the same
for a float and an array (which it updates in place).

Models and batches, for the losses and the training loop:

    owns(model) -> bool              is this model mine? (the scalar engine takes any callable)
    holds(outputs) -> bool           is this batch of outputs mine? (the scalar engine: any)
    inputs(X), targets(list)         the data in the engine's own form, made once per run
    take(data, index)                the rows `index` of either (a minibatch)
    forward(model, inputs)           the outputs for a batch
    penalty(params)                  sum of squared parameters, as a node (the L2 term)
    scores(outputs)                  outputs as plain floats (one per row, or one row each)
    correct(outputs, classes, thr)   how many outputs predict their class
    width(outputs)                   how many numbers the model returns per sample

A new engine adds one such class to the front of `ENGINES`. This module imports only the scalar
engine: numpy is imported when a Tensor is actually met, so the scalar engine works without it.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Sequence
from typing import Any

from .value import Value, dot

__all__ = [
    "ENGINES",
    "ScalarEngine",
    "TensorEngine",
    "batch_engine",
    "engine_for",
    "is_parameter",
    "parameter_engine",
]


class ScalarEngine:
    """Models made of `Value`s (`chainrule.nn`): a model maps one row of numbers to a Value
    (one output) or a list of Values (one per class), so a batch is a list of rows."""

    name = "scalar"

    # -- parameters --------------------------------------------------------------------------

    @staticmethod
    def is_parameter(obj: object) -> bool:
        return obj.__class__ is Value

    @staticmethod
    def size(p: Value) -> int:
        return 1

    @staticmethod
    def zero_grad(p: Value) -> None:
        p.grad = 0.0  # a Value's gradient accumulates from 0

    @staticmethod
    def saved(p: Value) -> float:
        return float(p.data)

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
    def copy(g: float) -> float:
        return g  # floats are immutable: nothing can change it behind the optimizer's back

    @staticmethod
    def zeros_like(g: float) -> float:
        return 0.0

    sqrt = staticmethod(math.sqrt)

    # -- models and batches ------------------------------------------------------------------

    @staticmethod
    def owns(model: Any) -> bool:
        """The fallback engine: any callable model whose parameters are Values."""
        return callable(model)

    @staticmethod
    def holds(outputs: Any) -> bool:
        """The fallback: lists of Values and plain numbers."""
        return True

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
        return v.data if v.__class__ is Value else float(v)

    @staticmethod
    def scores(outputs: list[Any]) -> list[float] | list[list[float]]:
        """The outputs as plain numbers: one score per sample, or one row of scores."""
        if outputs and isinstance(outputs[0], (list, tuple)):
            return [[v.data for v in row] for row in outputs]
        return list(map(ScalarEngine.number, outputs))

    @staticmethod
    def correct(outputs: list[Any], classes: list[int], threshold: float) -> int:
        """How many outputs predict their class (score > threshold, or the largest score)."""
        if outputs and isinstance(outputs[0], (list, tuple)):
            hits = 0
            for row, c in zip(outputs, classes):
                data = [v.data for v in row]
                hits += data.index(max(data)) == c
            return hits
        return sum((s.data > threshold) == c for s, c in zip(outputs, classes))

    @staticmethod
    def width(outputs: list[Any]) -> int:
        """How many numbers the model returns per sample (a list of them, or one Value)."""
        first = outputs[0]
        return len(first) if isinstance(first, (list, tuple)) else 1


class TensorEngine:
    """Models whose parameters are `Tensor`s (`chainrule.tensor.layers`): a model maps a batch
    (N, features) to outputs (N, outputs) in one call.

    For a tensor model the whole batch is one array: the data become a float32 array once per
    run, a minibatch is a slice of it, and the forward pass, the loss and the accuracy are each
    a handful of array operations however many rows there are.
    """

    name = "tensor"

    # -- parameters --------------------------------------------------------------------------

    @staticmethod
    def is_parameter(obj: object) -> bool:
        """A Tensor that asks for gradients."""
        return getattr(obj, "requires_grad", False) is True and hasattr(obj, "grad")

    @staticmethod
    def size(p: Any) -> int:
        return int(p.size)

    @staticmethod
    def zero_grad(p: Any) -> None:
        p.grad = None  # no array until the next backward (PyTorch's set_to_none)

    @staticmethod
    def saved(p: Any) -> list[Any]:
        return p.data.tolist()

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

    # -- models and batches ------------------------------------------------------------------

    @staticmethod
    def owns(model: Any) -> bool:
        """A tensor layer, or any model whose first parameter is a Tensor."""
        tensor = sys.modules.get("chainrule.tensor.tensor")
        if tensor is None:  # no Tensor was ever made, so this model has none
            return False
        layers = sys.modules.get("chainrule.tensor.layers")
        if layers is not None and isinstance(model, layers.TensorModule):
            return True
        parameters = getattr(model, "parameters", None)
        if not callable(parameters):
            return False
        params = parameters()
        return bool(params) and isinstance(params[0], tensor.Tensor)

    @staticmethod
    def holds(outputs: Any) -> bool:
        """A Tensor of outputs (a tensor model's batch)."""
        tensor = sys.modules.get("chainrule.tensor.tensor")
        return tensor is not None and isinstance(outputs, tensor.Tensor)

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
        """How many numbers the model returns per sample."""
        shape = outputs.data.shape
        return shape[-1] if len(shape) > 1 else 1


# Tried in order; the first whose `owns(model)` is true runs the model. Keep the scalar engine
# last: it accepts any callable.
ENGINES: list[Any] = [TensorEngine, ScalarEngine]


def engine_for(model: Any) -> Any:
    """The engine that knows how to run `model`."""
    for engine in ENGINES:
        if engine.owns(model):
            return engine
    raise TypeError(f"no engine can train a {type(model).__name__}: models must be callable")


def batch_engine(outputs: Any) -> Any:
    """The engine whose numbers `outputs` are (a Tensor, or a list of Values and numbers)."""
    return next(engine for engine in ENGINES if engine.holds(outputs))  # scalar holds anything


def is_parameter(obj: object) -> bool:
    """A learnable number of some engine: a `Value`, or a `Tensor` that asks for gradients.

    Asked of every attribute when a model lists its parameters, so it is written out (the
    scalar test first: it is the cheapest, and an MLP's parameters are all Values)."""
    return ScalarEngine.is_parameter(obj) or TensorEngine.is_parameter(obj)


def parameter_engine(p: Any) -> Any:
    """The engine of one parameter: a Value's is the scalar engine, and anything else that holds
    its numbers in `.data` and `.grad` (a Tensor, or any object with arrays there) the tensor
    engine, whose arithmetic is numpy's."""
    return ScalarEngine if ScalarEngine.is_parameter(p) else TensorEngine
