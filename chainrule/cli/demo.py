"""`chainrule demo`: micrograd's demo, through the same path as `chainrule train`.

100 moons points (noise 0.1), MLP 2-16-16-1 with ReLU hidden layers and a linear output, hinge
loss + 1e-4 L2, full batch, SGD with the learning rate falling linearly from 1.0, 100 steps;
scored on 100 fresh moons points. It prints the `chainrule train` command it is, then runs it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import train
from .common import Parser, add_flags, nonneg_int, path

DEMO_DATA_SEED = 1  # with the weights' seed `train.DEMO_SEED`, a good run (see the docs)


def register(sub: Any) -> None:
    """Add `chainrule demo` to the command line (called from `chainrule.cli.main`)."""
    p = sub.add_parser(
        "demo",
        help="micrograd's demo: train moons, report accuracy and time, save model and plots",
        description=(
            "micrograd's demo: 100 moons points (noise 0.1), MLP 2-16-16-1 (ReLU, linear "
            "output), hinge + 1e-4 L2, SGD lr 1.0 falling linearly, 100 full-batch steps; "
            "scored on 100 held-out points. Writes model.json, loss.png, boundary.png."
        ),
    )
    add_flags(p, [
        ("--out DIR", path, "output folder (default: runs/demo, replaced by each demo run)"),
        ("--seed S", nonneg_int, f"seed of the initial weights (default: {train.DEMO_SEED})"),
        ("--data-seed S", nonneg_int, "seed of the training points; the held-out ones use "
         f"S + 1 (default: {DEMO_DATA_SEED})"),
        ("--force", "store_true", "replace an earlier run in an --out you name"),
        ("--quiet", "store_true", "no progress bar and no header"),
    ])  # fmt: skip
    p.set_defaults(func=run, seed=train.DEMO_SEED, data_seed=DEMO_DATA_SEED)


def run(args: argparse.Namespace) -> int:
    """micrograd's demo configuration, as the flags of `chainrule train`."""
    argv = [
        "--data", "moons", "--samples", "100", "--noise", "0.1", "--test-samples", "100",
        "--data-seed", str(args.data_seed), "--model", "2,16,16,1", "--activation", "relu",
        "--output-activation", "linear", "--loss", "hinge", "--l2", "1e-4",
        "--optimizer", "sgd", "--lr", "1.0", "--schedule", "linear", "--steps", "100",
        "--seed", str(args.seed), "--out", str(args.out or Path("runs", "demo")),
    ]  # fmt: skip
    if args.force or args.out is None:  # the default folder is the demo's own scratch space
        argv.append("--force")
    if args.quiet:
        argv.append("--quiet")
    parser = Parser(add_help=False)
    train.register(parser.add_subparsers())
    train_args = parser.parse_args(["train", *argv])
    train_args.header = "micrograd's demo, the same as: chainrule train " + " ".join(argv)
    return train.run(train_args)
