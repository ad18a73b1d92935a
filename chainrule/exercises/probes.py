"""The probes: what the coach builds with a learner's `Value`, as data, and where.

A probe is a tiny program (`Node`s: a name, an op, its operands) run at chosen input values
(`Case`), in one of four ways (`Case.mode`):

* `local`: build the op once, set `out.grad` to `UPSTREAM` and call `out._backward()`, the
  lecture's manual step (`o.grad = 1.0; o._backward()`), which checks one op's local rule
  with an incoming gradient that is not 1, so a rule that forgets `* out.grad` shows;
* `backward`: call `backward()` on the output;
* `twice`: call `backward()` twice; only the leaves are judged (they must add up);
* `zero_grad`: `backward()`, then `zero_grad()` on every leaf, then `backward()` again.

`Check`s group cases: one per op (its forward value and each operand's gradient at several
points), and the lecture's examples. The same `build` runs a program on the learner's class,
on chainrule's `Value` (the reference) and on the coach's simulator of known mistakes
(`mistakes.py`), so the three always compute the same expression.

Why these points. Each op is probed at a few inputs: a negative one, zero where the op is
defined there, a large one, and an ordinary one. The points are chosen so that every mistake
the coach names moves the numbers somewhere, and no two mistakes move them the same way:

* the upstream gradient of a local step is -1.5, not 1: a rule without `* out.grad` then
  gives a different number, and a sign slip cannot pass;
* `*` is probed where a != b (d(a*b)/da = b against the wrong operand's a), including a = 0;
* `**` is probed at bases other than 0 and 1 for every exponent (2, 3, -1, 0.5): the rule
  without its `- 1` is off by a factor of the base;
* `tanh` at 0.5, -1.2 and 5: 1 - t differs from 1 - t**2 wherever t != 0; at 0 they agree,
  which is why 0 is not the only point;
* `exp` at 0.5, -2, 0 and 10: e**x is never x, so a backward using the input always shows;
* `relu` at 1.5, 30 and at -2, -0.5, never at 0: relu has a kink at 0, where any slope in
  [0, 1] is defensible, so a rule could pass there by luck. Negative inputs are where a relu
  that passes the gradient through is caught;
* the lecture's examples use its own numbers (L = -8 at a=2, b=-3, c=10, f=-2; the neuron at
  x1=2, w1=-3, x2=0, w2=1, b=6.8813735870195432), so a learner sees the video's gradients;
* the diamond (`a` feeds both `b = a + y` and `c = a * z`, and `d = b * c`) has
  d(L)/db != d(L)/dc, so visiting the nodes in a wrong order, or recursing without a
  topological sort in either order of the children, gives three different wrong answers;
* `a + a` and `a * a`, then `a` used by two `+` (or two `*`) nodes, on their left and then on
  their right: `=` where `+=` belongs, on either side, gives one contribution instead of two
  in whichever order the nodes run;
* `b = a + a; c = b + b` catches a recursion that visits `b` twice (a.grad 8, not 4);
* `backward()` twice uses L = a * b, whose leaves hang directly from the output: every engine
  then agrees on what two calls give (intermediate nodes are where engines differ, and they
  are not judged);
* the deep chain is 5,000 multiplications by 1.0001, deeper than Python's recursion limit
  (1,000), so a recursive topological sort is noticed and explained, not failed.

The test-suite proves the claim: every pair of known mistakes gives different numbers on this
battery, and a mutant engine for each one is named correctly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BATTERY",
    "Case",
    "Check",
    "DEEP",
    "Node",
    "OPS",
    "OpSpec",
    "UPSTREAM",
    "apply",
    "build",
    "check_by_id",
    "expression_text",
    "op_names",
]

UPSTREAM = -1.5  # the incoming gradient of a `local` probe: not 1, not -1
DEEP = 5000  # the length of the deep chain
CHAIN_FACTOR = 1.0001


@dataclass(frozen=True)
class OpSpec:
    """One op a learner's class may have, and how to probe it."""

    name: str  # 'add', 'mul', ..., also what --require takes
    symbol: str  # '+', '*', ..., '' where there is none
    template: str  # how a learner writes it, operands as {0} and {1}: '{0}.tanh()'
    attribute: str  # the method that must exist: '__add__', 'tanh', ...
    primitive: bool  # the lecture gives it its own _backward (else it is built from others)
    points: tuple[tuple[float, ...], ...]  # the inputs (a constant comes first or last)

    @property
    def shows(self) -> str:
        """The op written with placeholder names: 'a * b', 'a ** k', 'k - a', 'a.tanh()'."""
        if self.name == "pow":
            return self.template.format("a", "k")
        if self.name in REFLECTED:
            return self.template.format("k", "a")
        return self.template.format("a", "b")


