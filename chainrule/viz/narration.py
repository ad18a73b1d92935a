"""The chain rule, narrated: every step of a backward pass written out with its numbers.

`explain(L)` walks the graph the way `L.backward()` does (output to inputs, in reverse
topological order) and records one `Step` per edge: the gradient arriving at a node, the local
derivative of that node with respect to one operand (written as a formula and as a number), and
their product, which is added into the operand's gradient::

    dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0      d(a*b)/da = b

A value used more than once receives several contributions, and the narration shows their sum.

The numbers are computed here, from the values in the graph, with the same float operations in
the same order as the engine, so every total equals what `backward()` puts in `.grad`, to the
last bit. That is deliberate: a narration that is nearly right would teach the wrong thing, and
the test-suite checks the equality on many random graphs. An op written the lecture's way (a
custom `_backward` closure) cannot be read as a formula; its contributions are measured by
running the closure, so the totals stay right and the narration says what it cannot show.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from ..autograd import topological_order
from ..engine import Value, _children, _power

__all__ = ["Explanation", "Step", "explain"]


@dataclass(frozen=True)
class Step:
    """One edge of the backward pass: `parent` hands part of its gradient to `child`."""

    root: str  # the name of the output being differentiated (L in dL/da)
    parent: str  # the node whose gradient is passed on (e in dL/de · de/da)
    child: str  # the operand that receives it (a)
    op: str  # the parent's op: '+', '*', '**2', '**', 'exp', 'log', 'tanh', 'dot', ...
    rule: str  # the local derivative as a formula, e.g. 'd(a*b)/da = b'
    upstream: float  # d root / d parent, complete by the time this step runs
    local: float | None  # d parent / d child at these values; None if the rule is unknown
    contribution: float  # what this step adds to the child's gradient
    total: float  # the child's gradient after this step
    index: int  # 1 for the child's first contribution, 2 for its second, ...
    count: int  # how many contributions the child receives in all

    def formula(self, digits: int = 6) -> str:
        """The step as one line of chain rule: `dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0`."""
        lhs = f"{_d(self.root)}/{_d(self.child)} {'=' if self.index == 1 else '+='}"
        chain = f"{_d(self.root)}/{_d(self.parent)} · {_d(self.parent)}/{_d(self.child)}"
        local = "?" if self.local is None else _fmt(self.local, digits)  # a custom op's rule
        numbers = f"{_fmt(self.upstream, digits)} · {local}"
        return f"{lhs} {chain} = {numbers} = {_fmt(self.contribution, digits)}"

    def __str__(self) -> str:
        return f"{self.formula()}    [{self.rule}]"


class Explanation:
    """The narration of one backward pass: a list of `Step`s plus every node's gradient.

    `str(explanation)` (or `print`) gives the text; `steps` is the structured form; `grads`
    maps each node's name to d root / d node; `grad(value)` looks one up by the Value itself.
    """

    def __init__(
        self,
        root: str,
        steps: list[Step],
        names: dict[int, str],
        grads: dict[str, float],
        headers: dict[str, str],
        unlabeled: list[tuple[str, float]] | None = None,
    ) -> None:
        self.root = root
        self.steps = steps
        self.grads = grads
        self._names = names
        self._headers = headers  # parent name -> how it was computed ('e = a * b')
        self._unlabeled = unlabeled or []  # (name, data) of unlabeled inputs and constants
        self._contributions: dict[str, list[float]] = {}
        for s in steps:
            self._contributions.setdefault(s.child, []).append(s.contribution)

    def name(self, node: Value) -> str:
        """The name this narration uses for `node` (its label, or n1, n2, ... when unlabeled)."""
        try:
            return self._names[id(node)]
        except KeyError:
            raise KeyError(f"{node!r} is not part of the graph of {self.root}") from None

    def grad(self, node: Value | str) -> float:
        """d root / d node, by Value or by name: the total of all its contributions."""
        key = node if isinstance(node, str) else self.name(node)
        return self.grads[key]

    def contributions(self, node: Value | str) -> list[float]:
        """What each edge out of `node` contributed to its gradient, in the order added."""
        key = node if isinstance(node, str) else self.name(node)
        return list(self._contributions.get(key, []))

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __getitem__(self, i: int) -> Step:
        return self.steps[i]

    def __repr__(self) -> str:
        size = f"{len(self.steps)} steps over {len(self.grads)} values"
        return f"<Explanation of {self.root}: {size}>"

    def format(self, digits: int = 6) -> str:
        """The narration as text, numbers shown to `digits` significant digits."""
        r = _d(self.root)
        lines = [
            f"How {self.root} depends on each value, by the chain rule "
            f"({len(self.steps)} steps, from the output back to the inputs):",
        ]
        if self._unlabeled:
            shown = [f"{n} = {_fmt(v, digits)}" for n, v in self._unlabeled[:12]]
            more = len(self._unlabeled) - len(shown)
            lines.append(
                "unlabeled inputs and constants: "
                + ", ".join(shown)
                + (f", and {more} more" if more > 0 else "")
            )
        lines += ["", f"{r}/{r} = 1.0  (the output itself)"]
        formulas = [s.formula(digits) for s in self.steps]
        width = max((len(f) for f in formulas), default=0)
        parent = None
        for step, text in zip(self.steps, formulas):
            if step.parent != parent:
                parent = step.parent
                lines.append(
                    f"{self._headers[parent]}    with {r}/{_d(parent)} = "
                    f"{_fmt(step.upstream, digits)}"
                )
            lines.append(f"  {text.ljust(width)}    {step.rule}")
            if step.count > 1 and step.index == step.count:
                parts = " + ".join(_fmt(c, digits) for c in self.contributions(step.child))
                lines.append(
                    f"  {r}/{_d(step.child)} = {parts} = {_fmt(step.total, digits)}"
                    f"    ({step.child} is used {step.count} times: the contributions add up)"
                )
        if not self.steps:
            lines.append(f"{self.root} was not computed from other values: nothing to pass back.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def _repr_markdown_(self) -> str:
        r = _d(self.root)
        rows = [
            f"**How {_md(self.root)} depends on each value** ({len(self.steps)} chain-rule steps)",
            "",
            f"| # | chain rule | local derivative | {_md(r)}/d(value) so far |",
            "|---|---|---|---|",
        ]
        for i, s in enumerate(self.steps, 1):
            rows.append(f"| {i} | `{_md(s.formula())}` | `{_md(s.rule)}` | {_fmt(s.total, 6)} |")
        return "\n".join(rows)


def explain(root: Value, backward: bool = True) -> Explanation:
    """Narrate the backward pass from `root`: one step per edge, with the numbers.

    With `backward=True` (the default) the graph's gradients are also filled in, exactly as
    `zero_grad()` followed by `root.backward()` would leave them, so a picture drawn afterwards
    (`draw_dot`) shows the same numbers as the narration. Note that this resets gradients
    accumulated on the inputs by earlier backward calls. With `backward=False` no `.grad` is
    changed: the narration is computed on the side.
    """
    if not isinstance(root, Value):
        raise TypeError(f"explain needs the Value at the end of a computation, got {root!r}")
    order = topological_order(root, _children)
    if backward:
        for node in order:
            node.grad = 0.0
        root.backward()
    names = _names(order, root)
    totals = {id(node): 0.0 for node in order}
    totals[id(root)] += 1.0
    raw: list[tuple[Value, Value, str, float, float | None, float, float]] = []
    headers: dict[str, str] = {}
    for node in reversed(order):
        if not _children(node):
            continue
        g = totals[id(node)]
        headers[names[id(node)]] = f"{names[id(node)]} = {_expression(node, names)}"
        for child, rule, local, contribution, adds in _local_steps(node, g, names, totals):
            if adds:  # (a custom closure's steps were measured: their totals are set already)
                totals[id(child)] += contribution
            raw.append((node, child, rule, g, local, contribution, totals[id(child)]))
    counts: dict[int, int] = {}
    for _, child, *_rest in raw:
        counts[id(child)] = counts.get(id(child), 0) + 1
    seen: dict[int, int] = {}
    steps = []
    root_name = names[id(root)]
    for parent, child, rule, g, local, contribution, total in raw:
        seen[id(child)] = seen.get(id(child), 0) + 1
        steps.append(
            Step(
                root=root_name,
                parent=names[id(parent)],
                child=names[id(child)],
                op=parent._op,
                rule=rule,
                upstream=g,
                local=local,
                contribution=contribution,
                total=total,
                index=seen[id(child)],
                count=counts[id(child)],
            )
        )
    grads = {names[id(node)]: totals[id(node)] for node in order}
    unlabeled = [
        (names[id(n)], n.data) for n in order if not n.label and n is not root and not _children(n)
    ]
    return Explanation(root_name, steps, names, grads, headers, unlabeled)


# -- the local rules, one per op: the formula, and the numbers the engine computes ----------

# (child, rule text, local derivative or None, contribution, whether to add it to the total)
_Local = tuple[Value, str, "float | None", float, bool]


def _local_steps(
    node: Value, g: float, names: dict[int, str], totals: dict[int, float]
) -> list[_Local]:
    """The steps from `node` into its operands, with the engine's float operations.

    Each contribution is computed exactly as `engine._d_*` computes it (same operands, same
    order), so adding them up reproduces `.grad` bit for bit.
    """
    if node._fn is not None:
        return _measured(node, g, names, totals)
    op = node._op
    kids = _children(node)
    n = [names[id(k)] for k in kids]
    t = [_term(x) for x in n]
    out = _term(names[id(node)])
    if op == "+":
        a, b = kids
        rule = f"d({t[0]} + {t[1]})/"
        return [
            (a, _slot(rule + _d(n[0]) + " = 1", kids, 0), 1.0, g, True),
            (b, _slot(rule + _d(n[1]) + " = 1", kids, 1), 1.0, g, True),
        ]
    if op == "*":
        a, b = kids
        rule = f"d({t[0]}*{t[1]})/"
        return [
            (a, _slot(f"{rule}{_d(n[0])} = {t[1]}", kids, 0), b.data, b.data * g, True),
            (b, _slot(f"{rule}{_d(n[1])} = {t[0]}", kids, 1), a.data, a.data * g, True),
        ]
    if op == "**":
        a, b = kids
        local_a = b.data * _power(a, b.data - 1, b)
        steps: list[_Local] = [
            (
                a,
                _slot(f"d({t[0]}**{t[1]})/{_d(n[0])} = {t[1]} * {t[0]}**({t[1]} - 1)", kids, 0),
                local_a,
                local_a * g,
                True,
            )
        ]
        rule_b = f"d({t[0]}**{t[1]})/{_d(n[1])} = {t[0]}**{t[1]} * log({n[0]})"
        if a.data > 0:
            local_b = node.data * math.log(a.data)
            steps.append((b, _slot(rule_b, kids, 1), local_b, local_b * g, True))
        elif a.data == 0 and b.data > 0:  # the engine's limit: flat in the exponent at 0
            rule_b += f" = 0 (at {n[0]} = 0)"
            steps.append((b, _slot(rule_b, kids, 1), 0.0, 0.0, False))
        else:
            raise ValueError(
                f"d/d{n[1]} of {n[0]}**{n[1]} needs a positive base, but {n[0]} = {a.data}"
            )
        return steps
    if op.startswith("**") and not isinstance(node._b, Value) and len(kids) == 1:
        (a,) = kids
        k = node._b
        local = k * _power(a, k - 1, None)
        rule = f"d({t[0]}**{_num(k)})/{_d(n[0])} = {_num(k)} * {t[0]}**{_num(k - 1)}"
        return [(a, rule, local, local * g, True)]
    if op == "exp" and len(kids) == 1:
        return [(kids[0], f"d(exp {t[0]})/{_d(n[0])} = exp {t[0]}", node.data, node.data * g, True)]
    if op == "log" and len(kids) == 1:
        a = kids[0]
        return [(a, f"d(log {t[0]})/{_d(n[0])} = 1/{t[0]}", 1 / a.data, g / a.data, True)]
    if op == "tanh" and len(kids) == 1:
        local = 1 - node.data**2
        return [(kids[0], f"d(tanh {t[0]})/{_d(n[0])} = 1 - {out}**2", local, local * g, True)]
    if op == "relu" and len(kids) == 1:
        rule = f"d(relu {t[0]})/{_d(n[0])} = 1 if {t[0]} > 0 else 0"
        if node.data > 0:
            return [(kids[0], rule, 1.0, g, True)]
        return [(kids[0], rule, 0.0, 0.0, False)]  # the engine adds nothing here
    if op == "sigmoid" and len(kids) == 1:
        local = node.data * (1 - node.data)
        rule = f"d(sigmoid {t[0]})/{_d(n[0])} = {out} * (1 - {out})"
        return [(kids[0], rule, local, local * g, True)]
    if op == "dot" and len(kids) % 2 == 1:
        m = len(kids) // 2
        rule = "d(Σ w·x + b)/"
        steps = [(kids[0], _slot(f"{rule}{_d(n[0])} = 1 (the bias)", kids, 0), 1.0, g, True)]
        for i in range(1, m + 1):
            w, x = kids[i], kids[m + i]
            wt, xt = t[i], t[m + i]
            steps.append((w, _slot(f"{rule}{_d(n[i])} = {xt}", kids, i), x.data, x.data * g, True))
            steps.append(
                (x, _slot(f"{rule}{_d(n[m + i])} = {wt}", kids, m + i), w.data, w.data * g, True)
            )
        return steps
    # An op with operands but no rule and no closure: the engine passes nothing back through it.
    what = f"op {op!r}" if op else "this unnamed op"
    return [
        (k, f"{what} has no backward rule: no gradient flows through it", 0.0, 0.0, False)
        for k in _distinct(kids)
    ]


def _measured(
    node: Value, g: float, names: dict[int, str], totals: dict[int, float]
) -> list[_Local]:
    """Run a custom `_backward` closure on the side to see what it adds to each operand.

    The operands are given the running totals first, so the closure's own additions produce
    exactly the totals the engine gets; all grads are put back afterwards.
    """
    kids = _distinct(_children(node))
    saved = [k.grad for k in kids]
    saved_out = node.grad
    try:
        for k in kids:
            k.grad = totals[id(k)]
        node.grad = g
        node._fn()
        after = [k.grad for k in kids]
    finally:
        for k, v in zip(kids, saved):
            k.grad = v
        node.grad = saved_out
    what = f"op {node._op!r}" if node._op else "this op"
    steps: list[_Local] = []
    for k, new in zip(kids, after):
        contribution = new - totals[id(k)]
        totals[id(k)] = new
        rule = (
            f"given by {names[id(node)]}'s own _backward(); "
            f"chainrule cannot read the local rule of {what}"
        )
        steps.append((k, rule, None, contribution, False))
    return steps


# -- names and formatting -------------------------------------------------------------------


def _names(order: list[Value], root: Value) -> dict[int, str]:
    """A distinct name per node: its label; `x#2` for a repeated label; n1, n2, ... otherwise.

    An unlabeled output is called L (the lecture's name for the loss) unless that is taken.
    Numbering follows the topological order, so the same graph always gets the same names.
    """
    labels = {str(node.label) for node in order if node.label}
    names: dict[int, str] = {}
    used: dict[str, int] = {}
    counter = 0
    for node in order:
        if node.label:
            label = str(node.label)
            used[label] = used.get(label, 0) + 1
            names[id(node)] = label if used[label] == 1 else f"{label}#{used[label]}"
        elif node is root and "L" not in labels:
            names[id(node)] = "L"
        else:
            counter += 1
            while f"n{counter}" in labels:
                counter += 1
            names[id(node)] = f"n{counter}"
    return names


def _expression(node: Value, names: dict[int, str]) -> str:
    """How `node` was computed, in its operands' names: `a * b`, `tanh(n)`, `b + w1·x1 + ...`."""
    kids = _children(node)
    t = [_term(names[id(k)]) for k in kids]
    op = node._op
    if node._fn is None:
        if op in ("+", "*") and len(t) == 2:
            return f"{t[0]} {op} {t[1]}"
        if op == "**" and len(t) == 2:
            return f"{t[0]}**{t[1]}"
        if op.startswith("**") and len(t) == 1:
            return f"{t[0]}{op}"
        if op in ("exp", "log", "tanh", "relu", "sigmoid") and len(t) == 1:
            return f"{op}({names[id(kids[0])]})"
        if op == "dot" and len(t) % 2 == 1:
            m = len(t) // 2
            terms = [f"{t[i]}·{t[m + i]}" for i in range(1, m + 1)]
            shown = terms if m <= 3 else [*terms[:2], "...", terms[-1]]
            return " + ".join([t[0], *shown])
    return f"{op or 'op'}({', '.join(names[id(k)] for k in kids)})"


def _slot(rule: str, kids: tuple[Value, ...], i: int) -> str:
    """Say which operand a rule is about when the same value fills more than one of them."""
    if sum(k is kids[i] for k in kids) > 1:
        return f"{rule} (operand {i + 1} of {len(kids)})"
    return rule


def _distinct(kids: tuple[Value, ...]) -> list[Value]:
    seen: set[int] = set()
    return [k for k in kids if not (id(k) in seen or seen.add(id(k)))]


def _simple(name: str) -> bool:
    base = name.split("#", 1)[0]
    return base.isidentifier()


def _d(name: str) -> str:
    """`d` followed by a name, as in dL/da; names that are expressions get parentheses."""
    return f"d{name}" if _simple(name) else f"d({name})"


def _term(name: str) -> str:
    """A name inside a formula: parenthesised when it is itself an expression (`x1*w1`)."""
    return name if _simple(name) else f"({name})"


def _num(k: float) -> str:
    """An exponent as it reads in the op: 2 rather than 2.0."""
    return str(int(k)) if isinstance(k, float) and k.is_integer() else str(k)


def _fmt(x: float, digits: int) -> str:
    """A number to `digits` significant digits, always with a decimal point: 6.0, -0.5, 1e-05."""
    if not math.isfinite(x):
        return repr(float(x))
    short = f"{x:.{digits}g}"
    return short if "e" in short else repr(float(short))


def _md(text: str) -> str:
    return text.replace("|", "\\|")
