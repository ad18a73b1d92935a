"""PyTorch counterparts of the convolution, normalisation, embedding and dropout layers, for
`chainrule.interop.to_torch` / `from_torch`: one pair of converters per layer, weights and
buffers (BatchNorm's running statistics and batch count) copied exactly, the training mode
carried over.

Kept apart from `interop.py`, which handles `Linear` and the activations, so that each layer
family's conversion sits in one table: `TO_TORCH[type] -> (layer, torch, dtype) -> module` and
`FROM_TORCH[torch class name] -> (module, dtype) -> layer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor.conv_layers import Conv2d, Flatten, MaxPool2d
from ..tensor.mlp_layers import BatchNorm1d, Dropout, Embedding, LayerNorm

__all__ = ["FROM_TORCH", "TO_TORCH"]


def _copy_to_torch(torch: Any, m: Any, layer: Any, names: tuple[str, ...]) -> None:
    """Copy `layer`'s parameters and buffers called `names` into `m`'s of the same names (no
    sharing, dtype converted); one that either side does not have (None) is skipped."""
    with torch.no_grad():
        for name in names:
            ours, theirs = getattr(layer, name), getattr(m, name)
            if ours is not None and theirs is not None:
                theirs.copy_(torch.from_numpy(np.array(ours.data)))


def _copy_from_torch(layer: Any, m: Any, names: tuple[str, ...]) -> None:
    """`_copy_to_torch` the other way: `m`'s tensors into `layer`'s, in `layer`'s dtypes."""
    for name in names:
        ours, theirs = getattr(layer, name), getattr(m, name)
        if ours is not None and theirs is not None:
            ours.data[...] = theirs.detach().cpu().numpy().astype(ours.data.dtype)


def _dtype(torch: Any, layer: Any, dtype: Any) -> Any:
    """The torch dtype for `layer`'s weights: `dtype` if given, else the layer's own."""
    if dtype is not None:
        return dtype
    for name in ("weight", "running_mean"):
        array = getattr(layer, name, None)
        if array is not None:
            return torch.from_numpy(np.zeros(0, array.data.dtype)).dtype
    return None


# -- chainrule -> PyTorch ---------------------------------------------------------------------


def _conv_to(layer: Conv2d, torch: Any, dtype: Any) -> Any:
    m = torch.nn.Conv2d(
        layer.in_channels,
        layer.out_channels,
        layer.kernel_size,
        stride=layer.stride,
        padding=layer.padding,
        bias=layer.bias is not None,
        dtype=_dtype(torch, layer, dtype),
    )
    _copy_to_torch(torch, m, layer, ("weight", "bias"))
    return m


def _embedding_to(layer: Embedding, torch: Any, dtype: Any) -> Any:
    m = torch.nn.Embedding(
        layer.num_embeddings,
        layer.embedding_dim,
        padding_idx=layer.padding_idx,
        dtype=_dtype(torch, layer, dtype),
    )
    _copy_to_torch(torch, m, layer, ("weight",))
    return m


def _batch_norm_to(layer: BatchNorm1d, torch: Any, dtype: Any) -> Any:
    m = torch.nn.BatchNorm1d(
        layer.num_features,
        eps=layer.eps,
        momentum=layer.momentum,
        affine=layer.affine,
        track_running_stats=layer.track_running_stats,
        dtype=_dtype(torch, layer, dtype),
    )
    _copy_to_torch(torch, m, layer, ("weight", "bias", *BatchNorm1d._buffer_names))
    return m


def _layer_norm_to(layer: LayerNorm, torch: Any, dtype: Any) -> Any:
    m = torch.nn.LayerNorm(
        layer.normalized_shape,
        eps=layer.eps,
        elementwise_affine=layer.elementwise_affine,
        bias=layer.bias is not None or not layer.elementwise_affine,
        dtype=_dtype(torch, layer, dtype),
    )
    _copy_to_torch(torch, m, layer, ("weight", "bias"))
    return m


TO_TORCH: dict[type, Callable[[Any, Any, Any], Any]] = {
    Conv2d: _conv_to,
    MaxPool2d: lambda l, torch, dtype: torch.nn.MaxPool2d(l.kernel_size, l.stride, l.padding),
    Flatten: lambda l, torch, dtype: torch.nn.Flatten(l.start_dim, l.end_dim),
    Embedding: _embedding_to,
    BatchNorm1d: _batch_norm_to,
    LayerNorm: _layer_norm_to,
    Dropout: lambda l, torch, dtype: torch.nn.Dropout(l.p),
}


# -- PyTorch -> chainrule ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """torch's int or (h, w) tuple arguments as chainrule takes them."""
    return tuple(value) if isinstance(value, (tuple, list)) else value


def _conv_from(m: Any, dtype: Any) -> Conv2d:
    if tuple(m.dilation) != (1, 1) or m.groups != 1 or m.padding_mode != "zeros":
        raise TypeError("dilation, groups and padding modes other than zeros are not supported")
    if isinstance(m.padding, str):
        raise TypeError(f"padding={m.padding!r} is not supported; give the padding as numbers")
    layer = Conv2d(
        m.in_channels,
        m.out_channels,
        _plain(m.kernel_size),
        _plain(m.stride),
        _plain(m.padding),
        bias=m.bias is not None,
        dtype=dtype,
    )
    _copy_from_torch(layer, m, ("weight", "bias"))
    return layer


def _pool_from(m: Any, dtype: Any) -> MaxPool2d:
    if m.dilation not in (1, (1, 1)) or m.ceil_mode or m.return_indices:
        raise TypeError("dilation, ceil_mode and return_indices are not supported")
    return MaxPool2d(_plain(m.kernel_size), _plain(m.stride), _plain(m.padding))


def _embedding_from(m: Any, dtype: Any) -> Embedding:
    if m.max_norm is not None or m.sparse:
        raise TypeError("max_norm and sparse gradients are not supported")
    layer = Embedding(m.num_embeddings, m.embedding_dim, m.padding_idx, dtype=dtype)
    _copy_from_torch(layer, m, ("weight",))
    return layer


def _batch_norm_from(m: Any, dtype: Any) -> BatchNorm1d:
    layer = BatchNorm1d(
        m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats, dtype=dtype
    )
    _copy_from_torch(layer, m, ("weight", "bias", *BatchNorm1d._buffer_names))
    return layer


def _layer_norm_from(m: Any, dtype: Any) -> LayerNorm:
    layer = LayerNorm(
        tuple(m.normalized_shape),
        m.eps,
        m.elementwise_affine,
        bias=m.bias is not None or not m.elementwise_affine,
        dtype=dtype,
    )
    _copy_from_torch(layer, m, ("weight", "bias"))
    return layer


FROM_TORCH: dict[str, Callable[[Any, Any], Any]] = {
    "Conv2d": _conv_from,
    "MaxPool2d": _pool_from,
    "Flatten": lambda m, dtype: Flatten(m.start_dim, m.end_dim),
    "Embedding": _embedding_from,
    "BatchNorm1d": _batch_norm_from,
    "LayerNorm": _layer_norm_from,
    "Dropout": lambda m, dtype: Dropout(m.p),
}
