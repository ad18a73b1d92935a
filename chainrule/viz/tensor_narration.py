"""The chain rule on tensors, narrated: every step with its formula and its shapes.

`explain(loss)` on a one-element Tensor walks the graph as `loss.backward()` does and writes one
step per edge, in the graph's own names::

    y = x @ W    (3, 2) float32
      dL/dx = dL/dy · Wᵀ    [(3, 4) = (3, 2)·(4, 2)ᵀ]
      dL/dW = xᵀ · dL/dy    [(4, 2) = (3, 4)ᵀ·(3, 2)]

An elementwise op of the table reads its row (`dL/dn = dL/dy ⊙ (1 - y**2)`), and where an
operand was broadcast the step says which axes its gradient is summed over to get its shape
back. The numbers are the engine's own: each node's local step is run on the side (every
gradient put back afterwards), so the totals are exactly what `backward()` leaves in `.grad`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import ops
from ..autograd import topological_order
from .adapters import SMALL, permutation, shape_text
from .explanation import Explanation, kept_note, places
from .labels import d as _d
from .labels import distinct_names, fmt, md, nested, term, written_order

__all__ = ["TensorExplanation", "TensorStep", "explain_tensor"]


@dataclass(frozen=True)
class TensorStep:
    """One edge of a tensor backward pass: `parent` hands part of its gradient to `child`."""

    root: str  # the output being differentiated (L in dL/dW)
    parent: str  # the tensor whose gradient is passed on
    child: str  # the operand that receives it
    op: str  # the parent's op: '@', 'linear', 'sum', '+', 'tanh', ...
    rule: str  # the step as an equation: 'dL/dW = xᵀ · dL/dy'
    shapes: str  # the same with shapes: '(4, 2) = (3, 4)ᵀ·(3, 2)'
    note: str  # how broadcasting or a reduction is undone; '' when there is nothing to add
    upstream: Any  # d root / d parent (an array of the parent's shape)
    local: Any  # a table op's local derivative, elementwise (an array); None for other ops
    contribution: Any  # what this step adds to the child's gradient (the child's shape)
    total: Any  # the child's gradient after this step
    index: int  # 1 for the child's first contribution, 2 for its second, ...
    count: int  # how many contributions the child receives in all

    def formula(self, digits: int = 4) -> str:
        """`dL/dW = xᵀ · dL/dy    [(4, 2) = (3, 4)ᵀ·(3, 2)]    → values`."""
        return f"{self.rule}    [{self.shapes}]    → {show(self.contribution, digits)}"

    def __str__(self) -> str:
        return self.formula() + (f"    ({self.note})" if self.note else "")


class TensorExplanation(Explanation):
    """The narration of one tensor backward pass: `steps` (TensorStep), `grads` (name ->
    array), `grad(tensor)`, `contributions(tensor)`; `str()` gives the text."""

    def __init__(
        self, *args: Any, shapes: dict[str, str], constants: list[str], kept: list[str]
    ) -> None:
        super().__init__(*args, kept=kept)
        self._shapes = shapes  # name -> '(3, 2) float32'
        self._constants = constants  # operands that need no gradient, as 'x (3, 4) float32'

    def __repr__(self) -> str:
        return (
            f"<Explanation of {self.root}: {len(self.steps)} steps over {len(self.grads)} tensors>"
        )

    def _output_line(self) -> str:
        r = _d(self.root)
        return f"{r}/{r} = 1  (the output itself, {self._shapes[self.root]})"

    def format(self, digits: int = 4) -> str:
        r = _d(self.root)
        lines = [
            f"How {self.root} depends on each tensor, by the chain rule "
            f"({len(self.steps)} steps, from the output back to the inputs):",
        ]
        if self._constants:
            lines.append("operands that need no gradient: " + ", ".join(self._constants))
        lines += ["", self._output_line()]
        parent = None
        for step in self.steps:
            if step.parent != parent:
                parent = step.parent
                lines.append(f"{self._headers[parent]}    {self._shapes[parent]}")
            lines.append(f"  {step.formula(digits)}")
            if step.note:
                lines.append(f"      {step.note}")
            if step.count > 1 and step.index == step.count:
                lines.append(
                    f"  {r}/{_d(step.child)} = the sum of {step.count} contributions "
                    f"→ {show(step.total, digits)}    ({step.child} is used {step.count} times)"
                )
        if not self.steps:
            lines.append(f"{self.root} was not computed from other tensors: nothing to pass back.")
            return "\n".join(lines)
        leaves = [s for s in self.steps if s.index == s.count and s.child not in self._headers]
        if leaves:
            lines += ["", "the gradients of the inputs:"]
            for s in leaves:
                lines.append(f"  {r}/{_d(s.child)} = {show(s.total, digits)}")
        if self._kept:
            lines += ["", kept_note(self._kept)]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        rows = [
            f"**How {md(self.root)} depends on each tensor** ({len(self.steps)} chain-rule steps)",
            "",
            "| # | chain rule | shapes | contribution |",
            "|---|---|---|---|",
        ]
        for i, s in enumerate(self.steps, 1):
            rows.append(f"| {i} | `{md(s.rule)}` | `{md(s.shapes)}` | {md(show(s.contribution))} |")
        return "\n".join(rows)


def explain_tensor(root: Any, backward: bool = True) -> TensorExplanation:
    """Narrate the backward pass from the one-element Tensor `root` (see `explain`)."""
    import numpy as np

    if root.data.size != 1:
        raise ValueError(
            f"explain needs a one-element output (a loss), got a tensor of shape {root.shape}: "
            "explain y.sum() (or y.mean()) instead"
        )
    grad_order = topological_order(root, _edges) if root.requires_grad else [root]
    everything = written_order(root, _operands)  # names are numbered in the order of the code
    numbers = {id(t): _as_number(t) if t is not root else None for t in everything}
    names = distinct_names([t for t in everything if numbers[id(t)] is None], root)
    shown = {id(t): numbers[id(t)] or names[id(t)] for t in everything}
    step_of = _engine_step()
    totals: dict[int, Any] = {id(root): np.ones(root.data.shape, root.data.dtype)}
    raw: list[tuple[Any, Any, str, str, str, Any, Any, Any, Any]] = []
    headers: dict[str, str] = {}
    for node in reversed(grad_order):
        g = totals.get(id(node))
        if not node._op or g is None:
            continue
        headers[names[id(node)]] = f"{names[id(node)]} = {_expression(node, shown)}"
        kids = _distinct(node._prev)
        for kid, got in zip(kids, _measure(node, g, kids, step_of)):
            if got is None:
                continue
            old = totals.get(id(kid))
            totals[id(kid)] = got if old is None else old + got
            rhs, shapes, note = _describe(node, kid, shown, _d_of(names[id(root)], names, node))
            local = _local(node, kid)
            raw.append((node, kid, rhs, shapes, note, g, local, got, totals[id(kid)]))
    root_name = names[id(root)]
    steps = _steps(raw, names, root_name)
    grads = {names[id(t)]: totals[id(t)] for t in grad_order if id(t) in totals}
    kept: list[str] = []
    if backward and root.requires_grad:
        if all(t.grad is None or not np.any(t.grad) for t in grad_order):
            root.backward()  # a fresh graph: its gradients, as backward() leaves them
        else:  # gradients the user has are kept; say which differ from this pass's
            kept = [
                f"{names[id(t)]}.grad is {show(t.grad)}, not {show(totals[id(t)])}"
                for t in everything
                if id(t) in totals and not _same(t.grad, totals[id(t)])
            ]
    described = {
        names[id(t)]: f"{shape_text(t.shape)} {t.dtype}" for t in everything if id(t) in names
    }
    constants = [
        f"{names[id(t)]} {described[names[id(t)]]}"
        for t in everything
        if not t.requires_grad and id(t) in names and t is not root
    ]
    return TensorExplanation(
        root_name, steps, names, grads, headers, shapes=described, constants=constants, kept=kept
    )


def _same(grad: Any, total: Any) -> bool:
    import numpy as np

    return grad is not None and np.array_equal(grad, total, equal_nan=True)


def _steps(raw: list[tuple[Any, ...]], names: dict[int, str], root_name: str) -> list[TensorStep]:
    """The steps, each knowing how many contributions its operand receives in all."""
    steps = []
    r = _d(root_name)
    at = places([id(kid) for _, kid, *_rest in raw])
    for (node, kid, rhs, shapes, note, g, local, got, total), (index, count) in zip(raw, at):
        sign = "=" if index == 1 else "+="
        steps.append(
            TensorStep(
                root=root_name,
                parent=names[id(node)],
                child=names[id(kid)],
                op=node._op,
                rule=f"{r}/{_d(names[id(kid)])} {sign} {rhs}",
                shapes=shapes,
                note=note,
                upstream=g,
                local=local,
                contribution=got,
                total=total,
                index=index,
                count=count,
            )
        )
    return steps


# -- the engine's numbers ------------------------------------------------------------------------


def _edges(t: Any) -> tuple[Any, ...]:
    return t._prev  # the operands that need a gradient: what backward() walks


def _operands(t: Any) -> tuple[Any, ...]:
    return t._args  # every operand, constants included: what the formulas name


def _engine_step() -> Any:
    """The Tensor engine's one-node chain-rule step (imported here: it needs numpy)."""
    from ..tensor.rules import local_step

    return local_step


