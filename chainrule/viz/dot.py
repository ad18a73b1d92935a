"""Pictures of a computation graph: every Value with its data and grad, every op between them.

`draw_dot(root)` returns a `graphviz.Digraph`; Jupyter shows it inline by itself, and
`save_graph(root, "graph.svg")` writes it to a file (SVG, PNG or PDF by the extension, or the
DOT source itself for `.dot`/`.gv`). The picture is the lecture's: a record per Value
`{ label | data 1.2345 | grad 0.5000 }`, a small oval per op pointing into its result, and an
arrow from each operand into that op.

A `Tensor` graph is drawn the same way, one record per tensor:
`{ label | (3, 2) float32 | data ... | grad ... }`, with every number shown for a tensor of at
most six elements and `mean, min, max` for a larger one. An op's oval reads as the op table
(`chainrule.ops`) writes the op: `+`, `*`, `tanh`, a user's `define_op` name; the engines' own
ops read `Σ w·x + b` (a fused neuron), `@`, `x·Wᵀ + b`, `sum axis=1`, ...

Differences from the lecture's helper, and why:

* The graph is walked with `chainrule.autograd.topological_order` (iterative), so a deep graph
  does not hit Python's recursion limit; node names are positions in that order (`v0`, `v1`,
  ...), so the same graph always gives the same DOT source (ids would change from run to run).
* An operand used twice (`a + a`) gets two arrows: the picture shows the reuse that makes
  `a.grad` the sum of two contributions.
* The models of `chainrule.nn` compute each neuron's weighted sum as one fused node
  (`Σ w·x + b`); `draw_dot(root, unfused=True)` draws it as the lecture does instead, one `*`
  and one `+` per input, so an MLP's picture is the one in the video.
* The walk itself is `dot_text.describe`, shared with the animations, so the still picture
  and every frame of a player are the same graph.
* Graphs too large to read are refused with the count and what to do instead, because dot
  takes minutes on thousands of nodes and the picture would be unreadable anyway.
* The `dot` program is a system package separate from the Python one; when it is missing the
  error says how to install it, and the DOT source is still saved next to the requested file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..autograd import topological_order
from ..learn.atomic import write_bytes
from .adapters import adapter_for
from .adapters import op_label as op_label
from .dot_text import Box, Edge, GraphTooLargeError, describe
from .dot_text import _record_text as _record_text

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


def graph_size(root: Any) -> int:
    """How many Values (or Tensors) `root` depends on, itself included (what `max_nodes`
    limits); a Tensor graph counts its constants too, as the picture shows them."""
    adapter = adapter_for(root)
    return len(topological_order(root, adapter.children))


def draw_dot(
    root: Any,
    rankdir: str = "LR",
    format: str = "svg",
    max_nodes: int = 300,
    force: bool = False,
    *,
    unfused: bool = False,
) -> graphviz.Digraph:
    """The computation graph ending at `root` (a Value or a Tensor), as a `graphviz.Digraph`.

    `rankdir` is the direction the graph flows: 'LR' (left to right, the default), 'TB',
    'RL' or 'BT'. `format` is what `Digraph.render()` produces. Graphs of more than
    `max_nodes` nodes raise `GraphTooLargeError` unless `force=True`.

    `unfused=True` draws each fused neuron of `chainrule.nn` (one `Σ w·x + b` node) as the
    lecture's code computes it and its video shows it: one `*` per input and a chain of `+`
    from the bias, each box with its data and its gradient. Only the picture changes: the
    graph, and so `backward()` and `explain`, keep the one fused node.
    """
    picture = describe(root, rankdir, max_nodes, force, unfused=unfused)
    graphviz = _import_graphviz()
    try:
        graph = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    except ValueError:
        raise ValueError(
            f"draw_dot: unknown output format {format!r} (try 'svg', 'png' or 'pdf')"
        ) from None
    graph.attr("node", fontname="Helvetica", fontsize="11")
    graph.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.7")
    for s in picture.statements:  # the same walk and the same order as the animation's text
        if isinstance(s, Box):
            fields = " | ".join(_record_text(f) for f in s.fields)
            graph.node(s.id, label=graphviz.nohtml(f"{{ {s.label} | {fields} }}"), shape="record")
        elif isinstance(s, Edge):
            if s.label:
                graph.edge(s.tail, s.head, label=graphviz.escape(s.label))
            else:
                graph.edge(s.tail, s.head)
        else:  # an op's oval
            graph.node(s.id, label=graphviz.escape(s.text), shape="ellipse", height="0.3")
    return graph


def save_graph(
    root: Any,
    path: str | os.PathLike[str],
    *,
    rankdir: str = "LR",
    max_nodes: int = 300,
    force: bool = False,
    unfused: bool = False,
) -> Path:
    """Draw `root`'s graph (a Value's, a Tensor's, or an existing Digraph) into `path`; the
    extension picks the format.

    `.svg`, `.png`, `.pdf` are rendered by Graphviz's `dot`; `.dot` / `.gv` save the source.
    `unfused` is `draw_dot`'s.
    The file is replaced in one step, never left half-written. Without the `dot` program this
    saves the DOT source next to `path` (same name, `.dot`) and raises `GraphvizNotFoundError`
    saying how to install it. Returns the path written.
    """
    target = Path(path)
    fmt = _format_of(target)
    if not target.parent.is_dir() and str(target.parent):
        raise FileNotFoundError(f"cannot write {target}: folder {target.parent} does not exist")
    if hasattr(root, "pipe") and hasattr(root, "source"):  # a Digraph drawn already
        graph = root
    else:
        try:
            adapter_for(root)
        except TypeError:
            raise TypeError(
                f"save_graph needs a Value, a Tensor or a graphviz.Digraph, got {root!r}"
            ) from None
        graph = draw_dot(root, rankdir=rankdir, max_nodes=max_nodes, force=force, unfused=unfused)
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


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SAVE_FORMATS:
        known = ", ".join(SAVE_FORMATS)
        shown = f"'{path.suffix}'" if path.suffix else "no extension"
        raise ValueError(f"cannot save a graph as {path}: {shown} is not one of {known}")
    return SAVE_FORMATS[suffix]


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "drawing graphs needs the graphviz Python package: pip install 'chainrule[viz]' "
            "(or pip install graphviz), plus the Graphviz program itself: " + INSTALL_HINT
        ) from None
    return graphviz
