"""Moving models between chainrule and PyTorch, weights and activations exactly as they are.

`to_torch(model)` gives a `torch.nn.Module` that computes what the chainrule model computes, so
a model that outgrows chainrule keeps training in PyTorch (GPUs, distributed training) from
where it is, without retraining. `from_torch(module)` brings a PyTorch stack of `Linear` and
activation layers back as a tensor `Sequential`. The convolution, normalisation, embedding and
dropout layers convert through the tables `TO_TORCH[type] -> (layer, torch, dtype) -> module`
and `FROM_TORCH[torch class name] -> (module, dtype) -> layer`, running statistics (BatchNorm's
batch count too) and the training mode included.

PyTorch is optional: it is imported inside the functions, and only they need it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor.layers import (
    BatchNorm1d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

__all__ = ["from_torch", "to_torch"]

# -- one converter pair per layer: weights and buffers copied exactly -----------------------


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


# -- whole models ---------------------------------------------------------------------------


_TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
_CONVERTED = ", ".join(["Linear", "ReLU", "Tanh", "Sigmoid", *(t.__name__ for t in TO_TORCH)])


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            "chainrule.interop needs PyTorch, which is not installed: "
            "pip install torch (see https://pytorch.org for the build that fits your machine)"
        ) from None
    return torch


def to_torch(model: Any, dtype: Any = None) -> Any:
    """A `torch.nn.Module` with the same weights and activations as `model`.

    `model` is a tensor `Sequential` of `Linear`/`ReLU`/`Tanh`/`Sigmoid` layers and the layers
    `TO_TORCH` converts (Conv2d, MaxPool2d, Flatten, Embedding, BatchNorm1d,
    LayerNorm, Dropout), or one such layer, or a scalar `MLP` or `Layer` (`chainrule.nn`).
    The PyTorch copy has its own weights (changing one model does not change the other),
    `requires_grad` set, ready to train, and the model's training mode. `dtype` (a torch
    dtype) defaults to the model's own precision: the tensor model's dtype (float32 unless
    made otherwise), and float64 for the scalar engine, whose numbers are Python floats, so
    the weights carry over exactly. A scalar model's PyTorch copy takes a batch (N, nin) and
    returns (N, nout), also for one output.
    """
    torch = _torch()
    if isinstance(model, Sequential):
        layers = [_layer_to_torch(torch, layer, i, dtype) for i, layer in enumerate(model)]
        return torch.nn.Sequential(*layers).train(model.training)
    if isinstance(model, (Linear, ReLU, Tanh, Sigmoid)) or type(model) in TO_TORCH:
        return _layer_to_torch(torch, model, 0, dtype)
    if hasattr(model, "layers") or hasattr(model, "neurons"):
        return _scalar_to_torch(torch, model, torch.float64 if dtype is None else dtype)
    raise TypeError(
        f"to_torch: cannot convert {type(model).__name__}; it takes a tensor Sequential "
        f"({_CONVERTED}) or a scalar MLP / Layer"
    )


def _layer_to_torch(torch: Any, layer: Any, i: int, dtype: Any) -> Any:
    convert = TO_TORCH.get(type(layer))
    if convert is not None:
        return convert(layer, torch, dtype).train(layer.training)
    if isinstance(layer, Linear):
        has_bias, dtype = layer.bias is not None, _dtype(torch, layer, dtype)
        out = torch.nn.Linear(layer.nin, layer.nout, bias=has_bias, dtype=dtype)
        _copy_to_torch(torch, out, layer, ("weight", "bias"))
        return out
    for ours, theirs in ((ReLU, "ReLU"), (Tanh, "Tanh"), (Sigmoid, "Sigmoid")):
        if isinstance(layer, ours):
            return getattr(torch.nn, theirs)()
    raise TypeError(
        f"to_torch: layer {i} ({type(layer).__name__}) has no PyTorch counterpart here; "
        f"supported: {_CONVERTED}"
    )


def _scalar_to_torch(torch: Any, model: Any, dtype: Any) -> Any:
    """A scalar MLP (`layers`, each with `neurons`, each with `w` and `b`) as Linear layers."""
    layers = model.layers if hasattr(model, "layers") else [model]
    modules = []
    for i, layer in enumerate(layers):
        neurons = getattr(layer, "neurons", None)
        if not neurons:
            raise TypeError(f"to_torch: layer {i} of {type(model).__name__} has no neurons")
        rows = [[float(w.data) for w in n.w] for n in neurons]
        bias = [float(n.b.data) for n in neurons]
        linear = torch.nn.Linear(len(rows[0]), len(rows), dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(rows, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(bias, dtype=torch.float64))
        modules.append(linear)
        activation = getattr(layer, "activation", None)
        if activation is None:  # an older layer that does not say: ask the model
            last = i == len(layers) - 1
            activation = getattr(model, "output_activation" if last else "activation", "tanh")
        activation = activation or "linear"
        if activation != "linear":
            if activation not in _TORCH_ACTIVATIONS:
                raise ValueError(f"to_torch: layer {i} has unknown activation {activation!r}")
            modules.append(getattr(torch.nn, _TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules)


def from_torch(module: Any, dtype: Any = np.float32) -> Any:
    """A chainrule tensor model with `module`'s weights: a `torch.nn.Sequential` (nested ones
    are flattened) of `Linear`, `ReLU`, `Tanh`, `Sigmoid` and the layers `to_torch` makes
    becomes a `Sequential` (one such layer on its own becomes that layer). Weights and running
    statistics are copied, as `dtype` (float32 default); the training mode is kept."""
    torch = _torch()
    if isinstance(module, torch.nn.Sequential):
        layers = [_layer_from_torch(torch, m, name, dtype) for name, m in _flat(torch, module)]
        return Sequential(*layers).train(module.training)
    return _layer_from_torch(torch, module, "0", dtype)


def _flat(torch: Any, module: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The leaf layers of a (possibly nested) Sequential, with their dotted names."""
    out = []
    for name, child in module.named_children():
        full = f"{prefix}{name}"
        if isinstance(child, torch.nn.Sequential):
            out += _flat(torch, child, full + ".")
        else:
            out.append((full, child))
    return out


def _layer_from_torch(torch: Any, m: Any, name: str, dtype: Any) -> Any:
    nn = torch.nn
    kind = type(m).__name__
    if kind in FROM_TORCH and type(m) is getattr(nn, kind):
        try:
            return FROM_TORCH[kind](m, dtype).train(m.training)
        except TypeError as err:
            raise TypeError(f"from_torch: layer {name!r} ({m!r}): {err}") from None
    if isinstance(m, nn.Linear):
        layer = Linear(m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype)
        _copy_from_torch(layer, m, ("weight", "bias"))
        return layer
    for theirs, ours in ((nn.ReLU, ReLU), (nn.Tanh, Tanh), (nn.Sigmoid, Sigmoid)):
        if type(m) is theirs:
            return ours()
    raise TypeError(
        f"from_torch: unsupported layer {name!r} ({m!r}); supported: Linear, ReLU, Tanh, "
        f"Sigmoid, {', '.join(FROM_TORCH)}, and Sequential stacks of them"
    )
