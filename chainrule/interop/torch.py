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

PyTorch is optional (the `torch` extra): it is imported inside the functions, and only they need it.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..extras import require
from ..tensor.layers import ACTIVATION_LAYERS, KINDS, Linear, Sequential, arguments

__all__ = ["from_torch", "to_torch"]

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
    return require("torch", "torch", "to_torch / from_torch (moving models to PyTorch)")


def to_torch(model: Any, dtype: Any = None) -> Any:
    """A `torch.nn.Module` with the same weights and activations as `model`.

    The PyTorch copy has its own weights (changing one model does not change the other),
    `requires_grad` set, ready to train, and the model's training mode. A scalar model's
    PyTorch copy takes a batch (N, nin) and returns (N, nout), also for one output.

    Args:
        model: A tensor `Sequential` of the layers of `chainrule.tensor.layers` (Linear, the
            activations ReLU, Tanh and Sigmoid, Conv2d, MaxPool2d, Flatten, Embedding,
            BatchNorm1d, LayerNorm, Dropout), or one such layer, or a scalar `MLP` or `Layer`
            (`chainrule.nn`).
        dtype: A torch dtype; by default the model's own precision: the tensor model's dtype
            (float32 unless made otherwise), and float64 for the scalar engine, whose numbers
            are Python floats, so that the weights carry over exactly.

    Returns:
        The `torch.nn` model.

    Raises:
        TypeError: The model or one of its layers has no PyTorch counterpart here.
        ImportError: PyTorch is not installed.

    Examples:
        >>> import torch
        >>> from chainrule.interop import to_torch
        >>> from chainrule.tensor.layers import mlp
        >>> model = mlp([2, 3, 1], seed=0)
        >>> theirs = to_torch(model)
        >>> theirs
        Sequential(
          (0): Linear(in_features=2, out_features=3, bias=True)
          (1): ReLU()
          (2): Linear(in_features=3, out_features=1, bias=True)
        )
        >>> ours = model([[0.5, -1.0]]).item()
        >>> abs(theirs(torch.tensor([[0.5, -1.0]])).item() - ours) < 1e-6
        True
    """
    torch = _torch()
    if isinstance(model, Sequential):
        layers = [_layer_to_torch(torch, layer, i, dtype) for i, layer in enumerate(model)]
        return torch.nn.Sequential(*layers).train(model.training)
    if type(model).__name__ in _CONVERTED and type(model) is KINDS[type(model).__name__]:
        return _layer_to_torch(torch, model, 0, dtype)
    if hasattr(model, "layers") or hasattr(model, "neurons"):
        return _scalar_to_torch(model, torch.float64 if dtype is None else dtype)
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
    """The torch dtype of a chainrule tensor's numpy dtype."""
    return torch.from_numpy(np.zeros(0, t.data.dtype)).dtype


def _scalar_to_torch(model: Any, dtype: Any) -> Any:
    """A scalar MLP (`layers`, each with `neurons`, each with `w` and `b`) as Linear layers.

    Built as the tensor model of the same numbers (float64, exactly the scalars' floats), which
    then converts as every tensor model does.
    """
    layers = model.layers if hasattr(model, "layers") else [model]
    modules: list[Any] = []
    for i, layer in enumerate(layers):
        neurons = getattr(layer, "neurons", None)
        if not neurons:
            raise TypeError(f"to_torch: layer {i} of {type(model).__name__} has no neurons")
        linear = Linear(len(neurons[0].w), len(neurons), dtype=np.float64)
        linear.weight.data[...] = [[w.data for w in n.w] for n in neurons]
        linear.bias.data[...] = [n.b.data for n in neurons]  # type: ignore[union-attr]
        modules.append(linear)
        activation = getattr(layer, "activation", None)
        if activation is None:  # an older layer that does not say: ask the model
            last = i == len(layers) - 1
            activation = getattr(model, "output_activation" if last else "activation", "tanh")
        if activation and activation != "linear":  # None (set to no activation) is linear too
            if activation not in ACTIVATION_LAYERS:
                raise ValueError(f"to_torch: layer {i} has unknown activation {activation!r}")
            modules.append(ACTIVATION_LAYERS[activation]())
    return to_torch(Sequential(*modules), dtype)


def from_torch(module: Any, dtype: Any = np.float32) -> Any:
    """A chainrule tensor model with `module`'s weights, its layers and its training mode.

    Args:
        module: A `torch.nn.Sequential` (nested ones are flattened) of `Linear`, `ReLU`,
            `Tanh`, `Sigmoid` and the layers `to_torch` makes, which becomes a `Sequential`;
            or one such layer, which becomes that layer.
        dtype: The numpy dtype the weights and running statistics are copied as.

    Returns:
        The chainrule model.

    Raises:
        TypeError: A layer has no chainrule counterpart, or uses an option chainrule's lacks
            (a dilation, groups, ...).
        ImportError: PyTorch is not installed.

    Examples:
        >>> import torch
        >>> from chainrule.interop import from_torch
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh())
        >>> ours = from_torch(theirs)
        >>> ours
        Sequential(
          (layers.0): Linear(2 -> 3)
          (layers.1): Tanh()
        )  # 9 parameters
        >>> (ours.layers[0].weight.numpy() == theirs[0].weight.detach().numpy()).all()
        np.True_
    """
    torch = _torch()
    if isinstance(module, torch.nn.Sequential):
        # the leaves of nested stacks, by their dotted names ("2.0"), each use of a module counted
        leaves = module.named_modules(remove_duplicate=False)
        layers = [
            _layer_from_torch(torch, m, name, dtype)
            for name, m in leaves
            if not isinstance(m, torch.nn.Sequential)
        ]
        return Sequential(*layers).train(module.training)
    return _layer_from_torch(torch, module, "0", dtype)


def _layer_from_torch(torch: Any, m: Any, name: str, dtype: Any) -> Any:
    """Chainrule's namesake of the module `m`, with copies of its tensors.

    Built from `m`'s attributes of the same names.
    """
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
