"""Backpropagation you can read, see and trust: train, evaluate, draw and play with networks.

The `chainrule` command line: `chainrule train | demo | preset | eval | predict | graph |
playground | check`. Each command is one module with a `register(subparsers)` that adds its
flags and a `run(args)` that does the work; what they share (the `UsageError`, flag types, the
data flags, the run folder) is in `common.py`, so imports flow one way: common <- commands <-
main. Errors the user can fix (a bad flag, a missing file, a package to install) print one line
and exit with status 2, never a traceback; a mistyped flag also gets the nearest one (`Parser`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..extras import MissingExtra
from . import check, demo, eval, graph, playground, predict, preset, train
from .common import Parser, UsageError

# The commands, in the order `chainrule --help` lists them.
COMMANDS = (train, demo, preset, eval, predict, graph, playground, check)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="chainrule", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UsageError, MissingExtra) as err:
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
