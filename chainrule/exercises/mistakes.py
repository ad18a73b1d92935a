"""The mistakes the coach can name, and a small engine that makes each one on purpose.

A diagnosis here is not a guess from a diff. For every known mistake (`CATALOGUE`) the coach
runs the very probe the learner failed on a simulated engine that makes that mistake, written
the lecture's way (micrograd's composition of `-`, `/`, `neg` and the reflected ops out of
`+`, `*` and `**`, a closure per node, a depth-first topological sort). A mistake is named
when its numbers are the learner's numbers, on the failed check and on every check the
learner passed (a mistake that would have broken a check that passed is not what happened).

Some mistakes can be written more than one way (a `variant`), and each way is simulated: `=`
for `+=` on one operand or on both; the wrong operand of `*` on one side or both; a recursive
backward over `_prev` as a set (each child once, as the lecture keeps it) or a tuple (a child
used twice is visited twice). A learner's code is one way throughout, so a mistake is judged
one variant at a time over all the checks. The order in which a node's children are walked is
not the learner's choice (the lecture's `_prev` is a set, whose order Python does not promise),
so every case may be walked either way; it matters to `=` for `+=` and to the recursion.

Where two mistakes fit a failed check equally, the one that also explains more of the other
failed checks is named; `probes.py` chooses the points so that, over the whole battery, no
two mistakes give the same numbers (the test-suite checks it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .probes import UPSTREAM, Case, Check, Observed

__all__ = ["CATALOGUE", "ORDERS", "Mistake", "affects", "decomposed", "matches", "simulate"]


@dataclass(frozen=True)
class Mistake:
    """A known mistake: what it is called, what to write instead, and how it is simulated."""

    key: str  # 'assign', 'operand', ..., or an engine-wide mistake: 'forward_order', ...
    op: str | None  # the op whose backward has it; None for backward() itself
    label: str  # a few words, for a table row
    name: str  # the mistake, in the lecture's words
    advice: str  # what to write instead
    variants: tuple[Any, ...] = (None,)  # the ways it can be written (see the docstring)

    @property
    def orders(self) -> tuple[str, ...]:
        """The child orders worth simulating: only `=` for `+=` and the recursion depend on
        the order a node's children are walked in."""
        return ORDERS if self.key in ("assign", "recursive") else ORDERS[:1]

    @property
    def id(self) -> str:
        return f"{self.key}:{self.op}" if self.op else self.key


ORDERS = ("in order", "reversed")  # how a node's children may be walked
PRIMITIVES = ("add", "mul", "pow", "tanh", "exp", "relu")
_SYMBOL = {"add": "+", "mul": "*", "pow": "**", "tanh": "tanh", "exp": "exp", "relu": "relu"}
_SIDES = ("both", "first", "second")


