"""Neural networks on the scalar engine: `Neuron`, `Layer` and `MLP`, the lecture's three classes.

They keep the lecture's shape and attribute names (`Neuron.w`, `Neuron.b`, `Layer.neurons`,
`MLP.layers`), so code written along with the lecture runs unchanged, and add what real use
needs: a choice of activation per layer, reproducible initialisation from a seed, parameter
names, a readable repr, and a `config()` / `state_dict()` pair that a saved model is rebuilt
from (`from_config` + `load_state_dict`) without ever executing code from the file. `KINDS`
lists the three classes for that; `chainrule.learn.io.MODELS` puts them beside the tensor
layers. Every function of the op table that works as an activation (`ACTIVATIONS`: tanh, relu,
sigmoid, gelu, silu, softplus, sin, ...) can be a layer's, by name.

Names: every parameter and input is labeled where it is made, so that `draw_dot` of a model's
output names each box: an MLP's weights are `L1.n2.w3` (layer 1, its neuron 2, weight 3: the
weight that multiplies input x3), biases `L1.n2.b`, the numbers it is called on `x1`, `x2`, ...
All count from 1, as the lecture's x1·w1 + x2·w2 does, so in layer 2 `w3` multiplies the
output of layer 1's `n3`. A lone Neuron's are `w1`, `b`; a lone Layer's `n1.w1`, `n1.b`.

Speed: a neuron's weighted sum is ONE graph node (`chainrule.dot`), bit-for-bit equal to the
lecture's `sum(wi*xi ...) + b` but with one node instead of two per input; and a layer turns
plain-number inputs into `Value`s once, not once per neuron.
"""

from __future__ import annotations

import functools
import numbers
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .engines import ScalarEngine
from .learn.module import (
    ACTIVATIONS,
    Module,
    build_model,
    check_activation,
    check_size,
    count_parameters,
)
from .value import Value, dot

__all__ = [
    "ACTIVATIONS", "KINDS", "Layer", "MLP", "Neuron", "ScalarModule", "from_config",
    "parameter_count",
]  # fmt: skip

Seed = int | random.Random | None
Input = Value | float | int


def _function(name: str) -> Callable[[Value], Value] | None:
    """What applies activation `name` (`ACTIVATIONS`, read from the op table) to a Value: the
    Value's own method where it has one (the fast path), else the table's row; None: linear."""
    row = ACTIVATIONS[name]
    return None if row is None else getattr(Value, name, row)


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
    """The inputs as a list of `nin` Values: numbers become Values labeled x1, x2, ...;
    Values stay as they are (with their own labels)."""
    try:
        xs = ScalarEngine.row(x, _input_names(nin))
    except TypeError as err:
        if _is_rows(x):
            raise RowsGiven(who, nin, len(x)) from None  # type: ignore[arg-type]
        raise TypeError(f"{who}: inputs must be numbers or Values ({err})") from None
    if len(xs) != nin:
        raise ValueError(f"{who} takes {nin} input(s), got {len(xs)}")
    return xs


@functools.lru_cache(maxsize=64)
def _input_names(nin: int) -> tuple[str, ...]:
    """x1 ... x<nin>: the labels of the numbers a model is called on (made once per size)."""
    return tuple(f"x{i}" for i in range(1, nin + 1))


def _is_rows(x: Any) -> bool:
    """A list of rows (a whole data set), where one row of numbers was expected."""
    first = next(iter(x), None)
    return hasattr(first, "__len__") and not isinstance(first, (str, bytes))


class RowsGiven(TypeError):
    """A scalar model called on a list of rows (a whole data set) instead of one row."""

    def __init__(self, who: str, nin: int, rows: int) -> None:
        super().__init__(
            f"{who} takes one row of {nin} number{'s' * (nin != 1)} at a time, got a list of "
            f"{rows} rows: "
            f"call it on each row, [model(x) for x in X], or use the tensor engine, which "
            f"takes the whole batch at once (chainrule.tensor.layers.mlp, on Tensor(X))"
        )
        self.nin, self.rows = nin, rows


class ScalarModule(Module):
    """The base of the scalar models: a `Module` whose parameters are `Value`s."""

    _activation = "linear"

    @property
    def activation(self) -> str:
        """The name of the activation (of the hidden layers, for an MLP)."""
        return self._activation

    def label_parameters(self, prefix: str = "") -> None:
        """Label every parameter by its place (`L1.n2.w3`), under `prefix`; the constructors
        call it, so a model's pictures name its weights without being asked."""
        raise NotImplementedError


