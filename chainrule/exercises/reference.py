"""chainrule's own engine as the reference: what a probe should give, and the chain-rule
steps that give it, narrated by `explain`.

Only numbers and narration leave this module: a report shows the lecture's formulas
(`d(a*b)/da = b`), never the reference engine's code.
"""

from __future__ import annotations

from ..value import Value
from ..viz import explain
from .probes import DEEP, UPSTREAM, Case, Observed, build

__all__ = ["narrate", "reference", "reference_graph"]


def reference_graph(case: Case, via: str) -> dict[str, Value]:
    """`case` built with chainrule's Value, every value labeled with its name, after the
    backward pass `via` says (a `local` step from out.grad = UPSTREAM, or backward())."""
    env = build(case, lambda name, x: Value(x, label=name))
    for name, v in env.items():
        v.label = name
    out = env[case.output]
    if via == "local":
        out.grad = UPSTREAM
        out._backward()
    elif via in ("backward", "twice", "zero_grad"):
        out.backward()
        if via == "twice":
            out.backward()
    return env


def reference(case: Case, via: str) -> Observed:
    """What chainrule's engine gives on `case`, run the `via` way."""
    env = reference_graph(case, via)
    return Observed(
        data={k: float(v.data) for k, v in env.items()},
        grad={k: float(v.grad) for k, v in env.items()},
        via=via,
    )


def narrate(case: Case, via: str, node: str) -> list[str]:
    """The chain-rule steps that give `node` its gradient, as `explain` writes them."""
    if case.program[-1].op == "chain":
        return [
            f"d{case.output}/d{node} = {case.program[-1].args[1]}^{DEEP:,} "
            f"(one factor per link of the chain)"
        ]
    env = build(case, lambda name, x: Value(x, label=name))
    for name, v in env.items():
        v.label = name
    root = env[case.output]
    if via == "local":  # out.grad set by hand: narrate it as the gradient arriving from above
        root = root * UPSTREAM
    ex = explain(root, backward=False)
    steps = [s for s in ex.steps if s.child == node]
    lines = [f"{s.formula()}    {s.rule}" for s in steps]
    if len(steps) > 1:
        parts = " + ".join(f"{c:g}" for c in ex.contributions(node))
        lines.append(
            f"d{ex.root}/d{node} = {parts} = {ex.grad(node):g}    "
            f"({node} is used {len(steps)} times: the contributions add up)"
        )
    if node == case.output and via != "local":
        lines.append(f"d{node}/d{node} = 1.0    (backward() starts here: the output's own slope)")
    if via == "twice":
        lines.append("called twice, backward() adds the same again: the leaves' gradients double")
    if via == "zero_grad":
        lines.append("zero_grad() cleared it, so the second backward() gives the same as one")
    return lines
