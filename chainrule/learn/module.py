"""`Module`, what every model has in common whichever engine its parameters live on, and how a
model is rebuilt from its config.

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

import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .. import ops
from ..engines import is_parameter, parameter_engine

__all__ = [
    "ACTIVATIONS", "NOT_ACTIVATIONS", "ConfigError", "Module", "build_model", "check_activation",
    "check_number", "check_size", "count_parameters",
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
    """Activation name -> its row of the op table (None for 'linear': the weighted sum as it
    is), for the models of both engines, the command line and the playground.

    Every one-operand function of the op table (`chainrule.ops.functions(1)`) is an
    activation, but `NOT_ACTIVATIONS`; the table is read at each lookup, so a row added to the
    op table, or with `chainrule.define_op`, is an activation at once."""

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
    """An activation's name, checked; None means 'linear' (no activation), as in PyTorch."""
    if name is None:
        return "linear"
    if isinstance(name, str) and name in ACTIVATIONS:
        return name
    valid = ", ".join(repr(n) for n in ACTIVATIONS)
    raise ValueError(f"unknown {what} {name!r}; valid: {valid} (or None for linear)")


class Module:
    """Base class of models: subclasses set attributes and implement `__call__` (and `config`,
    to be saved and rebuilt)."""

    # Training or evaluation mode, as in PyTorch: BatchNorm and Dropout behave differently in
    # each. A class default, so models need no __init__ call; `train()` / `eval()` set it on
    # every module of the tree.
    training: bool = True
    # Attributes that hold state which is saved but not learned (BatchNorm's running
    # statistics): PyTorch's buffers. They go into `state_dict()` beside the parameters.
    _buffer_names: tuple[str, ...] = ()

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Any]]:
        """Every parameter with a dotted name (`layers.0.neurons.3.w.1`), each listed once."""
        seen: set[int] = set()
        out: list[tuple[str, Any]] = []
        for name, p in _walk(self, prefix):
            if id(p) not in seen:
                seen.add(id(p))
                out.append((name, p))
        return out

    def parameters(self) -> list[Any]:
        """The parameters to optimise, in a stable order (the order attributes were set)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many numbers the model learns (a Tensor counts each of its elements)."""
        return sum(p.size for p in self.parameters())

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """This module and every module inside it, with dotted names ('' for this one)."""
        return list(_walk_modules(self, prefix))

    def named_buffers(self, prefix: str = "") -> list[tuple[str, Any]]:
        """Saved state that is not learned (running statistics), by dotted name."""
        out = []
        for name, module in _walk_modules(self, prefix):
            for attr in module._buffer_names:
                value = getattr(module, attr, None)
                if value is not None:
                    out.append((f"{name}.{attr}" if name else attr, value))
        return out

    def train(self, mode: bool = True) -> Module:
        """Put every module of the tree in training mode (False: evaluation); returns self.

        BatchNorm normalises with the batch's statistics in training and with its running
        statistics in evaluation; Dropout drops only in training. As in PyTorch, a fresh
        model trains: call `eval()` before predicting and `train()` before the next step.
        """
        for _, module in _walk_modules(self, ""):
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode for every module of the tree (`train(False)`); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients of the last backward pass (call before each `backward()`)."""
        for p in self.parameters():
            parameter_engine(p).zero_grad(p)

    def config(self) -> dict[str, Any]:
        """A JSON-able description of the architecture; `from_config` rebuilds the model."""
        raise NotImplementedError(f"{type(self).__name__} does not describe its config")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Module:
        """The model `config` describes: its fields (all but "type") are the constructor's
        arguments. A model made of other models' configs (a `Sequential`) rebuilds its parts
        here. Called through `build_model`, which checks the config first."""
        return cls(**{k: v for k, v in config.items() if k != "type"})

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """How many numbers a model of `config` learns, counted without building it; the
        sizes it reads are checked (a ValueError names the first bad one)."""
        raise NotImplementedError(f"{cls.__name__} does not count its parameters")

    def state_dict(self) -> dict[str, Any]:
        """Every parameter's values by name (`layers.0.neurons.1.w.2`), JSON-able: a Value's
        number, a Tensor's nested lists. These are the learned weights, followed by the
        buffers (`named_buffers`: running statistics), which a saved model needs too."""
        named = self.named_parameters() + self.named_buffers()
        return {name: p.tolist() for name, p in named}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from `state` (as `state_dict` makes it), checking it all first.

        Every name must be present, no unknown name may appear, and every value must fit its
        parameter (a finite number; a Tensor's shape) or a ValueError/TypeError names the
        entry, and the model is left exactly as it was: nothing is assigned until all passed.
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
        """What to show between the parentheses of `repr()`; subclasses describe their shape."""
        return ""

    def __repr__(self) -> str:
        return self._repr(outermost=True)

    def _repr(self, outermost: bool) -> str:
        children = list(_submodules(self))
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
    """`value`, if it is a real number (a whole one where `whole`; a finite one otherwise) for
    which `ok` holds; else a ValueError: `<what> must be <must>, got <value>`. A bool is never
    a number here: True is not 1 of anything."""
    kind = numbers.Integral if whole else numbers.Real
    fine = not isinstance(value, bool) and isinstance(value, kind)
    if not (fine and (whole or math.isfinite(value)) and ok(value)):
        raise ValueError(f"{what} must be {must}, got {value!r}")
    return value


def check_size(value: Any, what: str) -> int:
    """A positive whole number of inputs or outputs (bools are refused: True is not a size)."""
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
    """The module and its sub-modules (depth first, in attribute order), each with its name."""
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
    """A model config that cannot be rebuilt: the message says what is wrong with it."""


def build_model(config: Mapping[str, Any], kinds: Mapping[str, type[Module]]) -> Module:
    """A fresh model (new random weights) of the architecture `config` describes, built by
    the class of `kinds` that its "type" names.

    `config` is what `model.config()` returned; load the weights afterwards with
    `model.load_state_dict(...)`. A malformed config raises a ValueError (`ConfigError`)
    that says what is wrong. Keys must be strings, a seed is refused (a rebuilt model's weights
    come from its saved state, never from a fresh draw), and a builder's complaint is reported
    with the config it came from. Only the classes of `kinds` are ever called: loading a config
    never imports or evaluates anything the file names.
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
