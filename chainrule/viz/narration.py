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

The formula and the local derivative of every op come from its row of the op table
(`chainrule.ops`): `row.formula` in the graph's names, `row.partials` for the number, so an op
added with `define_op` is narrated with its own formula. Only the engine's fused neuron (`dot`),
a constant exponent (`x**2`, through the `**` row) and the engine's limits of `a**b` at a base
<= 0 are written here. A Tensor graph is narrated by `tensor_narration`, with shapes.

Names and numbers, read as the lecture writes them:

* a labeled value goes by its label; an unlabeled result by `#1`, `#2`, ... (a form no Python
  variable has, so it is never taken for one of the user's names); an unlabeled output is L;
* an unlabeled leaf is a constant (the 2 of `2*n`, the 1 of `e - 1`): it is written as its
  number, and its gradient, which nobody asked for, is not narrated (label a Value to follow
  its gradient);
* the output's own steps are not written as a chain: `dL/dd = f = -2.0`, not
  `dL/dd = dL/dL · dL/dd`, since dL/dL is 1.

`explain` never changes a gradient the user already has: on a graph no backward pass has
touched yet it fills the gradients in (so `draw_dot` afterwards shows the narration's numbers);
where gradients are there already (accumulated over several `backward()` calls, or set by hand)
it leaves them and says which ones differ from this pass's.
"""

from __future__ import annotations

from typing import Any

from .. import ops
from ..autograd import topological_order
from ..value import Value, _children, _closure, _power
from .adapters import is_tensor
from .explanation import Explanation, Step, places
from .labels import d as _d
from .labels import distinct_names as _names
from .labels import fmt as _fmt
from .labels import num as _num
from .labels import term as _term
from .labels import written_order
from .tensor_narration import explain_tensor

__all__ = ["Explanation", "Step", "explain"]


def explain(root: Any, backward: bool = True) -> Explanation:
    """Narrate the backward pass from `root`: one step per edge, with the numbers.

    `root` is a Value, or a one-element Tensor (a loss): a Tensor graph is narrated with
    each gradient's shape and formula (`dL/dW = xᵀ · dL/dy`), see `tensor_narration`.

    The narration is computed on the side, and never changes a gradient you have. With
    `backward=True` (the default) a graph whose gradients are all still 0 (no backward pass
    has run on it) gets them filled in, exactly as `root.backward()` would, so a picture drawn
    afterwards (`draw_dot`) shows the same numbers as the narration. A graph that holds
    gradients already keeps them, and the narration ends by naming those that differ from this
    pass's (an input's `.grad` that has accumulated over two `backward()` calls, say). With
    `backward=False` no `.grad` is changed and nothing is compared.
    """
    if is_tensor(root):
        return explain_tensor(root, backward)
    if not isinstance(root, Value):
        raise TypeError(
            f"explain needs the Value or Tensor at the end of a computation, got {root!r}"
        )
    order = topological_order(root, _children)
    written = written_order(root, _children)  # names and lists follow the order of the code
    constant = {id(n) for n in order if not n.label and n is not root and not _children(n)}
    names = _names([n for n in written if id(n) not in constant], root)
    for node in written:
        if id(node) in constant:
            names[id(node)] = _fmt(node.data, 6)
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
            if id(child) not in constant:  # a constant's gradient is kept, not narrated
                raw.append((node, child, rule, g, local, contribution, totals[id(child)]))
    root_name = names[id(root)]
    at = places([id(child) for _, child, *_rest in raw])  # each step's index and count
    steps = [
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
            index=index,
            count=count,
        )
        for (parent, child, rule, g, local, contribution, total), (index, count) in zip(raw, at)
    ]
    grads = {names[id(n)]: totals[id(n)] for n in order if id(n) not in constant}
    kept: list[str] = []
    if backward:
        if all(_untouched(node) for node in order):
            root.backward()  # a fresh graph: its gradients, as backward() leaves them
        else:
            kept = [
                f"{names[id(n)]}.grad is {_fmt(n.grad, 6)}, not {_fmt(totals[id(n)], 6)}"
                for n in written
                if id(n) not in constant and not _same(n.grad, totals[id(n)])
            ]
    return Explanation(
        root_name,
        steps,
        names,
        grads,
        headers,
        constants={id(n): totals[id(n)] for n in written if id(n) in constant},
        kept=kept,
    )


def _untouched(node: Value) -> bool:
    """No backward pass has left a gradient here: a plain 0 (a recorded grad is a Value)."""
    grad = node.grad
    return (grad.__class__ is float or grad.__class__ is int) and grad == 0


def _same(grad: Any, total: float) -> bool:
    """Whether a `.grad` holds this pass's number (nan counts as equal to nan)."""
    if grad.__class__ is not float and grad.__class__ is not int:
        return False
    return grad == total or (grad != grad and total != total)


# -- the local rules: read from the op table, the numbers the engine computes ----------------

# (child, rule text, local derivative or None, contribution, whether to add it to the total)
_Local = tuple[Value, str, "float | None", float, bool]


def _local_steps(
    node: Value, g: float, names: dict[int, str], totals: dict[int, float]
) -> list[_Local]:
    """The steps from `node` into its operands, with the engine's float operations.

    The formula and the local derivative of every op of the table come from its row
    (`row.formula`, `row.partials`), and each contribution is `local * g`, the product the
    engine adds, so adding them up reproduces `.grad` bit for bit. The engine's own `dot`, a
    constant exponent (`**2`, read through the `**` row) and custom closures are handled here.
    """
    if _closure(node) is not None:
        return _measured(node, g, names, totals)
    op = node._op
    kids = _children(node)
    n = [names[id(k)] for k in kids]
    t = [_term(x) for x in n]
    if op == "dot" and len(kids) % 2 == 1:
        return _dot_steps(kids, n, t, g)
    out = _term(names[id(node)])
    if op.startswith("**") and len(kids) == 1 and isinstance(node._b, (int, float)):
        (a,) = kids
        k = node._b
        local = _partial(ops.POW, 0, (a.data, k), node.data, kids)
        rule = f"d({t[0]}**{_num(k)})/{_d(n[0])} = {_num(k)} * {t[0]}**{_num(k - 1)}"
        return [(a, rule, float(local), local * g, True)]
    row = ops.TABLE.get(op)
    if row is not None and row.arity == len(kids):
        return _table_steps(node, row, kids, n, t, out, g)
    # An op with operands but no rule and no closure: the engine passes nothing back through it.
    what = f"op {op!r}" if op else "this unnamed op"
    return [
        (k, f"{what} has no backward rule: no gradient flows through it", 0.0, 0.0, False)
        for k in {id(k): k for k in kids}.values()
    ]


def _table_steps(
    node: Value,
    row: ops.Op,
    kids: tuple[Value, ...],
    n: list[str],
    t: list[str],
    out: str,
    g: float,
) -> list[_Local]:
    """One step per operand of a table op: the row's formula, and its partial times `g`."""
    head = _head(row, t)
    xs = tuple(k.data for k in kids)
    steps: list[_Local] = []
    for i, kid in enumerate(kids):
        rule = _slot(f"d({head})/{_d(n[i])} = {row.formula(i, tuple(t), out)}", kids, i)
        if row is ops.POW and i == 1 and not xs[0] > 0:
            # where log(base) is undefined the engine takes a limit (flat at 0) or refuses
            if xs[0] == 0 and xs[1] > 0:
                steps.append((kid, f"{rule} = 0 (at {n[0]} = 0)", 0.0, 0.0, False))
                continue
            raise ValueError(
                f"d/d{n[1]} of {n[0]}**{n[1]} needs a positive base, but {n[0]} = {xs[0]}"
            )
        local = _partial(row, i, xs, node.data, kids)
        steps.append((kid, rule, float(local), local * g, True))
    return steps


def _partial(
    row: ops.Op, i: int, xs: tuple[float, ...], out: float, kids: tuple[Value, ...]
) -> float:
    """The row's local derivative d out / d xs[i]; a zero base to a negative power fails with
    the engine's message."""
    try:
        return row.partials[i](*xs, out)
    except ZeroDivisionError:
        if row is ops.POW and i == 0:
            _power(kids[0], xs[1] - 1, kids[1] if len(kids) == 2 else None)  # says what failed
        raise


def _dot_steps(kids: tuple[Value, ...], n: list[str], t: list[str], g: float) -> list[_Local]:
    """The fused neuron `b + Σ w·x`: d/db = 1, d/dw_i = x_i, d/dx_i = w_i (engine order)."""
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


def _head(row: ops.Op, t: list[str]) -> str:
    """The op inside `d(...)`: `a*b`, `a + b`, `a**k`, `tanh n`, `hypot(a, b)`."""
    if row.symbol is not None and len(t) == 2:
        gap = "" if row.symbol in _TIGHT else " "
        return f"{t[0]}{gap}{row.symbol}{gap}{t[1]}"
    if len(t) == 1:
        return f"{row.name} {t[0]}"
    return row.expression(*t)


_TIGHT = frozenset({"*", "/", "**"})  # written without spaces in a rule, as the lecture does


def _measured(
    node: Value, g: float, names: dict[int, str], totals: dict[int, float]
) -> list[_Local]:
    """Run a custom `_backward` closure on the side to see what it adds to each operand.

    The operands are given the running totals first, so the closure's own additions produce
    exactly the totals the engine gets; all grads are put back afterwards.
    """
    kids = node._prev
    saved = [k.grad for k in kids]
    saved_out = node.grad
    try:
        for k in kids:
            k.grad = totals[id(k)]
        node.grad = g
        _closure(node)()
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


def _expression(node: Value, names: dict[int, str]) -> str:
    """How `node` was computed, in its operands' names: `a * b`, `tanh(n)`, `b + w1·x1 + ...`."""
    kids = _children(node)
    n = [names[id(k)] for k in kids]
    t = [_term(x) for x in n]
    op = node._op
    if _closure(node) is None:
        if op == "dot" and len(t) % 2 == 1:
            m = len(t) // 2
            terms = [f"{t[i]}·{t[m + i]}" for i in range(1, m + 1)]
            shown = terms if m <= 3 else [*terms[:2], "...", terms[-1]]
            return " + ".join([t[0], *shown])
        if op.startswith("**") and len(t) == 1 and isinstance(node._b, (int, float)):
            return f"{t[0]}{op}"
        row = ops.TABLE.get(op)
        if row is not None and row.arity == len(t):
            return row.expression(*(t if row.symbol is not None else n))
    return f"{op or 'op'}({', '.join(n)})"


def _slot(rule: str, kids: tuple[Value, ...], i: int) -> str:
    """Say which operand a rule is about when the same value fills more than one of them."""
    if sum(k is kids[i] for k in kids) > 1:
        return f"{rule} (operand {i + 1} of {len(kids)})"
    return rule