def _measure(node: Any, g: Any, kids: list[Any], step: Any) -> list[Any]:
    """Run the engine's step for `node` with gradient `g` and read what each operand receives;
    every `.grad` is put back afterwards."""
    saved = [k.grad for k in kids]
    saved_out = node.grad
    try:
        for k in kids:
            k.grad = None
        node.grad = g
        step(node)
        return [k.grad for k in kids]
    finally:
        for k, v in zip(kids, saved):
            k.grad = v
        node.grad = saved_out


def _local(node: Any, kid: Any) -> Any:
    """A table op's local derivative d node / d kid (summed over the slots kid fills)."""
    row = ops.TABLE.get(node._op)
    if row is None or row.arity != len(node._args):
        return None
    import numpy as np

    xs = [a.data for a in node._args]
    total = None
    with np.errstate(all="ignore"):
        for i, a in enumerate(node._args):
            if a is kid:
                part = np.asarray(row.partials[i](*xs, node.data))
                total = part if total is None else total + part
    return total


# -- the formulas --------------------------------------------------------------------------------


def _d_of(root: str, names: dict[int, str], node: Any) -> str:
    """What arrives at `node`: dL/dnode, or 1 at the output itself (`dL/dy = 1, copied ...`
    rather than the circular `dL/dy = dL/dL, copied ...`)."""
    if names[id(node)] == root:
        return "1"
    return f"{_d(root)}/{_d(names[id(node)])}"


