"""Neural-network layers on the tensor engine: `Linear`, `Sequential` and the activations.

They are PyTorch's `torch.nn` layers of the same names, with the same weight layout
(`Linear.weight` is (out_features, in_features)) and the same initialisation, so a model moves
to PyTorch and back (`chainrule.interop`) without any reshaping. A whole batch goes through a
layer as one array: a (32, 64) input times a (128, 64) weight is one node of the graph, where
the scalar `MLP` would make 8,192 `dot` nodes.

Every layer describes itself with `config()` (a JSON-able dict; `from_config` rebuilds the
architecture) and its learned numbers with `state_dict()` (name -> nested lists), which
`load_state_dict` checks and puts back: together they are what a saved model holds.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..models import Module, build
from .functional import linear
from .tensor import Tensor

__all__ = [
    "ACTIVATIONS",
    "BUILDERS",
    "Linear",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TensorModule",
    "from_config",
    "mlp",
]


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _as_tensor(x: Any, dtype: np.dtype) -> Tensor:
    """A layer's input: Tensors pass through; arrays and lists become constants of `dtype`."""
    if isinstance(x, Tensor):
        return x
    return Tensor(np.asarray(x, dtype=dtype))


class TensorModule(Module):
    """What the tensor layers share: a config to rebuild them, weights to save and restore."""

    def config(self) -> dict[str, Any]:
        """A JSON-able description of the architecture; `from_config` rebuilds it."""
        return {"type": type(self).__name__}

    def state_dict(self) -> dict[str, list[Any]]:
        """Every parameter's values by name (`layers.0.weight`), as nested lists (JSON-able)."""
        return {name: p.data.tolist() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from `state` (as `state_dict` makes it), all checked first.

        Every name must be present, no unknown name may appear, and every value must have
        its parameter's shape and be finite; otherwise a ValueError names the entry (and
        both shapes), and the model is left exactly as it was.
        """
        if not isinstance(state, Mapping):
            kind = type(state).__name__
            raise TypeError(f"state must be a mapping of name -> values, got {kind}")
        named = self.named_parameters()
        known = {name for name, _ in named}
        missing = [name for name, _ in named if name not in state]
        extra = [name for name in state if name not in known]
        if missing or extra:
            parts = [f"missing {missing!r}"] if missing else []
            parts += [f"unexpected {extra!r}"] if extra else []
            raise ValueError(f"state does not fit {type(self).__name__}: " + "; ".join(parts))
        arrays = []
        for name, p in named:
            try:
                value = np.asarray(state[name], dtype=p.data.dtype)
            except (TypeError, ValueError) as err:
                raise ValueError(f"state[{name!r}] is not an array of numbers: {err}") from None
            if value.shape != p.data.shape:
                raise ValueError(
                    f"state[{name!r}] has shape {value.shape}, but the parameter has shape "
                    f"{p.data.shape}"
                )
            if not np.all(np.isfinite(value)):
                raise ValueError(f"state[{name!r}] holds values that are not finite")
            arrays.append(value)
        for (_, p), value in zip(named, arrays):
            p.data[...] = value  # in place: optimizers and views keep seeing the parameter


class Linear(TensorModule):
    """`y = x @ weight.T + bias`, PyTorch's `nn.Linear`.

    Weight (nout, nin) and bias (nout,) start uniform in [-1/sqrt(nin), 1/sqrt(nin)]: PyTorch's
    default (kaiming_uniform with a=sqrt(5) works out to exactly that bound), which keeps the
    output's scale independent of the number of inputs. `seed` makes the draw reproducible.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        seed: int | np.random.Generator | None = None,
        dtype: Any = np.float32,
    ) -> None:
        self.nin = _count(nin, "Linear nin")
        self.nout = _count(nout, "Linear nout")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        bound = 1.0 / math.sqrt(self.nin)
        w = rng.uniform(-bound, bound, (self.nout, self.nin)).astype(dtype)
        self.weight = Tensor(w, requires_grad=True, label="weight")
        self.bias: Tensor | None = None
        if bias:
            b = rng.uniform(-bound, bound, self.nout).astype(dtype)
            self.bias = Tensor(b, requires_grad=True, label="bias")

    @property
    def in_features(self) -> int:  # PyTorch's names
        return self.nin

    @property
    def out_features(self) -> int:
        return self.nout

    def __call__(self, x: Any) -> Tensor:
        if x.__class__ is not Tensor:
            x = _as_tensor(x, self.weight.data.dtype)
        return linear(x, self.weight, self.bias)

    def config(self) -> dict[str, Any]:
        return {"type": "Linear", "nin": self.nin, "nout": self.nout, "bias": self.bias is not None}

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