REFLECTED = ("radd", "rsub", "rmul", "rdiv")  # a plain number on the left: k + a
_BINARY = ((2.0, -3.0), (-1.5, 0.5), (0.0, 4.0), (1500.0, -2.5))
_REFLECTED = ((2.0, -3.0), (-1.5, 0.5), (0.0, 4.0), (-2.5, 1500.0))
_DIVISION = ((2.0, -4.0), (-1.5, 0.5), (0.0, 4.0))

OPS: dict[str, OpSpec] = {
    spec.name: spec
    for spec in (
        OpSpec("add", "+", "{0} + {1}", "__add__", True, _BINARY),
        OpSpec("mul", "*", "{0} * {1}", "__mul__", True, _BINARY),
        # (base, exponent): every exponent at a base other than 0 and 1, and 0**2
        OpSpec(
            "pow",
            "**",
            "{0} ** {1}",
            "__pow__",
            True,
            ((3.0, 2), (-1.5, 3), (0.5, -1), (4.0, 0.5), (0.0, 2), (25.0, 3)),
        ),
        OpSpec("tanh", "", "{0}.tanh()", "tanh", True, ((0.5,), (-1.2,), (0.0,), (5.0,))),
        OpSpec("exp", "", "{0}.exp()", "exp", True, ((0.5,), (-2.0,), (0.0,), (10.0,))),
        OpSpec("relu", "", "{0}.relu()", "relu", True, ((1.5,), (-2.0,), (30.0,), (-0.5,))),
        OpSpec("neg", "", "-{0}", "__neg__", False, ((2.0,), (-0.5,), (0.0,), (1500.0,))),
        OpSpec("sub", "-", "{0} - {1}", "__sub__", False, _BINARY),
        OpSpec("div", "/", "{0} / {1}", "__truediv__", False, _DIVISION),
        # reflected ops: a plain number on the left, (number, a)
        OpSpec("radd", "", "{0} + {1}", "__radd__", False, _REFLECTED),
        OpSpec("rsub", "", "{0} - {1}", "__rsub__", False, _REFLECTED),
        OpSpec("rmul", "", "{0} * {1}", "__rmul__", False, _REFLECTED),
        OpSpec("rdiv", "", "{0} / {1}", "__rtruediv__", False, _DIVISION),
    )
}

# Other spellings `--require` accepts for an op.
_ALIASES = {
    "+": "add",
    "*": "mul",
    "**": "pow",
    "-": "sub",
    "/": "div",
    "truediv": "div",
    "rtruediv": "rdiv",
    "__add__": "add",
    "__mul__": "mul",
    "__pow__": "pow",
    "__neg__": "neg",
    "__sub__": "sub",
    "__truediv__": "div",
    "__radd__": "radd",
    "__rsub__": "rsub",
    "__rmul__": "rmul",
    "__rtruediv__": "rdiv",
}


def op_names(words: str | Iterable[str]) -> set[str]:
    """The ops a `require` list names ('tanh,exp', '+,*', 'all': every op and backward());
    a ValueError names any word that is not an op."""
    if isinstance(words, str):
        words = words.replace(" ", ",").split(",")
    names: set[str] = set()
    for word in (w.strip() for w in words):
        if not word:
            continue
        if word == "all":
            names |= {*OPS, "backward"}
            continue
        name = _ALIASES.get(word, word)
        if name not in OPS and name != "backward":
            known = ", ".join(OPS)
            raise ValueError(f"unknown op {word!r}; the ops are: {known}, backward, or all")
        names.add(name)
    return names


# -- programs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """`name = op(*args)`: an arg is the name of an earlier value or a plain number."""

    name: str
    op: str  # a key of OPS, or 'chain' (multiply by args[1], args[2] times)
    args: tuple[str | float, ...]


@dataclass(frozen=True)
class Case:
    """One program at one point, run one way (see the module docstring)."""

    inputs: tuple[tuple[str, float], ...]  # the leaves, made with Value(x)
    program: tuple[Node, ...]  # the last node is the output
    mode: str = "backward"  # 'local', 'backward', 'twice', 'zero_grad'

    @property
    def output(self) -> str:
        return self.program[-1].name

    @property
    def leaves(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.inputs)

    def judged(self) -> tuple[str, ...]:
        """The names whose gradient is judged, from the output back (the first one wrong in
        this order is where a mistake starts)."""
        if self.mode == "local":
            return self.leaves
        if self.mode in ("twice", "zero_grad") or self.program[-1].op == "chain":
            return tuple(reversed(self.leaves))
        names = [*self.leaves, *(n.name for n in self.program)]
        return tuple(reversed(names))


