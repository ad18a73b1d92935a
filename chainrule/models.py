"""`Module`: what every model has in common, whichever engine its parameters live on.

A model is a tree of attributes: sub-modules, lists of sub-modules, and parameters (scalar
`Value`s or `Tensor`s). PyTorch finds parameters by walking that tree, and so do we, so a model
class only has to store things in attributes: `parameters()`, `named_parameters()`,
`zero_grad()` and the parameter count in `repr()` come for free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .engine import Value


def is_parameter(obj: object) -> bool:
    """A scalar `Value`, or a `Tensor` that asks for gradients."""
    if obj.__class__ is Value:
        return True
    return getattr(obj, "requires_grad", False) is True and hasattr(obj, "grad")


class Module:
    """Base class of models: subclasses set attributes and implement `__call__`."""

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
        return sum(1 if p.__class__ is Value else int(p.size) for p in self.parameters())

    def zero_grad(self) -> None:
        """Forget the gradients of the last backward pass (call before each `backward()`)."""
        for p in self.parameters():
            p.grad = 0.0 if p.__class__ is Value else None

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


def build(kind: str, fields: Mapping[str, Any], builders: Mapping[str, Callable[..., Any]]) -> Any:
    """Call the builder registered for `kind` with a config's fields (all but "type").

    The one place both engines turn a checked config back into a model: keys must be
    strings, a seed is refused (a rebuilt model's weights come from its saved state, never from
    a fresh draw), and a builder's complaint becomes a ValueError that quotes the config.
    """
    if not all(isinstance(k, str) for k in fields):
        raise ValueError(f"{kind} config keys must be strings, got {list(fields)!r}")
    if "seed" in fields:
        raise ValueError(f"{kind} config must not carry a seed (weights come from the state)")
    try:
        return builders[kind](**fields)
    except (TypeError, ValueError) as err:
        raise ValueError(f"bad {kind} config {dict(fields, type=kind)!r}: {err}") from None


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
