"""One check's verdict, `Finding`: the data every view of a report (text, HTML, JSON,
Gradescope) is made from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Finding", "MARK", "STATUSES"]

STATUSES = ("pass", "fail", "missing", "note")
MARK = {"pass": "pass", "fail": "FAIL", "missing": "missing", "note": "note"}


@dataclass
class Finding:
    """One check's verdict, with what a learner needs to fix a failure."""

    check: str  # the check's id: 'op:mul', 'reuse:add', 'lecture', 'neuron', ...
    title: str  # how the report names it: 'a * b', 'L = -8', 'diamond'
    op: str | None  # the op it is about, or None for a lesson about the whole engine
    status: str  # 'pass', 'fail', 'missing' or 'note'
    message: str
    node: str | None = None  # the first wrong value, from the output back
    expected: float | None = None
    actual: float | None = None
    expression: str = ""  # the failing case, as code
    point: str = ""  # its inputs
    via: str = ""  # how it was run: 'local' (out._backward()), 'backward', 'twice', ...
    narration: list[str] = field(default_factory=list)  # the step that should have happened
    mistake: str | None = None  # the known mistake these numbers match
    mistake_label: str | None = None  # the same in a few words
    mistake_id: str | None = None
    advice: str | None = None  # what to write instead
    explanation: str = ""  # more words on a note or a failure
    error: str | None = None  # the learner's traceback (their frames only)
    case: int | None = None  # which case of the check failed (for the picture)
    grads: dict[str, float | None] = field(default_factory=dict)  # the learner's, in that case

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def row(self) -> str:
        """The table's line: the message, and the mistake in a few words where one is named."""
        return f"{self.message}: {self.mistake_label}" if self.mistake_label else self.message

    def details(self) -> list[str]:
        """The paragraph under the table: the case, the step, the mistake, the error."""
        lines = [self.explanation] if self.explanation else []
        if self.expression:
            setup = "  with out.grad = -1.5, then out._backward()" if self.via == "local" else ""
            lines.append(f"{self.expression}   at {self.point}{setup}")
        if self.narration:
            lines.append("what should have happened (the chain rule):")
            lines += [f"  {line}" for line in self.narration]
        if self.mistake:
            lines.append(f"this is a known mistake: {self.mistake}")
            if self.advice:
                lines.append(f"  write: {self.advice}")
        if self.error:
            lines += self.error.splitlines()
        return lines
