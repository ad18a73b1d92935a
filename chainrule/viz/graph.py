"""Pictures of a computation graph, for both engines: one walk, its boxes, and its DOT text.

`draw_dot(root)` returns a `graphviz.Digraph`; Jupyter shows it inline by itself, and
`save_graph(root, "graph.svg")` writes it to a file (SVG, PNG or PDF by the extension, or the
DOT source itself for `.dot`/`.gv`). The picture is the lecture's: a record per node
`{ label | data 1.2345 | grad 0.5000 }`, a small oval per op pointing into its result, and an
arrow from each operand into that op.

A Value is a node of shape `()`: its box holds one number. A Tensor's box first says its shape
and dtype, read from its data, `{ W | (3, 2) float32 | data ... | grad ... }`, with every number
of a tensor of at most six elements and `mean, min, max` of a larger one. An op's oval reads as
the op table (`chainrule.ops`) writes the op: `+`, `*`, `tanh`, a user's `define_op` name; the
engines' own ops read `Σ w·x + b` (the fused neuron), `@`, `x·Wᵀ + b`, `sum axis=1`, ...

Read top to bottom, this module is what `animation_data` and `draw_dot` do in turn:

1. `Walk(root)` walks the graph once: `order` (children before parents, as `backward()` walks
   it) and `written` (the order the code wrote the values in). The narration and the animation
   are handed the same walk: the order is never computed twice.
2. `describe(root)` turns the walk into statements: a `Box` per node, an `Oval` per op, an
   `Edge` per arrow. Names: `v0`, `v1`, ... are positions in `order` (so the same graph always
   gives the same text, where ids would change from run to run), `v3op` is the oval of the op
   that made `v3`, `e0`, `e1`, ... number the arrows in the order they are written.
3. `source(picture)` writes the statements as DOT text in pure Python (no graphviz package, no
   `dot` program): the animation writes it again and again with other numbers in the boxes, and
   the browser playground lays it out with Graphviz compiled to WebAssembly. With `ids=False`
   it is exactly `draw_dot(root).source`, so a still picture and every frame are the same graph.
4. `draw_dot` hands the same statements to the graphviz package; `save_graph` renders them.

Differences from the lecture's helper, and why:

* The walk is iterative (`chainrule.autograd.topological_order`), so a deep graph does not hit
  Python's recursion limit.
* An operand used twice (`a + a`) gets two arrows: the picture shows the reuse that makes
  `a.grad` the sum of two contributions.
* `draw_dot(root, unfused=True)` draws each fused neuron of `chainrule.nn` (one `Σ w·x + b`
  node) as the lecture's code computes it, one `*` and one `+` per input, so an MLP's picture
  is the one in the video.
* Graphs too large to read are refused with the count and what to do instead, because dot
  takes minutes on thousands of nodes and the picture would be unreadable anyway.
* The `dot` program is a system package separate from the Python one; when it is missing the
  error says how to install it, and the DOT source is still saved next to the requested file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import ops
from ..autograd import topological_order
from ..engines import Engine, engine_of
from ..extras import require
from ..files import write_bytes
from ..value import Fused

if TYPE_CHECKING:  # graphviz is optional: imported only when drawing
    import graphviz

__all__ = ["Walk", "describe", "draw_dot", "graph_size", "op_label", "save_graph", "source"]

# File extension -> graphviz output format. `.dot`/`.gv` save the source and need no binary.
SAVE_FORMATS = {f".{f}": f for f in ("svg", "png", "pdf", "dot")} | {".gv": "dot"}
RANKDIRS = ("LR", "RL", "TB", "BT")
SMALL = 6  # an array of at most this many numbers is shown whole
INSTALL_HINT = (
    "install Graphviz, which provides the 'dot' program (Debian/Ubuntu: sudo apt-get install "
    "graphviz; macOS: brew install graphviz; conda: conda install graphviz)"
)


class GraphTooLargeError(ValueError):
    """The graph has more nodes than can be drawn readably (see `draw_dot`'s `max_nodes`).

    Args:
        count: How many nodes the graph has.
        limit: The `max_nodes` it exceeds.
        what: What the nodes are, for the message ('values', 'tensors').

    Examples:
        >>> from chainrule import Value, draw_dot
        >>> x = Value(1.0)
        >>> for _ in range(5):
        ...     x = x * 2
        >>> draw_dot(x, max_nodes=3)
        Traceback (most recent call last):
        ...
        chainrule.viz.graph.GraphTooLargeError: the graph has 11 values, more than max_nodes=3 ...
    """

    def __init__(self, count: int, limit: int, what: str = "values") -> None:
        self.count, self.limit = count, limit
        super().__init__(
            f"the graph has {count} {what}, more than max_nodes={limit} can show readably; "
            "draw a part of it by passing the root of a sub-expression (for example one "
            "neuron's output), or pass force=True to draw it all"
        )


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz `dot` program is not installed; the DOT source was saved instead.

    Args:
        target: The picture that could not be drawn.
        source_path: Where the DOT source was saved.
    """

    def __init__(self, target: Path, source_path: Path) -> None:
        self.target, self.source_path = target, source_path
        fmt = SAVE_FORMATS[target.suffix.lower()]
        super().__init__(
            f"cannot draw {target}: the Graphviz 'dot' program was not found; {INSTALL_HINT}. "
            f"The graph's DOT source was saved to {source_path} "
            f"(render it later with: dot -T{fmt} {source_path} -o {target})"
        )


# -- numbers as the pictures write them ----------------------------------------------------------


def number(x: Any) -> str:
    """Write a number with 4 decimals, as the lecture's pictures do.

    Scientific notation where 4 decimals would print 30 digits.
    """
    x = float(x)
    return f"{x:.4f}" if abs(x) < 1e9 or x != x else f"{x:.4e}"


def nested(values: Any, show: Callable[[Any], str]) -> str:
    """Write nested lists (an array's `tolist()`) with `show` for each number: [[1, 2]]."""
    if isinstance(values, list):
        return "[" + ", ".join(nested(v, show) for v in values) + "]"
    return show(values)


def summary(x: Any, show: Callable[[Any], str] = number, sep: str = " ") -> str:
    """Write a number as `show` writes it, and an array in a few characters.

    An array shows every number when it has at most six, else its mean, min and max (a large
    mask: how many are true). numpy itself is never imported here: the array brings its own
    methods.
    """
    if engine_of(x) is not None:  # a gradient recorded as a node (create_graph=True)
        x = x.data
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    if kind is None:
        return show(x)
    if x.size == 0:
        return "(empty)"
    if kind == "b" and x.size > SMALL:
        return f"{int(x.sum())} of {x.size} true"
    if x.size <= SMALL:
        return nested(x.tolist(), show if kind == "f" else str)
    v = x.astype(float)
    return f"mean {show(v.mean())}{sep}min {show(v.min())}{sep}max {show(v.max())}"


def shape_text(node: Any) -> str:
    """Write `(3, 2) float32` for a node that holds an array; '' for one holding a number."""
    dtype = getattr(node.data, "dtype", None)
    return "" if dtype is None else f"{tuple(node.shape)} {dtype}"


def box_fields(node: Any) -> list[str]:
    """List what a node's box shows after its label: its shape (for an array), data and grad.

    A Tensor's grad is None until a backward pass reaches it, and a tensor that needs no
    gradient (the data) never has one.
    """
    if node.grad is not None:
        grad = f"grad {summary(node.grad)}"
    else:
        grad = "grad None" if node.requires_grad else "needs no grad"
    head = shape_text(node)
    return [head] * bool(head) + [f"data {summary(node.data)}", grad]


# -- 1. the walk ---------------------------------------------------------------------------------


def engine(node: Any) -> Engine:
    """Find the engine of `node`, or raise a TypeError saying what a picture needs."""
    found, what = engine_of(node), "the Value or Tensor at the end of a computation"
    if found is None:
        raise TypeError(f"expected {what}, got {type(node).__name__} {node!r}")
    return found


class Walk:
    """One walk of the graph that ends at `root`, shared by its picture, narration and animation.

    `order` lists every node `root` depends on, each after its operands, as the engine's own
    `backward()` lists them: `topological_order` over every operand. (A Tensor's constants are
    operands that `backward()` does not walk; being leaves, each is listed the moment it is
    met, so leaving them out gives `backward()`'s own order, which the narration needs to add
    up gradients in the engine's order, to the last bit.) `written` is the lecture's
    `build_topo`: operands in the order they were written, so that
    `x1*w1` is named and shown before `x2*w2`.

    Args:
        root: The Value or Tensor at the end of the computation.
        max_nodes: Refuse a graph of more nodes than this; None for no limit.
        force: Walk a graph of any size.

    Raises:
        GraphTooLargeError: The graph has more than `max_nodes` nodes.
        TypeError: `root` is not a Value or a Tensor.
        ValueError: `max_nodes` is not a positive whole number.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.viz.graph import Walk
        >>> a, b = Value(2.0, label="a"), Value(3.0, label="b")
        >>> c = a * b
        >>> c.label = "c"
        >>> walk = Walk(c)
        >>> [n.label for n in walk.order], [n.label for n in walk.written]
        (['b', 'a', 'c'], ['a', 'b', 'c'])
    """

    def __init__(self, root: Any, max_nodes: int | None = None, force: bool = False) -> None:
        if max_nodes is not None and (type(max_nodes) is not int or max_nodes < 1):
            raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
        self.root, self.engine = root, engine(root)
        self.operands: Callable[[Any], tuple[Any, ...]] = self.engine.operands
        self.order: list[Any] = topological_order(root, self.operands)
        if max_nodes is not None and len(self.order) > max_nodes and not force:
            what = f"{self.engine.kind.lower()}s"
            raise GraphTooLargeError(len(self.order), max_nodes, what)
        self.written = written_order(root, self.operands)


def written_order(root: Any, children: Callable[[Any], Iterable[Any]]) -> list[Any]:
    """Order the nodes as the lecture's recursive `build_topo` does, without recursion.

    Each node comes after its operands, the operands in the order they were written: the
    engine's walk (`topological_order`), which takes the last operand first, given them in
    reverse.
    """
    return topological_order(root, lambda node: reversed(tuple(children(node))))


def graph_size(root: Any) -> int:
    """Count the nodes `root` depends on, itself included (what `max_nodes` limits).

    A Tensor graph counts its constants too, as the picture shows them.

    Args:
        root: The Value or Tensor at the end of the computation.

    Returns:
        The number of nodes.

    Raises:
        TypeError: `root` is not a Value or a Tensor.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.viz import graph_size
        >>> a = Value(2.0)
        >>> graph_size(a * a + 1)  # a, a*a, the constant 1, the sum
        4
    """
    return len(Walk(root).order)


# -- 2. the statements of the picture -----------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A node's record: `{ label | field | field ... }`."""

    id: str
    label: str  # the node's label, escaped for a record ('' when it has none)
    fields: tuple[str, ...]  # what the box shows after the label (`box_fields`)
    op: str | None  # the id of the oval of the op that made this node, if drawn
    inputs: tuple[str, ...]  # the ids of the edges from its operands (into the oval or the box)


@dataclass(frozen=True)
class Oval:
    """The op that made a node, drawn as a small ellipse pointing into it."""

    id: str
    text: str  # the op as written (`*`, `tanh`, `Σ w·x + b`)
    result: str  # the id of the box it points into


@dataclass(frozen=True)
class Edge:
    """An arrow from `tail` to `head`, with a label where the operand's slot needs a name."""

    id: str
    tail: str
    head: str
    label: str = ""


class Picture:
    """The statements of a picture, in the order they are written.

    Args:
        statements: The `Box`es, `Oval`s and `Edge`s.
        rankdir: The direction the graph flows ('LR', 'TB', ...).
        walk: The walk they were made from (None when they were read back from an
            animation's data).
    """

    def __init__(self, statements: list[Any], rankdir: str, walk: Walk | None = None) -> None:
        self.statements, self.rankdir, self.walk = statements, rankdir, walk
        self.root = walk.root if walk is not None else None  # (None: read back from data)
        self.boxes = {s.id: s for s in statements if isinstance(s, Box)}
        self.ovals = {s.id: s for s in statements if isinstance(s, Oval)}
        self.edges = [s for s in statements if isinstance(s, Edge)]
        self.edge = {e.id: e for e in self.edges}

    def owner(self, edge: Edge) -> str:
        """Find the box an edge belongs to: the one it points into, or its oval's result.

        Args:
            edge: One of the picture's edges.

        Returns:
            The box's id.
        """
        return self.ovals[edge.head].result if edge.head in self.ovals else edge.head


def describe(
    root: Any,
    rankdir: str = "LR",
    max_nodes: int | None = 300,
    force: bool = False,
    *,
    unfused: bool = False,
) -> Picture:
    """Walk `root`'s graph once and write its picture as statements.

    With `draw_dot`'s checks and size limit. `unfused=True` draws each fused neuron as the
    lecture's code builds it (see `_unfused`).

    Args:
        root: The Value or Tensor at the end of the computation.
        rankdir: The direction the graph flows: 'LR', 'RL', 'TB' or 'BT'.
        max_nodes: Refuse a graph of more nodes than this.
        force: Draw a graph of any size.
        unfused: Draw each fused neuron as one `*` per input and a chain of `+`.

    Returns:
        The `Picture`.

    Raises:
        ValueError: An unknown `rankdir`.
        GraphTooLargeError: The graph has more than `max_nodes` nodes.
        TypeError: `root` is not a Value or a Tensor.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.viz.graph import describe
        >>> a = Value(2.0, label="a")
        >>> picture = describe(a * a)
        >>> [type(s).__name__ for s in picture.statements]
        ['Box', 'Box', 'Oval', 'Edge', 'Edge', 'Edge']
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    walk = Walk(root, max_nodes, force)
    ids = {id(node): f"v{i}" for i, node in enumerate(walk.order)}
    numbers = count()

    def edge(tail: str, head: str, label: str = "") -> Edge:
        return Edge(f"e{next(numbers)}", tail, head, label)

    def result(uid: str, label: str, fields: Sequence[str], op: str, into: Any) -> list[Any]:
        """Make a box, the oval of the op that made it, and an arrow from each operand box.

        No oval for an op written by hand with no name: its operands point straight at it.
        """
        op_id = f"{uid}op" if op else None
        oval = [Oval(op_id, op, uid), edge(op_id, uid)] if op_id else []
        inputs = [edge(tail, op_id or uid, name) for tail, name in into]
        return [Box(uid, label, tuple(fields), op_id, tuple(e.id for e in inputs)), *oval, *inputs]

    statements: list[Any] = []
    for node in walk.order:
        kids, uid = walk.operands(node), ids[id(node)]
        label = _record_text(str(node.label)) if node.label else ""
        kid_ids = [ids[id(k)] for k in kids]
        if unfused and _fused_neuron(node, kids):
            statements += _unfused(node, kids, uid, label, kid_ids, result)
        else:
            op = op_label(node, kids) if node._op and kids else ""
            statements += result(
                uid, label, box_fields(node), op, zip(kid_ids, edge_labels(node, kids))
            )
    return Picture(statements, rankdir, walk)


def op_label(node: Any, kids: Sequence[Any] | None = None) -> str:
    """Write a node's op as its oval shows it: `+`, `*`, `**2`, `tanh`, `Σ w·x + b`, `@`.

    A tensor's reduction comes with its axis (`sum axis=1`), a transpose is `ᵀ`.

    Args:
        node: A Value or a Tensor.
        kids: Its operands, if known already.

    Returns:
        The op's text ('' for a leaf).

    Raises:
        TypeError: `node` is not a Value or a Tensor.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.viz import op_label
        >>> x = Value(0.5)
        >>> op_label(x**2), op_label(x.tanh())
        ('**2', 'tanh')
    """
    kids = engine(node).operands(node) if kids is None else kids  # (a TypeError if no node)
    op, ctx = node._op, getattr(node, "_ctx", None)  # (a Value keeps no context)
    if type(node._rule) is Fused:
        return node._rule.symbol
    if op == "linear":
        return "x·Wᵀ + b" if len(kids) == 3 else "x·Wᵀ"
    if op in ("sum", "mean", "max") and isinstance(ctx, tuple):
        return op + ("" if ctx[0] is None else f" axis={ctx[0]}")
    if op in ("softmax", "log_softmax"):
        return f"{op} axis={ctx}"
    if op == "permute" and isinstance(ctx, tuple):
        forward = permutation(ctx)
        return "ᵀ" if forward == (1, 0) else f"permute {forward}"
    return {"index": "[ ]", "**-1": "1/x"}.get(op, op)  # (x**-1: the 1/b of a / b)


def quotient(node: Any, kids: Sequence[Any]) -> tuple[Any, Any] | None:
    """Read a product `a * b**-1` as the division it is: (a, b); None for any other node.

    A Value divides as the lecture does, `a / b` as `a * b**-1` (and `1 / b` as `b**-1 * 1`),
    so an unlabeled `**-1` multiplied by something is that division, and is shown as one.
    """
    if node._op == "*" and len(kids) == 2:
        for top, under in (kids, kids[::-1]):
            if under._op == "**-1" and not under.label:
                return top, engine(under).operands(under)[0]
    return None


def permutation(inverse: tuple[int, ...]) -> tuple[int, ...]:
    """Give the axis order a permute node applied, from the inverse it keeps for backward."""
    return tuple(sorted(range(len(inverse)), key=lambda d: inverse[d]))


def row_of(node: Any, kids: Sequence[Any]) -> ops.Op | None:
    """Find the op-table row that computed `node` from `kids`, if one did.

    A node keeps its row in `_rule`. Where it keeps none (the tensor engine's own `+`, `*`,
    `tanh`, ... record only their name) the row of that name is read. A row that takes more
    operands than the node has nodes for is not used as such (a Value's `x**2` keeps its
    constant exponent out of the graph), and a `Fused` rule or a closure is no row.
    """
    rule = node._rule
    row = rule if type(rule) is ops.Op else ops.TABLE.get(node._op) if rule is None else None
    return row if row is not None and row.arity == len(kids) else None


def edge_labels(node: Any, kids: Sequence[Any]) -> list[str]:
    """Name the operand slots where the order matters and the op alone does not tell it."""
    op, n = node._op, len(kids)
    if _fused_neuron(node, kids):
        m = range(1, n // 2 + 1)
        return ["b", *(f"w{i}" for i in m), *(f"x{i}" for i in m)]
    if op == "linear" and n in (2, 3):
        return ["input", "weight", "bias"][:n]
    if n == 2 and op == "**":
        return ["base", "exponent"]
    if n == 2 and op not in ("+", "*") and (op == "@" or row_of(node, kids) is not None):
        return ["left", "right"]
    return [""] * n


def _fused_neuron(node: Any, kids: Sequence[Any]) -> bool:
    """Say whether `node` is the fused neuron `chainrule.dot`: bias, weights, inputs."""
    return type(node._rule) is Fused and len(kids) % 2 == 1 and len(kids) > 1


def _unfused(
    node: Any, kids: Sequence[Any], uid: str, label: str, kid_ids: list[str], result: Any
) -> list[Any]:
    """Draw the fused neuron `b + Σ wᵢxᵢ` as the lecture's code builds it.

    A `*` box per input (`v7m1` = w1·x1, ...) and a chain of `+` boxes (`v7s1` = b + w1·x1,
    ...), the last of which is the node itself.

    These boxes exist only in the picture, and their numbers are exact all the same: each
    product and partial sum is computed in the engine's order (the fused node's value is the
    lecture's sum to the last bit), and each receives the node's own gradient, since
    d(sum)/d(term) is 1 for every term of a sum.
    """
    m, grad = len(kids) // 2, f"grad {number(node.grad)}"
    out: list[Any] = []
    total, total_id = kids[0].data, kid_ids[0]
    for i in range(1, m + 1):
        product = kids[i].data * kids[m + i].data
        total = total + product
        into = [(kid_ids[i], ""), (kid_ids[m + i], "")]
        out += result(f"{uid}m{i}", "", [f"data {number(product)}", grad], "*", into)
        into, total_id = [(total_id, ""), (f"{uid}m{i}", "")], uid if i == m else f"{uid}s{i}"
        shown = box_fields(node) if i == m else [f"data {number(total)}", grad]
        out += result(total_id, label if i == m else "", shown, "+", into)
    return out


def picture_from_data(data: Mapping[str, Any]) -> Picture:
    """Make the statements again from an animation's JSON data (`nodes`, `ops`, `edges`).

    So that a frame can be written as DOT without the graph itself.

    Args:
        data: What `animation_data` returned.

    Returns:
        The `Picture`, with no walk.
    """
    ovals = {o["id"]: Oval(o["id"], o["text"], o["result"]) for o in data["ops"]}
    owned: dict[str, list[Edge]] = {}
    for e in data["edges"]:
        head = e["head"]
        owner = ovals[head].result if head in ovals else head
        owned.setdefault(owner, []).append(Edge(e["id"], e["tail"], head, e.get("label", "")))
    statements: list[Any] = []
    for n in data["nodes"]:
        edges = owned.get(n["id"], [])
        inputs = tuple(e.id for e in edges if e.tail != n["op"])
        box = Box(n["id"], _record_text(n["label"]), tuple(n["fields"]), n["op"], inputs)
        statements += [box, *([ovals[n["op"]]] if n["op"] is not None else []), *edges]
    return Picture(statements, data.get("rankdir", "LR"))


# -- 3. the DOT text -----------------------------------------------------------------------------


def source(
    picture: Picture,
    fields: Mapping[str, Sequence[str]] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    ids: bool = True,
    attrs: Mapping[str, Mapping[str, str]] | None = None,
    graph_attrs: Mapping[str, str] | None = None,
) -> str:
    """Write the DOT text of `picture`: `draw_dot`'s source when `ids=False`, nothing else given.

    `fields` replaces what some boxes show (box id -> the texts after the label), `labels`
    their labels (box id -> the text, escaped here); `attrs` adds attributes to nodes and
    edges by id (colours, positions); `graph_attrs` to the graph. With `ids` every node and
    edge carries an `id`, which Graphviz copies into the SVG (`<g id="v3" class="node">`), so a
    player can find each box and arrow.

    Args:
        picture: What `describe` made.
        fields: Box id -> the texts after its label, replacing what it shows.
        labels: Box id -> its label.
        ids: Give every node and edge an `id`.
        attrs: Node or edge id -> attributes to add (colours, positions).
        graph_attrs: Attributes of the graph.

    Returns:
        The DOT text.

    Examples:
        >>> from chainrule import Value, draw_dot
        >>> from chainrule.viz.graph import describe, source
        >>> a = Value(2.0, label="a")
        >>> b = a * a
        >>> b.backward()
        >>> print(source(describe(b)))  # a used twice: two arrows, e1 and e2
        digraph {
            graph [rankdir=LR]
            node [fontname=Helvetica fontsize=11]
            edge [arrowsize=0.7 fontname=Helvetica fontsize=9]
            v0 [label="{ a | data 2.0000 | grad 4.0000 }" id=v0 shape=record]
            v1 [label="{  | data 4.0000 | grad 1.0000 }" id=v1 shape=record]
            v1op [label="*" height=0.3 id=v1op shape=ellipse]
            v1op -> v1 [id=e0]
            v0 -> v1op [id=e1]
            v0 -> v1op [id=e2]
        }
        <BLANKLINE>
        >>> source(describe(b), ids=False) == draw_dot(b).source
        True
    """
    graph = _attr_list(None, {"rankdir": picture.rankdir, **(graph_attrs or {})})
    body = _body(picture, fields or {}, labels or {}, ids, attrs or {})
    return "".join(["digraph {\n", f"\tgraph [{graph}]\n", *body, "}\n"])


def _body(
    picture: Picture,
    fields: Mapping[str, Sequence[str]],
    labels: Mapping[str, str],
    ids: bool,
    attrs: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """Write the lines of DOT after the graph's own: the fonts, then one per statement.

    Quoted as the graphviz package quotes them.
    """
    lines = [
        "\tnode [fontname=Helvetica fontsize=11]\n",
        "\tedge [arrowsize=0.7 fontname=Helvetica fontsize=9]\n",
    ]
    for s in picture.statements:
        extra = {**attrs.get(s.id, {}), **({"id": s.id} if ids else {})}
        if isinstance(s, Box):
            shown = " | ".join(_record_text(f) for f in fields.get(s.id, s.fields))
            label = _record_text(labels[s.id]) if s.id in labels else s.label
            name, text, extra = s.id, f"{{ {label} | {shown} }}", {"shape": "record", **extra}
        elif isinstance(s, Oval):
            name, text, extra = s.id, escape(s.text), {"height": "0.3", "shape": "ellipse", **extra}
        else:  # an edge: its attributes (and their brackets) only where it has some
            name, text = f"{s.tail} -> {s.head}", escape(s.label)
        listed = _attr_list(text, extra)
        lines.append(f"\t{name}" + (f" [{listed}]" if listed else "") + "\n")
    return lines


def _record_text(text: str) -> str:
    """Escape what a Graphviz record label treats as structure, so any label prints as typed."""
    return re.sub(r'([\\{}|<>"])', r"\\\1", text).replace("\n", " ")


_ID = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?))$")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_QUOTE = re.compile(r'(?P<backslashes>(?:\\{2})*)\\?(?P<quote>")')


def quote(text: str) -> str:
    """Write a DOT identifier as the graphviz package writes it.

    As it is when it is a plain name or number, else in double quotes (a quote inside, escaped
    or not, comes out escaped once).
    """
    if _ID.match(text) and text.lower() not in _KEYWORDS:
        return text
    return '"' + _QUOTE.sub(r"\g<backslashes>\\\g<quote>", text) + '"'


def escape(text: str) -> str:
    r"""Make a label show exactly as typed: Graphviz's escapes (`\n`, `\l`) are disarmed."""
    return text.replace("\\", "\\\\")


def _attr_list(label: str | None, attrs: Mapping[str, str]) -> str:
    """Write `label=... key=value ...`: the label first (if any), then the others sorted by name."""
    parts = [f"label={quote(label)}"] if label else []
    return " ".join(parts + [f"{quote(k)}={quote(str(v))}" for k, v in sorted(attrs.items())])


# -- 4. the picture itself -----------------------------------------------------------------------


def draw_dot(
    root: Any,
    rankdir: str = "LR",
    format: str = "svg",
    max_nodes: int = 300,
    force: bool = False,
    *,
    unfused: bool = False,
) -> graphviz.Digraph:
    """Draw the computation graph ending at `root` (a Value or a Tensor) as a Digraph.

    `rankdir` is the direction the graph flows: 'LR' (left to right, the default), 'TB',
    'RL' or 'BT'. `format` is what `Digraph.render()` produces. Graphs of more than
    `max_nodes` nodes raise `GraphTooLargeError` unless `force=True`.

    `unfused=True` draws each fused neuron of `chainrule.nn` (one `Σ w·x + b` node) as the
    lecture's code computes it and its video shows it: one `*` per input and a chain of `+`
    from the bias, each box with its data and its gradient. Only the picture changes: the
    graph, and so `backward()` and `explain`, keep the one fused node.

    Args:
        root: The Value or Tensor at the end of the computation.
        rankdir: The direction the graph flows.
        format: What `Digraph.render()` produces ('svg', 'png', 'pdf').
        max_nodes: Refuse a graph of more nodes than this.
        force: Draw a graph of any size.
        unfused: Draw each fused neuron as one `*` per input and a chain of `+`.

    Returns:
        A `graphviz.Digraph`; Jupyter shows it inline.

    Raises:
        GraphTooLargeError: The graph has more than `max_nodes` nodes.
        ValueError: An unknown `rankdir` or `format`.
        TypeError: `root` is not a Value or a Tensor.
        ImportError: The graphviz Python package is not installed (the `viz` extra).

    Examples:
        >>> from chainrule import Value, draw_dot
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> c = a * b
        >>> c.label = "c"
        >>> c.backward()
        >>> print(draw_dot(c).source)
        digraph {
            graph [rankdir=LR]
            node [fontname=Helvetica fontsize=11]
            edge [arrowsize=0.7 fontname=Helvetica fontsize=9]
            v0 [label="{ b | data -3.0000 | grad 2.0000 }" shape=record]
            v1 [label="{ a | data 2.0000 | grad -3.0000 }" shape=record]
            v2 [label="{ c | data -6.0000 | grad 1.0000 }" shape=record]
            v2op [label="*" height=0.3 shape=ellipse]
            v2op -> v2
            v1 -> v2op
            v0 -> v2op
        }
        <BLANKLINE>
    """
    picture = describe(root, rankdir, max_nodes, force, unfused=unfused)
    graphviz = require("graphviz", "viz", "drawing graphs")
    body = _body(picture, {}, {}, False, {})  # the lines `source` writes: the same text
    try:
        return graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir}, body=body)
    except ValueError:
        raise ValueError(
            f"draw_dot: unknown output format {format!r} (try 'svg', 'png' or 'pdf')"
        ) from None


