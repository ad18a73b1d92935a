"""The layers makemore adds around `Linear`: `Embedding` in front, `BatchNorm1d`, `LayerNorm`
and `Dropout` between, PyTorch's `torch.nn` layers of the same names, arguments, attributes
and initialisation.

Two of them behave differently in training and in evaluation (`Module.train()` / `.eval()`):
BatchNorm normalises with the batch's statistics while training, and with the running averages
it kept of them when evaluating; Dropout drops only while training. BatchNorm's running
statistics are buffers: saved with the weights (`state_dict`, `chainrule.learn.io`) and carried over
to and from PyTorch, but never given gradients or optimised.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..nn import check_size
from .conv_layers import shape_error
from .embedding import dropout, embedding
from .layers import TensorModule, _as_tensor, _generator
from .norm import batch_norm, layer_norm
from .tensor import Tensor

__all__ = ["BatchNorm1d", "Dropout", "Embedding", "LayerNorm"]


def _positive_float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{what} must be a number > 0, got {value!r}")
    return float(value)


class Embedding(TensorModule):
    """A table of `num_embeddings` vectors of size `embedding_dim`, looked up by integer index:
    (N, ...) indices -> (N, ..., embedding_dim), PyTorch's `nn.Embedding`.

    The table starts standard normal, N(0, 1), as in PyTorch. `padding_idx`: that row starts
    at zero and gets no gradient. Indices must be an integer array (or Tensor).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        self.num_embeddings = check_size(num_embeddings, "Embedding num_embeddings")
        self.embedding_dim = check_size(embedding_dim, "Embedding embedding_dim")
        if padding_idx is not None:
            n = self.num_embeddings
            if not isinstance(padding_idx, int) or not -n <= padding_idx < n:
                raise ValueError(
                    f"Embedding padding_idx must be an index of the table, got {padding_idx!r}"
                )
            padding_idx %= n
        self.padding_idx = padding_idx
        shape = (self.num_embeddings, self.embedding_dim)
        table = _generator(seed).standard_normal(shape).astype(dtype)
        if padding_idx is not None:
            table[padding_idx] = 0
        self.weight = Tensor(table, requires_grad=True, label="weight")

    def __call__(self, x: Any) -> Tensor:
        idx = x.data if isinstance(x, Tensor) else np.asarray(x)
        if idx.dtype.kind not in "iu":
            raise TypeError(
                f"{type(self).__name__}({self.extra_repr()}): expected integer indices, got "
                f"dtype {idx.dtype} (shape {idx.shape}); convert them with .astype(np.int64)"
            )
        try:
            return embedding(idx, self.weight, self.padding_idx)
        except IndexError as err:
            raise IndexError(f"Embedding({self.extra_repr()}): {err}") from None

    def config(self) -> dict[str, Any]:
        return {
            "type": "Embedding",
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "padding_idx": self.padding_idx,
        }

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        n = check_size(config.get("num_embeddings"), "Embedding num_embeddings")
        return n * check_size(config.get("embedding_dim"), "Embedding embedding_dim")

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class BatchNorm1d(TensorModule):
    """Batch normalisation of (N, C) or (N, C, L) per feature C, PyTorch's `nn.BatchNorm1d`.

    Training: each feature is normalised with the batch's mean and variance, then scaled by
    `weight` (starts at 1) and shifted by `bias` (starts at 0); `running_mean` (starts 0) and
    `running_var` (starts 1) move towards the batch's statistics by `momentum` (None: a plain
    average over all batches so far), and `num_batches_tracked` counts the batches.
    Evaluation: normalised with the running statistics, so one sample's output no longer
    depends on the rest of its batch. `track_running_stats=False` keeps no running statistics
    and always uses the batch's.
    """

    _buffer_names = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        self.num_features = C = check_size(num_features, "BatchNorm1d num_features")
        self.eps = _positive_float(eps, "BatchNorm1d eps")
        if momentum is not None:
            momentum = float(momentum)
            if not 0 <= momentum <= 1:
                raise ValueError(f"BatchNorm1d momentum must be in [0, 1] or None, got {momentum}")
        self.momentum = momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight: Tensor | None = None
        self.bias: Tensor | None = None
        if affine:
            self.weight = Tensor(np.ones(C, dtype), requires_grad=True, label="weight")
            self.bias = Tensor(np.zeros(C, dtype), requires_grad=True, label="bias")
        self.running_mean: Tensor | None = None
        self.running_var: Tensor | None = None
        self.num_batches_tracked: Tensor | None = None
        if track_running_stats:
            self.running_mean = Tensor(np.zeros(C, dtype), label="running_mean")
            self.running_var = Tensor(np.ones(C, dtype), label="running_var")
            self.num_batches_tracked = Tensor(np.array(0, np.int64), label="num_batches_tracked")

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, np.float32 if self.weight is None else self.weight.data.dtype)
        C = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != C:
            raise shape_error(self, f"(N, {C}) or (N, {C}, L)", x.shape)
        momentum = 0.0 if self.momentum is None else self.momentum
        tracking = self.running_mean is not None
        if self.training and tracking:
            if x.size // C <= 1:
                expected = f"(N, {C}) with N > 1 in training (call .eval() to predict one sample)"
                raise shape_error(self, expected, x.shape)
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # the average of all batches so far
                momentum = 1.0 / float(self.num_batches_tracked.data)
        return batch_norm(
            x,
            self.running_mean.data if tracking else None,
            self.running_var.data if tracking else None,
            self.weight,
            self.bias,
            self.training or not tracking,
            momentum,
            self.eps,
        )

    def config(self) -> dict[str, Any]:
        return {
            "type": "BatchNorm1d",
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
        }

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        n = check_size(config.get("num_features"), "BatchNorm1d num_features")
        return 2 * n if config.get("affine", True) else 0

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}"


