"""Moving models between chainrule and PyTorch, weights and activations exactly as they are.

`to_torch(model)` gives a `torch.nn.Module` that computes what the chainrule model computes, so
a model that outgrows chainrule keeps training in PyTorch (GPUs, distributed training) from
where it is, without retraining. `from_torch(module)` brings a PyTorch stack of `Linear` and
activation layers back as a tensor `Sequential`, and so do the convolution, normalisation,
embedding and dropout layers, running statistics (BatchNorm's batch count too) and the training
mode included.

Every tensor layer has PyTorch's name and hyper-parameters, so one rule converts them all: a
layer's `config()` is the keyword arguments of its `torch.nn` namesake (`Linear`'s sizes
renamed), and its tensors are copied by name. The other way, the layer's arguments are read
off the module's attributes of the same names; a module that uses what chainrule's layer does
not have (a dilation, groups, ceil_mode, ...) is refused by name.

PyTorch is optional: it is imported inside the functions, and only they need it.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..tensor.layers import KINDS, Sequential, arguments

__all__ = ["from_torch", "to_torch"]

_TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
_RENAMED = {"nin": "in_features", "nout": "out_features"}  # Linear's sizes, chainrule's names
_TENSORS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
# PyTorch's hyper-parameters that chainrule's layers lack: converted only at these values
_ONLY: dict[str, dict[str, Any]] = {
    "Conv2d": {"dilation": (1, 1), "groups": 1, "padding_mode": "zeros"},
    "MaxPool2d": {"dilation": 1, "ceil_mode": False, "return_indices": False},
    "Embedding": {"max_norm": None, "sparse": False},
}
_CONVERTED = [kind for kind in KINDS if kind not in ("Sequential", "Activation")]


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

    `model` is a tensor `Sequential` of the layers of `chainrule.tensor.layers` (Linear, the
    activations ReLU, Tanh and Sigmoid, Conv2d, MaxPool2d, Flatten, Embedding, BatchNorm1d,
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
    if type(model).__name__ in _CONVERTED and type(model) is KINDS[type(model).__name__]:
        return _layer_to_torch(torch, model, 0, dtype)
    if hasattr(model, "layers") or hasattr(model, "neurons"):
        return _scalar_to_torch(torch, model, torch.float64 if dtype is None else dtype)
    raise TypeError(
        f"to_torch: cannot convert {type(model).__name__}; it takes a tensor Sequential "
        f"({', '.join(_CONVERTED)}) or a scalar MLP / Layer"
    )


def _layer_to_torch(torch: Any, layer: Any, i: int, dtype: Any) -> Any:
    """The `torch.nn` namesake of `layer`, built from its config, with copies of its tensors."""
    config = layer.config()
    kind = config.pop("type")
    if kind not in _CONVERTED:
        raise TypeError(
            f"to_torch: layer {i} ({kind}) has no PyTorch counterpart here; "
            f"supported: {', '.join(_CONVERTED)}"
        )
    kwargs = {_RENAMED.get(k, k): tuple(v) if isinstance(v, list) else v for k, v in config.items()}
    ours = [getattr(layer, name, None) for name in _TENSORS]
    if dtype is None:  # the layer's own precision (its first floating-point tensor's)
        dtype = next((_torch_dtype(torch, t) for t in ours if t is not None), None)
    if dtype is not None and any(t is not None for t in ours):
        kwargs["dtype"] = dtype
    m = getattr(torch.nn, kind)(**kwargs)
    with torch.no_grad():
        for name, t in zip(_TENSORS, ours):
            theirs = getattr(m, name, None)
            if t is not None and theirs is not None:
                theirs.copy_(torch.from_numpy(np.array(t.data)))
    return m.train(layer.training)


def _torch_dtype(torch: Any, t: Any) -> Any:
    return torch.from_numpy(np.zeros(0, t.data.dtype)).dtype


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
    """chainrule's namesake of the module `m`, built from `m`'s attributes of the same names,
    with copies of its tensors."""
    kind = type(m).__name__
    if kind not in _CONVERTED or type(m) is not getattr(torch.nn, kind, None):
        raise TypeError(
            f"from_torch: unsupported layer {name!r} ({m!r}); supported: "
            f"{', '.join(_CONVERTED)}, and Sequential stacks of them"
        )
    where = f"from_torch: layer {name!r} ({m!r})"
    for attr, only in _ONLY.get(kind, {}).items():
        if getattr(m, attr) not in (only, (only, only)):
            raise TypeError(f"{where}: {attr}={getattr(m, attr)!r} is not supported")
    kwargs: dict[str, Any] = {}
    if "dtype" in inspect.signature(KINDS[kind]).parameters:
        kwargs["dtype"] = dtype
    for arg in arguments(KINDS[kind]):
        if arg == "bias":  # a flag in chainrule, the tensor (or None) in PyTorch
            kwargs[arg] = m.bias is not None or not getattr(m, "elementwise_affine", True)
        else:
            value = getattr(m, _RENAMED.get(arg, arg))
            kwargs[arg] = tuple(value) if isinstance(value, list) else value
    try:
        layer = KINDS[kind](**kwargs)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where}: {err}") from None
    for t in _TENSORS:
        ours, theirs = getattr(layer, t, None), getattr(m, t, None)
        if ours is not None and theirs is not None:
            ours.data[...] = theirs.detach().cpu().numpy().astype(ours.data.dtype)
    return layer.train(m.training)
