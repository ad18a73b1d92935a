"""`chainrule train` and `chainrule demo`: train a small network from the terminal.

    chainrule train --data moons --model 2,16,16,1 --activation relu --loss hinge \\
        --steps 100 --lr 1.0 --seed 1337 --out runs/moons

prints progress and the final train / held-out accuracy and wall time, and leaves in `--out`:
`model.json` (reload with `chainrule.learn.io.load`, or `chainrule eval` / `predict`), `loss.png`
(loss and accuracy curves), for 2-D data `boundary.png` (micrograd's decision-boundary
picture), for more than two classes `confusion.png`, and for pictures (digits) `samples.png`.

Each data set trains well with no flag but `--data`: it has its own default settings
(`chainrule.learn.defaults`: micrograd's demo for the 2-D sets, the lecture's network for
toy, mini-batches for digits), and every flag overrides its own setting.

`chainrule demo` is micrograd's demo: 100 moons points (noise 0.1), MLP 2-16-16-1 with ReLU
hidden layers and a linear output, hinge loss + 1e-4 L2, full batch, SGD with the learning rate
falling linearly from 1.0, 100 steps; scored on 100 fresh moons points.

This module holds the two commands' flags; the settings they make with the defaults are
`train_settings.py`, the run itself `train_run.py`, its output folder `run_files.py`. Every
mistake in the request (a bad flag, an unknown data set, a model that does not fit the data,
an `--out` that is a file or already holds a run, a package to install) is found before
training starts and reported in one line with exit status 2.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from ..learn.data import DATASETS
from ..learn.defaults import DATA_DEFAULTS, describe
from ..learn.losses import LOSSES
from ..learn.optim import OPTIMIZERS, SCHEDULES
from ..nn import ACTIVATIONS
from .common import (
    at_least_two,
    fraction,
    layer_sizes,
    momentum,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
)
from .distributed import add_flags as add_torch_flags
from .train_run import run_train
from .train_settings import DEFAULT_DATA_SEED

__all__ = ["add_data_flags", "register", "run_demo"]

# micrograd's demo, and the defaults of `chainrule train`. The seeds were picked so that the
# demo's run is a good one; other seeds are listed in the README's demo section.
DEMO_SEED = 1337
DEMO_DATA_SEED = 1
ENGINE_CHOICES = ("auto", "scalar", "tensor", "torch")
_FILES_OWN = "the one the model was trained on"


def register(sub: Any) -> None:
    """Add the `train` and `demo` subcommands to the `chainrule` parser."""
    train = sub.add_parser(
        "train",
        help="train a network on a small data set; save the model and plots",
        description=textwrap.fill(
            "Train an MLP on a small data set and write model.json, loss.png and (for 2-D "
            "data) boundary.png into --out. Each data set has settings that train it well "
            "(listed below); any flag overrides its own.",
            78,
        ),
        epilog=_defaults_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_flags(train.add_argument_group("data"), data_default="moons")
    _add_training_flags(train)
    train.set_defaults(func=run_train)

    demo = sub.add_parser(
        "demo",
        help="micrograd's demo: train moons, report accuracy and time, save model and plots",
        description=(
            "micrograd's demo: 100 moons points (noise 0.1), MLP 2-16-16-1 (ReLU, linear "
            "output), hinge + 1e-4 L2, SGD lr 1.0 falling linearly, 100 full-batch steps; "
            "scored on 100 held-out points. Writes model.json, loss.png, boundary.png."
        ),
    )
    demo.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: runs/demo, replaced by each demo run)",
    )
    demo.add_argument(
        "--seed",
        type=nonneg_int,
        default=DEMO_SEED,
        metavar="S",
        help=f"seed of the initial weights (default: {DEMO_SEED})",
    )
    demo.add_argument(
        "--data-seed",
        type=nonneg_int,
        default=DEMO_DATA_SEED,
        metavar="S",
        help=f"seed of the training points; the held-out ones use S + 1 "
        f"(default: {DEMO_DATA_SEED})",
    )
    demo.add_argument(
        "--force", action="store_true", help="replace an earlier run in an --out you name"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bar and no header")
    demo.set_defaults(func=run_demo)


def _defaults_epilog() -> str:
    """Each data set's settings (`chainrule.learn.defaults`), wrapped for the terminal."""
    demo = [name for name in DATA_DEFAULTS if describe(name) == "micrograd's demo"]
    entries = [
        (
            ", ".join(demo),
            "micrograd's demo: hidden layers 16,16, relu, hinge for two classes (cross_entropy "
            "for more), sgd lr 1 (0.1 with another loss), 1e-4 L2, linear schedule, 100 "
            "full-batch steps, 100 points and 100 held-out ones",
        )
    ]
    entries += [(name, describe(name)) for name in DATA_DEFAULTS if name not in demo]
    lines = ["settings of each data set (a flag given overrides its own):"]
    for names, text in entries:
        lines.append(textwrap.fill(f"{names}: {text}", 78, initial_indent="  ",
                                   subsequent_indent="      "))  # fmt: skip
    return "\n".join(lines)