def _describe(node: Any, kid: Any, shown: dict[int, str], G: str) -> tuple[str, str, str]:
    """(right-hand side, shapes, note) of the step from `node` into `kid`; a kid filling
    several operand slots gets the sum of their terms."""
    slots = [i for i, a in enumerate(node._args) if a is kid]
    parts = [_slot(node, i, shown, G) for i in slots]
    rhs = " + ".join(p[0] for p in parts)
    return rhs, parts[0][1], parts[0][2]


def _slot(node: Any, i: int, shown: dict[int, str], G: str) -> tuple[str, str, str]:
    op, args, ctx = node._op, node._args, node._ctx
    kid = args[i]
    x = term(shown[id(kid)])
    out, ks = node.shape, kid.shape
    back = shape_text(ks) if ks == out else f"{shape_text(ks)} ← {shape_text(out)}"
    row = ops.TABLE.get(op)
    if row is not None and row.arity == len(args):
        return _elementwise(node, row, i, shown, G)
    if op == "@":
        return _matmul(node, i, shown, G)
    if op == "linear":
        return _linear(node, i, shown, G)
    if op in ("sum", "mean"):
        axis = ctx[0]
        where = "to every element" if axis is None else f"along axis {axis}"
        scale = f" / {ctx[2]}" if op == "mean" else ""
        return f"{G}{scale}, copied {where} of {x}", back, ""
    if op == "max":
        where = "" if ctx[0] is None else f" along axis {ctx[0]}"
        rhs = f"{G} at the maxima of {x}{where} (shared between ties), 0 elsewhere"
        return rhs, back, ""
    if op == "reshape":
        return f"{G} reshaped to {shape_text(ks)}", back, ""
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
        s = term(shown[id(node)])
        return f"{s} ⊙ ({G} - Σ {G} ⊙ {s})", back, f"Σ runs over axis {ctx}"
    if op == "log_softmax":
        return f"{G} - softmax({x}) ⊙ Σ {G}", back, f"Σ runs over axis {ctx}"
    if op == "cross_entropy":
        labels, reduction = ctx[0], ctx[3]
        per = f" / {max(labels.size, 1)}" if reduction == "mean" and labels.ndim else ""
        times = "⊙" if reduction == "none" else "·"
        by = "" if G == "1" else f" {times} {G}"
        return f"(softmax({x}) - onehot(labels)){by}{per}", back, ""
    if op == "bce_with_logits":
        labels, reduction = ctx
        per = f" / {max(labels.size, 1)}" if reduction == "mean" else ""
        by = "" if G == "1" else f" ⊙ {G}"
        return f"(sigmoid({x}) - labels){by}{per}", back, ""
    return f"the engine's rule for {op!r} applied to {G}", back, ""


