"""What the coach hands back: a `Report` of `Finding`s, readable in a terminal, in Jupyter, as
JSON, and as Gradescope's results.json.

A finding is one check's verdict: `pass`, `fail`, `missing` (the class lacks the op, or its
exercise is still blank: not a failure unless the op is required) or `note` (worth knowing,
not wrong: a recursion limit, a method the class does not have). A failure carries the node,
the expected and the actual gradient, the chain-rule step that should have happened, and the
mistake when the numbers match a known one.

The terminal text is an aligned table, then a paragraph per failure. The HTML (`html.py`)
colours each row and adds a picture of the failing expression where Graphviz is installed.
Gradescope gets one test per kind of check, with a point per op where the check is per op, so
an engine right in `+` and `*` but wrong in `tanh` gets partial credit.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from .findings import MARK, STATUSES, Finding
from .html_view import report_html

__all__ = ["Finding", "Report"]


class Report:
    """The coach's verdict on a learner's class: `passed` and the `findings`.

    `passed` is True when no check fails: a missing op is not a failure (micrograd's engine,
    which has no tanh, passes), unless the op was required.
    """

    def __init__(
        self, findings: list[Finding], subject: str = "Value", source: str | None = None
    ) -> None:
        self.findings = findings
        self.subject = subject
        self.source = source

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "fail"]

    @property
    def missing(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "missing"]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "note"]

    @property
    def mistakes(self) -> list[str]:
        """The known mistakes named, each once, in the order found."""
        named = [f.mistake for f in self.failures if f.mistake and f.advice]
        return list(dict.fromkeys(named))

    def counts(self) -> dict[str, int]:
        return {s: sum(f.status == s for f in self.findings) for s in STATUSES}

    def summary(self) -> str:
        c = self.counts()
        where = f" from {self.source}" if self.source else ""
        verdict = "passed" if self.passed else "FAILED"
        parts = [f"{c['pass']} pass", f"{c['fail']} fail"]
        parts += [f"{c[s]} {s}" for s in ("missing", "note") if c[s]]
        return f"{self.subject}{where}: {verdict} ({', '.join(parts)})"

    def format(self) -> str:
        """The aligned table, then a paragraph for each failure and note."""
        rows = [("check", "status", "")] + [
            (f.title, MARK[f.status], f.row()) for f in self.findings
        ]
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines = [self.summary(), ""]
        lines += [f"  {a.ljust(w0)}  {b.ljust(w1)}  {c}".rstrip() for a, b, c in rows]
        explained: set[str] = set()
        repeats = 0
        for f in self.findings:
            if f.status not in ("fail", "note"):
                continue
            if f.mistake_id in explained:  # its row names the mistake, explained above
                repeats += 1
                continue
            if not f.details():  # the row says it all
                continue
            lines += ["", f"{MARK[f.status]} {f.title}: {f.message}"]
            lines += [f"    {line}" for line in _wrap(f.details())]
            if f.mistake_id:
                explained.add(f.mistake_id)
        if repeats:
            more = "1 more failure comes" if repeats == 1 else f"{repeats} more failures come"
            lines += ["", f"({more} from a mistake explained above.)"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:  # the table, also at a Python prompt
        return self.format()

    def _repr_html_(self) -> str:
        return report_html(self.summary(), self.passed, self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "source": self.source,
            "passed": self.passed,
            "counts": self.counts(),
            "mistakes": self.mistakes,
            "findings": [f.as_dict() for f in self.findings],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent)

    def gradescope(self) -> dict[str, Any]:
        """Gradescope's results.json: one test per kind of check, a point per op where the
        check is per op; missing ops that were not required count for nothing either way."""
        groups: dict[str, list[Finding]] = {}
        for f in self.findings:
            groups.setdefault(_group(f), []).append(f)
        tests = []
        for name, members in groups.items():
            judged = [f for f in members if f.status != "missing"]
            score = sum(f.status in ("pass", "note") for f in judged)
            output = [f"{f.title}: {MARK[f.status]}: {f.message}" for f in members]
            for f in members:
                if f.status == "fail":
                    output += ["", f"{f.title}:"] + [f"  {line}" for line in f.details()]
            tests.append(
                {
                    "name": name,
                    "score": score,
                    "max_score": len(judged),
                    "status": "failed" if score < len(judged) else "passed",
                    "output": "\n".join(output),
                }
            )
        return {
            "score": sum(t["score"] for t in tests),
            "output": self.summary(),
            "tests": tests,
        }


def _wrap(lines: list[str], width: int = 96) -> list[str]:
    """Long prose lines wrapped for a terminal; code and formulas (indented) left as they are."""
    out: list[str] = []
    for line in lines:
        if line.startswith(" ") or len(line) <= width or line.startswith(("Traceback", "  File")):
            out.append(line)
        else:
            out += textwrap.wrap(line, width, subsequent_indent="  ")
    return out


_GROUPS = {
    "op": "each op: forward value and gradients",
    "reuse": "a value used twice (the += lesson)",
}


def _group(f: Finding) -> str:
    kind = f.check.split(":")[0]
    return _GROUPS.get(kind, f.title)
