"""The settings of a `chainrule train` run: the flags given, the data set's defaults for the
rest.

`chainrule train --data digits` with no other flag trains with the digits' defaults
(`chainrule.learn.defaults`); each flag given replaces its own setting. Settings that only
make sense together stay together: the data set's learning rate and momentum come with its
optimizer and loss (`--optimizer adam` alone gets Adam's default rate, not the digits' SGD
rate), and its length (steps or epochs) only when neither `--steps` nor `--epochs` is given.

Also here: `load_data`, the points the data flags ask for (shared with `chainrule eval`), and
`required_modules`, what a run needs installed, checked before any work.
"""

from __future__ import annotations

import argparse
import inspect
from dataclasses import dataclass
from typing import Any

from ..learn import data
from ..learn.defaults import DataDefaults, data_defaults
from ..learn.optim import OPTIMIZERS
from ..learn.tasks import TWO_CLASS_CODES, default_loss, outputs_needed
from .common import UsageError

__all__ = ["DATA_FLAGS", "Settings", "data_flags", "load_data", "required_modules", "resolve"]

DEFAULT_DATA_SEED = 1
# The flags that choose the points (argparse's names): kept in a model file's metadata, so
# `chainrule eval` can score the model on the very points it was trained and tested on.
DATA_FLAGS = ("data", "samples", "noise", "classes", "test_samples", "test_fraction", "data_seed")


@dataclass
class Settings:
    """Every choice of a run, resolved: what the flags said, else the data set's defaults."""

    loss: str
    sizes: list[int]
    activation: str
    output_activation: str
    optimizer: str
    lr: float
    momentum: float
    l2: float
    schedule: str
    steps: int | None
    epochs: int | None
    batch_size: int | None
    defaults: DataDefaults


def generic_lr(optimizer: str, loss: str) -> float:
    """micrograd's 1.0 suits its hinge demo on SGD; anything else gets the optimizer's own
    default (`optim.OPTIMIZERS`: SGD 0.1, gentler steps for other losses; Adam 0.01)."""
    return 1.0 if optimizer == "sgd" and loss == "hinge" else OPTIMIZERS[optimizer][1]


def resolve(args: argparse.Namespace, features: int, n_classes: int) -> Settings:
    """The run's settings, checked against the data (inputs and outputs must fit)."""
    r = data_defaults(args.data)
    own_loss = r.loss or default_loss(n_classes)
    loss = args.loss or own_loss
    optimizer = args.optimizer or r.optimizer
    own_optimizer = optimizer == r.optimizer and loss == own_loss
    if args.momentum and optimizer != "sgd":
        raise UsageError("--momentum applies to --optimizer sgd only")
    momentum = args.momentum if args.momentum is not None else (r.momentum if own_optimizer else 0)
    lr = args.lr or (r.lr if own_optimizer and r.lr else generic_lr(optimizer, loss))
    output_activation = args.output_activation or (
        r.output_activation if r.output_activation and loss == own_loss else None
    )
    if args.steps or args.epochs:
        steps, epochs = args.steps, args.epochs
    else:
        steps, epochs = r.steps, r.epochs
        if steps is None and epochs is None:
            steps = 100
    return Settings(
        loss=loss,
        sizes=_sizes(args, r, loss, features, n_classes),
        activation=args.activation or r.activation,
        output_activation=output_activation or ("tanh" if loss == "mse" else "linear"),
        optimizer=optimizer,
        lr=lr,
        momentum=float(momentum),
        l2=r.l2 if args.l2 is None else args.l2,
        schedule=args.schedule or r.schedule,
        steps=steps,
        epochs=epochs,
        batch_size=args.batch_size or r.batch_size,
        defaults=r,
    )