def _elementwise(
    node: Any, row: ops.Op, i: int, shown: dict[int, str], G: str
) -> tuple[str, str, str]:
    names = tuple(term(shown[id(a)]) for a in node._args)
    local = row.formula(i, names, term(shown[id(node)]))
    if local == "1":
        rhs = G
    elif local == "-1":
        rhs = f"-{G}"
    elif G == "1":  # the output's own step: its local derivative alone
        rhs = local
    else:
        rhs = f"{G} ⊙ {local if _atom(local) else f'({local})'}"
    kid = node._args[i]
    axes = broadcast_axes(kid.shape, node.shape)
    if not axes:
        return rhs, shape_text(kid.shape), ""
    shapes = f"{shape_text(kid.shape)} ← {shape_text(node.shape)}"
    which = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"
    note = (
        f"{shown[id(kid)]} was broadcast: its gradient is summed over {which} "
        f"back to its shape {shape_text(kid.shape)}"
    )
    return rhs, shapes, note


def _matmul(node: Any, i: int, shown: dict[int, str], G: str) -> tuple[str, str, str]:
    a, b = node._args
    A, B = term(shown[id(a)]), term(shown[id(b)])
    sa, sb, sg = shape_text(a.shape), shape_text(b.shape), shape_text(node.shape)
    if a.ndim == 1 and b.ndim == 1:  # a dot product: a number times the other vector
        return (
            (f"{G} · {B}", f"{sa} = {sg}·{sb}", "")
            if i == 0
            else (f"{G} · {A}", f"{sb} = {sg}·{sa}", "")
        )
    if a.ndim == 2 and b.ndim == 1:  # matrix times vector: the matrix gets an outer product
        return (
            (f"{G} ⊗ {B}", f"{sa} = {sg}⊗{sb}", "")
            if i == 0
            else (f"{A}ᵀ · {G}", f"{sb} = {sa}ᵀ·{sg}", "")
        )
    if a.ndim == 1 and b.ndim == 2:
        return (
            (f"{B} · {G}", f"{sa} = {sb}·{sg}", "")
            if i == 0
            else (f"{A} ⊗ {G}", f"{sb} = {sa}⊗{sg}", "")
        )
    note = ""
    if a.ndim != 2 or b.ndim != 2:
        note = "batch axes that were broadcast are summed back to the operand's shape"
    if i == 0:
        return f"{G} · {B}ᵀ", f"{sa} = {sg}·{sb}ᵀ", note
    return f"{A}ᵀ · {G}", f"{sb} = {sa}ᵀ·{sg}", note


