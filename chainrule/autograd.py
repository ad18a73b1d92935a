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
    """Whether new operations record their operands.

    Per thread, as in PyTorch, so a thread that evaluates under `no_grad()` does not switch
    recording off for one that trains.
    """

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

    Returns:
        A context manager: recording is off inside its `with` block, and back as it was after.

    Examples:
        >>> from chainrule import Value, no_grad
        >>> x = Value(2.0)
        >>> with no_grad():
        ...     y = x * x
        >>> y.data, y._prev
        (4.0, ())
    """
    return _recording(False)


def enable_grad() -> AbstractContextManager[None]:
    """Record the graph again inside a `no_grad()` block.

    Returns:
        A context manager: recording is on inside its `with` block, and back as it was after.

    Examples:
        >>> from chainrule import Value, enable_grad, no_grad
        >>> x = Value(2.0)
        >>> with no_grad(), enable_grad():
        ...     y = x * x
        >>> len(y._prev)
        1
    """
    return _recording(True)


def is_grad_enabled() -> bool:
    """Say whether operations record the graph (they do, unless inside `no_grad()`).

    Returns:
        True when new operations record their operands (the default), False under `no_grad()`.

    Examples:
        >>> from chainrule import is_grad_enabled, no_grad
        >>> with no_grad():
        ...     print(is_grad_enabled())
        False
        >>> is_grad_enabled()
        True
    """
    return grad_mode.enabled


# -- anomaly mode ----------------------------------------------------------------------------


class AnomalyError(FloatingPointError):
    """A nan or an infinity appeared while `detect_anomaly()` was on.

    Raised by the first op (forward) or chain-rule step (backward) that produced it, naming it
    and its operands. A `FloatingPointError`, as numpy's own complaints about nan are.

    Examples:
        >>> from chainrule import Value, detect_anomaly
        >>> from chainrule.autograd import AnomalyError
        >>> try:
        ...     with detect_anomaly():
        ...         Value(float("inf"), label="x") - Value(float("inf"), label="y")
        ... except AnomalyError as err:
        ...     print(err)
        anomaly: * of 'y' = inf, an unlabeled operand = -1 produced -inf
    """


class _AnomalyMode:
    """Whether the engines check every new node and every chain-rule step for nan and inf.

    One switch for all threads, as in PyTorch; `depth` counts the nested blocks. `enabled` is
    a plain attribute, not a property: the engines read it once per node they make.
    """

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

    Returns:
        A context manager: the checks run inside its `with` block (blocks nest).

    Raises:
        AnomalyError: Inside the block, from the first op or chain-rule step that makes a nan
            or an infinity, naming it and its operands.

    Examples:
        >>> from chainrule import Value, detect_anomaly
        >>> x = Value(float("inf"), label="x")
        >>> with detect_anomaly():
        ...     y = x * 0.0
        Traceback (most recent call last):
        ...
        chainrule.autograd.AnomalyError: anomaly: * of 'x' = inf, ... produced nan
    """
    anomaly_mode.depth += 1
    anomaly_mode.enabled = True
    try:
        yield
    finally:
        anomaly_mode.depth -= 1
        anomaly_mode.enabled = anomaly_mode.depth > 0


def describe(node: Any) -> str:
    """Describe a node as `'x' = 2.0`: its label and its value (an array's shape, if large)."""
    label = f"{node.label!r}" if node.label else "an unlabeled operand"
    data = node.data
    shown = data if not hasattr(data, "shape") or data.size <= 6 else f"array of shape {data.shape}"
    return f"{label} = {shown}"


def checked_step(step: Callable[[Any], None], finite: Callable[[Any], bool]) -> Callable:
    """Wrap `step` (a node's chain-rule step) with a look at what it gave each operand.

    The first nan or inf is an `AnomalyError` that names the step and the operand.
    """

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
    """Say whether a scalar gradient is finite (anything but a float counts as finite)."""
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

    Args:
        root: The node to start from (the output).
        children: Gives the nodes a node was computed from (`lambda v: v._prev`).

    Returns:
        The nodes, leaves first and `root` last.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.autograd import topological_order
        >>> a, b = Value(1.0, label="a"), Value(2.0, label="b")
        >>> c = a * b
        >>> c.label = "c"
        >>> [n.label for n in topological_order(c, lambda n: n._prev)]
        ['b', 'a', 'c']
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

    Args:
        root: The output node.
        children: Gives the nodes a node was computed from.
        local_step: A node's chain-rule step, adding into its children's gradients.
        seed: Prepares the gradients, given the order, before any step.

    Returns:
        The topological order used, leaves first.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.autograd import backpropagate
        >>> x = Value(3.0)
        >>> y = x * x
        >>> def seed(order):
        ...     y.grad = 1.0
        >>> order = backpropagate(y, lambda n: n._prev, lambda n: n._backward(), seed)
        >>> x.grad, len(order)
        (6.0, 2)
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

    Args:
        root: The output node.
        seed: d root / d root (1.0, or a Value to record it).
        children: Gives the nodes a node was computed from.
        vjp: A node's chain-rule step: given the node and its gradient, yields
            `(operand, contribution)` pairs.
        stop: Nodes to treat as leaves.

    Returns:
        The topological order (leaves first) and the map id(node) -> gradient; a node no
        gradient reaches is not in the map.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.autograd import sweep
        >>> x = Value(3.0)
        >>> y = x * x
        >>> order, grads = sweep(y, 1.0, lambda n: n._prev, lambda n, g: n._vjp(g))
        >>> grads[id(x)], x.grad  # the gradient is kept aside, as a Value: it is recorded
        (Value(data=6.0, grad=0.0), 0.0)
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

    Args:
        root: The output node.
        seed: d root / d root.
        zero: The gradient of a node nothing flows into.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.autograd import record_backward
        >>> x = Value(3.0, label="x")
        >>> y = x * x
        >>> record_backward(y, 1.0, 0.0)
        >>> x.grad
        Value(data=6.0, grad=0.0, label='dL/dx')
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
