"""What `explain` returns: an `Explanation`, the narration of one backward pass as a list of
`Step`s (one per edge of the graph) with every value's gradient, printable as text or as a
Markdown table. Both the Value narration (`narration.py`) and the Tensor narration
(`tensor_narration.py`) build one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .labels import d as _d
from .labels import fmt as _fmt
from .labels import md as _md

if TYPE_CHECKING:
    from ..value import Value

__all__ = ["Explanation", "Step", "kept_note", "places"]


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
        """The step as one line of chain rule: `dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0`.

        A step out of the output itself is its local derivative, as the lecture writes it:
        `dL/dd = f = -2.0` (the chain `dL/dL · dL/dd` would define dL/dd by itself).
        """
        lhs = f"{_d(self.root)}/{_d(self.child)} {'=' if self.index == 1 else '+='}"
        result = _fmt(self.contribution, digits)
        if self.parent == self.root:
            if self.local is None:  # a custom op's rule: only its measured effect is known
                return f"{lhs} {result}"
            derivative = _derivative(self.rule)
            shown = "" if _is_number(derivative) else f" {derivative} ="  # not '1 = 1.0'
            return f"{lhs}{shown} {result}"
        chain = f"{_d(self.root)}/{_d(self.parent)} · {_d(self.parent)}/{_d(self.child)}"
        local = "?" if self.local is None else _fmt(self.local, digits)  # a custom op's rule
        numbers = f"{_fmt(self.upstream, digits)} · {local}"
        return f"{lhs} {chain} = {numbers} = {result}"

    def __str__(self) -> str:
        return f"{self.formula()}    [{self.rule}]"


class Explanation:
    """The narration of one backward pass: a list of `Step`s plus every node's gradient.

    `str(explanation)` (or `print`) gives the text; `steps` is the structured form; `grads`
    maps each named node to d root / d node (a constant, written as its number, has no entry);
    `grad(value)` looks one up by the Value itself, constants included.
    """

    def __init__(
        self,
        root: str,
        steps: list[Step],
        names: dict[int, str],
        grads: dict[str, float],
        headers: dict[str, str],
        *,
        constants: dict[int, float] | None = None,
        kept: list[str] | None = None,
    ) -> None:
        self.root = root
        self.steps = steps
        self.grads = grads
        self._names = names
        self._headers = headers  # parent name -> how it was computed ('e = a * b')
        self._constant_grads = constants or {}  # id of a constant -> d root / d constant
        self._kept = kept or []  # gradients left as they were that differ: 'a.grad is 12.0 ...'
        self._contributions: dict[str, list[float]] = {}
        for s in steps:
            self._contributions.setdefault(s.child, []).append(s.contribution)

    def name(self, node: Value) -> str:
        """The name this narration uses for `node`: its label, #1, #2, ... for an unlabeled
        result, the number itself for a constant."""
        try:
            return self._names[id(node)]
        except KeyError:
            raise KeyError(f"{node!r} is not part of the graph of {self.root}") from None

    def grad(self, node: Value | str) -> float:
        """d root / d node, by Value or by name: the total of all its contributions."""
        if not isinstance(node, str) and id(node) in self._constant_grads:
            self.name(node)  # (a Value of another graph is still refused)
            return self._constant_grads[id(node)]
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

    def _output_line(self) -> str:
        """The line before the first step, also the animation's first backward frame."""
        r = _d(self.root)
        return f"{r}/{r} = 1.0  (the output itself)"

    def format(self, digits: int = 6) -> str:
        """The narration as text, numbers shown to `digits` significant digits."""
        r = _d(self.root)
        lines = [
            f"How {self.root} depends on each value, by the chain rule "
            f"({_count(len(self.steps), 'step')}, from the output back to the inputs):",
        ]
        constants = _distinct_texts(self._names[k] for k in self._constant_grads)
        if constants:
            shown = constants[:12] + (["..."] if len(constants) > 12 else [])
            lines.append(
                f"constants, written as numbers: {', '.join(shown)} (unlabeled values: their "
                "gradients are not narrated; give a Value a label to follow its gradient)"
            )
        lines += ["", self._output_line()]
        formulas = [s.formula(digits) for s in self.steps]
        width = max((len(f) for f in formulas), default=0)
        parent = None
        for step, text in zip(self.steps, formulas):
            if step.parent != parent:
                parent = step.parent
                upstream = f"    with {r}/{_d(parent)} = {_fmt(step.upstream, digits)}"
                lines.append(self._headers[parent] + ("" if parent == self.root else upstream))
            lines.append(f"  {text.ljust(width)}    {step.rule}")
            if step.count > 1 and step.index == step.count:
                parts = " + ".join(_fmt(c, digits) for c in self.contributions(step.child))
                lines.append(
                    f"  {r}/{_d(step.child)} = {parts} = {_fmt(step.total, digits)}"
                    f"    ({step.child} is used {step.count} times: the contributions add up)"
                )
        if not self.steps:
            lines.append(f"{self.root} was not computed from other values: nothing to pass back.")
        if self._kept:
            lines += ["", kept_note(self._kept)]
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
        if self._kept:
            rows += ["", _md(kept_note(self._kept))]
        return "\n".join(rows)


def kept_note(kept: list[str]) -> str:
    """The closing line when `explain` left gradients that differ from its own numbers."""
    shown = kept[:5] + ([f"and {len(kept) - 5} more"] if len(kept) > 5 else [])
    return (
        "explain left every .grad as it was, and some differ from this pass's: "
        + "; ".join(shown)
        + " (leaves add up the gradients of every backward() call: zero_grad() clears them)"
    )


def places(receivers: list[int]) -> list[tuple[int, int]]:
    """For each step in order, given the id of the node it adds to: which of that node's
    contributions it is (1, 2, ...) and how many the node receives in all (`index`, `count`)."""
    counts: dict[int, int] = {}
    for r in receivers:
        counts[r] = counts.get(r, 0) + 1
    seen: dict[int, int] = {}
    out = []
    for r in receivers:
        seen[r] = seen.get(r, 0) + 1
        out.append((seen[r], counts[r]))
    return out


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _distinct_texts(texts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return [t for t in texts if not (t in seen or seen.add(t))]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return not text
    return True


def _derivative(rule: str) -> str:
    """The local derivative of a rule (`d(d*f)/dd = f` -> `f`, `... = 1 (the bias)` -> `1`);
    '' where the rule is no formula."""
    if " = " not in rule:
        return ""
    return re.sub(r" \([^()]*\)$", "", rule.rsplit(" = ", 1)[1])
