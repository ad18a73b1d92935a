"""The training loop's seam for tensor models: how `fit` runs a model made of `Tensor`s.

`chainrule.train.fit` is written once for every engine; what differs is in one small class per
engine (see `chainrule.train`). For a tensor model the whole batch is one array: the data
become a float32 array once per run, a minibatch is a slice of it, and the forward pass, the
loss and the accuracy are each a handful of array operations however many rows there are.

Nothing here imports numpy until a tensor model is actually trained, so `chainrule.train`
stays usable with the scalar engine alone.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["TensorEngine"]


class TensorEngine:
    """Models whose parameters are `Tensor`s (`chainrule.layers`): a model maps a batch (N,
    features) to outputs (N, outputs) in one call."""

    name = "tensor"

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
    def inputs(X: Sequence[Sequence[float]]) -> Any:
        import numpy as np

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
        from ..tensor.losses import squared_sum

        return squared_sum(params)

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
