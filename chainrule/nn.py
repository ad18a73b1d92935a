"""Neural networks on the scalar engine: `Neuron`, `Layer` and `MLP`, the lecture's three classes.

They keep the lecture's shape and attribute names (`Neuron.w`, `Neuron.b`, `Layer.neurons`,
`MLP.layers`), so code written along with the lecture runs unchanged, and add what real use
needs: a choice of activation per layer, reproducible initialisation from a seed, parameter
names, a readable repr, and a `config()` / `state_dict()` pair that a saved model is rebuilt
from (`from_config` + `load_state_dict`) without ever executing code from the file.

Speed: a neuron's weighted sum is ONE graph node (`chainrule.dot`), bit-for-bit equal to the
lecture's `sum(wi*xi ...) + b` but with one node instead of two per input; and a layer turns
plain-number inputs into `Value`s once, not once per neuron.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .engine import Value, dot
from .models import Module, build

__all__ = [
    "ACTIVATIONS",
    "BUILDERS",
    "Layer",
    "MLP",
    "Neuron",
    "ScalarModule",
    "from_config",
    "parameter_count",
]

Seed = int | random.Random | None
Input = Value | float | int

# Activation name -> the Value method that applies it (None: the weighted sum as it is).
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "linear": None,
}


def _activation(name: str | None, what: str = "activation") -> str:
    """Check an activation name; None means 'linear' (no activation), as in PyTorch configs."""
    if name is None:
        return "linear"
    if isinstance(name, str) and name in ACTIVATIONS:
        return name
    valid = ", ".join(repr(n) for n in ACTIVATIONS)
    raise ValueError(f"unknown {what} {name!r}; valid: {valid} (or None for linear)")


def _count(value: object, what: str) -> int:
    """A positive whole number of inputs or outputs (bools are refused: True is not a size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _rng(seed: Seed) -> Any:
    """Where the initial weights come from.

    No seed: the `random` module itself, exactly as the lecture draws them (so
    `random.seed(k)` before building reproduces the lecture's network). A seed: a private
    `random.Random(seed)`, so runs are reproducible without touching the global generator.
    A `random.Random` instance is used as given (a Layer shares one among its neurons).
    """
    if seed is None or seed is random:
        return random
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, a random.Random or None, got {seed!r}")
    return random.Random(int(seed))


def _inputs(x: Sequence[Input] | Input, nin: int, who: str) -> list[Value]:
    """The inputs as a list of `nin` Values: numbers become constant Values, Values stay."""
    if x.__class__ is Value or isinstance(x, numbers.Real):
        x = (x,)  # one input (e.g. a one-output layer feeding the next layer)
    try:
        xs = [v if v.__class__ is Value else Value(v) for v in x]
    except TypeError as err:
        raise TypeError(f"{who}: inputs must be numbers or Values ({err})") from None
    if len(xs) != nin:
        raise ValueError(f"{who} takes {nin} input(s), got {len(xs)}")
    return xs


class ScalarModule(Module):
    """What the scalar models share: rebuild from `config()`, save and restore weights."""

    def config(self) -> dict[str, Any]:
        """A JSON-able description of the architecture; `from_config` rebuilds the model."""
        raise NotImplementedError(f"{type(self).__name__} does not describe its config")

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by name (`layers.0.neurons.1.w.2`): the learned weights."""
        return {name: float(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from `state` (as made by `state_dict`), checking it all first.

        Every name must be present, no unknown name may appear, and every value must be a
        finite real number; otherwise a ValueError/TypeError names the entry, and the model
        is left exactly as it was (nothing is assigned until all entries passed).
        """
        if not isinstance(state, Mapping):
            kind = type(state).__name__
            raise TypeError(f"state must be a mapping of name -> number, got {kind}")
        named = self.named_parameters()
        missing = [name for name, _ in named if name not in state]
        known = {name for name, _ in named}
        extra = [name for name in state if name not in known]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {_names(missing)}")
            if extra:
                parts.append(f"unexpected {_names(extra)}")
            raise ValueError(f"state does not fit {type(self).__name__}: " + "; ".join(parts))
        values = []
        for name, _ in named:
            v = state[name]
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"state[{name!r}] must be a number, got {type(v).__name__} {v!r}")
            v = float(v)
            if not math.isfinite(v):
                raise ValueError(f"state[{name!r}] must be finite, got {v}")
            values.append(v)
        for (_, p), v in zip(named, values):
            p.data = v


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{len(names)} parameter(s): {shown}{more}"