def _sizes(
    args: argparse.Namespace, r: DataDefaults, loss: str, features: int, classes: int
) -> list[int]:
    outputs = outputs_needed(loss, classes)
    if loss in TWO_CLASS_CODES and classes > 2:
        raise UsageError(
            f"--loss {loss} is for two classes, but {args.data} has {classes}; "
            "use --loss cross_entropy"
        )
    sizes = args.model or [features, *r.hidden, outputs]
    if sizes[0] != features:
        raise UsageError(
            f"--model starts with {sizes[0]} inputs, but {args.data} has {features} features "
            f"(try --model {','.join(map(str, [features, *sizes[1:]]))})"
        )
    if sizes[-1] != outputs:
        need = "1 (one score)" if outputs == 1 else f"{outputs} (one per class)"
        raise UsageError(
            f"--model ends with {sizes[-1]} outputs, but --loss {loss} on {args.data} needs {need}"
        )
    return sizes


def required_modules(args: argparse.Namespace) -> list[str]:
    """What a train run needs installed: the data set's loader, the pictures (matplotlib and
    numpy, which the tensor engine needs too), the progress bar unless --quiet."""
    needed = [*data_defaults(args.data).needs, "matplotlib", "numpy"]
    if not getattr(args, "quiet", True):
        needed.append("tqdm")
    return needed


# -- the points --------------------------------------------------------------------------------


def data_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The data flags as resolved for this run (the ones `load_data` used), for metadata."""
    return {name: getattr(args, name, None) for name in DATA_FLAGS}


def load_data(args: argparse.Namespace) -> tuple[Any, Any, Any, Any, str]:
    """Training and held-out points as the flags ask; flags a set does not take are errors.

    Fills in, on `args`, the settings it resolved (`data_seed`, `samples`, `test_fraction`),
    so that `data_flags(args)` records exactly the points used."""
    loader = data.DATASETS[args.data]
    r = data_defaults(args.data)
    takes = set(inspect.signature(loader).parameters)
    if args.data_seed is None:
        args.data_seed = DEFAULT_DATA_SEED
    if args.test_samples is None and args.test_fraction is None:
        args.test_fraction = r.test_fraction
    kwargs: dict[str, Any] = {}
    for flag, value, names in (
        ("--samples", args.samples, ("n",)),
        ("--noise", args.noise, ("noise",)),
        ("--classes", args.classes, ("centers", "classes")),
    ):
        name = next((n for n in names if n in takes), None)
        if value is None:
            continue
        if name is None:
            raise UsageError(f"{flag} does not apply to --data {args.data}")
        kwargs[name] = value
    if "n" in takes:
        kwargs.setdefault("n", r.samples)
        args.samples = kwargs["n"]
    seeded = "seed" in takes
    try:
        X, y = loader(**kwargs, **({"seed": args.data_seed} if seeded else {}))
        X_test = y_test = None
        if args.test_fraction is not None:
            X, X_test, y, y_test = data.train_test_split(
                X, y, args.test_fraction, seed=args.data_seed
            )
        elif args.test_samples != 0 and seeded:
            n_test = args.test_samples or 100
            if "centers" in takes:
                # Where the seed places the clusters (blobs), another seed is another problem:
                # draw train and held-out points together, then split them.
                n = kwargs["n"]
                X, X_test, y, y_test = data.train_test_split(
                    *loader(**dict(kwargs, n=n + n_test), seed=args.data_seed),
                    n_test / (n + n_test),
                    seed=args.data_seed,
                )
            else:
                X_test, y_test = loader(**dict(kwargs, n=n_test), seed=args.data_seed + 1)
        elif args.test_samples:
            raise UsageError(
                f"--test-samples needs a generated data set; {args.data} is fixed "
                "(use --test-fraction)"
            )
    except ValueError as err:
        raise UsageError(str(err)) from None

    parts = [f"{args.data}: {len(X)} points"]
    if "noise" in kwargs:
        parts.append(f"noise {kwargs['noise']:g}")
    if seeded:
        parts.append(f"seed {args.data_seed}")
    about = f"{parts[0]} ({', '.join(parts[1:])})" if len(parts) > 1 else parts[0]
    if X_test is not None:
        fresh = args.test_fraction is None and "centers" not in takes
        how = f"seed {args.data_seed + 1}" if fresh else "split off"
        about += f", {len(X_test)} held-out points ({how})"
    return X, y, X_test, y_test, about
