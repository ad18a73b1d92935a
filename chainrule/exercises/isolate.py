"""`chainrule check FILE`: a learner's file runs in a child process, and is stopped when a check
runs too long.

The child (`worker.py`) imports the file and sends back plain observations; this process, which
never imports the learner's code, judges them. So an infinite loop in `backward()` costs one
check (stopped after the limit, reported, and a fresh child carries on with the next check), a
crash or an `exit()` in the learner's code costs one check, and nothing the learner's code does
can change the reference engine or the report.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable
from typing import IO, Any

from .findings import Finding
from .judge import judge
from .observe import LIMIT_S
from .probes import BATTERY
from .report import Report

__all__ = ["check_file"]

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRACE_S = 3.0  # how much longer than the limit the child gets to report a timeout itself


class _Child:
    """One worker process and a thread that reads its events into a queue."""

    def __init__(self, path: str, class_name: str, start: int, hung: str) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave no __pycache__ next to a learner's file
        command = [sys.executable, "-m", "chainrule.exercises.worker", path, class_name]
        self.process = subprocess.Popen(
            [*command, str(start), hung],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
            encoding="utf-8",
        )
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=self._read, args=(stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                continue
        self.events.put(None)  # the child is gone

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next event; None when the child ended; raises queue.Empty after `timeout`."""
        return self.events.get(timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def exit_text(self) -> str:
        code = self.process.wait()
        return f"the process exited with status {code} (sys.exit or a crash?)"


def check_file(
    path: str,
    class_name: str = "Value",
    *,
    require: Iterable[str] = (),
    limit: float = LIMIT_S,
) -> Report:
    """Import the learner's file `path` in a child process, run the checks on its class
    `class_name`, and judge what came back. Each check is stopped after `limit` seconds."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")
    observations: list[dict[str, Any]] = []
    interface: dict[str, Any] | None = None
    start, hung = 0, ""
    while start < len(BATTERY) or interface is None:
        child = _Child(path, class_name, start, hung)
        try:
            event = child.next(limit + GRACE_S)
        except queue.Empty:
            child.stop()
            return _broken(path, class_name, f"importing {path} did not finish in {limit:g} s")
        if event is None:
            child.stop()
            return _broken(path, class_name, f"importing {path}: {child.exit_text()}")
        if event["event"] == "error":
            child.stop()
            return _broken(path, class_name, event["message"], event.get("traceback"))
        if interface is None:
            interface = event["interface"]
            if interface["problems"]:
                child.stop()
                break
        start = _collect(child, start, observations, limit)
        child.stop()
        last = observations[-1] if observations else {}
        if last.get("status") in ("timeout", "crashed") and BATTERY[start - 1].needs_backward:
            hung = hung or last["id"]
    return judge(
        interface or {},
        observations,
        subject=class_name,
        source=path,
        require=require,
    )


def _collect(child: _Child, start: int, observations: list[dict[str, Any]], limit: float) -> int:
    """Read the child's results into `observations`; the index of the first check not done
    (after one it had to stop, or len(BATTERY) when all are done)."""
    index = start
    while index < len(BATTERY):
        try:
            event = child.next(limit + GRACE_S)
        except queue.Empty:  # a check that caught its own timeout and carried on
            timeout = {"id": BATTERY[index].id, "status": "timeout", "reason": f"{limit:g}"}
            observations.append(timeout)
            return index + 1
        if event is None:  # the learner's code ended the process
            observations.append(
                {"id": BATTERY[index].id, "status": "crashed", "reason": child.exit_text()}
            )
            return index + 1
        if event["event"] == "result":
            observations.append(event["observation"])
            index += 1
        elif event["event"] == "done":
            break
    return len(BATTERY)


def _broken(path: str, class_name: str, message: str, traceback: str | None = None) -> Report:
    """The report for a file that cannot be checked at all: one failing finding."""
    finding = Finding(
        "import",
        f"import {os.path.basename(path)}",
        None,
        "fail",
        message.splitlines()[-1] if message else "cannot import",
        error=traceback,
    )
    return Report([finding], subject=class_name, source=path)