def _linear(node: Any, i: int, shown: dict[int, str], G: str) -> tuple[str, str, str]:
    x, W = node._args[0], node._args[1]
    X, Wn = term(shown[id(x)]), term(shown[id(W)])
    out = node.shape
    rows = 1
    for n in out[:-1]:
        rows *= n
    flat = shape_text((rows, out[-1]))
    xflat = shape_text((rows, x.shape[-1]))
    note = "" if len(out) == 2 else f"the batch axes are flattened into one ({rows} rows)"
    if i == 0:
        return f"{G} · {Wn}", f"{shape_text(x.shape)} = {shape_text(out)}·{shape_text(W.shape)}", ""
    if i == 1:
        return f"({G})ᵀ · {X}", f"{shape_text(W.shape)} = {flat}ᵀ·{xflat}", note
    bias = node._args[2]
    return f"{G} summed over the batch", f"{shape_text(bias.shape)} ← {flat}", note


def broadcast_axes(small: tuple[int, ...], big: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of `big` that broadcasting added to or stretched from `small`."""
    extra = len(big) - len(small)
    stretched = (extra + j for j, n in enumerate(small) if n == 1 and big[extra + j] != 1)
    return (*range(extra), *stretched)


def _expression(node: Any, shown: dict[int, str]) -> str:
    """How a tensor was computed, in its operands' names: `x @ W`, `tanh(h)`, `sum(y, axis=0)`."""
    op, args, ctx = node._op, node._args, node._ctx
    n = [shown[id(a)] for a in args]
    t = [term(v) for v in n]
    row = ops.TABLE.get(op)
    if row is not None and row.arity == len(args):
        return row.expression(*(t if row.symbol is not None else n))
    if op == "@":
        return f"{t[0]} @ {t[1]}"
    if op == "linear":
        return f"{t[0]} · {t[1]}ᵀ" + (f" + {t[2]}" if len(t) == 3 else "")
    if op in ("sum", "mean", "max") and isinstance(ctx, tuple):
        axis = "" if ctx[0] is None else f", axis={ctx[0]}"
        return f"{op}({n[0]}{axis}{', keepdims=True' if ctx[1] else ''})"
    if op == "reshape":
        return f"{t[0]}.reshape{shape_text(node.shape)}"
    if op == "permute":
        forward = permutation(ctx)
        return f"{t[0]}ᵀ" if forward == (1, 0) else f"{t[0]}.permute{forward}"
    if op == "index":
        parts = ctx if isinstance(ctx, tuple) else (ctx,)
        return f"{t[0]}[{', '.join(_index_part(p) for p in parts)}]"
    if op in ("softmax", "log_softmax"):
        return f"{op}({n[0]}, axis={ctx})"
    if op in ("cross_entropy", "bce_with_logits"):
        return f"{op}({n[0]}, labels)"
    return f"{op}({', '.join(n)})"


def _index_part(p: Any) -> str:
    """One part of an index as it was typed: `1:3`, `::2`, `0`, `...`; an array as `[...]`."""
    if isinstance(p, slice):
        text = ":".join("" if v is None else str(v) for v in (p.start, p.stop, p.step))
        return text[:-1] if p.step is None else text
    if p is Ellipsis:
        return "..."
    if p is None or isinstance(p, int) or getattr(p, "ndim", None) == 0:
        return str(p)
    return "[...]"


# -- names and numbers ---------------------------------------------------------------------------


def _as_number(t: Any) -> str | None:
    """An unlabeled one-number constant (`x * 2.0`) is written as its value, not a name."""
    if t.label or t.requires_grad or t._op or t.data.size != 1:
        return None
    value = t.data.item()
    return fmt(value, 6) if isinstance(value, float) else str(value)


def show(array: Any, digits: int = 4) -> str:
    """An array in a line: every number when it is small, else mean, min and max."""
    if array is None:
        return "None"
    if array.size <= SMALL:
        return nested(array.tolist(), lambda v: fmt(v, digits))
    values = array.astype(float)
    return (
        f"mean {fmt(values.mean(), digits)}, min {fmt(values.min(), digits)}, "
        f"max {fmt(values.max(), digits)}"
    )


def _atom(text: str) -> bool:
    return term(text) == text


def _distinct(kids: tuple[Any, ...]) -> list[Any]:
    seen: set[int] = set()
    return [k for k in kids if not (id(k) in seen or seen.add(id(k)))]