def _catalogue() -> tuple[Mistake, ...]:
    items = [
        Mistake(
            "operand",
            "mul",
            "wrong operand in *",
            "the wrong operand in *'s backward: d(a*b)/da is b, not a",
            "self.grad += other.data * out.grad; other.grad += self.data * out.grad",
            _SIDES,
        ),
        Mistake(
            "minus_one",
            "pow",
            "power rule without its - 1",
            "the power rule is missing its - 1: d(x**k)/dx is k * x**(k - 1), not k * x**k",
            "self.grad += other * self.data**(other - 1) * out.grad",
        ),
        Mistake(
            "one_minus_t",
            "tanh",
            "1 - t for tanh's 1 - t**2",
            "1 - t where tanh's derivative is 1 - t**2 (t = tanh(x), the output)",
            "self.grad += (1 - t**2) * out.grad",
        ),
        Mistake(
            "relu_pass",
            "relu",
            "relu passes where its output is 0",
            "relu passes the gradient where its output is 0: the slope there is 0, not 1",
            "self.grad += (out.data > 0) * out.grad",
        ),
        Mistake(
            "exp_input",
            "exp",
            "exp's backward uses its input",
            "exp's backward uses its input (self.data) where its output belongs: "
            "d(e**x)/dx is e**x",
            "self.grad += out.data * out.grad",
        ),
    ]
    for op in ("add", "mul"):  # (the battery reuses a value only in + and *)
        sym = _SYMBOL[op]
        items.append(
            Mistake(
                "assign",
                op,
                f"= where += belongs in {sym}",
                f"= where += belongs in {sym}'s backward: a value used more than once keeps "
                "only one contribution (a + a gets 1 instead of 2)",
                "self.grad += ...: add to the gradient, never replace it",
                _SIDES,
            )
        )
    for op in PRIMITIVES:
        sym = _SYMBOL[op]
        items.append(
            Mistake(
                "no_upstream",
                op,
                f"{sym}: local derivative not times out.grad",
                f"{sym}'s local derivative is not multiplied by the incoming out.grad: the "
                "chain rule is local derivative x the gradient from above",
                "self.grad += (local derivative) * out.grad",
            )
        )
        items.append(
            Mistake(
                "no_backward",
                op,
                f"{sym} passes no gradient back",
                f"{sym} passes no gradient back: out._backward is never set, or does nothing",
                "define _backward inside the op and assign it: out._backward = _backward",
            )
        )
    items += [
        Mistake(
            "forward_order",
            None,
            "nodes visited in creation order",
            "nodes visited in creation order instead of reverse topological order: each node "
            "passes its gradient on before it has received it",
            "for node in reversed(topo): node._backward()",
        ),
        Mistake(
            "recursive",
            None,
            "recursion without a topological sort",
            "a recursive backward without a topological sort: a node used twice passes its "
            "gradient on before the second use has added to it",
            "build the topological order first, then call _backward on reversed(topo)",
            ("set", "tuple"),  # what _prev is: each child once, or as often as it is used
        ),
        Mistake(
            "no_seed",
            None,
            "grad not seeded with 1.0",
            "grad not seeded with 1.0 at the root: backward() must start from dL/dL = 1, or "
            "every gradient stays 0",
            "self.grad = 1.0 before the loop over reversed(topo)",
        ),
        Mistake(
            "reset",
            None,
            "backward() resets the leaves",
            "backward() sets every gradient to 0 before it starts, so the leaves do not add "
            "up over two calls as the lecture's do",
            "leave the leaves' .grad alone in backward(); clear them with zero_grad() instead",
        ),
    ]
    return tuple(items)


CATALOGUE: tuple[Mistake, ...] = _catalogue()

# The lecture's primitives each op is made of (micrograd's own composition).
_DECOMPOSED = {
    "add": {"add"},
    "mul": {"mul"},
    "pow": {"pow"},
    "tanh": {"tanh"},
    "exp": {"exp"},
    "relu": {"relu"},
    "neg": {"mul"},
    "sub": {"add", "mul"},
    "div": {"mul", "pow"},
    "radd": {"add"},
    "rsub": {"add", "mul"},
    "rmul": {"mul"},
    "rdiv": {"mul", "pow"},
    "chain": {"mul"},
}


def decomposed(check: Check) -> set[str]:
    """The primitives a check's programs are made of."""
    return {p for case in check.cases for node in case.program for p in _DECOMPOSED[node.op]}


def affects(mistake: Mistake, check: Check) -> bool:
    """Whether `mistake` can change anything `check` measures (else it predicts the truth)."""
    modes = {case.mode for case in check.cases}
    if mistake.op is None:
        if mistake.key == "reset":
            return bool(modes & {"twice", "zero_grad"})
        return modes != {"local"}
    return mistake.op in decomposed(check)


# -- the simulated engine ------------------------------------------------------------------


class _Node:
    __slots__ = ("data", "grad", "kids", "step")

    def __init__(self, data: float, kids: tuple[_Node, ...] = ()) -> None:
        self.data = data
        self.grad = 0.0
        self.kids = kids
        self.step: Callable[[], None] = _nothing


