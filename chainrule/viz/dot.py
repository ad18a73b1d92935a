"""Pictures of a computation graph: every Value with its data and grad, every op between them.

`draw_dot(root)` returns a `graphviz.Digraph`; Jupyter shows it inline by itself, and
`save_graph(root, "graph.svg")` writes it to a file (SVG, PNG or PDF by the extension, or the
DOT source itself for `.dot`/`.gv`). The picture is the lecture's: a record per Value
`{ label | data 1.2345 | grad 0.5000 }`, a small oval per op pointing into its result, and an
arrow from each operand into that op.

Differences from the lecture's helper, and why:

* The graph is walked with `chainrule.autograd.topological_order` (iterative), so a deep graph
  does not hit Python's recursion limit; node names are positions in that order (`v0`, `v1`,
  ...), so the same graph always gives the same DOT source (ids would change from run to run).
* An operand used twice (`a + a`) gets two arrows: the picture shows the reuse that makes
  `a.grad` the sum of two contributions.
* Graphs too large to read are refused with the count and what to do instead, because dot
  takes minutes on thousands of nodes and the picture would be unreadable anyway.
* The `dot` program is a system package separate from the Python one; when it is missing the
  error says how to install it, and the DOT source is still saved next to the requested file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import write_bytes
from ..autograd import topological_order
from ..engine import Value, _children

if TYPE_CHECKING:  # graphviz is optional and heavy-ish: imported only when drawing
    import graphviz

__all__ = [
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "draw_dot",
    "graph_size",
    "op_label",
    "save_graph",
    "SAVE_FORMATS",
]

# File extension -> graphviz output format. `.dot`/`.gv` save the source and need no binary.
SAVE_FORMATS: dict[str, str] = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
}

INSTALL_HINT = (
    "install Graphviz, which provides the 'dot' program "
    "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz)"
)


class GraphTooLargeError(ValueError):
    """The graph has more Values than can be drawn readably (see `draw_dot`'s `max_nodes`)."""

    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(
            f"the graph has {count} values, more than max_nodes={limit} can show readably; "
            "draw a part of it by passing the root of a sub-expression (for example one "
            "neuron's output), or pass force=True to draw it all"
        )


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz `dot` program is not installed; the DOT source was saved instead."""

    def __init__(self, target: Path, source_path: Path) -> None:
        self.target = target
        self.source_path = source_path
        super().__init__(
            f"cannot draw {target}: the Graphviz 'dot' program was not found; {INSTALL_HINT}. "
            f"The graph's DOT source was saved to {source_path} "
            f"(render it later with: dot -T{_format_of(target)} {source_path} -o {target})"
        )


def graph_size(root: Value) -> int:
    """How many Values `root` depends on, itself included (what `max_nodes` limits)."""
    _check_root(root)
    return len(topological_order(root, _children))


def op_label(node: Value) -> str:
    """How an op is written in the picture: `+`, `*`, `**2`, `tanh`, or `Σ w·x + b` for dot."""
    if node._op == "dot":
        return "Σ w·x + b"
    return node._op


def draw_dot(
    root: Value,
    rankdir: str = "LR",
    format: str = "svg",
    max_nodes: int = 300,
    force: bool = False,
) -> graphviz.Digraph:
    """The computation graph ending at `root`, as a `graphviz.Digraph`.

    `rankdir` is the direction the graph flows: 'LR' (left to right, the default), 'TB',
    'RL' or 'BT'. `format` is what `Digraph.render()` produces. Graphs of more than
    `max_nodes` Values raise `GraphTooLargeError` unless `force=True`.
    """
    _check_root(root)
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of 'LR', 'RL', 'TB', 'BT', got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    order = topological_order(root, _children)
    if len(order) > max_nodes and not force:
        raise GraphTooLargeError(len(order), max_nodes)

    graphviz = _import_graphviz()
    try:
        graph = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    except ValueError:
        raise ValueError(
            f"draw_dot: unknown output format {format!r} (try 'svg', 'png' or 'pdf')"
        ) from None
    graph.attr("node", fontname="Helvetica", fontsize="11")
    graph.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.7")

    ids = {id(node): f"v{i}" for i, node in enumerate(order)}
    for node in order:
        uid = ids[id(node)]
        graph.node(uid, label=_record(node), shape="record")
        kids = _children(node)
        if not kids:
            continue
        if node._op:
            op_id = f"{uid}op"
            graph.node(op_id, label=graphviz.escape(op_label(node)), shape="ellipse", height="0.3")
            graph.edge(op_id, uid)
            into = op_id
        else:  # an op written by hand without a name: operands point straight at the result
            into = uid
        for kid, edge_label in zip(kids, _edge_labels(node, kids)):
            if edge_label:
                graph.edge(ids[id(kid)], into, label=graphviz.escape(edge_label))
            else:
                graph.edge(ids[id(kid)], into)
    return graph


def save_graph(
    root: Value | graphviz.Digraph,
    path: str | os.PathLike[str],
    *,
    rankdir: str = "LR",
    max_nodes: int = 300,
    force: bool = False,
) -> Path:
    """Draw `root`'s graph (or an existing Digraph) into `path`; the extension picks the format.

    `.svg`, `.png`, `.pdf` are rendered by Graphviz's `dot`; `.dot` / `.gv` save the source.
    The file is replaced in one step, never left half-written. Without the `dot` program this
    saves the DOT source next to `path` (same name, `.dot`) and raises `GraphvizNotFoundError`
    saying how to install it. Returns the path written.
    """
    target = Path(path)
    fmt = _format_of(target)
    if not target.parent.is_dir() and str(target.parent):
        raise FileNotFoundError(f"cannot write {target}: folder {target.parent} does not exist")
    if isinstance(root, Value):
        graph = draw_dot(root, rankdir=rankdir, max_nodes=max_nodes, force=force)
    elif hasattr(root, "pipe") and hasattr(root, "source"):  # a Digraph drawn already
        graph = root
    else:
        raise TypeError(f"save_graph needs a Value or a graphviz.Digraph, got {root!r}")
    source = graph.source.encode("utf-8")
    if fmt == "dot":
        return write_bytes(target, source)
    graphviz = _import_graphviz()
    try:
        picture = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        source_path = target.with_suffix(".dot")
        write_bytes(source_path, source)
        raise GraphvizNotFoundError(target, source_path) from None
    except graphviz.CalledProcessError as err:
        detail = (err.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        why = detail[-1] if detail else f"exit status {err.returncode}"
        raise RuntimeError(f"Graphviz 'dot' failed to draw {target}: {why}") from None
    return write_bytes(target, picture)


# -- helpers ------------------------------------------------------------------------------


def _check_root(root: object) -> None:
    if not isinstance(root, Value):
        raise TypeError(
            f"expected the Value at the end of a computation, got {type(root).__name__} {root!r}"
        )


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SAVE_FORMATS:
        known = ", ".join(SAVE_FORMATS)
        shown = f"'{path.suffix}'" if path.suffix else "no extension"
        raise ValueError(f"cannot save a graph as {path}: {shown} is not one of {known}")
    return SAVE_FORMATS[suffix]


def _number(x: float) -> str:
    """4 decimals as in the lecture; scientific notation where that would print 30 digits."""
    x = float(x)
    return f"{x:.4f}" if abs(x) < 1e9 or x != x else f"{x:.4e}"


def _record_text(text: str) -> str:
    """Escape what a Graphviz record label treats as structure, so any label prints as typed."""
    text = text.replace("\\", "\\\\")
    for ch in '{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")


def _record(node: Value) -> str:
    from graphviz import nohtml

    label = _record_text(str(node.label)) if node.label else ""
    return nohtml(f"{{ {label} | data {_number(node.data)} | grad {_number(node.grad)} }}")


def _edge_labels(node: Value, kids: tuple[Value, ...]) -> list[str]:
    """Names for operand slots where the order matters and the op alone does not tell it."""
    if node._op == "dot" and node._fn is None and len(kids) % 2 == 1:
        n = len(kids) // 2
        return ["b"] + [f"w{i}" for i in range(1, n + 1)] + [f"x{i}" for i in range(1, n + 1)]
    if node._op == "**" and len(kids) == 2:
        return ["base", "exponent"]
    return [""] * len(kids)


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "drawing graphs needs the graphviz Python package: pip install 'chainrule[viz]' "
            "(or pip install graphviz), plus the Graphviz program itself: " + INSTALL_HINT
        ) from None
    return graphviz
