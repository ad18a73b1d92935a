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

`Module` comes first: what every model has in common, whichever engine its parameters live on
(the tensor layers of `chainrule.tensor.layers` are Modules too), and how a model is rebuilt
from its config.

A model is a tree of attributes: sub-modules, lists of sub-modules, and parameters (scalar
`Value`s or `Tensor`s). PyTorch finds parameters by walking that tree, and so do we, so a model
class only has to store things in attributes: `parameters()`, `named_parameters()`,
`zero_grad()`, the parameter count in `repr()` and `state_dict()` / `load_state_dict()` come for
free. What differs between the engines (a float or an array, 0.0 or None for no gradient) is
asked of the parameter's engine adapter (`chainrule.engines`).

A model describes its architecture with `config()` and says, as a class, how many numbers such
a config holds (`parameter_count`). `build_model(config, kinds)` rebuilds one from a table of the
classes that may be built: `chainrule.nn.KINDS` (the scalar `Neuron`, `Layer`, `MLP`), the
tensor layers' table, and `chainrule.learn.io.MODELS`, both together, which model files are
loaded with. Only the classes of the table are ever called: loading a config never imports or
evaluates anything the file names.
"""

from __future__ import annotations

import functools
import math
import numbers
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from . import ops
from .engines import SCALAR, is_parameter, parameter_engine
from .value import Value, dot

__all__ = [
    "ACTIVATIONS", "KINDS", "NOT_ACTIVATIONS", "ConfigError", "Layer", "MLP", "Module", "Neuron",
    "ScalarModule", "build_model", "check_activation", "check_number", "check_size",
    "count_parameters", "from_config", "parameter_count",
]  # fmt: skip


# The one-operand functions of the op table that a layer cannot use as its activation, and why.
NOT_ACTIVATIONS = {
    "neg": "a layer of -x is a linear layer: use 'linear'",
    "step": "its derivative is 0 everywhere, so no gradient would reach the weights",
    "sign": "its derivative is 0 everywhere, so no gradient would reach the weights",
    "exp": "it grows without bound: a few layers of it overflow a float",
    "log": "it is defined for positive numbers only, and a weighted sum can be anything",
    "sqrt": "it is defined for numbers >= 0 only, and a weighted sum can be anything",
}


class _Activations(Mapping[str, ops.Op | None]):
    """Activation name -> its row of the op table (None for 'linear': the weighted sum as is).

    For the models of both engines, the command line and the playground. Every one-operand
    function of the op table (`chainrule.ops.functions(1)`) is an activation, but
    `NOT_ACTIVATIONS`; the table is read at each lookup, so a row added to the op table, or with
    `chainrule.define_op`, is an activation at once.
    """

    def _rows(self) -> dict[str, ops.Op | None]:
        rows = ops.functions(1)
        return {**{n: r for n, r in rows.items() if n not in NOT_ACTIVATIONS}, "linear": None}

    def __getitem__(self, name: str) -> ops.Op | None:
        return self._rows()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows())

    def __len__(self) -> int:
        return len(self._rows())


ACTIVATIONS = _Activations()


def check_activation(name: str | None, what: str = "activation") -> str:
    """Check an activation's name; None means 'linear' (no activation), as in PyTorch.

    Args:
        name: A name of `ACTIVATIONS`, or None.
        what: What the name is for, as the error message says it.

    Returns:
        The name, `'linear'` for None.

    Raises:
        ValueError: An unknown name; the message lists the valid ones.

    Examples:
        >>> from chainrule.nn import check_activation
        >>> check_activation("relu"), check_activation(None)
        ('relu', 'linear')
        >>> check_activation("softmax")
        Traceback (most recent call last):
        ...
        ValueError: unknown activation 'softmax'; valid: 'tanh', 'relu', ... (or None for linear)
    """
    if name is None:
        return "linear"
    if isinstance(name, str) and name in ACTIVATIONS:
        return name
    valid = ", ".join(repr(n) for n in ACTIVATIONS)
    raise ValueError(f"unknown {what} {name!r}; valid: {valid} (or None for linear)")


class Module:
    """Base class of models: subclasses set attributes and implement `__call__`.

    A subclass that implements `config` (and `parameter_count`) can also be saved and rebuilt.
    Everything else is found by walking the attributes: parameters (Values or Tensors),
    sub-modules and lists of them.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.nn import Module
        >>> class Line(Module):
        ...     def __init__(self):
        ...         self.a, self.b = Value(2.0), Value(1.0)
        ...     def __call__(self, x):
        ...         return self.a * x + self.b
        >>> line = Line()
        >>> line(3.0).backward()
        >>> [(name, p.grad) for name, p in line.named_parameters()]
        [('a', 3.0), ('b', 1.0)]
        >>> line
        Line()  # 2 parameters
    """

    # Training or evaluation mode, as in PyTorch: BatchNorm and Dropout behave differently in
    # each. A class default, so models need no __init__ call; `train()` / `eval()` set it on
    # every module of the tree.
    training: bool = True
    # Attributes that hold state which is saved but not learned (BatchNorm's running
    # statistics): PyTorch's buffers. They go into `state_dict()` beside the parameters.
    _buffer_names: tuple[str, ...] = ()

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Any]]:
        """List every parameter with a dotted name (`layers.0.neurons.3.w.1`), each once.

        Args:
            prefix: Put before every name (with a dot).

        Returns:
            (name, parameter) pairs, in the order the attributes were set.

        Examples:
            >>> from chainrule.nn import Neuron
            >>> [name for name, _ in Neuron(2, seed=0).named_parameters()]
            ['w.0', 'w.1', 'b']
        """
        first: dict[int, tuple[str, Any]] = {}  # a shared parameter keeps its first name
        for name, p in _walk(self, prefix):
            first.setdefault(id(p), (name, p))
        return list(first.values())

    def parameters(self) -> list[Any]:
        """List the parameters to optimise, in a stable order (the order attributes were set).

        Returns:
            The parameters, each once.

        Examples:
            >>> from chainrule.nn import MLP
            >>> len(MLP(2, [3, 1], seed=0).parameters())
            13
        """
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """Count the numbers the model learns (a Tensor counts each of its elements).

        Returns:
            The number of learned numbers.

        Examples:
            >>> from chainrule.nn import MLP
            >>> MLP(2, [3, 1], seed=0).num_parameters()
            13
        """
        return sum(p.size for p in self.parameters())

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """List this module and every module inside it, with dotted names ('' for this one).

        Args:
            prefix: Put before every name (with a dot).

        Returns:
            (name, module) pairs, depth first.

        Examples:
            >>> from chainrule.nn import MLP
            >>> [name for name, _ in MLP(2, [3, 1], seed=0).named_modules()][:3]
            ['', 'layers.0', 'layers.0.neurons.0']
        """
        return list(_walk_modules(self, prefix))

    def named_buffers(self, prefix: str = "") -> list[tuple[str, Any]]:
        """List the saved state that is not learned (running statistics), by dotted name.

        Args:
            prefix: Put before every name (with a dot).

        Returns:
            (name, buffer) pairs; none for the scalar models.
        """
        return [
            (f"{name}.{attr}" if name else attr, getattr(module, attr))
            for name, module in _walk_modules(self, prefix)
            for attr in module._buffer_names
            if getattr(module, attr, None) is not None
        ]

    def train(self, mode: bool = True) -> Module:
        """Put every module of the tree in training mode (False: evaluation); returns self.

        BatchNorm normalises with the batch's statistics in training and with its running
        statistics in evaluation; Dropout drops only in training. As in PyTorch, a fresh
        model trains: call `eval()` before predicting and `train()` before the next step.

        Args:
            mode: True for training, False for evaluation.

        Returns:
            The model itself.

        Examples:
            >>> from chainrule.nn import MLP
            >>> MLP(2, [1], seed=0).train(False).training
            False
        """
        for _, module in _walk_modules(self, ""):
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Put every module of the tree in evaluation mode (`train(False)`).

        Returns:
            The model itself.
        """
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients of the last backward pass (call before each `backward()`).

        Examples:
            >>> from chainrule.nn import Neuron
            >>> n = Neuron(2, seed=0)
            >>> n([1.0, 2.0]).backward()
            >>> n.zero_grad()
            >>> [p.grad for p in n.parameters()]
            [0.0, 0.0, 0.0]
        """
        for p in self.parameters():
            parameter_engine(p).zero_grad(p)

    def config(self) -> dict[str, Any]:
        """Describe the architecture, JSON-able; `from_config` rebuilds the model from it.

        Returns:
            The description, with the class's name under "type".

        Raises:
            NotImplementedError: The class does not describe itself (it cannot be saved).

        Examples:
            >>> from chainrule.nn import Layer
            >>> Layer(2, 3, seed=0).config()
            {'type': 'Layer', 'nin': 2, 'nout': 3, 'activation': 'tanh'}
        """
        raise NotImplementedError(f"{type(self).__name__} does not describe its config")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Module:
        """Build the model `config` describes, with fresh weights.

        Its fields (all but "type") are the constructor's arguments. A model made of other
        models' configs (a `Sequential`) rebuilds its parts here. Called through `build_model`,
        which checks the config first.

        Args:
            config: What `config()` returned.

        Returns:
            A new model of this class.
        """
        return cls(**{k: v for k, v in config.items() if k != "type"})

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count the numbers a model of `config` learns, without building it.

        Args:
            config: What `config()` returns.

        Returns:
            The number of learned numbers.

        Raises:
            ValueError: A size that is not a positive whole number, named.
            NotImplementedError: The class does not count its parameters.

        Examples:
            >>> from chainrule.nn import MLP
            >>> MLP.parameter_count({"type": "MLP", "nin": 2, "nouts": [3, 1]})
            13
        """
        raise NotImplementedError(f"{cls.__name__} does not count its parameters")

    def state_dict(self) -> dict[str, Any]:
        """Give every parameter's values by name (`layers.0.neurons.1.w.2`), JSON-able.

        A Value's number, a Tensor's nested lists. These are the learned weights, followed by
        the buffers (`named_buffers`: running statistics), which a saved model needs too.

        Returns:
            name -> number (or nested lists of numbers).

        Examples:
            >>> from chainrule.nn import Neuron
            >>> Neuron(1, seed=0).state_dict()
            {'w.0': 0.6888437030500962, 'b': 0.515908805880605}
        """
        named = self.named_parameters() + self.named_buffers()
        return {name: p.tolist() for name, p in named}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from `state` (as `state_dict` makes it), checking it all first.

        Every name must be present, no unknown name may appear, and every value must fit its
        parameter (a finite number; a Tensor's shape) or a ValueError/TypeError names the
        entry, and the model is left exactly as it was: nothing is assigned until all passed.

        Args:
            state: name -> values, as `state_dict()` returns it.

        Raises:
            TypeError: `state` is not a mapping, or a value is not a number (named).
            ValueError: Names are missing or unknown, or a value does not fit (named).

        Examples:
            >>> from chainrule.nn import Neuron
            >>> n = Neuron(1, seed=0)
            >>> n.load_state_dict({"w.0": 0.5, "b": -1.0})
            >>> n.w[0].data, n.b.data
            (0.5, -1.0)
            >>> n.load_state_dict({"w.0": 0.5})
            Traceback (most recent call last):
            ...
            ValueError: state does not fit Neuron: missing 1 parameter(s): 'b'
        """
        if not isinstance(state, Mapping):
            kind = type(state).__name__
            raise TypeError(f"state must be a mapping of name -> values, got {kind}")
        named = self.named_parameters() + self.named_buffers()
        known = {name for name, _ in named}
        missing = [name for name, _ in named if name not in state]
        extra = [name for name in state if name not in known]
        if missing or extra:
            parts = [f"missing {_names(missing)}"] if missing else []
            parts += [f"unexpected {_names(extra)}"] if extra else []
            raise ValueError(f"state does not fit {type(self).__name__}: " + "; ".join(parts))
        values = [parameter_engine(p).restored(name, p, state[name]) for name, p in named]
        for (_, p), value in zip(named, values):
            parameter_engine(p).assign(p, value)

    def extra_repr(self) -> str:
        """Say what to show between the parentheses of `repr()`: subclasses give their shape."""
        return ""

    def __repr__(self) -> str:
        """Show the tree of modules, and the number of parameters on the outermost."""
        return self._repr(outermost=True)

    # Whether repr() lists the sub-modules, one line each, or shows this module in one line.
    _repr_children = True

    def _repr(self, outermost: bool) -> str:
        children = list(_submodules(self)) if self._repr_children else []
        head = f"{type(self).__name__}({self.extra_repr()}"
        if children:
            lines = [head]
            for name, child in children:
                body = child._repr(outermost=False).replace("\n", "\n  ")
                lines.append(f"  ({name}): {body}")
            head = "\n".join(lines) + "\n"
        text = head + ")"
        return text + f"  # {self.num_parameters():,} parameters" if outermost else text


def check_number(
    value: Any, what: str, ok: Callable[[Any], bool], must: str, whole: bool = False
) -> Any:
    """Check that `value` is a real number for which `ok` holds.

    A whole one where `whole`; a finite one otherwise. A bool is never a number here: True is
    not 1 of anything.

    Args:
        value: What to check.
        what: Its name, for the message.
        ok: The condition it must meet.
        must: The condition in words, for the message.
        whole: Require a whole number.

    Returns:
        `value` itself.

    Raises:
        ValueError: `<what> must be <must>, got <value>`.

    Examples:
        >>> from chainrule.nn import check_number
        >>> check_number(0.1, "lr", lambda v: v > 0, "positive")
        0.1
        >>> check_number(True, "epochs", lambda v: v > 0, "a positive integer", whole=True)
        Traceback (most recent call last):
        ...
        ValueError: epochs must be a positive integer, got True
    """
    kind = numbers.Integral if whole else numbers.Real
    fine = not isinstance(value, bool) and isinstance(value, kind)
    if not (fine and (whole or math.isfinite(value)) and ok(value)):
        raise ValueError(f"{what} must be {must}, got {value!r}")
    return value


def check_size(value: Any, what: str) -> int:
    """Check a positive whole number of inputs or outputs (a bool is refused: True is no size).

    Args:
        value: What to check.
        what: Its name, for the message.

    Returns:
        `value` as an int.

    Raises:
        ValueError: `value` is not a positive whole number.

    Examples:
        >>> from chainrule.nn import check_size
        >>> check_size(3, "nin")
        3
        >>> check_size(0, "nin")
        Traceback (most recent call last):
        ...
        ValueError: nin must be a positive integer, got 0
    """
    return int(check_number(value, what, lambda v: v >= 1, "a positive integer", whole=True))


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{len(names)} parameter(s): {shown}{more}"


def _walk(obj: object, prefix: str) -> Iterator[tuple[str, Any]]:
    if is_parameter(obj):
        yield prefix, obj
    elif isinstance(obj, Module):
        for name, value in vars(obj).items():
            if not name.startswith("_"):
                yield from _walk(value, f"{prefix}.{name}" if prefix else name)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from _walk(value, f"{prefix}.{i}" if prefix else str(i))


def _walk_modules(module: Module, prefix: str) -> Iterator[tuple[str, Module]]:
    """Yield the module and its sub-modules (depth first, in attribute order), with names."""
    yield prefix, module
    for name, child in _submodules(module):
        yield from _walk_modules(child, f"{prefix}.{name}" if prefix else name)


def _submodules(module: Module) -> Iterator[tuple[str, Module]]:
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(value, Module):
            yield name, value
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, Module):
                    yield f"{name}.{i}", item


# -- rebuilding a model from its config, with a table of the kinds that may be built ---------


class ConfigError(ValueError):
    """A model config that cannot be rebuilt: the message says what is wrong with it.

    A `ValueError`, so that a caller that checks input in general catches it too.

    Examples:
        >>> from chainrule import nn
        >>> nn.from_config({"type": "Neuron", "nin": 2, "seed": 1})
        Traceback (most recent call last):
        ...
        chainrule.nn.ConfigError: Neuron config must not carry a seed (weights come from the state)
    """


def build_model(config: Mapping[str, Any], kinds: Mapping[str, type[Module]]) -> Module:
    """Build a fresh model (new random weights) of the architecture `config` describes.

    The class of `kinds` that its "type" names builds it.
    `config` is what `model.config()` returned; load the weights afterwards with
    `model.load_state_dict(...)`. A malformed config raises a ValueError (`ConfigError`)
    that says what is wrong. Keys must be strings, a seed is refused (a rebuilt model's weights
    come from its saved state, never from a fresh draw), and a builder's complaint is reported
    with the config it came from. Only the classes of `kinds` are ever called: loading a config
    never imports or evaluates anything the file names.

    Args:
        config: The architecture, as `model.config()` returned it.
        kinds: The classes that may be built, by name (`KINDS`).

    Returns:
        The model, with fresh weights.

    Raises:
        ConfigError: The config is malformed, names an unknown type, carries a seed, or its
            class refuses it; the message says which.

    Examples:
        >>> from chainrule.nn import KINDS, build_model
        >>> build_model({"type": "Layer", "nin": 2, "nout": 3}, KINDS)
        Layer(2 -> 3, activation='tanh')  # 9 parameters
        >>> build_model({"type": "Conv9d"}, KINDS)
        Traceback (most recent call last):
        ...
        chainrule.nn.ConfigError: model config has unknown type 'Conv9d'; valid: 'Neuron', ...
    """
    name, kind = _kind(config, kinds)
    fields = {k: v for k, v in config.items() if k != "type"}
    if not all(isinstance(k, str) for k in fields):
        raise ConfigError(f"{name} config keys must be strings, got {list(fields)!r}")
    if "seed" in fields:
        raise ConfigError(f"{name} config must not carry a seed (weights come from the state)")
    try:
        return kind.from_config(config)
    except ConfigError:
        raise  # a nested config's own complaint (a layer of a Sequential) says it already
    except (TypeError, ValueError) as err:
        raise ConfigError(f"bad {name} config {dict(fields, type=name)!r}: {err}") from None


def count_parameters(config: Mapping[str, Any], kinds: Mapping[str, type[Module]]) -> int:
    """How many numbers a model of this config learns, worked out without building it.

    Loading checks a file's config against the weights it holds with this before anything is
    allocated, so a tampered config (a layer of a billion neurons) fails fast and cheaply.

    Args:
        config: The architecture, as `model.config()` returned it.
        kinds: The classes that may be built, by name (`KINDS`).

    Returns:
        The number of learned numbers.

    Raises:
        ConfigError: The config is not a mapping or names an unknown type.
        ValueError: A size in it is not a positive whole number.

    Examples:
        >>> from chainrule.nn import KINDS, count_parameters
        >>> count_parameters({"type": "MLP", "nin": 2, "nouts": [16, 16, 1]}, KINDS)
        337
    """
    _, kind = _kind(config, kinds)
    return kind.parameter_count(config)


def _kind(config: Mapping[str, Any], kinds: Mapping[str, type[Module]]) -> tuple[str, type[Module]]:
    if not isinstance(config, Mapping):
        raise ConfigError(f"model config must be a mapping, got {type(config).__name__}")
    name = config.get("type")
    if not isinstance(name, str) or name not in kinds:
        valid = ", ".join(repr(k) for k in kinds)
        raise ConfigError(f"model config has unknown type {name!r}; valid: {valid}")
    return name, kinds[name]


# -- the lecture's three classes --------------------------------------------------------------


Seed = int | random.Random | None
Input = Value | float | int


def _function(name: str) -> Callable[[Value], Value] | None:
    """Find what applies activation `name` (`ACTIVATIONS`, from the op table) to a Value.

    The Value's own method where it has one (the fast path), else the table's row; None for
    linear.
    """
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
    """Make the inputs a list of `nin` Values.

    Numbers become Values labeled x1, x2, ...; Values stay as they are (with their own labels).
    """
    try:
        xs = SCALAR.row(x, _input_names(nin))
    except TypeError as err:
        if _is_rows(x):
            raise RowsGiven(who, nin, len(x)) from None  # type: ignore[arg-type]
        raise TypeError(f"{who}: inputs must be numbers or Values ({err})") from None
    if len(xs) != nin:
        raise ValueError(f"{who} takes {nin} input(s), got {len(xs)}")
    return xs


@functools.lru_cache(maxsize=64)
def _input_names(nin: int) -> tuple[str, ...]:
    """Name x1 ... x<nin>, the numbers a model is called on (made once per size)."""
    return tuple(f"x{i}" for i in range(1, nin + 1))


def _is_rows(x: Any) -> bool:
    """Say whether `x` is a list of rows (a whole data set), where one row was expected."""
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
    """The base of the scalar models: a `Module` whose parameters are `Value`s.

    Attributes:
        activation: The name of the activation (of the hidden layers, for an MLP).

    Examples:
        >>> from chainrule import nn
        >>> model = nn.MLP(2, [3, 1], activation="relu", output_activation=None, seed=0)
        >>> model.activation, model.output_activation
        ('relu', 'linear')
    """

    _activation = "linear"

    @property
    def activation(self) -> str:
        """The name of the activation (of the hidden layers, for an MLP)."""
        return self._activation

    def label_parameters(self, prefix: str = "") -> None:
        """Label every parameter by its place (`L1.n2.w3`), under `prefix`.

        The constructors call it, so a model's pictures name its weights without being asked.

        Args:
            prefix: Put before every label (`'L1.'`).
        """
        raise NotImplementedError


class Neuron(ScalarModule):
    """One neuron: `activation(w . x + b)`.

    Weights and bias start uniform in [-1, 1], as in the lecture (micrograd's own demo starts
    the bias at 0; a trained model does not care). `seed` makes that draw reproducible.

    Calling it on `nin` numbers (or Values) returns one Value.

    Args:
        nin: How many inputs it reads.
        activation: A name of `ACTIVATIONS` (`'tanh'`, `'relu'`, ...); None or `'linear'` for
            none.
        seed: An int or a `random.Random` for a reproducible draw; None draws from the
            `random` module, exactly as the lecture does.

    Attributes:
        w: The weights, Values labeled `w1`, `w2`, ...
        b: The bias, a Value labeled `b`.

    Raises:
        ValueError: `nin` is not a positive whole number, or the activation is unknown.
        TypeError: The seed is not an int, a `random.Random` or None.

    Examples:
        >>> from chainrule.nn import Neuron
        >>> n = Neuron(2, seed=0)
        >>> n
        Neuron(2, activation='tanh')  # 3 parameters
        >>> n([1.0, 2.0])
        Value(data=0.9157123088126808, grad=0.0)
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
        """Compute `activation(w . x + b)` for one row of `nin` numbers or Values."""
        out = dot(self.w, _inputs(x, self.nin, "Neuron"), self.b)
        return out if self._act is None else self._act(out)

    def label_parameters(self, prefix: str = "") -> None:
        """Label the weights `{prefix}w1`, `{prefix}w2`, ... and the bias `{prefix}b`."""
        for i, w in enumerate(self.w, 1):
            w.label = f"{prefix}w{i}"
        self.b.label = f"{prefix}b"

    def config(self) -> dict[str, Any]:
        """Describe the neuron: its `nin` and its activation."""
        return {"type": "Neuron", "nin": self.nin, "activation": self._activation}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count `nin` weights and a bias, checking `nin`."""
        return check_size(config.get("nin"), "Neuron nin") + 1

    def extra_repr(self) -> str:
        """Show the inputs and the activation."""
        return f"{self.nin}, activation={self._activation!r}"


class Layer(ScalarModule):
    """`nout` neurons that all read the same `nin` inputs.

    Calling it on `nin` numbers returns a list of `nout` Values, or, for one output, the Value
    itself (as in the lecture).

    Args:
        nin: How many inputs each neuron reads.
        nout: How many neurons.
        activation: A name of `ACTIVATIONS`; None or `'linear'` for none.
        seed: An int or a `random.Random` for a reproducible draw; None draws from `random`.

    Attributes:
        neurons: The `Neuron`s, labeled `n1.w1`, `n1.b`, ...

    Raises:
        ValueError: A size is not a positive whole number, or the activation is unknown.

    Examples:
        >>> from chainrule.nn import Layer
        >>> layer = Layer(2, 3, activation="relu", seed=0)
        >>> layer
        Layer(2 -> 3, activation='relu')  # 9 parameters
        >>> len(layer([1.0, -1.0]))
        3
    """

    _repr_children = False  # one line per layer: its neurons are all alike, listing them is noise

    def __init__(self, nin: int, nout: int, activation: str | None = "tanh", seed: Seed = None):
        self.nin = check_size(nin, "Layer nin")
        self.nout = check_size(nout, "Layer nout")
        self._activation = check_activation(activation)
        self._act = _function(self._activation)
        rng = _rng(seed)
        self.neurons = [Neuron(self.nin, self._activation, rng) for _ in range(self.nout)]
        self.label_parameters()

    def __call__(self, x: Sequence[Input] | Input) -> Value | list[Value]:
        """Run every neuron on one row of `nin` numbers (made Values once, for them all)."""
        xs = _inputs(x, self.nin, "Layer")  # lift numbers once for all the neurons
        act = self._act
        if act is None:
            outs = [dot(n.w, xs, n.b) for n in self.neurons]
        else:
            outs = [act(dot(n.w, xs, n.b)) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def label_parameters(self, prefix: str = "") -> None:
        """Label neuron j's parameters `{prefix}nj.w1`, ..., `{prefix}nj.b`."""
        for j, neuron in enumerate(self.neurons, 1):
            neuron.label_parameters(f"{prefix}n{j}.")

    def config(self) -> dict[str, Any]:
        """Describe the layer: its `nin`, `nout` and activation."""
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count (nin + 1) * nout, checking both sizes."""
        nin = check_size(config.get("nin"), "Layer nin")
        return (nin + 1) * check_size(config.get("nout"), "nout")

    def extra_repr(self) -> str:
        """Show the sizes and the activation."""
        return f"{self.nin} -> {self.nout}, activation={self._activation!r}"


class _Same:
    """The default of `MLP(output_activation=...)`: the same activation as the hidden layers."""

    def __repr__(self) -> str:
        return "<same as activation>"


SAME = _Same()


class MLP(ScalarModule):
    """A multi-layer perceptron: layers of sizes `nouts`, the first reading `nin` inputs.

    `activation` applies to the hidden layers, `output_activation` to the last one (by default
    the same, as in the lecture, where every layer is tanh). micrograd's demo model is
    `MLP(2, [16, 16, 1], activation='relu', output_activation=None)`.

    Calling it on `nin` numbers returns the last layer's output: a Value for one output, else a
    list of Values.

    Args:
        nin: How many inputs the first layer reads.
        nouts: The sizes of the layers, in order.
        activation: The hidden layers' activation, a name of `ACTIVATIONS`; None for none.
        output_activation: The last layer's; by default the same as `activation`.
        seed: An int or a `random.Random` for a reproducible draw; None draws from `random`.

    Attributes:
        layers: The `Layer`s; their weights are labeled `L1.n2.w3` (layer, neuron, input).

    Raises:
        ValueError: A size is not a positive whole number, `nouts` is empty, or an activation
            is unknown.
        TypeError: `nouts` is not a list of sizes, or a call gets a list of rows (a whole data
            set) where it takes one row.

    Examples:
        >>> from chainrule.nn import MLP
        >>> model = MLP(3, [4, 4, 1], seed=0)
        >>> model
        MLP(3 -> [4, 4, 1], activation='tanh'
          (layers.0): Layer(3 -> 4, activation='tanh')
          (layers.1): Layer(4 -> 4, activation='tanh')
          (layers.2): Layer(4 -> 1, activation='tanh')
        )  # 41 parameters
        >>> out = model([2.0, 3.0, -1.0])
        >>> out.backward()
        >>> out
        Value(data=-0.9119817024497697, grad=1.0)
        >>> model.layers[0].neurons[0].w[0].label
        'L1.n1.w1'
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
        """The name of the last layer's activation."""
        return self._output_activation

    def __call__(self, x: Sequence[Input] | Input) -> Value | list[Value]:
        """Run the layers in turn on one row of `nin` numbers or Values."""
        out: Any = x
        try:
            for layer in self.layers:
                out = layer(out)
        except RowsGiven as err:  # name the model the learner called, not its first layer
            raise RowsGiven("MLP", err.nin, err.rows) from None
        return out

    def label_parameters(self, prefix: str = "") -> None:
        """Label layer i's parameters `{prefix}Li.n1.w1`, ... (layer, neuron, input)."""
        for i, layer in enumerate(self.layers, 1):
            layer.label_parameters(f"{prefix}L{i}.")

    def config(self) -> dict[str, Any]:
        """Describe the MLP: sizes and both activations (None for a linear output)."""
        last = None if self._output_activation == "linear" else self._output_activation
        config = {"type": "MLP", "nin": self.nin, "nouts": list(self.nouts)}
        return {**config, "activation": self._activation, "output_activation": last}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """Count the weights and biases of every layer, checking each size."""
        nouts = config.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of sizes, got {nouts!r}")
        sizes = [check_size(config.get("nin"), "MLP nin")]
        sizes += [check_size(n, "MLP nouts") for n in nouts]
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    def extra_repr(self) -> str:
        """Show the sizes and the activations."""
        out = ""
        if self._output_activation != self._activation:
            out = f", output_activation={self._output_activation!r}"
        return f"{self.nin} -> {self.nouts}, activation={self._activation!r}{out}"


# -- rebuilding a model from its config (what a saved file holds) ---------------------------

# The scalar models a config may name. `chainrule.learn.io.MODELS` adds the tensor layers to
# them: model files are loaded with that table.
KINDS: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}


def from_config(config: Mapping[str, Any]) -> Module:
    """Build a fresh scalar model (new random weights) of the architecture `config` describes.

    This is `chainrule.nn.build_model` over `KINDS`; for a model of either engine, see
    `chainrule.learn.io.from_config`.

    Args:
        config: The architecture, as `model.config()` returned it.

    Returns:
        The model, with fresh weights (load them with `load_state_dict`).

    Raises:
        ConfigError: The config cannot be rebuilt; the message says why.

    Examples:
        >>> from chainrule.nn import from_config
        >>> from_config({"type": "Neuron", "nin": 3, "activation": "relu"})
        Neuron(3, activation='relu')  # 4 parameters
    """
    return build_model(config, KINDS)


def parameter_count(config: Mapping[str, Any]) -> int:
    """Count the numbers a scalar model of this config learns, without building it.

    Args:
        config: The architecture, as `model.config()` returned it.

    Returns:
        The number of learned numbers.

    Raises:
        ConfigError: The config names no scalar model.
        ValueError: A size in it is not a positive whole number.

    Examples:
        >>> from chainrule.nn import parameter_count
        >>> parameter_count({"type": "MLP", "nin": 2, "nouts": [16, 16, 1]})
        337
    """
    return count_parameters(config, KINDS)