def save_graph(
    root: Any,
    path: str | os.PathLike[str],
    *,
    rankdir: str = "LR",
    max_nodes: int = 300,
    force: bool = False,
    unfused: bool = False,
) -> Path:
    """Draw `root`'s graph (a Value's, a Tensor's, or a Digraph) into `path`, by its extension.

    `.svg`, `.png`, `.pdf` are rendered by Graphviz's `dot`; `.dot` / `.gv` save the source.
    `unfused` is `draw_dot`'s. The file is replaced in one step, never left half-written.
    Without the `dot` program this saves the DOT source next to `path` (same name, `.dot`) and
    raises `GraphvizNotFoundError` saying how to install it.

    Args:
        root: A Value, a Tensor, or a `graphviz.Digraph` drawn already.
        path: The file to write: `.svg`, `.png`, `.pdf`, `.dot` or `.gv`.
        rankdir: The direction the graph flows.
        max_nodes: Refuse a graph of more nodes than this.
        force: Draw a graph of any size.
        unfused: Draw each fused neuron as one `*` per input and a chain of `+`.

    Returns:
        The path written.

    Raises:
        ValueError: An extension not in `SAVE_FORMATS`.
        FileNotFoundError: The folder does not exist.
        TypeError: `root` is not a Value, a Tensor or a Digraph.
        GraphvizNotFoundError: The `dot` program is missing (the source was saved).
        RuntimeError: `dot` failed; the message gives its last line.

    Examples:
        >>> from chainrule import Value, save_graph
        >>> x = Value(0.5, label="x")
        >>> save_graph(x.tanh(), "tanh.dot").name
        'tanh.dot'
        >>> open("tanh.dot").read().splitlines()[0]
        'digraph {'
    """
    target = checked_target(path, SAVE_FORMATS, "a graph")
    fmt = SAVE_FORMATS[target.suffix.lower()]
    drawn = hasattr(root, "pipe") and hasattr(root, "source")  # a Digraph drawn already
    if drawn:
        text = root.source
    elif engine_of(root) is None:
        raise TypeError(f"save_graph needs a Value, a Tensor or a graphviz.Digraph, got {root!r}")
    else:  # `draw_dot`'s source, written in pure Python: `.dot` needs no graphviz package
        text = source(describe(root, rankdir, max_nodes, force, unfused=unfused), ids=False)
    if fmt == "dot":
        return write_bytes(target, text.encode("utf-8"))
    graphviz = require("graphviz", "viz", "drawing graphs")
    graph = root if drawn else graphviz.Source(text)
    try:
        return write_bytes(target, graph.pipe(format=fmt))
    except graphviz.ExecutableNotFound:
        write_bytes(target.with_suffix(".dot"), text.encode("utf-8"))
        raise GraphvizNotFoundError(target, target.with_suffix(".dot")) from None
    except graphviz.CalledProcessError as err:
        detail = (err.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        why = detail[-1] if detail else f"exit status {err.returncode}"
        raise RuntimeError(f"Graphviz 'dot' failed to draw {target}: {why}") from None


def checked_target(path: str | os.PathLike[str], formats: Iterable[str], what: str) -> Path:
    """Check `path` as a file to write, before anything is drawn.

    Its extension must be one of `formats`, and its folder must exist.

    Args:
        path: The file.
        formats: The extensions allowed (with the dot).
        what: What is saved, for the message.

    Returns:
        `path` as a `Path`.

    Raises:
        ValueError: Another extension.
        FileNotFoundError: The folder does not exist.
    """
    target = Path(path)
    if target.suffix.lower() not in formats:
        shown = f"'{target.suffix}'" if target.suffix else "no extension"
        known = ", ".join(formats)
        raise ValueError(f"cannot save {what} as {target}: {shown} is not one of {known}")
    if not target.parent.is_dir() and str(target.parent):
        raise FileNotFoundError(f"cannot write {target}: folder {target.parent} does not exist")
    return target
