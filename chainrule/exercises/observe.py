"""Running the probes on a learner's class and writing down what came out, nothing more.

This is the only part of the coach that runs a learner's code, and it judges nothing: it
returns plain data (numbers, the error a case raised, whether a method exists), which
`judge.py` compares with chainrule's reference engine. `chainrule check` runs it in a child
process (`isolate.py`), so a learner's code never shares a process with the judging; in a
notebook `check(Value)` runs it in place, with a timer.

An error is kept as the learner should see it: its type, its message, and the frames of the
learner's own code only (the coach's frames are left out, since they would only hide where the
learner's mistake is). `NotImplementedError`, the blank of an exercise, means "not written
yet": the op is then reported missing, not wrong.
"""

from __future__ import annotations

import numbers
import os
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from .probes import BATTERY, OPS, UPSTREAM, Case, Check, Observed, build

__all__ = [
    "CheckTimeout",
    "LIMIT_S",
    "describe_error",
    "observe_battery",
    "observe_check",
    "observe_interface",
    "time_limit",
]

LIMIT_S = 10.0  # seconds one check may run before it is stopped

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # chainrule/


class CheckTimeout(BaseException):
    """Raised into a learner's code when a check runs past its time; a BaseException, so a
    learner's `except Exception:` cannot swallow it."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Stop the block with CheckTimeout after `seconds`, where a timer can interrupt it (the
    main thread of a POSIX process); elsewhere the block runs without a limit."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if seconds is None or not usable:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise CheckTimeout

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _learner_frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    frames = traceback.extract_tb(tb)
    return [
        f
        for f in frames
        if not os.path.abspath(f.filename).startswith(_PACKAGE + os.sep)
        and not f.filename.startswith("<frozen")
    ]


def describe_error(err: BaseException, stage: str = "") -> dict[str, str]:
    """An exception as the learner should see it: type, message, the line of their code where
    it happened, and a traceback of their frames only."""
    if isinstance(err, RecursionError):
        frames = _learner_frames(err.__traceback__)[-3:]  # the same frames, a thousand times
    else:
        frames = _learner_frames(err.__traceback__)
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(err), err)
    where = ""
    if isinstance(err, SyntaxError) and err.filename:
        where = f"{os.path.basename(err.filename)}, line {err.lineno}"
    elif frames:
        last = frames[-1]
        where = f"{os.path.basename(last.filename)}, line {last.lineno}, in {last.name}"
    return {
        "type": type(err).__name__,
        "message": str(err),
        "where": where,
        "traceback": "".join(lines).rstrip(),
        "stage": stage,
    }


def _number(x: Any) -> float | None:
    """A learner's `.data` or `.grad` as a float, or None when it is not a number."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    return float(x)


def observe_interface(cls: Any) -> dict[str, Any]:
    """Can the class be used as the lecture's Value at all: Value(2.0), .data, .grad?
    Returns {'problems': [...], 'error': ...}."""
    problems: list[str] = []
    error = None
    name = getattr(cls, "__name__", repr(cls))
    if not isinstance(cls, type):
        return {"problems": [f"{name} is not a class"], "error": None}
    try:
        with time_limit(LIMIT_S):
            v = cls(2.0)
            data, grad = getattr(v, "data", None), getattr(v, "grad", None)
    except CheckTimeout:
        return {"problems": [f"{name}(2.0) did not finish in {LIMIT_S:g} s"], "error": None}
    except Exception as err:
        return {
            "problems": [f"{name}(2.0) raised {type(err).__name__}"],
            "error": describe_error(err),
        }
    if _number(data) != 2.0:
        problems.append(f"{name}(2.0).data should be 2.0, got {data!r}")
    if _number(grad) != 0.0:
        problems.append(f"{name}(2.0).grad should start at 0, got {grad!r}")
    # (no backward() yet is not a problem here: the lecture calls each op's _backward by hand
    # before it writes backward(), and the checks that need it say it is missing)
    return {"problems": problems, "error": error}


def observe_check(cls: Any, check: Check, limit: float | None = LIMIT_S) -> dict[str, Any]:
    """Run every case of `check` on `cls`. Returns {'id', 'status', 'reason', 'cases'}, with
    status 'ran', 'missing' (an op or backward is absent or not written yet), 'absent' (an
    optional method the class lacks) or 'timeout'."""
    result: dict[str, Any] = {"id": check.id, "status": "ran", "reason": "", "cases": []}
    absent = [op for op in OPS if op in check.needs and not _has(cls, OPS[op].attribute)]
    if check.needs_backward and not _has(cls, "backward"):
        absent.append("backward")
    if absent:
        result["status"] = "missing"
        result["reason"] = "absent:" + ",".join(absent)
        return result
    if check.optional and not callable(getattr(cls, check.optional, None)):
        result["status"] = "absent"
        result["reason"] = check.optional
        return result
    try:
        with time_limit(limit):
            for case in check.cases:
                observed = _run_case(cls, case)
                result["cases"].append(observed.as_dict())
                error = observed.error
                if error is not None and error["type"] == "NotImplementedError":
                    result["status"] = "missing"
                    result["reason"] = "blank:" + error["stage"]
                    break
    except CheckTimeout:
        result["status"] = "timeout"
        result["reason"] = f"{limit:g}"
    return result


def _has(cls: Any, attribute: str) -> bool:
    return callable(getattr(cls, attribute, None))


def _run_case(cls: Any, case: Case) -> Observed:
    seen = Observed(via=case.mode)
    stage = "forward"
    try:
        env = build(case, lambda name, x: cls(x))
        for name, v in env.items():
            seen.data[name] = _number(getattr(v, "data", None))
        out = env[case.output]
        stage = "backward"
        if case.mode == "local":
            if _local_step_usable(out, [env[n] for n in case.leaves]):
                out.grad = UPSTREAM
                out._backward()
            else:  # not built the lecture's way: its whole backward pass, from 1.0
                seen.via = "backward"
                out.backward()
        elif case.mode == "backward":
            out.backward()
        elif case.mode == "twice":
            out.backward()
            out.backward()
        elif case.mode == "zero_grad":
            out.backward()
            stage = "zero_grad"
            for name in case.leaves:
                env[name].zero_grad()
            stage = "backward"
            out.backward()
        for name, v in env.items():
            seen.grad[name] = _number(getattr(v, "grad", None))
    except CheckTimeout:
        raise
    except Exception as err:  # the learner's code failed: keep what it said, and where
        seen.error = describe_error(err, stage)
    return seen


def _local_step_usable(out: Any, operands: list[Any]) -> bool:
    """The lecture's manual step works on `out`: it has a `_backward` to call, and its
    children (`_prev`) are the operands themselves, not nodes built in between."""
    step = getattr(out, "_backward", None)
    try:
        prev = list(getattr(out, "_prev", ()))
    except TypeError:
        return False
    return callable(step) and all(any(c is v for c in prev) for v in operands)


def observe_battery(
    cls: Any,
    start: int = 0,
    hung: str = "",
    limit: float | None = LIMIT_S,
    on_start: Callable[[Check], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Observe every check from index `start` of the battery (calling `on_start(check)` before
    each). Once a check that calls backward() has run out of time (`hung` names it), the later
    ones that call backward() are skipped: they would only wait for the same loop."""
    for check in BATTERY[start:]:
        if on_start is not None:
            on_start(check)
        if hung and check.needs_backward:
            yield {"id": check.id, "status": "skipped", "reason": hung, "cases": []}
            continue
        observation = observe_check(cls, check, limit)
        if observation["status"] == "timeout" and check.needs_backward:
            hung = check.id
        yield observation
