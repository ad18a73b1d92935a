"""`Module`, what every model has in common whichever engine its parameters live on, and the
one registry that rebuilds models of both engines from their configs.

A model is a tree of attributes: sub-modules, lists of sub-modules, and parameters (scalar
`Value`s or `Tensor`s). PyTorch finds parameters by walking that tree, and so do we, so a model
class only has to store things in attributes: `parameters()`, `named_parameters()`,
`zero_grad()`, the parameter count in `repr()` and `state_dict()` / `load_state_dict()` come for
free. What differs between the engines (a float or an array, 0.0 or None for no gradient) is
asked of the parameter's engine adapter (`chainrule.engines`).

Each engine registers the kinds of model it defines (`register_model`): the scalar `Neuron`,
`Layer`, `MLP` in `chainrule.nn`, the tensor layers in `chainrule.tensor.layers`. `from_config`
and `parameter_count` read that registry, so a saved model of either engine is rebuilt the same
way, and only registered builders are ever called: loading a config never imports or evaluates
anything the file names.
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..engines import is_parameter, parameter_engine

__all__ = [
    "ConfigError",
    "Module",
    "ModelKind",
    "check_size",
    "from_config",
    "parameter_count",
    "register_model",
    "register_model_home",
]


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


def check_size(value: object, what: str) -> int:
    """A positive whole number of inputs or outputs (bools are refused: True is not a size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


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


# -- the registry: config -> model, for every engine ----------------------------------------


class ConfigError(ValueError):
    """A model config that cannot be rebuilt: the message says what is wrong with it."""


@dataclass(frozen=True)
class ModelKind:
    """How to rebuild one type of model from a config, and size it without building it.

    `build(**fields)` gets the config's fields (all but "type") and returns the model;
    `count(config)` says how many numbers such a model learns, checking the sizes it reads.
    """

    build: Callable[..., Module]
    count: Callable[[Mapping[str, Any]], int]


_KINDS: dict[str, ModelKind] = {}
# Kinds registered by a module not imported yet (one that needs numpy): kind -> module name.
_HOMES: dict[str, str] = {}


def register_model(name: str, build: Callable[..., Module], count: Callable[..., int]) -> None:
    """Make configs of type `name` rebuildable: each engine registers the models it defines."""
    _KINDS[name] = ModelKind(build, count)


def register_model_home(names: tuple[str, ...], module: str) -> None:
    """Say which module registers the kinds `names` when imported: importing it is put off
    until such a config is met, so an engine's dependencies load only when it is used."""
    for name in names:
        _HOMES.setdefault(name, module)


def from_config(config: Mapping[str, Any]) -> Module:
    """Build a fresh model (new random weights) of the architecture `config` describes.

    `config` is what `model.config()` returned, of either engine; load the weights afterwards
    with `model.load_state_dict(...)`. A malformed config raises a ValueError (`ConfigError`)
    that says what is wrong. Keys must be strings, a seed is refused (a rebuilt model's weights
    come from its saved state, never from a fresh draw), and a builder's complaint is reported
    with the config it came from.
    """
    name, kind = _kind(config)
    fields = {k: v for k, v in config.items() if k != "type"}
    if not all(isinstance(k, str) for k in fields):
        raise ConfigError(f"{name} config keys must be strings, got {list(fields)!r}")
    if "seed" in fields:
        raise ConfigError(f"{name} config must not carry a seed (weights come from the state)")
    try:
        return kind.build(**fields)
    except ConfigError:
        raise  # a nested config's own complaint (a layer of a Sequential) says it already
    except (TypeError, ValueError) as err:
        raise ConfigError(f"bad {name} config {dict(fields, type=name)!r}: {err}") from None


def parameter_count(config: Mapping[str, Any]) -> int:
    """How many numbers a model of this config learns, worked out without building it.

    Loading checks a file's config against the weights it holds with this before anything is
    allocated, so a tampered config (a layer of a billion neurons) fails fast and cheaply.
    """
    _, kind = _kind(config)
    return kind.count(config)


def _kind(config: Mapping[str, Any]) -> tuple[str, ModelKind]:
    if not isinstance(config, Mapping):
        raise ConfigError(f"model config must be a mapping, got {type(config).__name__}")
    name = config.get("type")
    if isinstance(name, str) and name not in _KINDS and name in _HOMES:
        importlib.import_module(_HOMES[name])  # registers the kinds it defines
    if not isinstance(name, str) or name not in _KINDS:
        valid = ", ".join(repr(k) for k in dict.fromkeys([*_KINDS, *_HOMES]))
        raise ConfigError(f"model config has unknown type {name!r}; valid: {valid}")
    return name, _KINDS[name]
