"""The checks of anomaly mode (`chainrule.detect_anomaly()`), one pair per engine.

Each engine makes its nodes through one function and runs each chain-rule step through one
function; anomaly mode swaps in the wrappers below, which call the real one and then look at
what it produced. Off, nothing here runs at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from .autograd import AnomalyError, register_anomaly_switch


def register(namespace: dict[str, Any], checked: dict[str, Callable[..., Any]]) -> None:
    """Let anomaly mode swap functions of an engine's module (its `globals()`) for checked
    versions: on, the names in `checked` point at them; off, at the fast originals again."""
    fast = {name: namespace[name] for name in checked}

    def switch(on: bool) -> None:
        namespace.update(checked if on else fast)

    register_anomaly_switch(switch)


def _describe(node: Any) -> str:
    label = f" {node.label!r}" if node.label else ""
    data = node.data
    shown = data if not hasattr(data, "shape") or data.size <= 6 else f"array of shape {data.shape}"
    return f"{label.strip() or 'an unlabeled operand'} = {shown}"


def checked_value_result(result: Callable[..., Any]) -> Callable[..., Any]:
    """Value's node maker, raising when the new value is nan or inf."""

    def make(data: float, a: Any, b: Any, op: str) -> Any:
        out = result(data, a, b, op)
        if not math.isfinite(data):
            operands = [x for x in (a, b) if x is not None and hasattr(x, "data")]
            given = ", ".join(_describe(x) for x in operands) or "its operands"
            raise AnomalyError(f"anomaly: {op} of {given} produced {data}")
        return out

    return make


def checked_step(
    step: Callable[[Any], None], children: Callable[[Any], Iterable[Any]], finite: Callable
) -> Callable[[Any], None]:
    """A chain-rule step that raises when it leaves a nan or inf in an operand's gradient."""

    def run(node: Any) -> None:
        step(node)
        for child in children(node):
            if child.grad is not None and not finite(child.grad):
                who = node.label or f"the result of {node._op or 'an op'}"
                raise AnomalyError(
                    f"anomaly in the backward pass: the step of {node._op!r} ({who}) gave "
                    f"{_describe(child)} the gradient {child.grad} (its own gradient is "
                    f"{node.grad})"
                )

    return run


def checked_tensor_node(recorded: Callable[..., Any]) -> Callable[..., Any]:
    """Tensor's node maker, raising when the new array holds a nan or inf."""
    import numpy as np

    def make(data: Any, op: str, args: tuple, prev: tuple, ctx: Any) -> Any:
        out = recorded(data, op, args, prev, ctx)
        if not np.all(np.isfinite(out.data)):
            bad = int(np.flatnonzero(~np.isfinite(out.data.reshape(-1)))[0])
            given = ", ".join(_describe(a) for a in args)
            raise AnomalyError(
                f"anomaly: {op} of {given} produced {out.data.reshape(-1)[bad]} "
                f"at flat index {bad} of its result (shape {out.data.shape})"
            )
        return out

    return make


def finite_float(x: Any) -> bool:
    return not isinstance(x, float) or math.isfinite(x)


def finite_array(x: Any) -> bool:
    import numpy as np

    return bool(np.all(np.isfinite(x)))