class Neuron(ScalarModule):
    """One neuron: `activation(w . x + b)`.

    Weights and bias start uniform in [-1, 1], as in the lecture (micrograd's own demo starts
    the bias at 0; a trained model does not care). `seed` makes that draw reproducible.
    """

    def __init__(self, nin: int, activation: str | None = "tanh", seed: Seed = None) -> None:
        self.nin = _count(nin, "Neuron nin")
        self._activation = _activation(activation)
        self._act = ACTIVATIONS[self._activation]
        rng = _rng(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(self.nin)]
        self.b = Value(rng.uniform(-1, 1))

    @property
    def activation(self) -> str:
        return self._activation

    def __call__(self, x: Sequence[Input] | Input) -> Value:
        out = dot(self.w, _inputs(x, self.nin, "Neuron"), self.b)
        return out if self._act is None else self._act(out)

    def config(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self._activation}

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self._activation!r}"


class Layer(ScalarModule):
    """`nout` neurons that all read the same `nin` inputs; one output → the Value itself."""

    def __init__(
        self, nin: int, nout: int, activation: str | None = "tanh", seed: Seed = None
    ) -> None:
        self.nin = _count(nin, "Layer nin")
        self.nout = _count(nout, "Layer nout")
        self._activation = _activation(activation)
        self._act = ACTIVATIONS[self._activation]
        rng = _rng(seed)
        self.neurons = [Neuron(self.nin, self._activation, rng) for _ in range(self.nout)]

    @property
    def activation(self) -> str:
        return self._activation

    def __call__(self, x: Sequence[Input] | Input) -> Value | list[Value]:
        xs = _inputs(x, self.nin, "Layer")  # lift numbers once for all the neurons
        act = self._act
        if act is None:
            outs = [dot(n.w, xs, n.b) for n in self.neurons]
        else:
            outs = [act(dot(n.w, xs, n.b)) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def config(self) -> dict[str, Any]:
        return {
            "type": "Layer",
            "nin": self.nin,
            "nout": self.nout,
            "activation": self._activation,
        }

    def extra_repr(self) -> str:
        return f"{self.nin} -> {self.nout}, activation={self._activation!r}"

    def _repr(self, outermost: bool) -> str:
        # One line per layer: its neurons are all alike, listing them would only add noise.
        text = f"Layer({self.extra_repr()})"
        return text + f"  # {self.num_parameters():,} parameters" if outermost else text


class _Same:
    """Default of `MLP(output_activation=...)`: the same activation as the hidden layers."""

    def __repr__(self) -> str:
        return "<same as activation>"


SAME = _Same()


class MLP(ScalarModule):
    """A multi-layer perceptron: layers of sizes `nouts`, the first reading `nin` inputs.

    `activation` applies to the hidden layers, `output_activation` to the last one (by default
    the same, as in the lecture, where every layer is tanh). micrograd's demo model is
    `MLP(2, [16, 16, 1], activation='relu', output_activation=None)`.
    """

    def __init__(
        self,
        nin: int,
        nouts: Iterable[int],
        activation: str | None = "tanh",
        output_activation: str | None | _Same = SAME,
        seed: Seed = None,
    ) -> None:
        self.nin = _count(nin, "MLP nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Iterable):
            raise TypeError(f"MLP nouts must be a list of layer sizes, got {nouts!r}")
        self.nouts = [_count(n, f"MLP nouts[{i}]") for i, n in enumerate(nouts)]
        if not self.nouts:
            raise ValueError("MLP nouts must name at least one layer size, got []")
        self._activation = _activation(activation)
        self._output_activation = (
            self._activation
            if output_activation is SAME
            else _activation(output_activation, "output_activation")
        )
        rng = _rng(seed)
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                self._output_activation if i == last else self._activation,
                rng,
            )
            for i in range(len(self.nouts))
        ]

    @property
    def activation(self) -> str:
        return self._activation

    @property
    def output_activation(self) -> str:
        return self._output_activation

    def __call__(self, x: Sequence[Input] | Input) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def config(self) -> dict[str, Any]:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self._activation,
            "output_activation": (
                None if self._output_activation == "linear" else self._output_activation
            ),
        }

    def extra_repr(self) -> str:
        out = ""
        if self._output_activation != self._activation:
            out = f", output_activation={self._output_activation!r}"
        return f"{self.nin} -> {self.nouts}, activation={self._activation!r}{out}"


