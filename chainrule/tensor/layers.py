"""Neural-network layers on the tensor engine: `Linear`, `Sequential` and the activations.

They are PyTorch's `torch.nn` layers of the same names, with the same weight layout
(`Linear.weight` is (out_features, in_features)) and the same initialisation, so a model moves
to PyTorch and back (`chainrule.interop`) without any reshaping. A whole batch goes through a
layer as one array: a (32, 64) input times a (128, 64) weight is one node of the graph, where
the scalar `MLP` would make 8,192 `dot` nodes.

Every layer describes itself with `config()` (a JSON-able dict; `from_config` rebuilds the
architecture) and its learned numbers with `state_dict()` (name -> nested lists), which
`load_state_dict` checks and puts back: together they are what a saved model holds. Both come
from `chainrule.nn.Module`; the layers are registered in its one registry of model kinds,
next to the scalar `MLP`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..nn import (
    ACTIVATIONS,
    ConfigError,
    Module,
    build_model,
    check_activation,
    check_size,
    count_parameters,
)
from . import Tensor, linear

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Linear",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TensorModule",
    "from_config",
    "mlp",
    "parameter_count",
]


def _as_tensor(x: Any, dtype: np.dtype) -> Tensor:
    """A layer's input: Tensors pass through; arrays and lists become constants of `dtype`."""
    if isinstance(x, Tensor):
        return x
    return Tensor(np.asarray(x, dtype=dtype))


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A layer's `seed` as a generator: a Generator is used as it is (a model's layers then
    draw one after the other from it), anything else seeds a new one."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _uniform_parameters(
    shape: tuple[int, ...],
    fan_in: int,
    bias: bool,
    seed: int | np.random.Generator | None,
    dtype: Any,
) -> tuple[Tensor, Tensor | None]:
    """A weight of `shape` and, if `bias`, a bias of `shape[0]`, both uniform in
    [-1/sqrt(fan_in), 1/sqrt(fan_in)]: PyTorch's default for Linear and Conv2d (kaiming_uniform
    with a=sqrt(5) works out to exactly that bound), which keeps the output's scale independent
    of the number of inputs. The weight is drawn before the bias: a seeded layer's numbers
    depend on that order."""
    rng = _generator(seed)
    bound = 1.0 / math.sqrt(fan_in)
    w = rng.uniform(-bound, bound, shape).astype(dtype)
    weight = Tensor(w, requires_grad=True, label="weight")
    if not bias:
        return weight, None
    b = rng.uniform(-bound, bound, shape[0]).astype(dtype)
    return weight, Tensor(b, requires_grad=True, label="bias")


class TensorModule(Module):
    """The base of the tensor layers: a `Module` whose parameters are `Tensor`s."""

    def config(self) -> dict[str, Any]:
        """A JSON-able description of the architecture; `from_config` rebuilds it."""
        return {"type": type(self).__name__}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """A layer without weights (an activation, a pool, Flatten, Dropout) learns nothing."""
        return 0