def _nothing() -> None:
    pass


class _Engine:
    """The lecture's engine, making `mistake` (written its `variant` way), or none, and
    walking each node's children in their `order` ('in order' or 'reversed'): a learner's
    `_prev` is a set, whose order Python does not promise."""

    def __init__(self, mistake: Mistake | None, variant: Any, order: str) -> None:
        self.key = mistake.key if mistake else ""
        self.op = mistake.op if mistake else None
        self.variant = variant
        self.order = order

    def _has(self, key: str, op: str) -> bool:
        return self.key == key and self.op == op

    def _edges(self, out: _Node, op: str, kids: tuple[_Node, ...], locals_: Callable) -> None:
        """Set out.step: add (or, making the `=` mistake, assign) local x out.grad."""
        if self._has("no_backward", op):
            return
        assign = self._has("assign", op)
        no_upstream = self._has("no_upstream", op)
        sides = self.variant if assign else None

        def step() -> None:
            for i, (kid, local) in enumerate(zip(kids, locals_())):
                g = local if no_upstream else local * out.grad
                replace = assign and (sides in (None, "both") or (sides == "first") == (i == 0))
                kid.grad = g if replace else kid.grad + g

        out.step = step

    def const(self, k: float) -> _Node:
        return _Node(float(k))

    def lift(self, x: Any) -> _Node:
        return x if isinstance(x, _Node) else self.const(x)

    def add(self, a: Any, b: Any) -> _Node:
        a, b = self.lift(a), self.lift(b)
        out = _Node(a.data + b.data, (a, b))
        self._edges(out, "add", (a, b), lambda: (1.0, 1.0))
        return out

    def mul(self, a: Any, b: Any) -> _Node:
        a, b = self.lift(a), self.lift(b)
        out = _Node(a.data * b.data, (a, b))
        if self._has("operand", "mul"):
            first = self.variant in ("both", "first")
            second = self.variant in ("both", "second")
            locals_ = lambda: (a.data if first else b.data, b.data if second else a.data)  # noqa: E731
        else:
            locals_ = lambda: (b.data, a.data)  # noqa: E731
        self._edges(out, "mul", (a, b), locals_)
        return out

    def pow(self, a: _Node, k: float) -> _Node:
        out = _Node(a.data**k, (a,))
        minus = 0 if self._has("minus_one", "pow") else 1
        self._edges(out, "pow", (a,), lambda: (k * a.data ** (k - minus),))
        return out

    def tanh(self, a: _Node) -> _Node:
        out = _Node(math.tanh(a.data), (a,))
        square = not self._has("one_minus_t", "tanh")
        self._edges(out, "tanh", (a,), lambda: (1 - out.data**2 if square else 1 - out.data,))
        return out

    def exp(self, a: _Node) -> _Node:
        out = _Node(math.exp(a.data), (a,))
        use_input = self._has("exp_input", "exp")
        self._edges(out, "exp", (a,), lambda: (a.data if use_input else out.data,))
        return out

    def relu(self, a: _Node) -> _Node:
        out = _Node(0.0 if a.data < 0 else a.data, (a,))
        passes = self._has("relu_pass", "relu")
        self._edges(out, "relu", (a,), lambda: (1.0 if passes else float(out.data > 0),))
        return out

    # micrograd's compositions
    def apply(self, op: str, args: list[Any]) -> _Node:
        if op in ("add", "mul", "tanh", "exp", "relu"):
            return getattr(self, op)(*args)
        if op == "pow":
            return self.pow(args[0], args[1])
        if op == "neg":
            return self.mul(args[0], -1)
        if op == "sub":
            return self.add(args[0], self.mul(args[1], -1))
        if op == "div":
            return self.mul(args[0], self.pow(args[1], -1))
        k, a = args[0], args[-1]
        if op == "radd":
            return self.add(a, k)
        if op == "rsub":
            return self.add(self.mul(a, -1), k)
        if op == "rmul":
            return self.mul(a, k)
        if op == "rdiv":
            return self.mul(self.pow(a, -1), k)
        if op == "chain":
            x = args[0]
            for _ in range(int(args[2])):
                x = self.mul(x, args[1])
            return x
        raise ValueError(f"no simulation of {op!r}")

    # backward() and its mistakes
    def backward(self, root: _Node) -> None:
        topo = _topological(root, self.order)
        if self.key == "reset":
            for node in topo:
                node.grad = 0.0
        if self.key != "no_seed":
            root.grad = 1.0
        if self.key == "forward_order":
            for node in topo:
                node.step()
        elif self.key == "recursive":
            stack = [root]
            while stack:  # pre-order: a node's step, then each child's, as recursion does
                node = stack.pop()
                node.step()
                kids = list(_distinct(node.kids) if self.variant == "set" else node.kids)
                stack.extend(kids if self.order == "reversed" else reversed(kids))
        else:
            for node in reversed(topo):
                node.step()