# -- rebuilding a model from its config (what a saved file holds) ---------------------------

# Model type name -> builder taking the config's other fields as keyword arguments. Only these
# are ever called: loading a config never imports or evaluates anything named in the file.
BUILDERS: dict[str, Callable[..., Module]] = {
    "Neuron": Neuron,
    "Layer": Layer,
    "MLP": MLP,
}


def from_config(config: Mapping[str, Any]) -> Module:
    """Build a fresh model (new random weights) of the architecture `config` describes.

    `config` is what `model.config()` returned; load weights afterwards with
    `model.load_state_dict(...)`. A malformed config raises ValueError saying what is wrong.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"model config must be a mapping, got {type(config).__name__}")
    kind = config.get("type")
    if kind in TENSOR_LAYERS:  # a tensor model: built by chainrule.layers (needs numpy)
        from .tensor.layers import from_config as tensor_from_config

        return tensor_from_config(config)
    if kind not in BUILDERS:
        valid = ", ".join(repr(k) for k in (*BUILDERS, *TENSOR_LAYERS))
        raise ValueError(f"model config has unknown type {kind!r}; valid: {valid}")
    return build(kind, {k: v for k, v in config.items() if k != "type"}, BUILDERS)


def parameter_count(config: Mapping[str, Any]) -> int:
    """How many numbers a model of this config learns, worked out without building it.

    Loading checks a file's config against the weights it holds with this before anything is
    allocated, so a tampered config (a layer of a billion neurons) fails fast and cheaply.
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"model config must be a mapping, got {type(config).__name__}")
    kind = config.get("type")
    if kind in TENSOR_LAYERS:
        from .tensor.layers import parameter_count as tensor_parameter_count

        return tensor_parameter_count(config)
    if kind == "Neuron":
        return _count(config.get("nin"), "Neuron nin") + 1
    if kind == "Layer":
        return (_count(config.get("nin"), "Layer nin") + 1) * _count(config.get("nout"), "nout")
    if kind == "MLP":
        nouts = config.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of sizes, got {nouts!r}")
        sizes = [_count(config.get("nin"), "MLP nin")] + [_count(n, "MLP nouts") for n in nouts]
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    valid = ", ".join(repr(k) for k in (*BUILDERS, *TENSOR_LAYERS))
    raise ValueError(f"model config has unknown type {kind!r}; valid: {valid}")


# -- the tensor layers, reachable from here too ----------------------------------------------

# They live in chainrule.layers, which needs numpy; importing them on first use keeps the scalar
# classes above free of any dependency (PEP 562 module __getattr__).
TENSOR_LAYERS = ("Sequential", "Linear", "ReLU", "Tanh", "Sigmoid")


def __getattr__(name: str) -> Any:
    if name in TENSOR_LAYERS:
        from .tensor import layers

        return getattr(layers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
