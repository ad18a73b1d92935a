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
from .adapters import Adapter, adapter_for
from .dot import GraphTooLargeError, _record_text

__all__ = [
    "Box",
    "Drawing",
    "Edge",
    "Oval",
    "Picture",
    "describe",
    "drawing_from_data",
    "quote",
    "source",
]

RANKDIRS = ("LR", "RL", "TB", "BT")


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


def describe(root: Any, rankdir: str = "LR", max_nodes: int = 300, force: bool = False) -> Picture:
    """Walk `root`'s graph as `draw_dot` does, with its checks and its size limit."""
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
