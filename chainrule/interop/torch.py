"""Moving models between chainrule and PyTorch, weights and activations exactly as they are.

`to_torch(model)` gives a `torch.nn.Module` that computes what the chainrule model computes, so
a model that outgrows chainrule keeps training in PyTorch (GPUs, distributed training) from
where it is, without retraining. `from_torch(module)` brings a PyTorch stack of `Linear` and
activation layers back as a tensor `Sequential`. The convolution, normalisation, embedding and
dropout layers convert through the tables of `chainrule.interop.layers`, running statistics and
the training mode included.

PyTorch is optional: it is imported inside the functions, and only they need it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor.layers import Linear, ReLU, Sequential, Sigmoid, Tanh
from .layers import FROM_TORCH, TO_TORCH, _copy_from_torch, _copy_to_torch, _dtype

__all__ = ["from_torch", "to_torch"]

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
    `chainrule.interop.layers` converts (Conv2d, MaxPool2d, Flatten, Embedding, BatchNorm1d,
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
