"""Backpropagation you can read, see and trust: train, evaluate, draw and play with networks.

The `chainrule` command line: `chainrule train | demo | preset | eval | predict | graph |
playground | check`.
Each subcommand lives in its own module and registers itself here; what they share (the
`UsageError`, flag types) is in `common.py`, so imports flow one way: common <- commands <- main.
Errors the user can fix (a bad flag, a missing file, a package to install) print one line and
exit with status 2, never a traceback; a mistyped flag also gets the nearest one (`Parser`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..extras import MissingExtra
from .check import register as register_check
from .common import Parser, UsageError
from .graph import register as register_graph
from .playground import register as register_playground
from .predict import register as register_predict
from .presets import register as register_presets
from .train import register as register_train


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="chainrule", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    register_train(sub)  # train, demo
    register_presets(sub)  # preset: the names MLP, the mnist5k CNN
    register_predict(sub)  # eval, predict
    register_graph(sub)
    register_playground(sub)
    register_check(sub)
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
