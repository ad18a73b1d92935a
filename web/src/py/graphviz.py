"""The part of the `graphviz` package's API that `chainrule.viz.graph.draw_dot` uses, writing the
DOT source only, for the browser playground.

Pyodide has no `graphviz` package and no `dot` program: there, the picture is laid out by
Graphviz compiled to WebAssembly (@viz-js/viz) from the DOT text. With this module importable as
`graphviz`, `draw_dot(root).source` runs unchanged in the browser, so the playground draws
exactly what `draw_dot` draws. Rendering (`pipe`, `render`) is not available here.

It is shipped in the playground's build only (web/build.mjs puts it beside `chainrule/` in
chainrule.zip); it is never on the path of a normal Python install.
"""

from __future__ import annotations

import re

__all__ = ["Digraph", "escape", "nohtml", "ExecutableNotFound", "CalledProcessError"]

_UNESCAPED_QUOTE = re.compile(r'(?<!\\)(?:\\\\)*"')


class ExecutableNotFound(RuntimeError):
    """Never raised here: there is no `dot` program to find in the browser."""


class CalledProcessError(RuntimeError):
    """Never raised here."""


class NoHtml(str):
    """A string that is never read as an HTML-like label."""


def nohtml(s: str) -> NoHtml:
    return NoHtml(s)


def escape(s: str) -> NoHtml:
    """Backslashes doubled, as graphviz.escape does, so the text prints as written."""
    return NoHtml(s.replace("\\", "\\\\"))


def _quote(text: object) -> str:
    """Always a double-quoted DOT string; quotes not yet escaped get a backslash."""
    s = str(text)
    return '"' + _UNESCAPED_QUOTE.sub(lambda m: m.group(0)[:-1] + '\\"', s) + '"'


def _attrs(attrs: dict[str, object]) -> str:
    """` [label=".." a=".." b=".."]`: the label first, the others sorted, as graphviz does."""
    keys = sorted(attrs, key=lambda k: (k != "label", k))
    parts = [f"{key}={_quote(attrs[key])}" for key in keys if attrs[key] is not None]
    return f" [{' '.join(parts)}]" if parts else ""


class Digraph:
    """A directed graph that only collects its DOT lines (`.source`)."""

    def __init__(
        self, name=None, format="svg", graph_attr=None, node_attr=None, edge_attr=None, body=None
    ):
        self.name = name
        self.format = format
        self._lines: list[str] = []
        for kind, attrs in (("graph", graph_attr), ("node", node_attr), ("edge", edge_attr)):
            if attrs:
                self.attr(kind, **attrs)
        self._lines += [line.rstrip("\n") for line in body or ()]  # lines written already

    def attr(self, kw: str | None = None, **attrs: object) -> None:
        self._lines.append(f"\t{kw or 'graph'}{_attrs(attrs)}")

    def node(self, name: str, label: object = None, **attrs: object) -> None:
        merged = {"label": label, **attrs}
        self._lines.append(f"\t{_quote(name)}{_attrs(merged)}")

    def edge(self, tail: str, head: str, label: object = None, **attrs: object) -> None:
        merged = {"label": label, **attrs}
        self._lines.append(f"\t{_quote(tail)} -> {_quote(head)}{_attrs(merged)}")

    @property
    def source(self) -> str:
        head = f"digraph {_quote(self.name)} {{" if self.name else "digraph {"
        return "\n".join([head, *self._lines, "}"]) + "\n"

    def pipe(self, *args: object, **kwargs: object) -> bytes:
        raise ExecutableNotFound("no Graphviz program in the browser; render the DOT source")

    render = pipe
