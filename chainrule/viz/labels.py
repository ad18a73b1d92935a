"""Names and numbers as the pictures and the narrations write them, for both engines.

Nothing here knows an engine: a node is anything with a `label`, and numbers are Python floats
(an array is turned into nested lists of floats by the caller's adapter first).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["distinct_names", "written_order", "d", "term", "num", "fmt", "md", "number", "nested"]


def written_order(root: Any, children: Callable[[Any], Sequence[Any]]) -> list[Any]:
    """Every node `root` depends on, each after its operands, the operands in the order they
    were written (the lecture's recursive `build_topo`, with a stack): the order to number
    unnamed values in, so that `x1*w1` is #1 when it was written before `x2*w2`."""
    seen = {id(root)}
    order: list[Any] = []
    stack = [(root, iter(children(root)))]
    while stack:
        node, kids = stack[-1]
        for kid in kids:
            if id(kid) not in seen:
                seen.add(id(kid))
                stack.append((kid, iter(children(kid))))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def distinct_names(order: Sequence[Any], root: Any) -> dict[int, str]:
    """A distinct name per node: its label; `x#2` for a repeated label; #1, #2, ... otherwise.

    An unlabeled output is called L (the lecture's name for the loss) unless that is taken. The
    other unlabeled nodes are numbered `#1`, `#2`, ...: a form no Python variable has, so it
    cannot be mistaken for one of the user's labels (`n1` beside the lecture's own `n` reads as
    a relative of `n`); a label that happens to be `#3` is skipped over all the same.
    Numbering follows the order given, so the same graph always gets the same names.
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
            while f"#{counter}" in labels:
                counter += 1
            names[id(node)] = f"#{counter}"
    return names


def _simple(name: str) -> bool:
    """A name that needs no parentheses after a `d`: an identifier, `x#2`, or `#3`."""
    base = name.split("#", 1)[0]
    return base.isidentifier() or (base == "" and name[1:].isdigit())


def d(name: str) -> str:
    """`d` followed by a name, as in dL/da; names that are expressions get parentheses."""
    return f"d{name}" if _simple(name) else f"d({name})"


def term(name: str) -> str:
    """A name inside a formula: parenthesised when it is itself an expression (`x1*w1`)."""
    return name if _simple(name) or _is_number(name) else f"({name})"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return not text.startswith("-")


def num(k: float) -> str:
    """An exponent as it reads in the op: 2 rather than 2.0."""
    return str(int(k)) if isinstance(k, float) and k.is_integer() else str(k)


def fmt(x: float, digits: int) -> str:
    """A number to `digits` significant digits, always with a decimal point: 6.0, -0.5, 1e-05."""
    x = float(x)
    if not math.isfinite(x):
        return repr(x)
    short = f"{x:.{digits}g}"
    return short if "e" in short else repr(float(short))


def number(x: float) -> str:
    """4 decimals as in the lecture's pictures; scientific notation where that would print
    30 digits."""
    x = float(x)
    return f"{x:.4f}" if abs(x) < 1e9 or x != x else f"{x:.4e}"


def nested(values: Any, show: Any) -> str:
    """Nested lists (an array's `tolist()`) written with `show` for each number: [[1, 2]]."""
    if isinstance(values, list):
        return "[" + ", ".join(nested(v, show) for v in values) + "]"
    return show(values)


def md(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|")
