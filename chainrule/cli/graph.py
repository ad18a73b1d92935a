"""`chainrule graph`: draw the graph of an expression, with every value and gradient on it.

    chainrule graph                      # the lecture's neuron, after backward, to graph.svg
    chainrule graph "tanh(x1*w1 + x2*w2 + b)" \\
        --set x1=2 x2=0 w1=-3 w2=1 b=6.8813735870195432 --out neuron.svg
    chainrule graph "e = a*b; d = e + c; L = d*f" --set a=2 b=-3 c=10 f=-2 --explain
    chainrule graph "e = a*b; d = e + c; L = d*f" --set a=2 b=-3 c=10 f=-2 --animate L.html

The expression language (numbers, names given a value with `--set`, `+ - * / **`, and the
functions of the op table, `chainrule.ops`) is parsed safely by `chainrule.cli.expressions`; this
module is the command around it: its flags, the picture, the narration.
"""

from __future__ import annotations

import argparse
import keyword
import math
from pathlib import Path

from ..viz.animate import SAVE_FORMATS as ANIMATION_FORMATS
from ..viz.animate import animate
from ..viz.graph import (
    SAVE_FORMATS,
    GraphTooLargeError,
    GraphvizNotFoundError,
    graph_size,
    save_graph,
)
from ..viz.narrate import explain
from .common import UsageError, add_flags, check_file, path, positive_int, usage_errors
from .expressions import FUNCTIONS, HELP_LANGUAGE, ProgramError, evaluate_program, lecture_neuron


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `chainrule graph` to the command line (called from `chainrule.cli.main`)."""
    command = subparsers.add_parser(
        "graph",
        help="draw the computation graph of an expression, with data and grad on every node",
        description=(
            "Draw the graph of an expression after backward: a box per value (label, data, "
            "grad) and an oval per operation. Without an expression, draws the lecture's "
            "neuron o = tanh(x1*w1 + x2*w2 + b). "
            + HELP_LANGUAGE[0].upper()
            + HELP_LANGUAGE[1:]
            + "; name intermediate values with statements like 'n = x1*w1 + b; o = tanh(n)'."
        ),
    )
    example = "e.g. 'tanh(x1*w1 + x2*w2 + b)' or 'e = a*b; d = e + c; L = d*f'"
    command.add_argument("program", nargs="?", metavar="EXPRESSION", help=example)
    how = "the value of each input, e.g. --set x1=2 w1=-3"
    command.add_argument(
        "--set", dest="assignments", nargs="+", action="extend", metavar="NAME=VALUE", help=how
    )
    add_flags(command, [
        ("--out FILE", path, "where to write the picture; .svg, .png, .pdf, or .dot for the "
         "source (default: graph.svg, or none when --animate is given)"),
        ("--animate FILE", path, "write the forward and backward pass step by step, each "
         "chain-rule step with its narration: a player (.html) or a GIF (.gif)"),
        ("--rankdir", ["LR", "TB", "RL", "BT"], "direction of flow"),
        ("--max-nodes N", positive_int,
         "refuse graphs with more values than this (default: 300)"),
        ("--force", "store_true", "draw the graph whatever its size"),
        ("--explain", "store_true", "also print the chain rule, step by step, with the numbers"),
    ])  # fmt: skip
    command.set_defaults(func=run, rankdir="LR", max_nodes=300, assignments=[])


def run(args: argparse.Namespace) -> int:
    """Evaluate the expression, backpropagate, and save its picture where --out says."""
    out = None if args.animate and not args.out else (args.out or Path("graph.svg"))
    check_file("--out", out, SAVE_FORMATS)
    check_file("--animate", args.animate, ANIMATION_FORMATS)
    values = _parse_assignments(args.assignments)
    if args.program is None:
        if values:
            raise UsageError("--set gives values to an expression, but no expression was given")
        root = lecture_neuron()
    else:
        with usage_errors("", ProgramError):
            root = evaluate_program(args.program, values)

    count = graph_size(root)
    if count > args.max_nodes and not args.force:
        raise UsageError(
            f"the graph has {count} values, more than --max-nodes {args.max_nodes}; "
            "draw a smaller part of the expression, raise --max-nodes, or pass --force"
        )
    with usage_errors("backward failed: ", ArithmeticError, ValueError):
        if args.explain:
            print(explain(root))
            print()
        else:
            root.backward()

    if args.animate:
        _save_animation(root, args.animate, args)
    if out is None:
        return 0
    with (
        usage_errors(f"cannot write {out}: ", OSError),
        usage_errors("", GraphvizNotFoundError, GraphTooLargeError, ImportError, RuntimeError),
    ):  # no `dot` program, no graphviz package, ...
        written = save_graph(root, out, rankdir=args.rankdir, max_nodes=args.max_nodes, force=True)
    name = root.label or "output"
    values_word = "value" if count == 1 else "values"
    print(f"wrote {written} ({count} {values_word}; {name} = {root.data:.4f}, grads from backward)")
    return 0


def _save_animation(root: object, target: Path, args: argparse.Namespace) -> None:
    """`--animate FILE`: the player (.html) or the GIF of the forward and backward pass."""
    with (
        usage_errors(f"cannot write {target}: ", OSError),
        usage_errors("", ArithmeticError, ValueError, ImportError, RuntimeError),
    ):  # no `dot` program, no Pillow, ...
        movie = animate(root, rankdir=args.rankdir, max_nodes=args.max_nodes, force=True)
        written = movie.save(target)
    counts = movie.counts
    print(
        f"wrote {written} ({len(movie)} frames: {counts['forward']} forward, "
        f"{counts['backward']} backward)"
    )


def _parse_assignments(items: list[str]) -> dict[str, float]:
    """The values of `--set NAME=VALUE ...`, checked: valid, unused by functions, given once."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(
                f"--set {item}: expected NAME=VALUE, e.g. --set x1=2 "
                "(an expression goes before --set)"
            )
        if not name.isidentifier() or keyword.iskeyword(name):
            raise UsageError(f"--set {item}: {name!r} is not a valid name (letters, digits, _)")
        if name in FUNCTIONS:
            raise UsageError(f"--set {item}: {name!r} is a function name; pick another name")
        if name in values:
            raise UsageError(f"--set {item}: {name} is given twice")
        try:
            number = float(text)
        except ValueError:
            raise UsageError(f"--set {item}: {text.strip()!r} is not a number") from None
        if not math.isfinite(number):
            raise UsageError(f"--set {item}: give a finite number")
        values[name] = number
    return values