# Activation name (as `chainrule.nn` spells them) -> layer; 'linear' / None: no layer.
ACTIVATIONS: dict[str, type[TensorModule]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def mlp(
    sizes: list[int],
    activation: str | None = "relu",
    output_activation: str | None = None,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """A multi-layer perceptron on the tensor engine: the twin of `chainrule.nn.MLP`.

    `sizes` lists the layer widths, inputs first (`[64, 128, 10]`); the hidden layers use
    `activation` and the last one `output_activation` ('relu', 'tanh', 'sigmoid', or
    'linear'/None for none). `seed` makes the initial weights reproducible.
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes must list the inputs and at least one layer, got {sizes!r}")
    for name in (activation, output_activation):
        if name not in (None, "linear", *ACTIVATIONS):
            valid = ", ".join(repr(k) for k in (*ACTIVATIONS, "linear"))
            raise ValueError(f"mlp: unknown activation {name!r}; valid: {valid} (or None)")
    rng = np.random.default_rng(seed)
    layers: list[Module] = []
    for i, (nin, nout) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(nin, nout, seed=rng, dtype=dtype))
        name = output_activation if i == len(sizes) - 2 else activation
        if name in ACTIVATIONS:
            layers.append(ACTIVATIONS[name]())
    return Sequential(*layers)


# -- rebuilding a model from its config (what a saved file holds) ---------------------------

# Type name -> builder taking the config's other fields. Only these are ever called: loading a
# config never imports or evaluates anything the file names.
BUILDERS: dict[str, Callable[..., Module]] = {
    "Linear": Linear,
    "ReLU": ReLU,
    "Tanh": Tanh,
    "Sigmoid": Sigmoid,
}


def from_config(config: Mapping[str, Any]) -> TensorModule:
    """Build a fresh model (new random weights) of the architecture `config` describes.

    `config` is what `model.config()` returned, e.g. `{"type": "Sequential", "layers":
    [{"type": "Linear", "nin": 64, "nout": 128}, {"type": "ReLU"}, ...]}`; load the weights
    afterwards with `load_state_dict`. A malformed config raises ValueError saying what.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"layer config must be a mapping, got {type(config).__name__}")
    kind = config.get("type")
    fields = {k: v for k, v in config.items() if k != "type"}
    if kind == "Sequential":
        layers = fields.pop("layers", None)
        if fields or not isinstance(layers, list):
            raise ValueError(
                f"Sequential config needs exactly a 'layers' list, got {dict(config)!r}"
            )
        return Sequential(*(from_config(c) for c in layers))
    if kind not in BUILDERS:
        valid = ", ".join(repr(k) for k in ("Sequential", *BUILDERS))
        raise ValueError(f"layer config has unknown type {kind!r}; valid: {valid}")
    return build(kind, fields, BUILDERS)


def parameter_count(config: Mapping[str, Any]) -> int:
    """How many numbers a tensor model of this config learns, without building it."""
    if not isinstance(config, Mapping):
        raise ValueError(f"layer config must be a mapping, got {type(config).__name__}")
    kind = config.get("type")
    if kind == "Sequential":
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise ValueError(f"Sequential config needs a 'layers' list, got {layers!r}")
        return sum(parameter_count(c) for c in layers)
    if kind == "Linear":
        nin, nout = config.get("nin"), config.get("nout")
        for name, size in (("nin", nin), ("nout", nout)):
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ValueError(f"Linear {name} must be a positive integer, got {size!r}")
        return nin * nout + (nout if config.get("bias", True) else 0)
    if kind in BUILDERS:  # activations learn nothing
        return 0
    valid = ", ".join(repr(k) for k in ("Sequential", *BUILDERS))
    raise ValueError(f"layer config has unknown type {kind!r}; valid: {valid}")