def add_data_flags(g: Any, data_default: str | None) -> None:
    """The flags that pick the points, shared by `train` and `eval`."""
    g.add_argument(
        "--data",
        default=data_default,
        choices=list(DATASETS),
        metavar="NAME",
        help=f"data set: {', '.join(DATASETS)} (default: {data_default or _FILES_OWN})",
    )
    g.add_argument(
        "--samples",
        type=positive_int,
        metavar="N",
        help="training points to draw (default: 100; toy and digits are fixed sets)",
    )
    g.add_argument(
        "--noise",
        type=nonneg_float,
        metavar="SD",
        help="noise of the generated points (default: the data set's own)",
    )
    g.add_argument(
        "--classes",
        type=at_least_two,
        metavar="K",
        help="number of classes, for blobs and spirals",
    )
    held = g.add_mutually_exclusive_group()
    held.add_argument(
        "--test-samples",
        type=nonneg_int,
        metavar="N",
        help="held-out points, a separate draw with --data-seed + 1 (default: 100; 0 for none)",
    )
    held.add_argument(
        "--test-fraction",
        type=fraction,
        metavar="F",
        help="hold out this fraction of the --samples points instead (digits: 0.25)",
    )
    g.add_argument(
        "--data-seed",
        type=nonneg_int,
        metavar="S",
        help=f"seed of the data draw (default: {DEFAULT_DATA_SEED})",
    )


def _add_training_flags(train: Any) -> None:
    g = train.add_argument_group("model")
    g.add_argument(
        "--model",
        type=layer_sizes,
        metavar="SIZES",
        help="layer sizes, inputs first: 2,16,16,1 (default: FEATURES,16,16,OUTPUTS)",
    )
    g.add_argument(
        "--activation",
        choices=list(ACTIVATIONS),
        help="activation of the hidden layers (default: relu; toy: tanh)",
    )
    g.add_argument(
        "--output-activation",
        choices=list(ACTIVATIONS),
        help="activation of the last layer (default: linear; tanh for --loss mse)",
    )
    g.add_argument(
        "--seed",
        type=nonneg_int,
        default=DEMO_SEED,
        metavar="S",
        help=f"seed of the initial weights and the batch order (default: {DEMO_SEED})",
    )
    g.add_argument(
        "--engine",
        default="auto",
        choices=ENGINE_CHOICES,
        help="scalar (one Value per number, the lecture's MLP) or tensor (numpy arrays); "
        "auto: tensor for data with more than 8 features or 1,000 points; torch: the tensor "
        "MLP trained by PyTorch, over --workers processes (default: auto)",
    )
    add_torch_flags(g, engine=False)

    g = train.add_argument_group("training")
    g.add_argument(
        "--loss",
        choices=list(LOSSES),
        help="hinge (max-margin, +-1 labels), mse, bce (on logits), cross_entropy "
        "(default: hinge for two classes, cross_entropy for more; toy: mse)",
    )
    g.add_argument(
        "--l2",
        type=nonneg_float,
        metavar="ALPHA",
        help="add ALPHA * sum of squared weights to the loss (default: 1e-4; toy: 0)",
    )
    g.add_argument(
        "--optimizer", choices=list(OPTIMIZERS), help="sgd or adam (default: sgd)"
    )
    g.add_argument(
        "--lr",
        type=positive_float,
        metavar="LR",
        help="learning rate (default: sgd 1.0 with hinge, as micrograd, else 0.1; adam 0.01)",
    )
    g.add_argument(
        "--momentum",
        type=momentum,
        metavar="M",
        help="SGD momentum in [0, 1) (default: 0; digits: 0.9)",
    )
    g.add_argument(
        "--schedule",
        choices=list(SCHEDULES),
        help="learning rate over time: linear falls to a tenth (micrograd), "
        "cosine to 0 (default: linear; toy: constant)",
    )
    length = g.add_mutually_exclusive_group()
    length.add_argument(
        "--steps", type=positive_int, metavar="N", help="number of updates (default: 100)"
    )
    length.add_argument(
        "--epochs", type=positive_int, metavar="N", help="passes over the data instead of --steps"
    )
    g.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="points per update (default: all of them, full batch; digits: 32)",
    )
    g.add_argument(
        "--eval-every",
        type=positive_int,
        metavar="N",
        help="score the held-out points every N steps (default: 10 times a run)",
    )

    g = train.add_argument_group("output")
    g.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for model.json and the pictures (default: runs/DATA)",
    )
    g.add_argument(
        "--force", action="store_true", help="replace the files of an earlier run in --out"
    )
    g.add_argument(
        "--quiet", action="store_true", help="no progress bar and no header; only the results"
    )


# -- the demo is a train run with micrograd's settings -----------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    """micrograd's demo configuration, through the same path as `chainrule train`."""
    replace_default = args.out is None
    argv = [
        "--data", "moons", "--samples", "100", "--noise", "0.1", "--test-samples", "100",
        "--data-seed", str(args.data_seed), "--model", "2,16,16,1", "--activation", "relu",
        "--output-activation", "linear", "--loss", "hinge", "--l2", "1e-4",
        "--optimizer", "sgd", "--lr", "1.0", "--schedule", "linear", "--steps", "100",
        "--seed", str(args.seed), "--out", str(args.out or Path("runs", "demo")),
    ]  # fmt: skip
    if args.force or replace_default:  # the default folder is the demo's own scratch space
        argv.append("--force")
    if args.quiet:
        argv.append("--quiet")
    parser = argparse.ArgumentParser(add_help=False)
    sub = parser.add_subparsers()
    register(sub)
    train_args = parser.parse_args(["train", *argv])
    train_args.header = "micrograd's demo, the same as: chainrule train " + " ".join(argv)
    return run_train(train_args)
