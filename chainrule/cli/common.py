"""What every `chainrule` command shares: the parser, the error the user can fix, flag types.

The commands import from here and `main.py` imports the commands, so imports flow one way:
common <- the command modules (graph, train, presets, predict, playground, and their helpers)
<- main.
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from ..extras import MissingExtra, missing, missing_message

__all__ = [
    "Parser",
    "UsageError",
    "require_packages",
    "at_least_two",
    "fraction",
    "layer_sizes",
    "momentum",
    "nonneg_float",
    "nonneg_int",
    "percent",
    "positive_float",
    "positive_int",
]


class UsageError(Exception):
    """A mistake in what the user asked for; reported in one line, exit status 2."""


def require_packages(purpose: str, modules: Sequence[str], extra: str) -> None:
    """Before any work: every module `purpose` needs is installed, or one `MissingExtra`
    naming all that are not and the extra that brings them."""
    absent = missing(modules)
    if absent:
        raise MissingExtra(missing_message(purpose, absent, extra), absent, extra)


# -- the parser -----------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse's parser, kinder to a learner's typing.

    * Errors are one line (argparse's default prints the whole usage first), except for a
      flag it does not know, which gets the nearest flag it does know and that flag's usage:
      `--dataset` answers "did you mean --data?".
    * A prefix is not a flag: argparse would take `--epoch` for `--epochs` without a word
      (`allow_abbrev=False`), so a typo could silently mean something else.
    * A mistyped choice (`--data moon`) gets the nearest valid one too.

    Subcommands made with `add_subparsers(parser_class=Parser)` are Parsers as well, and
    each reports its own unknown flags, so the suggestion comes from the right command.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and self._subparsers is None:  # a command: nothing below can take them
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        usage = ""
        if message.startswith("unrecognized arguments: "):
            flags = [a for a in message.split(": ", 1)[1].split() if a.startswith("-")]
            if flags:
                typed = flags[0].split("=", 1)[0]
                action = self._nearest_flag(typed)
                if action is not None:
                    nearest = _closest_option(typed, action.option_strings)
                    message += f"; did you mean {nearest}?"
                    usage = f"usage: {self.prog} {_flag_usage(nearest, action)}"
                else:
                    usage = f"usage: {self.prog} [options]"
                usage += f"   ({self.prog} --help lists every flag)\n"
        elif "invalid choice: " in message:
            typed = re.search(r"invalid choice: '([^']*)'", message)
            listed = re.search(r"\(choose from (.*)\)", message)
            if typed and listed:
                choices = [c.strip(" '") for c in listed.group(1).split(",")]
                close = difflib.get_close_matches(typed.group(1), choices, n=1)
                if close:
                    message += f"; did you mean {close[0]!r}?"
        self.exit(2, f"{self.prog}: error: {message}\n{usage}")

    def _nearest_flag(self, typed: str) -> Any:
        """The action of the known flag nearest to `typed`, or None if none is near."""
        by_flag = {o: a for a in self._actions for o in a.option_strings if o.startswith("--")}
        longer = [o for o in by_flag if o.startswith(typed) and len(typed) > 3]  # --epoch
        if longer:
            return by_flag[min(longer, key=len)]
        shorter = [o for o in by_flag if typed.startswith(o) and len(o) > 3]  # --dataset
        if shorter:
            return by_flag[max(shorter, key=len)]
        close = difflib.get_close_matches(typed, list(by_flag), n=1, cutoff=0.6)
        return by_flag[close[0]] if close else None


def _closest_option(typed: str, options: Sequence[str]) -> str:
    longs = [o for o in options if o.startswith("--")] or list(options)
    return max(longs, key=lambda o: difflib.SequenceMatcher(None, typed, o).ratio())


def _flag_usage(flag: str, action: argparse.Action) -> str:
    """`--data NAME`, as the usage line writes the flag."""
    if action.nargs == 0:
        return flag
    if action.metavar:
        return f"{flag} {action.metavar}"
    if action.choices:
        return f"{flag} {{{','.join(map(str, action.choices))}}}"
    return f"{flag} {action.dest.upper()}"


# -- flag types: argparse turns their ArgumentTypeError into a one-line usage error ------------


def _typed(kind: Callable[[str], Any], test: Callable[[Any], bool], what: str) -> Callable:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}")
        return value

    return parse


positive_int = _typed(int, lambda v: v >= 1, "must be a whole number >= 1")
nonneg_int = _typed(int, lambda v: v >= 0, "must be a whole number >= 0")
at_least_two = _typed(int, lambda v: v >= 2, "must be a whole number >= 2")
positive_float = _typed(float, lambda v: math.isfinite(v) and v > 0, "must be a number > 0")
nonneg_float = _typed(float, lambda v: math.isfinite(v) and v >= 0, "must be a number >= 0")
fraction = _typed(float, lambda v: 0 < v < 1, "must be a fraction between 0 and 1")
momentum = _typed(float, lambda v: 0 <= v < 1, "must be a number in [0, 1)")


def layer_sizes(text: str) -> list[int]:
    """`2,16,16,1`: the widths of a network, inputs first."""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"must be layer sizes like 2,16,16,1 (inputs first, at least two), got {text!r}"
        )
    return sizes


def percent(x: float | None) -> str:
    """A fraction as a percentage to one decimal, or n/a."""
    return "n/a" if x is None else f"{100 * x:.1f}%"
