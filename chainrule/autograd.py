"""What both engines share: grad mode, the topological order and the backward sweep.

`Value` (one Python float per node) and `Tensor` (one numpy array per node) record the same kind
of graph: every node knows the nodes it was computed from. Backpropagation is then the same
algorithm for both, so it lives here once:

1. find every node the root depends on, children before parents (a topological order);
2. walk that order from the root back to the leaves, letting each node push its gradient into
   its children with its own local rule (the chain rule, one node at a time).

The walk is iterative, never recursive, so a graph a million nodes deep is as fine as a shallow one.
The cyclic garbage collector is paused while the sweep runs: the sweep allocates many small
objects but never makes a reference cycle, and letting the collector scan the whole graph again
and again is where a naive engine spends most of its time.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

N = TypeVar("N")


class _GradMode(threading.local):
    """Whether new operations record their operands: per thread, as in PyTorch, so a thread
    that evaluates under `no_grad()` does not switch recording off for one that trains."""

    enabled: bool = True


grad_mode = _GradMode()


@contextmanager
def no_grad() -> Iterator[None]:
    """Compute without recording the graph, e.g. to evaluate a model over a grid of points.

    Results made inside the block are plain leaves: they hold no references to their operands,
    so nothing can be backpropagated through them and no graph memory is kept alive.
    Works for `Value` and `Tensor` alike, and nests.
    """
    previous = grad_mode.enabled
    grad_mode.enabled = False
    try:
        yield
    finally:
        grad_mode.enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph again inside a `no_grad()` block."""
    previous = grad_mode.enabled
    grad_mode.enabled = True
    try:
        yield
    finally:
        grad_mode.enabled = previous


def is_grad_enabled() -> bool:
    """True when operations record the graph (the default)."""
    return grad_mode.enabled


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
    vjp: Callable[[N, object], Iterable[tuple[N, object]]],
    stop: Iterable[N] = (),
) -> tuple[list[N], dict[int, object]]:
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
    grads: dict[int, object] = {id(root): seed}
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


# -- anomaly mode ---------------------------------------------------------------------------


class AnomalyError(FloatingPointError):
    """A nan or an infinity appeared while `detect_anomaly()` was on: raised by the first op
    (forward) or chain-rule step (backward) that produced it, naming it and its operands."""


_anomaly_switches: list[Callable[[bool], None]] = []
_anomaly_depth = 0


def register_anomaly_switch(switch: Callable[[bool], None]) -> None:
    """Called by each engine as it is imported: `switch(True)` puts its checking versions of
    node making and of the local step in place, `switch(False)` the fast ones back."""
    _anomaly_switches.append(switch)
    if _anomaly_depth:
        switch(True)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `AnomalyError` at the first op that makes a nan or inf, forward or backward.

    Like `torch.autograd.detect_anomaly()`: it is for finding where a training run goes wrong,
    and costs time, so it is off unless asked for. Off, the engines run their unchecked code:
    the check is swapped in, not tested on every op. It applies to every thread while on.
    """
    global _anomaly_depth
    _anomaly_depth += 1
    if _anomaly_depth == 1:
        for switch in _anomaly_switches:
            switch(True)
    try:
        yield
    finally:
        _anomaly_depth -= 1
        if _anomaly_depth == 0:
            for switch in _anomaly_switches:
                switch(False)
