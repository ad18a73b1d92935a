"""`chainrule check`: check a learner's own Value class, the one the lecture builds, and say what
is wrong with it.

    chainrule check my_engine.py                      # finds the class Value in the file
    chainrule check my_engine.py --class Scalar       # or the class named
    chainrule check my_engine.py --require tanh,exp   # missing ops fail instead of 'missing'
    chainrule check my_engine.py --json               # the report as JSON, for autograders
    chainrule check my_engine.py --gradescope results.json

The file is imported in a child process (`chainrule.exercises.isolate`), so a loop that never
ends is stopped after 10 s per check and a crash costs one check. Exit status: 0 when nothing
fails, 1 when a check fails (or the file cannot be imported), 2 for a usage problem.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..exercises.isolate import check_file
from ..exercises.probes import op_names
from .common import UsageError, add_flags, usage_errors

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `chainrule check` to the command line (called from `chainrule.cli.main`)."""
    command = subparsers.add_parser(
        "check",
        help="check a learner's own Value class and say what is wrong, in the lecture's words",
        description=(
            "Import FILE in a child process, run the lecture's checks on its Value class "
            "(each op at several points, L = -8, the neuron, a reused value, a diamond, "
            "backward() twice, zero_grad, a chain 5,000 deep) against chainrule's own engine, "
            "and print what passes, what fails and why. Exit status 0 when nothing fails, 1 "
            "when a check fails."
        ),
    )
    command.add_argument("file", metavar="FILE", help="the learner's Python file")
    command.add_argument(
        "--class", dest="class_name", metavar="NAME", help="the class to check (default: Value)"
    )
    add_flags(command, [
        ("--require OPS", str, "ops the class must have, e.g. tanh,exp or +,*,** or all (every "
         "op and backward): a missing one then fails"),
        ("--json", "store_true", "print the report as JSON instead of a table"),
        ("--gradescope FILE", str,
         "also write Gradescope's results.json there: a test per check, a point per op"),
    ])  # fmt: skip
    command.set_defaults(func=run, class_name="Value", require="")


def run(args: argparse.Namespace) -> int:
    """Check the file; print the report; 0 when nothing fails, 1 otherwise."""
    with usage_errors(f"--require {args.require}: ", ValueError):
        required = op_names(args.require)
    if not args.class_name.isidentifier():
        raise UsageError(f"--class {args.class_name}: not a Python class name")
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {args.file}")
    gradescope = Path(args.gradescope) if args.gradescope else None
    if gradescope is not None and not gradescope.parent.is_dir():
        raise UsageError(f"--gradescope {gradescope}: folder {gradescope.parent} does not exist")
    report = check_file(str(path), args.class_name, require=required)
    if gradescope is not None:
        with usage_errors(f"cannot write {gradescope}: ", OSError):
            gradescope.write_text(json.dumps(report.gradescope(), indent=2) + "\n")
    print(report.to_json() if args.json else report.format())
    return 0 if report.passed else 1