class Linear(TensorModule):
    """`y = x @ weight.T + bias`, PyTorch's `nn.Linear`.

    Weight (nout, nin) and bias (nout,) start uniform in [-1/sqrt(nin), 1/sqrt(nin)], PyTorch's
    default (see `_uniform_parameters`). `seed` makes the draw reproducible.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        self.nin = check_size(nin, "Linear nin")
        self.nout = check_size(nout, "Linear nout")
        shape = (self.nout, self.nin)
        self.weight, self.bias = _uniform_parameters(shape, self.nin, bias, seed, dtype)

    @property
    def in_features(self) -> int:  # PyTorch's names
        return self.nin

    @property
    def out_features(self) -> int:
        return self.nout

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, self.weight.data.dtype)
        try:
            return linear(x, self.weight, self.bias)
        except ValueError:  # name the layer: in a CNN this is where a wrong Flatten size shows
            if x.shape[-1:] == (self.nin,):
                raise
            raise ValueError(
                f"Linear({self.extra_repr()}): expected input of shape (N, {self.nin}), got "
                f"{x.shape}"
            ) from None

    def config(self) -> dict[str, Any]:
        return {"type": "Linear", "nin": self.nin, "nout": self.nout, "bias": self.bias is not None}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin = check_size(config.get("nin"), "Linear nin")
        nout = check_size(config.get("nout"), "Linear nout")
        return nin * nout + (nout if config.get("bias", True) else 0)

    def extra_repr(self) -> str:
        return f"{self.nin} -> {self.nout}" + ("" if self.bias is not None else ", bias=False")


class ReLU(TensorModule):
    """max(x, 0), elementwise."""

    def __call__(self, x: Any) -> Tensor:
        return (x if x.__class__ is Tensor else _as_tensor(x, np.float32)).relu()


class Tanh(TensorModule):
    """tanh(x), elementwise."""

    def __call__(self, x: Any) -> Tensor:
        return (x if x.__class__ is Tensor else _as_tensor(x, np.float32)).tanh()


class Sigmoid(TensorModule):
    """1 / (1 + e^-x), elementwise."""

    def __call__(self, x: Any) -> Tensor:
        return (x if x.__class__ is Tensor else _as_tensor(x, np.float32)).sigmoid()


class Sequential(TensorModule):
    """Layers applied one after the other: `Sequential(Linear(64, 128), ReLU(), Linear(128, 10))`.

    Parameters are named by position, `layers.0.weight`, `layers.2.bias`, ...
    """

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not callable(layer) or not isinstance(layer, Module):
                kind = type(layer).__name__
                raise TypeError(f"Sequential: layer {i} must be a Module, got {kind}")
        self.layers = list(layers)

    def __call__(self, x: Any) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def config(self) -> dict[str, Any]:
        configs = []
        for i, layer in enumerate(self.layers):
            if not hasattr(layer, "config"):
                raise TypeError(f"Sequential.config: layer {i} ({type(layer).__name__}) has none")
            configs.append(layer.config())
        return {"type": "Sequential", "layers": configs}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sequential:
        layers = _layers(config)
        return cls(*(build_model(c, _kinds()) for c in layers))

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        return sum(count_parameters(c, _kinds()) for c in _layers(config))


class Activation(TensorModule):
    """An activation of the op table by name, elementwise: `Activation('gelu')`, any of
    `chainrule.nn.ACTIVATIONS` (ReLU, Tanh and Sigmoid are such layers too)."""

    def __init__(self, name: str) -> None:
        self.name = check_activation(name)

    def __call__(self, x: Any) -> Tensor:
        row = ACTIVATIONS[self.name]
        x = x if x.__class__ is Tensor else _as_tensor(x, np.float32)
        return x if row is None else row(x)

    def config(self) -> dict[str, Any]:
        return {"type": "Activation", "name": self.name}

    def extra_repr(self) -> str:
        return repr(self.name)


# The activations that have a layer class of their own, PyTorch's; the others of
# `ACTIVATIONS` are an `Activation` layer, and 'linear' / None no layer at all.
ACTIVATION_LAYERS: dict[str, type[TensorModule]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def mlp(
    sizes: list[int],
    activation: str | None = "relu",
    output_activation: str | None = None,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """A multi-layer perceptron on the tensor engine: the twin of `chainrule.nn.MLP`.

    `sizes` lists the layer widths, inputs first (`[64, 128, 10]`); the hidden layers use
    `activation` and the last one `output_activation` (any of `ACTIVATIONS`: 'relu', 'tanh',
    'gelu', ..., or 'linear'/None for none). `seed` makes the initial weights reproducible.
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes must list the inputs and at least one layer, got {sizes!r}")
    hidden, last = check_activation(activation), check_activation(output_activation)
    rng = np.random.default_rng(seed)
    layers: list[Module] = []
    for i, (nin, nout) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(nin, nout, seed=rng, dtype=dtype))
        name = last if i == len(sizes) - 2 else hidden
        if name in ACTIVATION_LAYERS:
            layers.append(ACTIVATION_LAYERS[name]())
        elif name != "linear":
            layers.append(Activation(name))
    return Sequential(*layers)


# -- rebuilding a model from its config (what a saved file holds) ---------------------------


def _layers(config: Mapping[str, Any]) -> list[Any]:
    layers, extra = config.get("layers"), set(config) - {"type", "layers"}
    if extra or not isinstance(layers, list):
        shown = {k: v for k, v in config.items() if k != "type"}
        raise ConfigError(f"Sequential config needs exactly a 'layers' list, got {shown!r}")
    return layers


def _kinds() -> dict[str, type[TensorModule]]:
    """Every tensor layer class by name, for the layers of a Sequential: the subclasses of
    `TensorModule` that chainrule.tensor defines (a class of your own is never built from a
    file). Interim, until this module lists the layers of every module of chainrule.tensor in
    one table."""
    found: dict[str, type[TensorModule]] = {}
    todo = [TensorModule]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("chainrule.tensor."):
                found[sub.__name__] = sub
            todo.append(sub)
    return found


def from_config(config: Mapping[str, Any]) -> Module:
    """A fresh tensor model (new random weights) of the architecture `config` describes
    (a model of either engine: `chainrule.learn.io.from_config`)."""
    return build_model(config, _kinds())


def parameter_count(config: Mapping[str, Any]) -> int:
    """How many numbers a tensor model of this config learns, counted without building it."""
    return count_parameters(config, _kinds())


# -- the layers of the next lectures, defined in their own modules ---------------------------

# Conv2d, MaxPool2d, Flatten (conv_layers.py) and Embedding, BatchNorm1d, LayerNorm, Dropout
# (mlp_layers.py) are built on the classes above, so they are imported here on first use
# (PEP 562), which keeps `chainrule.tensor.layers` the one place every tensor layer is found.
LAYER_HOMES = {
    "Conv2d": "conv_layers",
    "MaxPool2d": "conv_layers",
    "Flatten": "conv_layers",
    "Embedding": "mlp_layers",
    "BatchNorm1d": "mlp_layers",
    "LayerNorm": "mlp_layers",
    "Dropout": "mlp_layers",
}
__all__ += list(LAYER_HOMES)


def __getattr__(name: str) -> Any:
    if name in LAYER_HOMES:
        import importlib

        return getattr(importlib.import_module(f".{LAYER_HOMES[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