def _distinct(nodes: tuple[_Node, ...]) -> list[_Node]:
    seen: list[_Node] = []
    for n in nodes:
        if not any(n is s for s in seen):
            seen.append(n)
    return seen


def _topological(root: _Node, order: str) -> list[_Node]:
    """Depth-first, each node after its children, children visited in `order`."""
    topo: list[_Node] = []
    seen: set[int] = set()
    stack: list[tuple[_Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            topo.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        kids = node.kids if order == "reversed" else tuple(reversed(node.kids))
        stack.extend((kid, False) for kid in kids)
    return topo


@functools.lru_cache(maxsize=4096)  # the same probe, mistake and way always give the same
def simulate(
    case: Case,
    via: str,
    mistake: Mistake | None,
    variant: Any = None,
    order: str = "in order",
) -> Observed:
    """What an engine making `mistake` (its `variant` way, children walked in `order`) gives
    on `case` run the `via` way. (Cached: treat the result as read-only.)"""
    engine = _Engine(mistake, variant, order)
    env: dict[str, Any] = {name: _Node(x) for name, x in case.inputs}
    for node in case.program:
        args = [env[a] if isinstance(a, str) else a for a in node.args]
        env[node.name] = engine.apply(node.op, args)
    out = env[case.output]
    if via == "local":
        out.grad = UPSTREAM
        out.step()
    elif via in ("backward", "twice"):
        engine.backward(out)
        if via == "twice":
            engine.backward(out)
    elif via == "zero_grad":
        engine.backward(out)
        for name in case.leaves:
            env[name].grad = 0.0
        engine.backward(out)
    return Observed(
        data={k: v.data for k, v in env.items()},
        grad={k: v.grad for k, v in env.items()},
        via=via,
    )


def close(x: float | None, y: float | None) -> bool:
    """Equal as the coach judges numbers: to a millionth, relative (a learner may compute
    tanh from exp, say), or 1e-9 absolute near 0."""
    if x is None or y is None:
        return False
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)


def same(case: Case, a: Observed, b: Observed) -> bool:
    """Do two outcomes of `case` agree on everything judged: the output and the gradients."""
    if not close(a.data.get(case.output), b.data.get(case.output)):
        return False
    return all(close(a.grad.get(n), b.grad.get(n)) for n in case.judged())


def matches(mistake: Mistake, variant: Any, check: Check, seen: list[Observed]) -> bool:
    """Does an engine making `mistake` its `variant` way give exactly `seen` on `check`, with
    each node's children in some order?"""
    if len(seen) != len(check.cases) or any(o.error for o in seen):
        return False
    return all(
        any(
            same(case, simulate(case, o.via, mistake, variant, order), o)
            for order in mistake.orders
        )
        for case, o in zip(check.cases, seen)
    )