class LayerNorm(TensorModule):
    """Normalisation of each sample over its last dimensions (`normalized_shape`), PyTorch's
    `nn.LayerNorm`: the same in training and evaluation. `weight` starts at 1, `bias` at 0,
    both of `normalized_shape` (`elementwise_affine=False`: neither; `bias=False`: no bias).
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        shape = [normalized_shape] if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(check_size(n, "LayerNorm normalized_shape") for n in shape)
        if not self.normalized_shape:
            raise ValueError("LayerNorm normalized_shape must name at least one dimension")
        self.eps = _positive_float(eps, "LayerNorm eps")
        self.elementwise_affine = bool(elementwise_affine)
        self._has_bias = bool(bias)
        self.weight: Tensor | None = None
        self.bias: Tensor | None = None
        if elementwise_affine:
            self.weight = Tensor(np.ones(self.normalized_shape, dtype), True, "weight")
            if bias:
                self.bias = Tensor(np.zeros(self.normalized_shape, dtype), True, "bias")

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, np.float32 if self.weight is None else self.weight.data.dtype)
        shape = self.normalized_shape
        if x.shape[x.ndim - len(shape) :] != shape or x.ndim < len(shape):
            raise shape_error(self, f"(*, {', '.join(map(str, shape))})", x.shape)
        return layer_norm(x, shape, self.weight, self.bias, self.eps)

    def config(self) -> dict[str, Any]:
        return {
            "type": "LayerNorm",
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
            "bias": self._has_bias,
        }

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        shape = config.get("normalized_shape")
        shape = [shape] if isinstance(shape, int) else shape
        if not isinstance(shape, list) or not shape:
            raise ValueError(f"LayerNorm normalized_shape must be a size or a list, got {shape!r}")
        n = math.prod(check_size(s, "LayerNorm normalized_shape") for s in shape)
        if not config.get("elementwise_affine", True):
            return 0
        return n * (2 if config.get("bias", True) else 1)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps:g}"


class Dropout(TensorModule):
    """In training, zero each element with probability `p` and scale the rest by 1 / (1 - p);
    in evaluation, pass the input through. PyTorch's `nn.Dropout`. `seed` makes the masks
    reproducible (each Dropout draws from its own generator)."""

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self._generator = np.random.default_rng(seed)

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, np.float32)
        return dropout(x, self.p, self.training, self._generator)

    def config(self) -> dict[str, Any]:
        return {"type": "Dropout", "p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p:g}"