@dataclass(frozen=True)
class Check:
    """A group of cases with one verdict: an op's rules, or one of the lecture's lessons."""

    id: str  # 'op:mul', 'reuse:add', 'lecture', 'neuron', 'diamond', ...
    title: str  # what a report calls it
    op: str | None  # the op it is about, or None for a lesson of the whole engine
    needs: frozenset[str]  # the ops it uses
    cases: tuple[Case, ...]
    lesson: str  # why the lecture cares, one sentence
    needs_backward: bool = True  # False: only out._backward() is called (local probes)
    optional: str = ""  # a method the check needs that the class may lack ('zero_grad')


def _op_cases(spec: OpSpec) -> tuple[Case, ...]:
    cases = []
    inputs: tuple[tuple[str, float], ...]
    args: tuple[str | float, ...]
    for point in spec.points:
        if spec.name == "pow":
            base, k = point
            inputs, args = (("a", base),), ("a", k)
        elif spec.name in REFLECTED:  # number op a
            k, a = point
            inputs, args = (("a", a),), (k, "a")
        elif len(point) == 2:
            inputs, args = (("a", point[0]), ("b", point[1])), ("a", "b")
        else:
            inputs, args = (("a", point[0]),), ("a",)
        mode = "local" if spec.primitive else "backward"
        cases.append(Case(inputs, (Node("out", spec.name, args),), mode))
    return tuple(cases)


def _reuse_cases(op: str, a: float) -> tuple[Case, ...]:
    """`a op a`, then `a` used by two `op` nodes on the left, then on the right: a rule that
    replaces a gradient on one side only is caught whichever order the nodes run in."""
    inputs = (("a", a), ("b", 2.0), ("c", 0.5))
    return (
        Case((("a", a),), (Node("b", op, ("a", "a")),)),
        Case(
            inputs,
            (Node("s", op, ("a", "b")), Node("t", op, ("a", "c")), Node("L", op, ("s", "t"))),
        ),
        Case(
            inputs,
            (Node("s", op, ("b", "a")), Node("t", op, ("c", "a")), Node("L", op, ("s", "t"))),
        ),
    )


def _battery() -> tuple[Check, ...]:
    checks = [
        Check(
            f"op:{spec.name}",
            spec.shows,
            spec.name,
            frozenset({spec.name}),
            _op_cases(spec),
            "each op's forward value, and the gradient it passes to each operand",
            needs_backward=not spec.primitive,
        )
        for spec in OPS.values()
    ]
    lecture = Case(
        (("a", 2.0), ("b", -3.0), ("c", 10.0), ("f", -2.0)),
        (Node("e", "mul", ("a", "b")), Node("d", "add", ("e", "c")), Node("L", "mul", ("d", "f"))),
    )
    neuron = Case(
        (("x1", 2.0), ("x2", 0.0), ("w1", -3.0), ("w2", 1.0), ("b", 6.8813735870195432)),
        (
            Node("x1w1", "mul", ("x1", "w1")),
            Node("x2w2", "mul", ("x2", "w2")),
            Node("x1w1x2w2", "add", ("x1w1", "x2w2")),
            Node("n", "add", ("x1w1x2w2", "b")),
            Node("o", "tanh", ("n",)),
        ),
    )
    diamond = Case(
        (("x", 1.5), ("w", -2.0), ("y", 4.0), ("z", 0.5)),
        (
            Node("a", "mul", ("x", "w")),
            Node("b", "add", ("a", "y")),
            Node("c", "mul", ("a", "z")),
            Node("d", "mul", ("b", "c")),
        ),
    )
    checks += [
        Check(
            "lecture",
            "L = -8",
            None,
            frozenset({"add", "mul"}),
            (lecture,),
            "every gradient as in the lecture: a 6, b -4, c -2, e -2, d -2, f 4",
        ),
        Check(
            "neuron",
            "neuron",
            None,
            frozenset({"add", "mul", "tanh"}),
            (neuron,),
            "o = tanh(n): x1 -1.5, w1 1, x2 0.5, w2 0, as in the lecture",
        ),
        Check(
            "reuse:add",
            "a + a",
            "add",
            frozenset({"add"}),
            _reuse_cases("add", 3.0),
            "a used twice: both contributions add up (the += lesson)",
        ),
        Check(
            "reuse:mul",
            "a * a",
            "mul",
            frozenset({"mul"}),
            _reuse_cases("mul", -3.0),
            "a used twice: both contributions add up (the += lesson)",
        ),
        Check(
            "diamond",
            "diamond",
            None,
            frozenset({"add", "mul"}),
            (diamond,),
            "each node passes its gradient on after all its uses (topological order)",
        ),
        Check(
            "reused-node",
            "b = a + a; c = b + b",
            None,
            frozenset({"add"}),
            (
                Case(
                    (("a", 1.5),),
                    (Node("b", "add", ("a", "a")), Node("c", "add", ("b", "b"))),
                ),
            ),
            "b, used twice, runs its backward step once, after both uses",
        ),
        Check(
            "twice",
            "backward() twice",
            None,
            frozenset({"mul"}),
            (Case((("a", 2.0), ("b", -3.0)), (Node("L", "mul", ("a", "b")),), "twice"),),
            "the leaves' gradients add up over two calls, as in the lecture",
        ),
        Check(
            "zero_grad",
            "zero_grad()",
            None,
            frozenset({"mul"}),
            (Case((("a", 2.0), ("b", -3.0)), (Node("L", "mul", ("a", "b")),), "zero_grad"),),
            "clears the leaves, so the next backward() starts afresh",
            optional="zero_grad",
        ),
        Check(
            "deep",
            f"a chain {DEEP:,} deep",
            None,
            frozenset({"mul"}),
            (Case((("x", 0.5),), (Node("out", "chain", ("x", CHAIN_FACTOR, DEEP)),)),),
            "backward() goes deeper than Python's recursion limit",
        ),
    ]
    return tuple(checks)