class Neuron(ScalarModule):
    """One neuron: `activation(w . x + b)`.

    Weights and bias start uniform in [-1, 1], as in the lecture (micrograd's own demo starts
    the bias at 0; a trained model does not care). `seed` makes that draw reproducible.
    """

    def __init__(self, nin: int, activation: str | None = "tanh", seed: Seed = None) -> None:
        self.nin = check_size(nin, "Neuron nin")
        self._activation = check_activation(activation)
        self._act = _function(self._activation)
        rng = _rng(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(self.nin)]
        self.b = Value(rng.uniform(-1, 1))
        self.label_parameters()

    def __call__(self, x: Sequence[Input] | Input) -> Value:
        out = dot(self.w, _inputs(x, self.nin, "Neuron"), self.b)
        return out if self._act is None else self._act(out)

    def label_parameters(self, prefix: str = "") -> None:
        for i, w in enumerate(self.w, 1):
            w.label = f"{prefix}w{i}"
        self.b.label = f"{prefix}b"

    def config(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self._activation}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        return check_size(config.get("nin"), "Neuron nin") + 1

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self._activation!r}"


class Layer(ScalarModule):
    """`nout` neurons that all read the same `nin` inputs; one output → the Value itself."""

    def __init__(self, nin: int, nout: int, activation: str | None = "tanh", seed: Seed = None):
        self.nin = check_size(nin, "Layer nin")
        self.nout = check_size(nout, "Layer nout")
        self._activation = check_activation(activation)
        self._act = _function(self._activation)
        rng = _rng(seed)
        self.neurons = [Neuron(self.nin, self._activation, rng) for _ in range(self.nout)]
        self.label_parameters()

    def __call__(self, x: Sequence[Input] | Input) -> Value | list[Value]:
        xs = _inputs(x, self.nin, "Layer")  # lift numbers once for all the neurons
        act = self._act
        if act is None:
            outs = [dot(n.w, xs, n.b) for n in self.neurons]
        else:
            outs = [act(dot(n.w, xs, n.b)) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def label_parameters(self, prefix: str = "") -> None:
        for j, neuron in enumerate(self.neurons, 1):
            neuron.label_parameters(f"{prefix}n{j}.")

    def config(self) -> dict[str, Any]:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin = check_size(config.get("nin"), "Layer nin")
        return (nin + 1) * check_size(config.get("nout"), "nout")

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
        self.nin = check_size(nin, "MLP nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Iterable):
            raise TypeError(f"MLP nouts must be a list of layer sizes, got {nouts!r}")
        self.nouts = [check_size(n, f"MLP nouts[{i}]") for i, n in enumerate(nouts)]
        if not self.nouts:
            raise ValueError("MLP nouts must name at least one layer size, got []")
        self._activation = check_activation(activation)
        last = activation if isinstance(output_activation, _Same) else output_activation
        self._output_activation = check_activation(last, "output_activation")
        acts = [self._activation] * (len(self.nouts) - 1) + [self._output_activation]
        sizes, rng = [self.nin, *self.nouts], _rng(seed)
        self.layers = [Layer(a, b, act, rng) for a, b, act in zip(sizes, sizes[1:], acts)]
        self.label_parameters()

    @property
    def output_activation(self) -> str:
        return self._output_activation

    def __call__(self, x: Sequence[Input] | Input) -> Value | list[Value]:
        out: Any = x
        try:
            for layer in self.layers:
                out = layer(out)
        except RowsGiven as err:  # name the model the learner called, not its first layer
            raise RowsGiven("MLP", err.nin, err.rows) from None
        return out

    def label_parameters(self, prefix: str = "") -> None:
        for i, layer in enumerate(self.layers, 1):
            layer.label_parameters(f"{prefix}L{i}.")

    def config(self) -> dict[str, Any]:
        last = None if self._output_activation == "linear" else self._output_activation
        config = {"type": "MLP", "nin": self.nin, "nouts": list(self.nouts)}
        return {**config, "activation": self._activation, "output_activation": last}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nouts = config.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of sizes, got {nouts!r}")
        sizes = [check_size(config.get("nin"), "MLP nin")]
        sizes += [check_size(n, "MLP nouts") for n in nouts]
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    def extra_repr(self) -> str:
        out = ""
        if self._output_activation != self._activation:
            out = f", output_activation={self._output_activation!r}"
        return f"{self.nin} -> {self.nouts}, activation={self._activation!r}{out}"


# -- rebuilding a model from its config (what a saved file holds) ---------------------------

# The scalar models a config may name. `chainrule.learn.io.MODELS` adds the tensor layers to
# them: model files are loaded with that table.
KINDS: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}


def from_config(config: Mapping[str, Any]) -> Module:
    """A fresh scalar model (new random weights) of the architecture `config` describes
    (`chainrule.learn.module.build_model` over `KINDS`; a model of either engine:
    `chainrule.learn.io.from_config`)."""
    return build_model(config, KINDS)


def parameter_count(config: Mapping[str, Any]) -> int:
    """How many numbers a scalar model of this config learns, counted without building it."""
    return count_parameters(config, KINDS)
