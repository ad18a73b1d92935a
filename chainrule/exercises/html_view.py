"""A report as HTML, for Jupyter: a green or red row per check, then a paragraph per failure with
a picture of the failing expression.

The picture is `draw_dot`'s, the same drawing code as everywhere in chainrule: the probe built
on the reference engine, with the gradients it should have; a box whose gradient differs in the
learner's engine says so in its label (`a · yours -3`). Without Graphviz (the Python package
or the `dot` program) the report is the same, without pictures.
"""

from __future__ import annotations

import html
import re

from ..viz import draw_dot
from .findings import MARK, Finding
from .mistakes import close
from .probes import check_by_id
from .reference import reference_graph

__all__ = ["picture", "report_html"]

_COLOURS = {"pass": "#e6f4ea", "fail": "#fce8e6", "missing": "#f1f3f4", "note": "#fef7e0"}
_INK = {"pass": "#137333", "fail": "#c5221f", "missing": "#5f6368", "note": "#8a6d00"}


def picture(finding: Finding) -> str | None:
    """The failing case drawn as SVG, or None (no case to draw, a graph too large to read,
    no Graphviz)."""
    if finding.case is None or not finding.via:
        return None
    case = check_by_id(finding.check).cases[finding.case]
    if case.program[-1].op == "chain":
        return None  # 5,000 boxes would say nothing
    env = reference_graph(case, finding.via)
    for name, v in env.items():
        yours = finding.grads.get(name)
        if name in finding.grads and not close(yours, v.grad):
            shown = "not a number" if yours is None else f"{yours:g}"
            v.label = f"{name} · yours {shown}"
    try:
        svg = draw_dot(env[case.output]).pipe(format="svg").decode("utf-8")
    except Exception:  # no graphviz package, no `dot` program, a failed render: no picture
        return None
    return re.sub(r"^<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", "", svg)


def report_html(summary: str, passed: bool, findings: list[Finding]) -> str:
    """The whole report: the summary, the table, and the failures and notes explained."""
    colour = _INK["pass" if passed else "fail"]
    parts = [
        '<div class="chainrule-coach">',
        f'<p style="font-weight:bold;color:{colour}">{html.escape(summary)}</p>',
        '<table style="border-collapse:collapse">',
        "<tr><th style='text-align:left'>check</th><th style='text-align:left'>status</th>"
        "<th style='text-align:left'></th></tr>",
    ]
    for f in findings:
        parts.append(
            f'<tr style="background:{_COLOURS[f.status]}">'
            f'<td style="padding:2px 8px"><code>{html.escape(f.title)}</code></td>'
            f'<td style="padding:2px 8px;color:{_INK[f.status]};font-weight:bold">'
            f"{MARK[f.status]}</td>"
            f'<td style="padding:2px 8px;text-align:left">{html.escape(f.row())}</td></tr>'
        )
    parts.append("</table>")
    explained: set[str] = set()
    for f in findings:
        if f.status not in ("fail", "note") or f.mistake_id in explained or not f.details():
            continue
        if f.mistake_id:
            explained.add(f.mistake_id)
        parts.append(
            f'<div style="margin-top:1em;border-left:4px solid {_INK[f.status]};'
            'padding-left:8px">'
            f"<p><b>{html.escape(f.title)}</b>: {html.escape(f.message)}</p>"
            f'<pre style="white-space:pre-wrap">{html.escape(chr(10).join(f.details()))}</pre>'
        )
        svg = picture(f) if f.status == "fail" else None
        if svg:
            parts.append(
                "<p><i>The expression with the gradients it should have; a box whose gradient "
                "differs in yours says what yours is.</i></p>"
                f'<div style="max-width:100%;overflow-x:auto">{svg}</div>'
            )
        parts.append("</div>")
    parts.append("</div>")
    return "\n".join(parts)
