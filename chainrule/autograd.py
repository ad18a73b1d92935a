"""What both engines share: grad mode, anomaly mode, the node protocol and the backward sweep.

`Value` (one Python float per node) and `Tensor` (one numpy array per node) record the same kind
of graph: every node knows the nodes it was computed from. Backpropagation is then the same
algorithm for both, so it lives here once:

1. find every node the root depends on, children before parents (a topological order);
2. walk that order from the root back to the leaves, letting each node push its gradient into
   its children with its own local rule (the chain rule, one node at a time).

The walk is iterative, never recursive, so a graph a million nodes deep is as fine as a shallow
one. The cyclic garbage collector is paused while the sweep runs: the sweep allocates many small
objects but never makes a reference cycle, and letting the collector scan the whole graph again
and again is where a naive engine spends most of its time.

Everything here reads a node through the few attributes both engines' nodes share
(`chainrule.engines.Node`): `_prev`, the operands that receive a gradient, and `_vjp(g)`, the
node's chain-rule step recorded as graph nodes.
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

__all__ = [
    "AnomalyError",
    "backpropagate",
    "detect_anomaly",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "record_backward",
    "sweep",
    "topological_order",
]

N = TypeVar("N")


# -- grad mode -------------------------------------------------------------------------------


class _GradMode(threading.local):
    """Whether new operations record their operands: per thread, as in PyTorch, so a thread
    that evaluates under `no_grad()` does not switch recording off for one that trains."""

    enabled: bool = True


grad_mode = _GradMode()


@contextmanager
def _recording(enabled: bool) -> Iterator[None]:
    previous = grad_mode.enabled
    grad_mode.enabled = enabled
    try:
        yield
    finally:
        grad_mode.enabled = previous


def no_grad() -> AbstractContextManager[None]:
    """Compute without recording the graph, e.g. to evaluate a model over a grid of points.

    Results made inside the block are plain leaves: they hold no references to their operands,
    so nothing can be backpropagated through them and no graph memory is kept alive.
    Works for `Value` and `Tensor` alike, and nests.
    """
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record the graph again inside a `no_grad()` block."""
    return _recording(True)


def is_grad_enabled() -> bool:
    """True when operations record the graph (the default)."""
    return grad_mode.enabled


# -- anomaly mode ----------------------------------------------------------------------------


class AnomalyError(FloatingPointError):
    """A nan or an infinity appeared while `detect_anomaly()` was on: raised by the first op
    (forward) or chain-rule step (backward) that produced it, naming it and its operands."""


class _AnomalyMode:
    """Whether the engines check every new node and every chain-rule step for nan and inf.
    One switch for all threads, as in PyTorch; `depth` counts the nested blocks. `enabled` is
    a plain attribute, not a property: the engines read it once per node they make."""

    __slots__ = ("depth", "enabled")

    def __init__(self) -> None:
        self.depth = 0
        self.enabled = False