BATTERY: tuple[Check, ...] = _battery()
_BY_ID = {check.id: check for check in BATTERY}


def check_by_id(check_id: str) -> Check:
    return _BY_ID[check_id]


# -- running a program on any engine ------------------------------------------------------


def _chain(x: Any, factor: float, times: float) -> Any:
    for _ in range(int(times)):
        x = x * factor
    return x


# How each op is written, as a learner's code would write it: the same for every engine.
_APPLY: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "pow": lambda a, k: a**k,
    "tanh": lambda a: a.tanh(),
    "exp": lambda a: a.exp(),
    "relu": lambda a: a.relu(),
    "neg": lambda a: -a,
    "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b,
    "radd": lambda k, a: k + a,
    "rsub": lambda k, a: k - a,
    "rmul": lambda k, a: k * a,
    "rdiv": lambda k, a: k / a,
    "chain": _chain,
}


def apply(op: str, args: list[Any]) -> Any:
    return _APPLY[op](*args)


def build(case: Case, leaf: Callable[[str, float], Any]) -> dict[str, Any]:
    """Run `case.program` with leaves made by `leaf(name, x)`; every value by name."""
    env: dict[str, Any] = {name: leaf(name, x) for name, x in case.inputs}
    for node in case.program:
        env[node.name] = apply(node.op, [env[a] if isinstance(a, str) else a for a in node.args])
    return env


def expression_text(case: Case) -> str:
    """The case as a learner would type it: `e = a * b; d = e + c; L = d * f`."""
    parts = []
    for node in case.program:
        args = [_number(a) for a in node.args]
        if node.op == "chain":
            text = f"{args[0]} * {args[1]} * ... ({args[2]} times)"
        else:
            text = OPS[node.op].template.format(*args)
        parts.append(f"{node.name} = {text}")
    return "; ".join(parts)


def point_text(case: Case) -> str:
    """The inputs of a case: `a = 2, b = -3`."""
    return ", ".join(f"{name} = {_number(x)}" for name, x in case.inputs)


def _number(x: float | str) -> str:
    if isinstance(x, str):
        return x
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


@dataclass
class Observed:
    """What one case gave: every value's data and grad by name, or the error it raised."""

    data: dict[str, float | None] = field(default_factory=dict)
    grad: dict[str, float | None] = field(default_factory=dict)
    via: str = ""  # the mode actually used ('backward' where 'local' could not be)
    error: dict[str, str] | None = None  # type, message, where, traceback, stage

    def as_dict(self) -> dict[str, Any]:
        return {"data": self.data, "grad": self.grad, "via": self.via, "error": self.error}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Observed:
        return cls(dict(d["data"]), dict(d["grad"]), d["via"], d["error"])
