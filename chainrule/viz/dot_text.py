"""The graph picture as DOT text, written in pure Python (no graphviz package, no `dot` program).

`draw_dot` builds its picture with the graphviz Python package; an animation needs the same
picture as plain text that it can write again and again with other numbers in the boxes, and
that the browser playground can lay out with Graphviz compiled to WebAssembly (where neither the
package nor the program exists). `describe(root)` walks the graph once, as `draw_dot` does, and
`source(picture)` writes it; with `ids=False` the text is exactly `draw_dot(root).source`, so
the animation looks like the still picture. With `ids=True` (the default) every node and edge
carries an `id` attribute, which Graphviz copies into the SVG (`<g id="v3" class="node">`), so a
player can find the box of each value and the arrow of each edge.

Names: `v0`, `v1`, ... are the positions of the values in `topological_order` (as in
`draw_dot`), `v3op` is the oval of the op that made `v3`, and `e0`, `e1`, ... number the edges in
the order they are written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..autograd import topological_order
from ..value import _closure
from .adapters import Adapter, adapter_for
from .labels import number

__all__ = [
    "Box",
    "Drawing",
    "Edge",
    "GraphTooLargeError",
    "Oval",
    "Picture",
    "describe",
    "drawing_from_data",
    "quote",
    "source",
]

RANKDIRS = ("LR", "RL", "TB", "BT")


class GraphTooLargeError(ValueError):
    """The graph has more nodes than can be drawn readably (see `draw_dot`'s `max_nodes`)."""

    def __init__(self, count: int, limit: int, what: str = "values") -> None:
        self.count = count
        self.limit = limit
        super().__init__(
            f"the graph has {count} {what}, more than max_nodes={limit} can show readably; "
            "draw a part of it by passing the root of a sub-expression (for example one "
            "neuron's output), or pass force=True to draw it all"
        )


def _record_text(text: str) -> str:
    """Escape what a Graphviz record label treats as structure, so any label prints as typed."""
    text = text.replace("\\", "\\\\")
    for ch in '{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")


@dataclass(frozen=True)
class Box:
    """A value's record: `{ label | field | field ... }`."""

    id: str
    label: str  # the node's label, escaped for a record ('' when it has none)
    fields: tuple[str, ...]  # what the box shows after the label, as `adapter.fields` gives it
    op: str | None  # the id of the oval of the op that made this value, if drawn
    inputs: tuple[str, ...]  # the ids of the edges from its operands (into the oval or the box)


@dataclass(frozen=True)
class Oval:
    """The op that made a value, drawn as a small ellipse pointing into it."""

    id: str
    text: str  # the op's label as written (`*`, `tanh`, `Σ w·x + b`)
    result: str  # the id of the box it points into


@dataclass(frozen=True)
class Edge:
    id: str
    tail: str
    head: str
    label: str = ""


class Drawing:
    """The statements of a picture, in the order they are written, and the graph's direction."""

    def __init__(self, statements: list[Any], rankdir: str = "LR") -> None:
        self.rankdir = rankdir
        self.statements = statements  # Box, Oval and Edge
        self.boxes = {s.id: s for s in statements if isinstance(s, Box)}
        self.ovals = {s.id: s for s in statements if isinstance(s, Oval)}
        self.edges = [s for s in statements if isinstance(s, Edge)]
        self.edge = {e.id: e for e in self.edges}

    def owner(self, edge: Edge) -> str:
        """The box an edge belongs to: the one it points into, or the result of its oval."""
        return self.ovals[edge.head].result if edge.head in self.ovals else edge.head


class Picture(Drawing):
    """One walk of the graph: the statements of `draw_dot`, with the graph's nodes."""

    def __init__(
        self, root: Any, adapter: Adapter, order: list[Any], rankdir: str, statements: list[Any]
    ) -> None:
        super().__init__(statements, rankdir)
        self.root = root
        self.adapter = adapter
        self.order = order  # topological order: order[i] is drawn as box v{i}
        self.ids = {id(node): f"v{i}" for i, node in enumerate(order)}

    def box_of(self, node: Any) -> Box:
        return self.boxes[self.ids[id(node)]]


def drawing_from_data(data: Mapping[str, Any]) -> Drawing:
    """The statements again, from an animation's JSON data (its `nodes`, `ops` and `edges`),
    so that a frame can be written as DOT without the graph itself."""
    ovals = {o["id"]: Oval(o["id"], o["text"], o["result"]) for o in data["ops"]}
    owned: dict[str, list[Edge]] = {}
    for e in data["edges"]:
        edge = Edge(e["id"], e["tail"], e["head"], e.get("label", ""))
        head = e["head"]
        owned.setdefault(ovals[head].result if head in ovals else head, []).append(edge)
    statements: list[Any] = []
    for n in data["nodes"]:
        edges = owned.get(n["id"], [])
        inputs = tuple(e.id for e in edges if e.tail != n["op"])
        label = _record_text(n["label"])
        statements.append(Box(n["id"], label, tuple(n["fields"]), n["op"], inputs))
        if n["op"] is not None:
            statements.append(ovals[n["op"]])
        statements += edges
    return Drawing(statements, data.get("rankdir", "LR"))


def describe(
    root: Any,
    rankdir: str = "LR",
    max_nodes: int = 300,
    force: bool = False,
    *,
    unfused: bool = False,
) -> Picture:
    """Walk `root`'s graph as `draw_dot` does, with its checks and its size limit.

    With `unfused=True` each fused neuron (`chainrule.dot`, the `Σ w·x + b` node of the models
    in `chainrule.nn`) is drawn as the lecture's code computes it, `sum((wi*xi ...), b)`: one
    `*` per input and a chain of `+` starting from the bias (see `_unfused`).
    """
    adapter = adapter_for(root)
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    children = adapter.children
    order = topological_order(root, children)
    if len(order) > max_nodes and not force:
        raise GraphTooLargeError(len(order), max_nodes, adapter.kind)
    ids = {id(node): f"v{i}" for i, node in enumerate(order)}
    statements: list[Any] = []
    count = 0

    def edge(tail: str, head: str, label: str = "") -> Edge:
        nonlocal count
        made = Edge(f"e{count}", tail, head, label)
        count += 1
        return made

    for node in order:
        uid = ids[id(node)]
        label = _record_text(str(node.label)) if node.label else ""
        fields = tuple(adapter.fields(node))
        kids = children(node)
        if not kids:
            statements.append(Box(uid, label, fields, None, ()))
            continue
        if unfused and _fused_neuron(node, adapter):
            statements += _unfused(node, uid, label, fields, [ids[id(k)] for k in kids], edge)
            continue
        pending: list[Any] = []
        if node._op:
            op_id = f"{uid}op"
            pending += [Oval(op_id, adapter.op_label(node), uid), edge(op_id, uid)]
            into, op = op_id, op_id
        else:  # an op written by hand without a name: operands point straight at the result
            into, op = uid, None
        inputs = [
            edge(ids[id(kid)], into, text)
            for kid, text in zip(kids, adapter.edge_labels(node, kids))
        ]
        statements += [Box(uid, label, fields, op, tuple(e.id for e in inputs)), *pending, *inputs]
    return Picture(root, adapter, order, rankdir, statements)


def _fused_neuron(node: Any, adapter: Adapter) -> bool:
    """The engine's own `dot` node (bias, weights, inputs), not a custom op of that name."""
    kids = adapter.children(node)
    return (
        adapter.kind == "values"
        and node._op == "dot"
        and _closure(node) is None
        and len(kids) % 2 == 1
        and len(kids) > 1
    )


def _unfused(
    node: Any, uid: str, label: str, fields: tuple[str, ...], kid_ids: list[str], edge: Any
) -> list[Any]:
    """The fused neuron `b + Σ wᵢxᵢ` as the lecture's code builds it: a `*` box per input
    (`v7m1` = w1·x1, ...) and a chain of `+` boxes (`v7s1` = b + w1·x1, ...), the last of
    which is the node itself.

    These boxes exist only in the picture, and their numbers are exact all the same: each
    product and partial sum is computed in the engine's order (the fused node's value is the
    lecture's sum to the last bit), and each receives the node's own gradient, since d(sum)
    /d(term) is 1 for every term of a sum.
    """
    kids = node._a
    m = len(kids) // 2
    bias, weights, xs = kids[0], kids[1 : m + 1], kids[m + 1 :]
    grad = f"grad {number(node.grad)}"
    out: list[Any] = []
    total, total_id = bias.data, kid_ids[0]
    for i in range(1, m + 1):
        w_id, x_id = kid_ids[i], kid_ids[m + i]
        product = weights[i - 1].data * xs[i - 1].data
        p_id = f"{uid}m{i}"
        into_p = [edge(w_id, f"{p_id}op"), edge(x_id, f"{p_id}op")]
        p_fields = (f"data {number(product)}", grad)
        out += [
            Box(p_id, "", p_fields, f"{p_id}op", tuple(e.id for e in into_p)),
            Oval(f"{p_id}op", "*", p_id),
            edge(f"{p_id}op", p_id),
            *into_p,
        ]
        total = total + product
        last = i == m
        s_id = uid if last else f"{uid}s{i}"
        into_s = [edge(total_id, f"{s_id}op"), edge(p_id, f"{s_id}op")]
        shown = fields if last else (f"data {number(total)}", grad)
        out += [
            Box(s_id, label if last else "", shown, f"{s_id}op", tuple(e.id for e in into_s)),
            Oval(f"{s_id}op", "+", s_id),
            edge(f"{s_id}op", s_id),
            *into_s,
        ]
        total_id = s_id
    return out


def source(
    picture: Drawing,
    fields: Mapping[str, Sequence[str]] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    ids: bool = True,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
    graph_attrs: Mapping[str, str] | None = None,
) -> str:
    """The DOT text of `picture`: `draw_dot`'s source when `ids=False` and nothing else is given.

    `fields` replaces what some boxes show (box id -> the texts after the label), `labels`
    their labels (box id -> the text, escaped here); `attrs` adds
    attributes to nodes and edges by id (colours, positions); `graph_attrs` to the graph.
    """
    fields = fields or {}
    labels = {k: _record_text(v) for k, v in (labels or {}).items()}
    attrs = attrs or {}
    graph = {"rankdir": picture.rankdir, **(graph_attrs or {})}
    lines = [
        "digraph {",
        f"\tgraph [{_attr_list(None, graph)}]",
        "\tnode [fontname=Helvetica fontsize=11]",
        "\tedge [arrowsize=0.7 fontname=Helvetica fontsize=9]",
    ]
    for s in picture.statements:
        extra = dict(attrs.get(s.id, {}))
        if ids:
            extra["id"] = s.id
        if isinstance(s, Box):
            shown = " | ".join(_record_text(f) for f in fields.get(s.id, s.fields))
            label = f"{{ {labels.get(s.id, s.label)} | {shown} }}"
            lines.append(f"\t{s.id} [{_attr_list(label, {'shape': 'record', **extra})}]")
        elif isinstance(s, Oval):
            oval = {"height": "0.3", "shape": "ellipse", **extra}
            lines.append(f"\t{s.id} [{_attr_list(escape(s.text), oval)}]")
        else:
            text = escape(s.label) if s.label else None
            listed = _attr_list(text, extra)
            lines.append(f"\t{s.tail} -> {s.head}" + (f" [{listed}]" if listed else ""))
    return "\n".join(lines) + "\n}\n"


# -- quoting, as the graphviz package does it ---------------------------------------------------

_ID = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?))$")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_QUOTE = re.compile(r'(?P<backslashes>(?:\\{2})*)\\?(?P<quote>")')


def quote(text: str) -> str:
    """A DOT identifier: as it is when it is a plain name or number, else in double quotes (a
    quote inside, escaped or not, comes out escaped once)."""
    if _ID.match(text) and text.lower() not in _KEYWORDS:
        return text
    return '"' + _QUOTE.sub(r"\g<backslashes>\\\g<quote>", text) + '"'


def escape(text: str) -> str:
    """A label shown exactly as typed: Graphviz's own escapes (`\\n`, `\\l`) are disarmed."""
    return text.replace("\\", "\\\\")


def _attr_list(label: str | None, attrs: Mapping[str, str]) -> str:
    """`label=... key=value ...`: the label first, then the others sorted by name."""
    parts = [f"label={quote(label)}"] if label is not None else []
    parts += [f"{quote(k)}={quote(str(v))}" for k, v in sorted(attrs.items())]
    return " ".join(parts)
