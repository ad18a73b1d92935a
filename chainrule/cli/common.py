"""What every `chainrule` command shares: the error the user can fix, and flag types.

The commands import from here and `main.py` imports the commands, so imports flow one way:
common <- expressions, graph, train <- main.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

__all__ = [
    "UsageError",
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