anomaly_mode = _AnomalyMode()


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `AnomalyError` at the first op that makes a nan or inf, forward or backward.

    Like `torch.autograd.detect_anomaly()`: it is for finding where a training run goes wrong,
    and costs time, so it is off unless asked for. The engines look at the switch once per node
    they make and once per backward pass, and run their checks only while it is on.
    """
    anomaly_mode.depth += 1
    anomaly_mode.enabled = True
    try:
        yield
    finally:
        anomaly_mode.depth -= 1
        anomaly_mode.enabled = anomaly_mode.depth > 0


def describe(node: Any) -> str:
    """`'x' = 2.0`: a node's label and its value (an array's shape, when it is large)."""
    label = f"{node.label!r}" if node.label else "an unlabeled operand"
    data = node.data
    shown = data if not hasattr(data, "shape") or data.size <= 6 else f"array of shape {data.shape}"
    return f"{label} = {shown}"


def checked_step(step: Callable[[Any], None], finite: Callable[[Any], bool]) -> Callable:
    """`step` (a node's chain-rule step), then a look at what it gave each operand: the first
    nan or inf is an `AnomalyError` that names the step and the operand."""

    def run(node: Any) -> None:
        step(node)
        for child in node._prev:
            if child.grad is not None and not finite(child.grad):
                who = node.label or f"the result of {node._op or 'an op'}"
                raise AnomalyError(
                    f"anomaly in the backward pass: the step of {node._op!r} ({who}) gave "
                    f"{describe(child)} the gradient {child.grad} (its own gradient is "
                    f"{node.grad})"
                )

    return run


def finite_number(x: Any) -> bool:
    return not isinstance(x, float) or math.isfinite(x)


# -- the graph walks -------------------------------------------------------------------------


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of the block, then restore it.

    The engines make no reference cycles of their own, so every graph is freed by reference
    counting; the collector only burns time re-scanning live graphs. A user who disabled it
    keeps it disabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def topological_order(root: N, children: Callable[[N], Iterable[N]]) -> list[N]:
    """Every node `root` depends on, each one listed after all of its children.

    Iterative depth-first search, so the depth of the graph is limited by memory, not by
    Python's recursion limit. A node is pushed with a `None` marker under its children; when
    the marker comes back to the top, all its children are done and the node is emitted.
    Nodes must hash by identity (the default `object.__hash__`), which is also the fastest key.
    """
    order: list[N] = []
    seen: set[N] = set()
    stack: list[N | None] = [root]
    push, pop, extend, emit, mark = stack.append, stack.pop, stack.extend, order.append, seen.add
    while stack:
        node = pop()
        if node is None:  # all children of the node below the marker are in `order`
            emit(pop())  # type: ignore[arg-type]
            continue
        if node in seen:
            continue
        mark(node)
        push(node)
        push(None)
        extend(children(node))
    return order


def backpropagate(
    root: N,
    children: Callable[[N], Iterable[N]],
    local_step: Callable[[N], None],
    seed: Callable[[list[N]], None],
) -> list[N]:
    """Run `local_step` on every node from `root` back to the leaves; return the order used.

    `seed(order)` runs once the order is known and before any step: it resets what must start
    from zero and puts d(root)/d(root) into the root. `local_step(node)` then adds the node's
    gradient, times its local derivatives, into its children; visiting parents before children
    means a node's gradient is complete (every path summed) before it is passed on.
    """
    with collector_paused():
        order = topological_order(root, children)
        seed(order)
        for node in reversed(order):
            local_step(node)
    return order


def sweep(
    root: N,
    seed: object,
    children: Callable[[N], Iterable[N]],
    vjp: Callable[[N, Any], Iterable[tuple[N, Any]]],
    stop: Iterable[N] = (),
) -> tuple[list[N], dict[int, Any]]:
    """The backward sweep with the gradients kept aside, as `torch.autograd.grad` keeps them.

    Returns the topological order and a map id(node) -> d root / d node, starting from `seed`
    at the root. `vjp(node, g)` yields `(operand, contribution)` pairs; contributions to the
    same operand are added with `+`, so when they are graph nodes themselves (create_graph) the
    sum is recorded too and can be differentiated again. Nodes in `stop` (the inputs being
    differentiated with respect to) are treated as leaves: nothing behind them is visited.
    No `.grad` attribute is read or written.
    """
    stops = {id(n) for n in stop}
    order = topological_order(root, lambda n: () if id(n) in stops else children(n))
    grads: dict[int, Any] = {id(root): seed}
    get = grads.get
    for node in reversed(order):
        g = get(id(node))
        if g is None or id(node) in stops:
            continue
        for child, contribution in vjp(node, g):
            key = id(child)
            old = get(key)
            grads[key] = contribution if old is None else old + contribution
    return order, grads


def record_backward(root: Any, seed: Any, zero: Any) -> None:
    """`backward(create_graph=True)` for either engine: every `.grad` becomes a graph node.

    The sweep above runs with each node's recorded step (`node._vjp(g)`); then leaves add the
    new gradient to what they hold and intermediates are overwritten, as in the fast pass. A
    node nothing flows into gets `zero` (0.0 for a Value, None for a Tensor). A gradient that is
    a fresh node gets a name, `dL/dx`, so that pictures of the backward pass read.
    """
    with enable_grad():
        order, grads = sweep(root, seed, lambda n: n._prev, lambda n, g: n._vjp(g))
    top = root.label or "L"
    for node in reversed(order):  # from the output down: a shared gradient is named nearest it
        g = grads.get(id(node))
        if not node._op and node is not root:  # a leaf accumulates
            if g is None:
                continue
            old = node.grad
            if old is not None and not (old.__class__ is float and old == 0.0):
                g = old + g
        elif g is None:
            g = zero
        if hasattr(type(g), "engine") and not g.label and node.label:
            g.label = f"d{top}/d{node.label}"
        node.grad = g
