"""Judging what a learner's engine gave: chainrule's `Value` is the reference, `explain` the
narrator, `mistakes.py` the diagnosis.

For each check the observations (`observe.py`) are compared, case by case, with the same
program run on chainrule's engine: the output's value first (a wrong forward pass makes every
gradient after it meaningless), then the gradients from the output back to the inputs, so the
first wrong gradient found is where the mistake entered the graph. A failure says which node,
the gradient expected and the one found, and the chain-rule step that should have produced
it, as `explain` narrates it. Then every failure is matched against the known mistakes.

Nothing here runs a learner's code: it reads plain numbers, so judging is the same whether the
observations came from this process (a notebook) or from a child process (`chainrule check`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .findings import Finding
from .mistakes import CATALOGUE, Mistake, affects, close, matches
from .probes import DEEP, OPS, Case, Check, Observed, check_by_id, expression_text, point_text
from .reference import narrate, reference
from .report import Report

__all__ = ["judge"]


def judge(
    interface: Mapping[str, Any],
    observations: Iterable[Mapping[str, Any]],
    *,
    subject: str = "Value",
    source: str | None = None,
    require: Iterable[str] = (),
) -> Report:
    """Turn the observations of every check into a Report of findings, with diagnoses."""
    required = set(require)
    problems = list(interface.get("problems", []))
    if problems:
        error = interface.get("error")
        finding = Finding(
            "interface",
            f"{subject}(data), .data, .grad",
            None,
            "fail",
            "; ".join(problems),
            error=error["traceback"] if error else None,
        )
        return Report([finding], subject=subject, source=source)
    findings: list[Finding] = []
    seen_by_check: dict[str, list[Observed]] = {}
    for raw in observations:
        check = check_by_id(raw["id"])
        seen = [Observed.from_dict(c) for c in raw.get("cases", [])]
        seen_by_check[check.id] = seen
        findings.append(_judge_check(check, raw, seen, required))
    _diagnose(findings, seen_by_check)
    return Report(findings, subject=subject, source=source)


def _judge_check(
    check: Check, raw: Mapping[str, Any], seen: list[Observed], required: set[str]
) -> Finding:
    status, reason = raw["status"], raw.get("reason", "")
    finding = Finding(check.id, check.title, check.op, "pass", "")
    if status == "missing":
        kind, _, what = reason.partition(":")
        lacking = set(what.split(",")) if kind == "absent" else set()
        if kind == "blank" and what == "backward" and check.needs_backward:
            lacking.add("backward")
        if check.op and check.op in required and check.id.startswith("op:"):
            lacking.add(check.op)
        is_required = bool(lacking & required)
        finding.status = "fail" if is_required else "missing"
        finding.message = _missing_message(check, reason, seen) + (
            " (required)" if is_required else ""
        )
        return finding
    if status == "absent":
        finding.status = "note"
        finding.message = f"the class has no {reason}(); not checked"
        return finding
    if status == "timeout":
        finding.status = "fail"
        finding.message = (
            f"stopped after {reason} s: it never finished (does backward() loop forever? a "
            "while loop that never ends, or a graph that points back at itself)"
        )
        return finding
    if status == "skipped":
        finding.status = "fail"
        finding.message = f"not run: backward() never finished in {check_by_id(reason).title} above"
        return finding
    if status == "crashed":
        finding.status = "fail"
        finding.message = f"the learner's code ended the process: {reason}"
        return finding
    for i, (case, o) in enumerate(zip(check.cases, seen)):
        if not _judge_case(finding, check, i, case, o):
            return finding
    finding.message = _pass_message(check)
    return finding


def _missing_message(check: Check, reason: str, seen: list[Observed]) -> str:
    kind, _, what = reason.partition(":")
    if kind == "absent":
        lacking = what.split(",")
        if check.id.startswith("op:") and check.op in lacking:
            return f"the class has no {OPS[check.op].shows} ({OPS[check.op].attribute})"
        ops = [OPS[op].shows for op in lacking if op in OPS]
        if ops:
            return f"needs {', '.join(ops)}, which the class does not have"
        return "needs backward(), which the class does not have yet"
    blank = next((o.error for o in seen if o.error), None)
    said = f": {blank['message']}" if blank and blank["message"] else " (NotImplementedError)"
    if what == "backward" and check.op and not check.needs_backward:
        forward_right = all(
            close(o.data.get(case.output), reference(case, case.mode).data[case.output])
            for case, o in zip(check.cases, seen)
        )
        head = "forward right" if forward_right else "forward wrong"
        return f"{head}; backward not written yet{said}"
    return f"not written yet{said}"


def _pass_message(check: Check) -> str:
    if check.id.startswith("op:"):
        return f"forward and gradients right at {len(check.cases)} points"
    return check.lesson


def _judge_case(finding: Finding, check: Check, i: int, case: Case, o: Observed) -> bool:
    """Fill `finding` with what is wrong in case `i`; True when the case is right."""
    finding.expression = expression_text(case)
    finding.point = point_text(case)
    finding.case = i
    finding.via = o.via
    if o.error is not None:
        err = o.error
        if err["type"] == "RecursionError" and check.id == "deep":
            finding.status = "note"
            finding.message = "backward() hit Python's recursion limit (not a mistake)"
            where = f" (at {err['where']})" if err.get("where") else ""
            finding.explanation = (
                "A recursive walk of the graph (the lecture's build_topo, or a backward that "
                f"recurses) makes one nested call per node{where}, and Python allows about "
                f"1,000, so a chain {DEEP:,} deep is too much for it. The lecture's engine does "
                "the same, and it is fine for the graphs of the lecture. "
                "To go deeper, build the order with a loop and a stack of your own instead of "
                "recursion (or raise the limit with sys.setrecursionlimit, which only moves it)."
            )
            return False
        finding.status = "fail"
        step = {"forward": "", "backward": " (its backward)", "zero_grad": " (zero_grad)"}
        where = f" ({err['where']})" if err.get("where") else ""
        finding.message = (
            f"{finding.expression}{step.get(err.get('stage', ''), '')} raised "
            f"{err['type']}: {err['message']}{where}"
        )
        finding.error = err["traceback"]
        return False
    expected = reference(case, o.via)
    out = case.output
    if not close(o.data.get(out), expected.data[out]):
        finding.status = "fail"
        finding.node = out
        finding.expected = expected.data[out]
        finding.actual = o.data.get(out)
        finding.message = (
            f"forward: {out}.data = {_show(o.data.get(out))}, expected {_show(expected.data[out])}"
        )
        finding.grads = dict(o.grad)
        return False
    for name in case.judged():
        if not close(o.grad.get(name), expected.grad[name]):
            finding.status = "fail"
            finding.node = name
            finding.expected = expected.grad[name]
            finding.actual = o.grad.get(name)
            finding.grads = dict(o.grad)
            after = {"twice": " after two backward() calls", "zero_grad": " after zero_grad()"}
            finding.message = (
                f"{name}.grad = {_show(o.grad.get(name))}, expected {_show(expected.grad[name])}"
                f"{after.get(o.via, '')}"
            )
            finding.narration = narrate(case, o.via, name)
            return False
    return True


def _show(x: float | None) -> str:
    return "not a number" if x is None else f"{x:.6g}"


def _diagnose(findings: list[Finding], seen_by_check: Mapping[str, list[Observed]]) -> None:
    """Name the known mistake behind each failure, where one fits best (see mistakes.py): one
    way of writing it gives the learner's numbers on the failed check and breaks no check the
    learner passed; among several, the one explaining the most failures wins."""
    failed = [
        check_by_id(f.check) for f in findings if f.status == "fail" and f.check in seen_by_check
    ]
    passed = [check_by_id(f.check) for f in findings if f.status == "pass"]
    if not failed:
        return
    explains: dict[str, set[str]] = {}
    for mistake in CATALOGUE:
        hit = [c for c in failed if affects(mistake, c)]
        if not hit:
            continue
        best: set[str] = set()
        for variant in mistake.variants:
            fits = {c.id for c in hit if matches(mistake, variant, c, seen_by_check[c.id])}
            if len(fits) > len(best) and not any(
                affects(mistake, c) and not matches(mistake, variant, c, seen_by_check[c.id])
                for c in passed
            ):
                best = fits
        if best:
            explains[mistake.id] = best
    by_id = {m.id: m for m in CATALOGUE}
    for f in findings:
        fitting = [by_id[k] for k, fits in explains.items() if f.check in fits]
        if f.status != "fail" or not fitting:
            continue
        most = max(len(explains[m.id]) for m in fitting)
        _name(f, [m for m in fitting if len(explains[m.id]) == most])


def _name(finding: Finding, mistakes: list[Mistake]) -> None:
    if len(mistakes) == 1:
        finding.mistake = mistakes[0].name
        finding.mistake_label = mistakes[0].label
        finding.mistake_id = mistakes[0].id
        finding.advice = mistakes[0].advice
    else:
        finding.mistake = "one of: " + "; or ".join(m.name for m in mistakes)
        finding.mistake_label = " or ".join(m.label for m in mistakes)
        finding.mistake_id = ",".join(m.id for m in mistakes)
