"""The child process of `chainrule check`: import a learner's file, run the probes on its class,
and send back what came out, one JSON line per event.

    python -m chainrule.exercises.worker FILE CLASS START [HUNG]

Events, in order: `loaded` (with the interface observation) or `error` (the file could not be
imported, or has no such class); then for each check from index START of the battery a
`start` and a `result`; then `done`. HUNG names a check whose backward() never finished
(in an earlier child): the later checks that call backward() are then skipped.

The learner's own output (prints, warnings) goes nowhere: the events travel on the process's
original standard output, which the learner's code no longer reaches.

The parent (`isolate.py`) stops this process when a check runs too long and starts a fresh one
at the next check; a learner's code can crash, loop or exit here without touching the judging.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import IO, Any

from .observe import LIMIT_S, describe_error, observe_battery, observe_interface

__all__ = ["load_class", "main"]


def _send(channel: IO[str], event: dict[str, Any]) -> None:
    channel.write(json.dumps(event) + "\n")
    channel.flush()


def load_class(path: str, class_name: str) -> tuple[Any, dict[str, Any] | None]:
    """Import the file at `path` and find `class_name` in it: (the class, None), or
    (None, an error event the learner can act on)."""
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.append(folder)  # the learner's own helper modules, after chainrule's
    stem = os.path.splitext(os.path.basename(path))[0]
    # (the module is not registered as importable: a file named like a library module, say
    # random.py, must not replace that module for the rest of this process)
    name = stem if stem.isidentifier() else "learner"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None, {"event": "error", "kind": "import", "message": f"cannot import {path}"}
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except BaseException as err:  # SyntaxError, NameError, SystemExit, ...: the learner's
        error = describe_error(err, "import")
        shown = not isinstance(err, SyntaxError) and error["where"]  # (SyntaxError says where)
        where = f" at {error['where']}" if shown else ""
        message = f"{error['type']}: {error['message']}{where}"
        return None, {"event": "error", "kind": "import", **error, "message": message}
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        classes = sorted(k for k, v in vars(module).items() if isinstance(v, type))
        defined = f" (it defines: {', '.join(classes)})" if classes else " (it defines no class)"
        what = "no class" if cls is None else "nothing that is a class"
        return None, {
            "event": "error",
            "kind": "class",
            "message": f"{os.path.basename(path)} has {what} named {class_name}{defined}",
        }
    return cls, None


def main(argv: list[str]) -> int:
    path, class_name, start = argv[0], argv[1], int(argv[2])
    hung = argv[3] if len(argv) > 3 else ""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # whatever the learner prints, even from C, goes nowhere
    os.dup2(quiet, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    cls, error = load_class(path, class_name)
    if error is not None:
        _send(channel, error)
        return 0
    interface = observe_interface(cls)
    _send(channel, {"event": "loaded", "interface": interface})
    if interface["problems"]:  # nothing else can run
        _send(channel, {"event": "done"})
        return 0
    announce = lambda check: _send(channel, {"event": "start", "id": check.id})  # noqa: E731
    for observation in observe_battery(cls, start, hung, LIMIT_S, announce):
        _send(channel, {"event": "result", "observation": observation})
    _send(channel, {"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
