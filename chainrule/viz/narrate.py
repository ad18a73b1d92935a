"""The chain rule, narrated: every step of a backward pass written out with its numbers.

`explain(L)` walks the graph the way `L.backward()` does (output to inputs, in reverse
topological order) and records one `Step` per edge: the gradient arriving at a node, the local
derivative of that node with respect to one operand (written as a formula and as a number), and
their product, which is added into the operand's gradient::

    dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0      d(a*b)/da = b

A value used more than once receives several contributions, and the narration shows their sum.
One narrator serves both engines. A Value is a node of shape `()`; a Tensor's step is written as
an equation of arrays, with its shapes, and says where broadcasting is undone::

    y = x @ W    (3, 2) float32
      dL/dx = dL/dy · Wᵀ    [(3, 4) = (3, 2)·(4, 2)ᵀ]
      dL/dW = xᵀ · dL/dy    [(4, 2) = (3, 4)ᵀ·(3, 2)]

Where the words come from: an elementwise op reads its row of the op table (`node._rule`, an
`ops.Op`: `formula` for the local derivative, `expression` for how the node was computed), so an
op added with `define_op` is narrated with its own formula; the fused neuron reads its
`value.Fused.formulas`; the tensor engine's structural ops (`@`, `linear`, `sum`, `softmax`,
`cross_entropy`, ...) are told apart by `node._op` and read their parameters (an axis, the
labels) from `node._ctx`.

Where the numbers come from: the engine's own arithmetic, in the engine's own order (`Walk.order`
is `backward()`'s), so every total equals what `backward()` puts in `.grad`, to the last bit.
That is deliberate: a narration that is nearly right would teach the wrong thing, and the tests
check the equality on many random graphs. See `_numbers` for how each kind of op is measured. An
op written the lecture's way (a custom `_backward` closure) cannot be read as a formula; its
contributions are measured by running the closure, and the narration says what it cannot show.

Names and numbers, read as the lecture writes them:

* a labeled node goes by its label; an unlabeled result by `#1`, `#2`, ... (a form no Python
  variable has, so it is never taken for one of the user's names); an unlabeled output is L;
* an unlabeled leaf holding one number is a constant (the 2 of `2*n`, the 1 of `e - 1`): it is
  written as its number, and its gradient, which nobody asked for, is not narrated (label it to
  follow its gradient);
* the output's own steps are not written as a chain: `dL/dd = f = -2.0`, not
  `dL/dd = dL/dL · dL/dd`, since dL/dL is 1.

`explain` never changes a gradient the user already has: on a graph no backward pass has
touched yet it fills the gradients in (so `draw_dot` afterwards shows the narration's numbers);
where gradients are there already (accumulated over several `backward()` calls, or set by hand)
it leaves them and says which ones differ from this pass's.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import count, zip_longest
from types import SimpleNamespace
from typing import Any

from .. import ops
from ..engines import SCALAR, engine_of, numbers_of
from ..value import Fused
from .graph import Walk, permutation, quotient, row_of, shape_text, summary

__all__ = ["Explanation", "Step", "TensorExplanation", "TensorStep", "explain", "narrate"]

WIDTH = 100  # the longest line of a narration, as a terminal shows it
Names = dict[int, str]  # id(node) -> its name in the narration
Kids = Sequence[Any]  # a node's operands, one per slot
Slots = list[tuple[Any, ...]]  # (slot, operand, local, contribution, total or None) per slot
Words = tuple[str, str, str]  # an array's step: right-hand side, shapes, note

# -- the model: a step per edge, and the whole narration -----------------------------------------


@dataclass(frozen=True)
class Step:
    """One edge of the backward pass: `parent` hands part of its gradient to `child`.

    The numbers are floats for a Value graph and arrays for a Tensor graph, whose steps also
    say their shapes (`shapes`) and how broadcasting or a reduction is undone (`note`).

    Attributes:
        root: The name of the output being differentiated (L in dL/da).
        parent: The node whose gradient is passed on (e in dL/de · de/da).
        child: The operand that receives it (a).
        op: The parent's op: '+', '*', '**2', 'tanh', 'dot', '@', 'sum', ...
        rule: A number's local derivative, 'd(a*b)/da = b'; an array's whole step,
            'dL/dW = xᵀ · dL/dy'.
        upstream: d root / d parent, complete by the time this step runs.
        local: d parent / d child at these values; None where it is not read.
        contribution: What this step adds to the child's gradient.
        total: The child's gradient after this step.
        index: 1 for the child's first contribution, 2 for its second, ...
        count: How many contributions the child receives in all.
        shapes: An array's step in shapes, '(4, 2) = (3, 4)ᵀ·(3, 2)'; '' for a number.
        note: How broadcasting or a reduction is undone, where there is something to say.

    Examples:
        >>> from chainrule import Value, explain
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> e = a * b
        >>> e.label = "e"
        >>> step = explain(e)[0]
        >>> step.child, step.rule, step.contribution
        ('a', 'd(a*b)/da = b', -3.0)
    """

    root: str  # the name of the output being differentiated (L in dL/da)
    parent: str  # the node whose gradient is passed on (e in dL/de · de/da)
    child: str  # the operand that receives it (a)
    op: str  # the parent's op: '+', '*', '**2', 'tanh', 'dot', '@', 'sum', ...
    rule: str  # a number's local derivative, 'd(a*b)/da = b'; an array's whole step,
    #            'dL/dW = xᵀ · dL/dy'
    upstream: Any  # d root / d parent, complete by the time this step runs
    local: Any  # d parent / d child at these values (elementwise); None where it is not read
    contribution: Any  # what this step adds to the child's gradient
    total: Any  # the child's gradient after this step
    index: int  # 1 for the child's first contribution, 2 for its second, ...
    count: int  # how many contributions the child receives in all
    shapes: str = ""  # an array's step in shapes, '(4, 2) = (3, 4)ᵀ·(3, 2)'; '' for a number
    note: str = ""  # how broadcasting or a reduction is undone, where there is something to say

    def formula(self, digits: int | None = None) -> str:
        """Write the step as one line of chain rule: `dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0`.

        For an array: `dL/dW = xᵀ · dL/dy    [(4, 2) = (3, 4)ᵀ·(3, 2)]    → numbers`.

        A step out of the output itself is its local derivative, as the lecture writes it:
        `dL/dd = f = -2.0` (the chain `dL/dL · dL/dd` would define dL/dd by itself).

        Args:
            digits: Significant digits of the numbers (6 for a number, 4 for an array's).

        Returns:
            The line.
        """
        if self.shapes:
            return f"{self.rule}    [{self.shapes}]    → {show(self.contribution, digits)}"
        lhs = f"{d(self.root)}/{d(self.child)} {'=' if self.index == 1 else '+='}"
        result = show(self.contribution, digits)
        if self.parent == self.root:  # (a custom op's rule: only its measured effect is known)
            derivative = "" if self.local is None else _derivative(self.rule)
            shown = "" if not derivative or _is_number(derivative) else f" {derivative} ="
            return f"{lhs}{shown} {result}"
        chain = f"{d(self.root)}/{d(self.parent)} · {d(self.parent)}/{d(self.child)}"
        local = "?" if self.local is None else show(self.local, digits)  # a custom op's rule
        return f"{lhs} {chain} = {show(self.upstream, digits)} · {local} = {result}"

    def __str__(self) -> str:
        """Show the step's formula, with its rule (or, for an array, its note)."""
        if self.shapes:
            return self.formula() + (f"    ({self.note})" if self.note else "")
        return f"{self.formula()}    [{self.rule}]"


@dataclass(eq=False)
class Explanation:
    """The narration of one backward pass: a list of `Step`s plus every node's gradient.

    `str(explanation)` (or `print`) gives the text; `steps` is the structured form; `grads`
    maps each named node to d root / d node (a constant, written as its number, has no entry);
    `grad(node)` looks one up by the node itself, constants included. In Jupyter it shows as a
    table.

    Attributes:
        root: The output's name.
        steps: One `Step` per edge, in the order `backward()` takes them.
        names: id(node) -> its name, a constant's number included.
        grads: Each named node's d root / d node.
        headers: A parent's name -> how it was computed (`'e = a * b'`).
        constants: id of a constant -> its gradient.
        kept: The gradients left as they were that differ from this pass's.
        shapes: A Tensor's name -> its shape and dtype (`'(3, 2) float32'`).
        needless: The operands that need no gradient (`'x (3, 4) float32'`).

    Examples:
        >>> from chainrule import Value, explain
        >>> a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
        >>> e = a * b; e.label = "e"
        >>> d = e + c; d.label = "d"
        >>> f = Value(-2.0, label="f")
        >>> L = d * f; L.label = "L"
        >>> explanation = explain(L)
        >>> explanation
        <Explanation of L: 6 steps over 7 values>
        >>> explanation.grad(a), explanation.grads["b"], len(explanation)
        (6.0, -4.0, 6)
    """

    root: str
    steps: list[Step]
    names: dict[int, str]  # id(node) -> its name, a constant's number included
    grads: dict[str, Any]
    headers: dict[str, str]  # parent name -> how it was computed ('e = a * b')
    constants: dict[int, Any] = field(default_factory=dict)  # id of a constant -> its gradient
    kept: list[str] = field(default_factory=list)  # gradients left that differ: 'a.grad is ...'
    shapes: dict[str, str] = field(default_factory=dict)  # a Tensor's name -> '(3, 2) float32'
    needless: list[str] = field(default_factory=list)  # 'x (3, 4) float32': needs no gradient

    def name(self, node: Any) -> str:
        """Give the name this narration uses for `node`.

        Its label; #1, #2, ... for an unlabeled result; the number itself for a constant.

        Args:
            node: A node of the graph.

        Returns:
            The name.

        Raises:
            KeyError: `node` is not part of the graph.
        """
        try:
            return self.names[id(node)]
        except KeyError:
            raise KeyError(f"{node!r} is not part of the graph of {self.root}") from None

    def grad(self, node: Any) -> Any:
        """Give d root / d node, by node or by name: the total of all its contributions.

        Args:
            node: A node of the graph, or its name.

        Returns:
            The gradient (a float, or an array).

        Raises:
            KeyError: No such node in the graph.
        """
        if not isinstance(node, str) and id(node) in self.constants:
            return self.constants[id(node)]
        return self.grads[node if isinstance(node, str) else self.name(node)]

    def contributions(self, node: Any) -> list[Any]:
        """List what each edge out of `node` contributed to its gradient, in the order added.

        Args:
            node: A node of the graph, or its name.

        Returns:
            The contributions; their sum is the gradient.

        Examples:
            >>> from chainrule import Value, explain
            >>> x = Value(3.0, label="x")
            >>> y = x * x
            >>> explain(y).contributions(x)  # x is used twice
            [3.0, 3.0]
        """
        key = node if isinstance(node, str) else self.name(node)
        return [s.contribution for s in self.steps if s.child == key]

    def __len__(self) -> int:
        """Count the steps."""
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        """Go through the steps."""
        return iter(self.steps)

    def __getitem__(self, i: int) -> Step:
        """Give step `i`."""
        return self.steps[i]

    def __repr__(self) -> str:
        """Show the output's name and how many steps and nodes."""
        size = f"{len(self.steps)} steps over {len(self.grads)} {self._what}s"
        return f"<Explanation of {self.root}: {size}>"

    @property
    def _what(self) -> str:
        return "tensor" if self.shapes else "value"

    def output_line(self) -> str:
        """Write the line before the first step, also the animation's first backward frame."""
        r = d(self.root)
        shape = f", {self.shapes[self.root]}" if self.shapes else ""
        return f"{r}/{r} = {'1' if shape else '1.0'}  (the output itself{shape})"

    def header(self, step: Step, digits: int | None = None) -> str:
        """Write how a step's parent was computed, and the gradient that arrives at it.

        `e = a * b    with dL/de = -2.0` (what arrives at the output is 1, and goes unsaid).

        Args:
            step: One of the steps.
            digits: Significant digits of the numbers.

        Returns:
            The line.
        """
        if self.shapes:  # an array's gradient is shown by its steps, not repeated here
            return f"{self.headers[step.parent]}    {self.shapes[step.parent]}"
        text = self.headers[step.parent]
        if step.parent != self.root:
            text += f"    with {d(self.root)}/{d(step.parent)} = {show(step.upstream, digits)}"
        return text

    def reuse(self, step: Step, digits: int | None = None) -> str:
        """Write how a value used several times adds its contributions up.

        Args:
            step: The child's last step.
            digits: Significant digits of the numbers.

        Returns:
            The line, `dL/da = 1.0 + 3.0 = 4.0`.
        """
        parts = [show(c, digits) for c in self.contributions(step.child)]
        added = f"the sum of {len(parts)} contributions" if self.shapes else " + ".join(parts)
        return f"{d(self.root)}/{d(step.child)} = {added} = {show(step.total, digits)}"

    def format(self, digits: int | None = None) -> str:
        """Write the narration as text.

        Args:
            digits: Significant digits of the numbers (6 for a number, 4 for the numbers of an
                array, by default).

        Returns:
            The text that `print(explanation)` shows.
        """
        r = d(self.root)
        steps = f"{len(self.steps)} step{'s' * (len(self.steps) != 1)}"
        lines = [f"How {self.root} depends on each {self._what}, by the chain rule ({steps}, "]
        lines[0] += "from the output back to the inputs):"
        constants = list(dict.fromkeys(self.names[k] for k in self.constants))
        if constants:
            shown = ", ".join(constants[:12] + ["..."] * (len(constants) > 12))
            lines.append(
                f"constants, written as numbers: {shown} (unlabeled values: their gradients "
                "are not narrated; give one a label to follow its gradient)"
            )
        if self.needless:
            lines.append("operands that need no gradient: " + ", ".join(self.needless))
        lines += ["", self.output_line()]
        texts = [s.formula(digits) for s in self.steps]
        fit = [len(t) for s, t in zip(self.steps, texts) if len(t) + len(s.rule) + 6 <= WIDTH]
        width = max(fit, default=0)  # the column of the rules, where they fit beside the steps
        for k, (step, text) in enumerate(zip(self.steps, texts)):
            if k == 0 or step.parent != self.steps[k - 1].parent:
                lines.append(self.header(step, digits))
            line = f"  {text.ljust(width)}    {step.rule}"
            if self.shapes or len(line) > WIDTH:  # (an array's rule is in its step already)
                line = f"  {text}" + ("" if self.shapes else f"\n      {step.rule}")
            lines.append(line)
            lines += [f"      {step.note}"] * bool(step.note)
            if step.count > 1 and step.index == step.count:
                used = f"({step.child} is used {step.count} times)"
                lines.append(f"  {self.reuse(step, digits)}    {used}")
        if not self.steps:
            lines.append(
                f"{self.root} was not computed from other {self._what}s: nothing to pass back."
            )
        leaves = [s for s in self.steps if s.index == s.count and s.child not in self.headers]
        leaves = leaves if self.shapes else []  # (a number's total is in its last step)
        lines += ["", "the gradients of the inputs:"] * bool(leaves)
        lines += [f"  {r}/{d(s.child)} = {show(s.total, digits)}" for s in leaves]
        lines += ["", kept_note(self.kept)] * bool(self.kept)
        return "\n".join(wrap(line) for line in "\n".join(lines).splitlines())

    def __str__(self) -> str:
        """Give the narration as text (`format()`)."""
        return self.format()

    def _repr_markdown_(self) -> str:
        title = f"**How {md(self.root)} depends on each {self._what}**"
        rows = [f"{title} ({len(self.steps)} chain-rule steps)", ""]
        so_far = f"{md(d(self.root))}/d(value) so far"
        head = "shapes | contribution" if self.shapes else f"local derivative | {so_far}"
        rows += [f"| # | chain rule | {head} |", "|---|---|---|---|"]
        cells = [
            (s.rule, s.shapes, s.contribution) if self.shapes else (s.formula(), s.rule, s.total)
            for s in self
        ]
        for i, (chain, rule, number) in enumerate(cells, 1):
            rows.append(f"| {i} | `{md(chain)}` | `{md(rule)}` | {md(show(number))} |")
        rows += ["", md(kept_note(self.kept))] * bool(self.kept)
        return "\n".join(rows)


TensorStep = Step  # the names a Tensor graph's narration went by: one model serves both engines
TensorExplanation = Explanation


def kept_note(kept: list[str]) -> str:
    """Write the closing line when `explain` left gradients that differ from its own numbers."""
    shown = kept[:5] + ([f"and {len(kept) - 5} more"] if len(kept) > 5 else [])
    return (
        "explain left every .grad as it was, and some differ from this pass's: "
        + "; ".join(shown)
        + " (leaves add up the gradients of every backward() call: zero_grad() clears them)"
    )


# -- the narrator --------------------------------------------------------------------------------


def explain(root: Any, backward: bool = True) -> Explanation:
    """Narrate the backward pass from `root`: one step per edge, with the numbers.

    `root` is a Value, or a one-element Tensor (a loss), whose steps are written with each
    gradient's shape and formula (`dL/dW = xᵀ · dL/dy`).

    The narration is computed on the side, and never changes a gradient you have. With
    `backward=True` (the default) a graph no backward pass has touched yet gets its gradients
    filled in, exactly as `root.backward()` would, so a picture drawn afterwards (`draw_dot`)
    shows the same numbers as the narration. A graph that holds gradients already keeps them,
    and the narration ends by naming those that differ from this pass's (an input's `.grad`
    that has accumulated over two `backward()` calls, say). With `backward=False` no `.grad`
    is changed and nothing is compared.

    Args:
        root: The output: a Value, or a one-element Tensor.
        backward: Fill in the gradients of a graph no backward pass has touched yet.

    Returns:
        The `Explanation`: print it, or read its steps and gradients.

    Raises:
        TypeError: `root` is not a Value or a Tensor.
        ValueError: `root` is a Tensor of more than one element.

    Examples:
        >>> from chainrule import Value, explain
        >>> a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
        >>> e = a * b; e.label = "e"
        >>> d = e + c; d.label = "d"
        >>> f = Value(-2.0, label="f")
        >>> L = d * f; L.label = "L"
        >>> print(explain(L))
        How L depends on each value, by the chain rule (6 steps, from the output back to the
        inputs):
        <BLANKLINE>
        dL/dL = 1.0  (the output itself)
        L = d * f
          dL/dd = f = -2.0                             d(d*f)/dd = f
          dL/df = d = 4.0                              d(d*f)/df = d
        d = e + c    with dL/dd = -2.0
          dL/de = dL/dd · dd/de = -2.0 · 1.0 = -2.0    d(e + c)/de = 1
          dL/dc = dL/dd · dd/dc = -2.0 · 1.0 = -2.0    d(e + c)/dc = 1
        e = a * b    with dL/de = -2.0
          dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0    d(a*b)/da = b
          dL/db = dL/de · de/db = -2.0 · 2.0 = -4.0    d(a*b)/db = a
        >>> a.grad, b.grad  # filled in, as backward() would
        (6.0, -4.0)
    """
    return narrate(Walk(root), backward)


def narrate(walk: Walk, backward: bool = True) -> Explanation:
    """Narrate, as `explain` does, a graph walked already (the animation narrates its walk).

    Args:
        walk: The graph's `Walk`.
        backward: Fill in the gradients of a graph no backward pass has touched yet.

    Returns:
        The `Explanation`.

    Raises:
        ValueError: The root is a Tensor of more than one element.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.viz.graph import Walk
        >>> from chainrule.viz.narrate import narrate
        >>> x = Value(3.0, label="x")
        >>> narrate(Walk(x * x)).grad(x)
        6.0
    """
    root, operands = walk.root, walk.operands
    if root.size != 1:
        raise ValueError(
            f"explain needs a one-element output (a loss), got a tensor of shape {root.shape}: "
            "explain y.sum() (or y.mean()) instead"
        )
    shaped = bool(shape_text(root))  # a Tensor graph: its steps are written with shapes
    w = walk.written  # (the root comes last)
    constant = {id(n) for n in w if not (n is root or n.label or operands(n) or n.size > 1)}
    named = [n for n in w if id(n) not in constant]
    names = distinct_names(named, root)
    names.update({id(n): show(n.data, 6) for n in w if id(n) in constant})
    top, num = names[id(root)], ops.numbers
    totals: dict[int, Any] = {id(root): walk.engine.seed(root)}  # as the engine holds them
    headers: dict[str, str] = {}
    steps: list[Step] = []
    index = Counter[str]()  # each child's contributions so far
    words = _array_rule if shaped else _number_rule
    for node in reversed(walk.order):  # parents before children: each gradient is complete
        kids, g = operands(node), totals.get(id(node))
        if not kids or g is None or not node.requires_grad:
            continue
        name = names[id(node)]
        headers[name] = f"{name} = {expression(node, kids, names)}"
        arriving = "1" if node is root else f"{d(top)}/{d(name)}"
        for i, kid, local, contribution, total in _numbers(node, kids, g, totals):
            old = totals.get(id(kid))
            if total is None:  # (a measured closure gives the total itself)
                total = contribution if old is None else old + contribution
            totals[id(kid)] = total
            if id(kid) in constant:  # a constant's gradient is kept, not narrated
                continue
            child = names[id(kid)]
            rule, *more = words(node, kids, i, names, arriving)
            index[child] += 1
            if shaped:  # an array's step is an equation: `dL/dx = ...`, then `dL/dx += ...`
                rule = f"{d(top)}/{d(child)} {'=' if index[child] == 1 else '+='} {rule}"
            numbers = (num(g), num(local), num(contribution), num(total))
            steps.append(Step(top, name, child, node._op, rule, *numbers, index[child], 0, *more))
    got = {id(n): num(totals[id(n)]) for n in walk.order if id(n) in totals}  # the gradients
    kept: list[str] = []
    if backward and root.requires_grad:
        if all(_untouched(n.grad) for n in walk.order):
            root.backward()  # a fresh graph: its gradients, as backward() leaves them
        else:
            differ = [n for n in named if id(n) in got and not _same(n.grad, got[id(n)])]
            kept = [
                f"{names[id(n)]}.grad is {show(n.grad)}, not {show(got[id(n)])}" for n in differ
            ]
    grads = {names[k]: v for k, v in got.items() if k not in constant}
    constants = {id(n): got.get(id(n)) for n in w if id(n) in constant}
    shapes = {names[id(n)]: shape_text(n) for n in named} if shaped else {}
    needless = [f"{names[id(n)]} {shape_text(n)}" for n in named[:-1] if not n.requires_grad]
    steps = [replace(s, count=index[s.child]) for s in steps]  # (known once all are made)
    return Explanation(top, steps, names, grads, headers, constants, kept, shapes, needless)


def _untouched(grad: Any) -> bool:
    """Say whether no backward pass has left a gradient here: None, or a plain zero."""
    return grad is None or (engine_of(grad) is None and not any(numbers_of(grad)))


def _same(grad: Any, total: Any) -> bool:
    """Say whether a `.grad` holds this pass's numbers (nan counts as equal to nan)."""
    if grad is None or engine_of(grad) is not None:
        return False
    both = zip_longest(numbers_of(grad), numbers_of(total))  # (None where one is shorter)
    return all(a == b or a != a and b != b for a, b in both)


# -- the numbers: the engine's own -----------------------------------------------------------


def _numbers(node: Any, kids: Kids, g: Any, totals: dict[int, Any]) -> Slots:
    """Measure what `node`'s chain-rule step gives each operand slot, in the engine's order.

    Each slot: (slot, operand, local derivative or None, contribution, total or None). A total
    is given where the step was measured as a whole (a closure): it replaces the running one.

    * A Value through a row of the op table: the row's partial at the operands' numbers, times
      g: the very product `Value.backward` adds (`_chain_rule`). Where the row cannot be
      evaluated (`0 ** -0.5`) the engine's own step is run, to fail with the engine's words.
    * The fused neuron: its `step` itself, run on stand-ins that note what it adds, and when.
    * An op written the lecture's way: its closure, run on the side (`_measured`).
    * Anything else (every Tensor op, a Value's constant exponent): the node's own recorded
      step, run by its engine (`Engine.step`) without recording anything.
    """
    rule = node._rule
    if type(rule) is Fused:
        return _fused(node, kids, g)
    row = row_of(node, kids)
    if row is not None and engine_of(g) is None:  # one number (a Value's gradient is a float)
        xs = [k.data for k in kids]
        try:
            partials = [row.partials[i](*xs, node.data) for i in range(len(kids))]
        except (ValueError, ArithmeticError):
            _measured(node, kids, g, totals)  # the engine's own step fails, in its own words
            raise
        return [
            (i, kid, local, local * g, None) for i, (kid, local) in enumerate(zip(kids, partials))
        ]
    if rule is not None and type(rule) is not ops.Op:  # a closure written the lecture's way
        return _measured(node, kids, g, totals)
    engine = engine_of(node) or SCALAR  # its step, run on the engine's own numbers
    pairs = engine.step(node, g)
    units = [c for _, c in engine.step(node, 1.0)] if engine_of(g) is None else []
    if not pairs:  # an op with no rule at all: the engine passes nothing back through it
        return [(0, k, 0.0, 0.0 * g, None) for k in _distinct(kids)]
    slots = iter(range(len(kids)))  # (the pairs come in the order of the slots)
    out = [(next(j for j in slots if kids[j] is kid), kid, c) for kid, c in pairs]
    if units:  # a Value's `x**2`: its local derivative is the step at g = 1, as numbers
        return [(i, k, ops.numbers(u), ops.numbers(c), None) for (i, k, c), u in zip(out, units)]
    if row is None:
        return [(i, kid, None, c, None) for i, kid, c in out]
    import numpy as np

    with np.errstate(all="ignore"):  # the row's local derivative d node / d operand i, on arrays
        xs = [k.data for k in kids]
        return [(i, kid, np.asarray(row.partials[i](*xs, node.data)), c, None) for i, kid, c in out]


class _Slot:
    """An operand as a `Fused` step sees it.

    Its number, and a `grad` that reads 0 and notes, in order, each amount the step adds to it.
    """

    __slots__ = ("data", "slot", "log")

    def __init__(self, data: float, slot: int, log: list[tuple[int, float]]) -> None:
        self.data, self.slot, self.log = data, slot, log

    @property
    def grad(self) -> float:
        return 0.0

    @grad.setter
    def grad(self, total: float) -> None:
        self.log.append((self.slot, total))


def _fused(node: Any, kids: Kids, g: float) -> Slots:
    """Run the fused neuron's own step twice on stand-ins.

    With g (what each slot receives, in the order the engine adds it) and with 1 (each slot's
    local derivative).
    """

    def run(grad: float) -> list[tuple[int, float]]:
        log: list[tuple[int, float]] = []
        slots = tuple(_Slot(k.data, i, log) for i, k in enumerate(kids))
        node._rule.step(SimpleNamespace(data=node.data, grad=grad, _a=slots))
        return log

    local = dict(run(1.0))
    return [(i, kids[i], local[i], c, None) for i, c in run(g)]


def _measured(node: Any, kids: Kids, g: float, totals: dict[int, Any]) -> Slots:
    """Run a node's own `_backward` on the side to see what it adds to each operand.

    The operands are given the running totals first, so the closure's own additions produce
    exactly the totals the engine gets; every grad is put back afterwards.
    """
    distinct = _distinct(kids)
    saved = [(x, x.grad) for x in (*distinct, node)]
    try:
        for k in distinct:
            k.grad = totals.get(id(k), 0.0)
        node.grad = g
        node._backward()
        return [(0, k, None, k.grad - totals.get(id(k), 0.0), k.grad) for k in distinct]
    finally:
        for x, grad in saved:
            x.grad = grad


def _distinct(kids: Iterable[Any]) -> list[Any]:
    return list({id(k): k for k in kids}.values())


# -- the words for a number: the local derivative --------------------------------------------


def _number_rule(node: Any, kids: Kids, i: int, names: Names, G: str) -> Words:
    """Write the local derivative of a Value's op with respect to operand `i`, in names.

    `d(a*b)/da = b`, `d(tanh n)/dn = 1 - o**2`, `d(Σ w·x + b)/dw1 = x1` (a number's step needs
    no shapes, and the gradient `G` that arrives is written by `Step.formula`).
    """
    rule, op = node._rule, node._op
    n = [names[id(k)] for k in kids]
    t = [term(x) for x in n]
    what = f"op {op!r}" if op else "this unnamed op"
    row = row_of(node, kids)
    if type(rule) is Fused:  # slots: the bias, then the weights, then the inputs
        m = len(kids) // 2
        word = rule.formulas[0 if i == 0 else 1 if i <= m else 2]
        partner = t[i + m] if word == "x" else t[i - m] if word == "w" else f"{word} (the bias)"
        text = f"d({rule.symbol})/{d(n[i])} = {partner}"
    elif (q := quotient(node, kids)) is not None and kids[i] is q[0]:  # a / b, as a * b**-1
        top, under = (term(names[id(k)]) for k in q)
        text = f"d({top}/{under})/{d(n[i])} = 1/{under}"
    elif row is not None:
        text = f"d({_head(row, t)})/{d(n[i])} = {row.formula(i, t, term(names[id(node)]))}"
        if row is ops.POW and i == 1 and kids[0].data == 0:  # the limit the engine takes
            text += f" = 0 (at {n[0]} = 0)"
    elif op == "**-1":  # the 1/b of a division
        text = f"d(1/{t[0]})/{d(n[0])} = -1/{t[0]}**2"
    elif type(rule) is ops.Op and op.startswith("**"):  # a constant exponent, written in the op
        k = float(op[2:])
        text = f"d({t[0]}**{_num(k)})/{d(n[0])} = {_num(k)} * {t[0]}**{_num(k - 1)}"
    elif rule is not None:
        who = f"given by {names[id(node)]}'s own _backward()"
        return f"{who}; chainrule cannot read the local rule of {what}", "", ""
    else:
        return f"{what} has no backward rule: no gradient flows through it", "", ""
    return text + _slot(kids, i), "", ""


def _slot(kids: Kids, i: int) -> str:
    """Say which operand slot a step is for, where the same value fills several."""
    return f" (operand {i + 1} of {len(kids)})" if sum(k is kids[i] for k in kids) > 1 else ""


def _head(row: ops.Op, t: list[str]) -> str:
    """Write the op inside `d(...)`: `a*b`, `a + b`, `a**k`, `tanh n`, `hypot(a, b)`."""
    if row.symbol is not None and len(t) == 2:
        gap = "" if row.symbol in ("*", "/", "**") else " "  # tight, as the lecture writes them
        return f"{t[0]}{gap}{row.symbol}{gap}{t[1]}"
    return f"{row.name} {t[0]}" if len(t) == 1 else row.expression(*t)


def expression(node: Any, kids: Kids, names: Names) -> str:
    """Write how `node` was computed, in its operands' names.

    `a * b`, `tanh(n)`, `b + w1·x1 + ...`, `x @ W`, `sum(y, axis=0)`.

    Args:
        node: A node of the graph.
        kids: Its operands.
        names: id(node) -> name, for every node of the graph.

    Returns:
        The expression.
    """
    op, ctx = node._op, getattr(node, "_ctx", None)  # (a Value keeps no context)
    n = [names[id(k)] for k in kids]
    t = [term(x) for x in n]
    row = row_of(node, kids)
    if type(node._rule) is Fused:
        m = len(t) // 2
        terms = [f"{t[i]}·{t[m + i]}" for i in range(1, m + 1)]
        return " + ".join([t[0], *(terms if m <= 3 else [*terms[:2], "...", terms[-1]])])
    if (q := quotient(node, kids)) is not None:  # a / b, computed as a * b**-1
        return " / ".join(term(names[id(k)]) for k in q)
    if row is not None:
        return row.expression(*(t if row.symbol is not None else n))
    if op == "**-1" and len(t) == 1:
        return f"1 / {t[0]}"
    if op.startswith("**") and len(t) == 1:  # a constant exponent: `x**2`, as the op reads
        return f"{t[0]}{op}"
    if op == "@":
        return f"{t[0]} @ {t[1]}"
    if op == "linear":
        return f"{t[0]} · {t[1]}ᵀ" + (f" + {t[2]}" if len(t) == 3 else "")
    if op in ("sum", "mean", "max") and isinstance(ctx, tuple):
        axis = "" if ctx[0] is None else f", axis={ctx[0]}"
        return f"{op}({n[0]}{axis}{', keepdims=True' if ctx[1] else ''})"
    if op == "reshape":
        return f"{t[0]}.reshape{tuple(node.shape)}"
    if op == "permute":
        forward = permutation(node._ctx)
        return f"{t[0]}ᵀ" if forward == (1, 0) else f"{t[0]}.permute{forward}"
    if op == "index":
        parts = ctx if isinstance(ctx, tuple) else (ctx,)
        return f"{t[0]}[{', '.join(map(_index_part, parts))}]"
    if op in ("softmax", "log_softmax"):
        return f"{op}({n[0]}, axis={ctx})"
    if op in ("cross_entropy", "bce_with_logits"):
        return f"{op}({n[0]}, labels)"
    return f"{op or 'op'}({', '.join(n)})"


def _index_part(p: Any) -> str:
    """Write one part of an index as it was typed: `1:3`, `::2`, `0`, `...`; an array `[...]`."""
    if isinstance(p, slice):
        text = ":".join("" if v is None else str(v) for v in (p.start, p.stop, p.step))
        return text[:-1] if p.step is None else text
    if p is Ellipsis:
        return "..."
    return str(p) if p is None or isinstance(p, int) or getattr(p, "ndim", None) == 0 else "[...]"


# -- the words for an array: the whole step, with its shapes -----------------------------------


def _array_rule(node: Any, kids: Kids, i: int, names: Names, G: str) -> Words:
    """Write (right-hand side, shapes, note) of the step from a Tensor `node` into operand `i`.

    `G` is what arrives at the node (dL/dy, or 1 at the output itself).
    """
    op, ctx, kid, o = node._op, node._ctx, kids[i], _s(node.shape)
    t, s = [term(names[id(k)]) for k in kids], [_s(k.shape) for k in kids]
    x, back = t[i], s[i] if kid.shape == node.shape else f"{s[i]} ← {o}"
    row = row_of(node, kids)
    if row is not None:
        return _elementwise(node, kids, row, i, names, G)
    if op == "@":  # a vector operand acts as a one-row or one-column matrix
        (A, B), (sa, sb) = t, s
        forms = {  # (a.ndim, b.ndim) -> the steps into a and into b, with their shapes
            (1, 1): [(f"{G} · {B}", f"{sa} = {o}·{sb}"), (f"{G} · {A}", f"{sb} = {o}·{sa}")],
            (2, 1): [(f"{G} ⊗ {B}", f"{sa} = {o}⊗{sb}"), (f"{A}ᵀ · {G}", f"{sb} = {sa}ᵀ·{o}")],
            (1, 2): [(f"{B} · {G}", f"{sa} = {sb}·{o}"), (f"{A} ⊗ {G}", f"{sb} = {sa}⊗{o}")],
        }
        plain = [(f"{G} · {B}ᵀ", f"{sa} = {o}·{sb}ᵀ"), (f"{A}ᵀ · {G}", f"{sb} = {sa}ᵀ·{o}")]
        dims = (len(kids[0].shape), len(kids[1].shape))
        batched = dims not in forms and dims != (2, 2)
        note = "batch axes that were broadcast are summed back to the operand's shape"
        return (*forms.get(dims, plain)[i], note if batched else "")
    if op == "linear":  # out = x·Wᵀ + b, the batch axes of x flattened into rows
        rows = math.prod(node.shape[:-1])
        flat, xflat = _s((rows, node.shape[-1])), _s((rows, kids[0].shape[-1]))
        note = f"the batch axes are flattened into one ({rows} rows)" * (len(node.shape) != 2)
        return [
            (f"{G} · {t[1]}", f"{s[0]} = {o}·{s[1]}", ""),
            (f"({G})ᵀ · {t[0]}", f"{s[1]} = {flat}ᵀ·{xflat}", note),
            (f"{G} summed over the batch", f"{s[-1]} ← {flat}", note),
        ][i]
    if op in ("sum", "mean"):
        where = "to every element" if ctx[0] is None else f"along axis {ctx[0]}"
        scale = f" / {ctx[2]}" if op == "mean" else ""
        return f"{G}{scale}, copied {where} of {x}", back, ""
    if op == "max":
        where = "" if ctx[0] is None else f" along axis {ctx[0]}"
        return f"{G} at the maxima of {x}{where} (shared between ties), 0 elsewhere", back, ""
    if op == "reshape":
        return f"{G} reshaped to {s[i]}", back, ""
    if op == "permute":
        forward = permutation(ctx)
        if forward == (1, 0):
            return f"({G})ᵀ", back, ""
        return f"{G} with its axes put back (undoing permute {forward})", back, ""
    if op == "index":
        parts = ctx if isinstance(ctx, tuple) else (ctx,)
        fancy = any(isinstance(p, list) or getattr(p, "ndim", 0) > 0 for p in parts)
        note = "an element picked more than once gets the sum of its gradients" if fancy else ""
        return f"{G} put back where {x} was indexed, 0 elsewhere", back, note
    if op == "softmax":
        y = term(names[id(node)])
        return f"{y} ⊙ ({G} - Σ {G} ⊙ {y})", back, f"Σ runs over axis {ctx}"
    if op == "log_softmax":
        return f"{G} - softmax({x}) ⊙ Σ {G}", back, f"Σ runs over axis {ctx}"
    if op == "cross_entropy":
        labels, reduction = ctx[0], ctx[3]
        per = f" / {max(labels.size, 1)}" if reduction == "mean" and labels.ndim else ""
        by = "" if G == "1" else f" {'⊙' if reduction == 'none' else '·'} {G}"
        return f"(softmax({x}) - onehot(labels)){by}{per}", back, ""
    if op == "bce_with_logits":
        labels, reduction = ctx
        per = f" / {max(labels.size, 1)}" if reduction == "mean" else ""
        return f"(sigmoid({x}) - labels){'' if G == '1' else f' ⊙ {G}'}{per}", back, ""
    return f"the engine's rule for {op!r} applied to {G}", back, ""


def _elementwise(node: Any, kids: Kids, row: ops.Op, i: int, names: Names, G: str) -> Words:
    """Write a row of the table, elementwise: `dL/dy ⊙ local`.

    Where the operand was broadcast, also the axes its gradient is summed over to get its shape
    back.
    """
    local = row.formula(i, tuple(term(names[id(k)]) for k in kids), term(names[id(node)]))
    if local in ("1", "-1"):
        rhs = G if local == "1" else f"-{G}"
    elif G == "1":  # the output's own step: its local derivative alone
        rhs = local
    else:
        rhs = f"{G} ⊙ {local if term(local) == local else f'({local})'}"
    rhs += _slot(kids, i)
    small, big = kids[i].shape, node.shape
    extra = len(big) - len(small)  # the axes broadcasting added, then those it stretched
    stretched = [extra + j for j, n in enumerate(small) if n == 1 and big[extra + j] != 1]
    axes = (*range(extra), *stretched)
    if not axes:
        return rhs, _s(small), ""
    which = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"
    note = (
        f"{names[id(kids[i])]} was broadcast: its gradient is summed over {which} "
        f"back to its shape {_s(small)}"
    )
    return rhs, f"{_s(small)} ← {_s(big)}", note


def _s(shape: Sequence[int]) -> str:
    return str(tuple(shape))


# -- names and numbers, as the narration writes them -----------------------------------------


def distinct_names(order: Sequence[Any], root: Any) -> dict[int, str]:
    """Give a distinct name per node: its label; `x#2` for a repeated label; else #1, #2, ...

    An unlabeled output is called L (the lecture's name for the loss) unless that is taken. The
    other unlabeled nodes are numbered `#1`, `#2`, ...: a form no Python variable has, so it
    cannot be mistaken for one of the user's labels (`n1` beside the lecture's own `n` reads as
    a relative of `n`); a label that happens to be `#3` is skipped over all the same.
    Numbering follows the order given, so the same graph always gets the same names.

    Args:
        order: The nodes, in the order to number them.
        root: The output.

    Returns:
        id(node) -> name.
    """
    labels = {str(node.label) for node in order if node.label}
    numbers = (f"#{k}" for k in count(1) if f"#{k}" not in labels)
    names: dict[int, str] = {}
    used = Counter[str]()
    for node in order:
        label = str(node.label)
        used[label] += 1
        if node.label:
            names[id(node)] = label if used[label] == 1 else f"{label}#{used[label]}"
        else:
            names[id(node)] = "L" if node is root and "L" not in labels else next(numbers)
    return names


def _simple(name: str) -> bool:
    """Say whether a name needs no parentheses after a `d`: an identifier, `x#2`, or `#3`."""
    base = name.split("#", 1)[0]
    return base.isidentifier() or (base == "" and name[1:].isdigit())


def d(name: str) -> str:
    """Write `d` followed by a name, as in dL/da; names that are expressions get parentheses.

    Args:
        name: The name.

    Returns:
        `d` and the name.

    Examples:
        >>> from chainrule.viz.narrate import d
        >>> d("a"), d("x1*w1")
        ('da', 'd(x1*w1)')
    """
    return f"d{name}" if _simple(name) else f"d({name})"


def term(name: str) -> str:
    """Write a name inside a formula: parenthesised when it is itself an expression (`x1*w1`).

    Args:
        name: The name.

    Returns:
        The name, in parentheses where needed.
    """
    return name if _simple(name) or (_is_number(name) and not name.startswith("-")) else f"({name})"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _num(k: float) -> str:
    """Write an exponent as it reads in the op: 2 rather than 2.0."""
    return str(int(k)) if isinstance(k, float) and k.is_integer() else str(k)


def fmt(x: Any, digits: int) -> str:
    """Write a number to `digits` significant digits, with a decimal point: 6.0, -0.5, 1e-05.

    Args:
        x: The number.
        digits: Significant digits.

    Returns:
        The text.

    Examples:
        >>> from chainrule.viz.narrate import fmt
        >>> fmt(6, 6), fmt(1 / 3, 4), fmt(0.00001, 6)
        ('6.0', '0.3333', '1e-05')
    """
    x = float(x)
    if not math.isfinite(x):
        return repr(x)
    short = f"{x:.{digits}g}"
    return short if "e" in short else repr(float(short))


def show(x: Any, digits: int | None = None) -> str:
    """Write a number or an array as the narration does.

    A number to 6 significant digits; an array to 4: every number when it is small, else its
    mean, min and max.

    Args:
        x: A number or an array.
        digits: Significant digits, instead of 6 or 4.

    Returns:
        The text.
    """
    if x is None:
        return "None"
    digits = digits or (4 if hasattr(x, "dtype") or engine_of(x) is not None else 6)
    return summary(x, lambda v: fmt(v, digits), ", ")


def wrap(line: str) -> str:
    """Break a line longer than `WIDTH` at its spaces, the rest indented under its start.

    Args:
        line: One line of text.

    Returns:
        The line, or its parts joined by line breaks.
    """
    if len(line) <= WIDTH:
        return line
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    parts = textwrap.wrap(line, WIDTH, subsequent_indent=indent, break_on_hyphens=False)
    return "\n".join(parts)


def md(text: str) -> str:
    """Make text fit a Markdown table cell."""
    return text.replace("|", "\\|")


def _derivative(rule: str) -> str:
    """Read the local derivative from a rule: `d(d*f)/dd = f` -> `f`.

    `... = 1 (the bias)` -> `1`; '' where the rule is no formula.
    """
    if " = " not in rule:
        return ""
    return re.sub(r" \([^()]*\)$", "", rule.rsplit(" = ", 1)[1])
