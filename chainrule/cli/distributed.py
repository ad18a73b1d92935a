"""`--engine torch --workers N` of `chainrule train` and `chainrule preset`: the same run, trained
data-parallel by PyTorch (`chainrule.interop.distributed`).

    chainrule preset cnn-mnist5k --engine torch --workers 2
    torchrun --nproc-per-node 2 -m chainrule preset cnn-mnist5k --engine torch

The commands keep their own data, model, settings, report and files; this module adds the
flags, checks the request before any work (`prepare`), and trains (`fit`). Under torchrun
every rank runs the whole command, and only rank 0 prints and writes the run.

`chainrule.interop.distributed` needs numpy (and, when it trains, PyTorch); both are optional,
so without numpy the command line starts anyway and `prepare` says what to install.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..learn import loop
from . import common
from .common import UsageError, positive_int, require_packages, worker_port

try:
    from ..interop import distributed
except ImportError:  # no numpy: `prepare` asks for the packages first
    distributed = None  # type: ignore[assignment]

__all__ = ["add_flags", "fit", "prepare"]

# The variables torchrun sets for each of its workers (as `chainrule.interop.distributed`).
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def add_flags(g: Any, engine: bool) -> None:
    """--workers and --port (and, for a command that has none yet, --engine tensor|torch)."""
    if engine:
        g.set_defaults(engine="tensor")
        common.add_flags(g, [
            ("--engine", ["tensor", "torch"], "tensor (chainrule's numpy engine) or torch "
             "(PyTorch, data-parallel over --workers processes) (default: tensor)"),
        ])  # fmt: skip
    common.add_flags(g, [
        ("--workers N", positive_int, "with --engine torch: worker processes on this machine, "
         "each training on its share of every batch (default: 1; under torchrun, torchrun's)"),
        ("--port P", worker_port, "with --engine torch: the port the workers meet on, on "
         "127.0.0.1 (default: a free one)"),
    ])  # fmt: skip


def prepare(args: argparse.Namespace) -> None:
    """Before any work: the flags fit together and PyTorch is installed. Under torchrun,
    the ranks other than 0 print nothing (their errors still show)."""
    torchrun = all(os.environ.get(name) for name in TORCHRUN_VARIABLES)
    if getattr(args, "engine", None) != "torch":
        for flag in ("workers", "port"):
            if getattr(args, flag, None) is not None:
                raise UsageError(f"--{flag} needs --engine torch")
        if torchrun:
            raise UsageError("under torchrun, train with --engine torch")
        return
    require_packages("--engine torch", ["torch", "numpy"], "torch")
    if torchrun:
        world = int(os.environ["WORLD_SIZE"])
        if args.workers is not None and args.workers != world:
            raise UsageError(
                f"--workers {args.workers}, but torchrun started {world} workers: under "
                "torchrun, leave --workers out"
            )
        if int(os.environ["RANK"]) != 0:
            sys.stdout = open(os.devnull, "w")  # for the rest of the process


def fit(args: argparse.Namespace, model: Any, X: Any, y: Any, **options: Any) -> Any:
    """Train `model` as `chainrule.learn.fit` does: on this machine, or, with --engine torch,
    data-parallel in PyTorch. The `History`, or None on a torchrun rank other than 0; the
    problems of a data-parallel run are one-line `UsageError`s."""
    if args.engine != "torch":
        return loop.fit(model, X, y, **options)
    try:
        return distributed.fit_distributed(
            model, X, y, workers=args.workers, port=args.port, **options
        )
    except (ValueError, TypeError, distributed.WorkerFailed) as err:
        raise UsageError(str(err)) from None
