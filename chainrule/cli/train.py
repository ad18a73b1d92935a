"""`chainrule train` and `chainrule demo`: train a small network from the terminal.

    chainrule train --data moons --model 2,16,16,1 --activation relu --loss hinge \\
        --steps 100 --lr 1.0 --seed 1337 --out runs/moons

prints progress and the final train / held-out accuracy and wall time, and leaves in `--out`:
`model.json` (reload with `chainrule.io.load`), `loss.png` (loss and accuracy curves) and,
for 2-D data, `boundary.png` (micrograd's decision-boundary picture).

`chainrule demo` is micrograd's demo: 100 moons points (noise 0.1), MLP 2-16-16-1 with ReLU
hidden layers and a linear output, hinge loss + 1e-4 L2, full batch, SGD with the learning rate
falling linearly from 1.0, 100 steps; scored on 100 fresh moons points.

Every mistake in the request (a bad flag, an unknown data set, a model that does not fit the
data, an `--out` that is a file or already holds a run) is found before training starts and
reported in one line with exit status 2. Nothing already on disk is changed unless `--force`
says so, and then only the files of the run, each replaced whole.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .main import UsageError

# micrograd's demo, and the defaults of `chainrule train`. The seeds were picked so that the
# demo's run is a good one; other seeds are listed in the README's demo section.
DEMO_SEED = 1337
DEMO_DATA_SEED = 1
RUN_FILES = ("model.json", "loss.png", "boundary.png")
LOSS_CHOICES = ("hinge", "mse", "bce", "cross_entropy")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
ENGINES = ("auto", "scalar", "tensor")
# Fixed data sets (no draw to repeat for held-out points) hold back this fraction by default.
DEFAULT_TEST_FRACTION = {"digits": 0.25}


def register(sub: Any) -> None:
    """Add the `train` and `demo` subcommands to the `chainrule` parser."""
    from ..data import DATASETS

    train = sub.add_parser(
        "train",
        help="train a network on a small data set; save the model and plots",
        description=(
            "Train an MLP on a small data set and write model.json, loss.png and (for 2-D "
            "data) boundary.png into --out. The defaults are micrograd's demo."
        ),
    )
    g = train.add_argument_group("data")
    g.add_argument(
        "--data",
        default="moons",
        choices=list(DATASETS),
        metavar="NAME",
        help=f"data set: {', '.join(DATASETS)} (default: moons)",
    )
    g.add_argument(
        "--samples",
        type=_positive_int,
        metavar="N",
        help="training points to draw (default: 100; toy has its fixed 4)",
    )
    g.add_argument(
        "--noise",
        type=_nonneg_float,
        metavar="SD",
        help="noise of the generated points (default: the data set's own)",
    )
    g.add_argument(
        "--classes",
        type=_classes,
        metavar="K",
        help="number of classes, for blobs and spirals",
    )
    held = g.add_mutually_exclusive_group()
    held.add_argument(
        "--test-samples",
        type=_nonneg_int,
        metavar="N",
        help="held-out points, a separate draw with --data-seed + 1 (default: 100; 0 for none)",
    )
    held.add_argument(
        "--test-fraction",
        type=_fraction,
        metavar="F",
        help="hold out this fraction of the --samples points instead",
    )
    g.add_argument(
        "--data-seed",
        type=_nonneg_int,
        default=DEMO_DATA_SEED,
        metavar="S",
        help=f"seed of the data draw (default: {DEMO_DATA_SEED})",
    )

    g = train.add_argument_group("model")
    g.add_argument(
        "--model",
        type=_sizes,
        metavar="SIZES",
        help="layer sizes, inputs first: 2,16,16,1 (default: FEATURES,16,16,OUTPUTS)",
    )
    g.add_argument(
        "--activation",
        default="relu",
        choices=ACTIVATIONS,
        help="activation of the hidden layers (default: relu)",
    )
    g.add_argument(
        "--output-activation",
        choices=ACTIVATIONS,
        help="activation of the last layer (default: linear; tanh for --loss mse)",
    )
    g.add_argument(
        "--seed",
        type=_nonneg_int,
        default=DEMO_SEED,
        metavar="S",
        help=f"seed of the initial weights and the batch order (default: {DEMO_SEED})",
    )
    g.add_argument(
        "--engine",
        default="auto",
        choices=ENGINES,
        help="scalar (one Value per number, the lecture's MLP) or tensor (numpy arrays); "
        "auto: tensor for data with more than 8 features or 1,000 points (default: auto)",
    )

    g = train.add_argument_group("training")
    g.add_argument(
        "--loss",
        choices=LOSS_CHOICES,
        help="hinge (max-margin, +-1 labels), mse, bce (on logits), cross_entropy "
        "(default: hinge for two classes, cross_entropy for more)",
    )
    g.add_argument(
        "--l2",
        type=_nonneg_float,
        default=1e-4,
        metavar="ALPHA",
        help="add ALPHA * sum of squared weights to the loss (default: 1e-4)",
    )
    g.add_argument(
        "--optimizer", default="sgd", choices=("sgd", "adam"), help="sgd or adam (default: sgd)"
    )
    g.add_argument(
        "--lr",
        type=_positive_float,
        metavar="LR",
        help="learning rate (default: sgd 1.0 with hinge, as micrograd, else 0.1; adam 0.01)",
    )
    g.add_argument(
        "--momentum",
        type=_momentum,
        default=0.0,
        metavar="M",
        help="SGD momentum in [0, 1) (default: 0)",
    )
    g.add_argument(
        "--schedule",
        default="linear",
        choices=("constant", "linear", "cosine"),
        help="learning rate over time: linear falls to a tenth (micrograd), "
        "cosine to 0 (default: linear)",
    )
    length = g.add_mutually_exclusive_group()
    length.add_argument(
        "--steps", type=_positive_int, metavar="N", help="number of updates (default: 100)"
    )
    length.add_argument(
        "--epochs", type=_positive_int, metavar="N", help="passes over the data instead of --steps"
    )
    g.add_argument(
        "--batch-size",
        type=_positive_int,
        metavar="N",
        help="points per update (default: all of them, full batch)",
    )
    g.add_argument(
        "--eval-every",
        type=_positive_int,
        metavar="N",
        help="score the held-out points every N steps (default: 10 times a run)",
    )

    g = train.add_argument_group("output")
    g.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for model.json, loss.png, boundary.png (default: runs/DATA)",
    )
    g.add_argument(
        "--force", action="store_true", help="replace the files of an earlier run in --out"
    )
    g.add_argument(
        "--quiet", action="store_true", help="no progress bar and no header; only the results"
    )
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
        type=_nonneg_int,
        default=DEMO_SEED,
        metavar="S",
        help=f"seed of the initial weights (default: {DEMO_SEED})",
    )
    demo.add_argument(
        "--data-seed",
        type=_nonneg_int,
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


# -- flag types: argparse turns their ValueError into a one-line usage error -------------------


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


_positive_int = _typed(int, lambda v: v >= 1, "must be a whole number >= 1")
_nonneg_int = _typed(int, lambda v: v >= 0, "must be a whole number >= 0")
_positive_float = _typed(float, lambda v: math.isfinite(v) and v > 0, "must be a number > 0")
_nonneg_float = _typed(float, lambda v: math.isfinite(v) and v >= 0, "must be a number >= 0")
_fraction = _typed(float, lambda v: 0 < v < 1, "must be a fraction between 0 and 1")
_classes = _typed(int, lambda v: v >= 2, "must be a whole number >= 2")
_momentum = _typed(float, lambda v: 0 <= v < 1, "must be a number in [0, 1)")


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"must be layer sizes like 2,16,16,1 (inputs first, at least two), got {text!r}"
        )
    return sizes


# -- the two commands ----------------------------------------------------------------------------


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


def run_train(args: argparse.Namespace) -> int:
    from .. import io, nn, optim
    from ..train.loop import fit
    from ..viz import plots

    wall = time.perf_counter()
    say = (lambda *a: None) if args.quiet else print
    out = args.out if args.out is not None else Path("runs", args.data)
    _check_out(out, args.force)
    if getattr(args, "header", None):
        say(args.header)

    X, y, X_test, y_test, about_data = _load_data(args)
    features = len(X[0])
    n_classes = len(set(y) | set(y_test or []))
    loss = args.loss or ("hinge" if n_classes <= 2 else "cross_entropy")
    outputs = 1 if loss in ("hinge", "bce", "mse") else max(n_classes, 2)
    if loss in ("hinge", "bce") and n_classes > 2:
        raise UsageError(
            f"--loss {loss} is for two classes, but {args.data} has {n_classes}; "
            "use --loss cross_entropy"
        )
    sizes = args.model or [features, 16, 16, outputs]
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
    if args.momentum and args.optimizer != "sgd":
        raise UsageError("--momentum applies to --optimizer sgd only")
    out_act = args.output_activation or ("tanh" if loss == "mse" else "linear")
    engine = args.engine
    if engine == "auto":
        engine = "tensor" if features > 8 or len(X) > 1000 else "scalar"
    if engine == "tensor":
        try:
            from ..tensor.layers import mlp
        except ImportError as err:
            raise UsageError(f"--engine tensor needs numpy ({err})") from None
        model: Any = mlp(sizes, args.activation, out_act, seed=args.seed)
    else:
        model = nn.MLP(
            sizes[0],
            sizes[1:],
            activation=args.activation,
            output_activation=out_act,
            seed=args.seed,
        )
    lr = args.lr
    if lr is None:  # micrograd's 1.0 suits its hinge demo; other losses need gentler steps
        lr = 0.01 if args.optimizer == "adam" else 1.0 if loss == "hinge" else 0.1
    params = model.parameters()
    if args.optimizer == "sgd":
        optimizer: Any = optim.SGD(params, lr=lr, momentum=args.momentum)
    else:
        optimizer = optim.Adam(params, lr=lr)
    batch = (
        "full batch"
        if args.batch_size is None or args.batch_size >= len(X)
        else (f"batches of {args.batch_size}")
    )
    length = f"{args.epochs} epochs" if args.epochs else f"{args.steps or 100} steps"
    l2 = f" + {args.l2:g} L2" if args.l2 else ""
    say(f"data   {about_data}")
    say(
        f"model  MLP {'-'.join(map(str, sizes))}, {args.activation} hidden, {out_act} output, "
        f"{model.num_parameters():,} parameters (seed {args.seed}), {engine} engine"
    )
    say(f"train  {loss}{l2}, {args.optimizer} lr {lr:g} ({args.schedule}), {length}, {batch}")

    try:
        history = fit(
            model, X, y, loss=loss, optimizer=optimizer, l2=args.l2, steps=args.steps,
            epochs=args.epochs, batch_size=args.batch_size, schedule=args.schedule,
            X_test=X_test, y_test=y_test, eval_every=args.eval_every,
            progress=not args.quiet, seed=args.seed,
        )  # fmt: skip
    except FloatingPointError as err:
        raise UsageError(f"{err} (--lr)") from None

    test = history.final_test_accuracy
    results = f"train accuracy {_pct(history.final_train_accuracy)}" + (
        f", test accuracy {_pct(test)} ({len(X_test)} held-out points)"
        if test is not None
        else ", no held-out points"
    )
    metadata = {
        "data": about_data,
        "engine": engine,
        "loss": loss,
        "steps": history.steps,
        "final_loss": history.loss[-1],
        "train_accuracy": history.final_train_accuracy,
        "test_accuracy": test,
        "train_seconds": history.total_time,
        "seconds_per_step": history.time_per_step,
        "seed": args.seed,
        "data_seed": args.data_seed,
    }
    writers: dict[str, Callable[[Path], Any]] = {
        "model.json": lambda p: io.save(model, p, metadata=metadata),
        "loss.png": lambda p: plots.plot_history(history, p),
    }
    if features == 2:
        title = f"{args.data}: {results.replace(', test', chr(10) + 'test')}"
        writers["boundary.png"] = lambda p: plots.plot_decision_boundary(
            model, X, y, p, threshold=history.threshold, title=title
        )
    _write_run(out, writers, args.force)

    print(f"done   {results}; final loss {history.loss[-1]:.4g}")
    print(
        f"time   training {history.total_time:.2f} s ({history.steps} steps, "
        f"{1e3 * history.time_per_step:.2f} ms/step); wall {time.perf_counter() - wall:.2f} s "
        f"with data, plots and files"
    )
    print(f"wrote  {', '.join(str(out / name) for name in writers)}")
    return 0


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


# -- data ----------------------------------------------------------------------------------------


def _load_data(args: argparse.Namespace) -> tuple[Any, Any, Any, Any, str]:
    """Training and held-out points as the flags ask; flags a set does not take are errors."""
    from .. import data

    loader = data.DATASETS[args.data]
    takes = set(inspect.signature(loader).parameters)
    if args.test_samples is None and args.test_fraction is None:
        args.test_fraction = DEFAULT_TEST_FRACTION.get(args.data)
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
        kwargs.setdefault("n", 100)
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


# -- the output folder -----------------------------------------------------------------------------


def _check_out(out: Path, force: bool) -> None:
    """Refuse, before any work, an --out that is a file or that already holds a run."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if out.is_dir() and not force:
        taken = [name for name in RUN_FILES if (out / name).exists()]
        if taken:
            raise UsageError(
                f"--out {out} already holds a run ({', '.join(taken)}); "
                "pass --force to replace it, or choose another --out"
            )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--out {out}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK) and not out.exists():
                raise UsageError(f"--out {out}: cannot create folders in {parent}")
            break


def _write_run(out: Path, writers: dict[str, Callable[[Path], Any]], force: bool) -> None:
    """Write every file of the run, or none of them.

    The files are first written into a temporary folder: next to `out` when `out` is new
    (the folder is then renamed into place in one step), inside `out` when it exists (allowed
    when it holds no earlier run, or with --force; the new files then replace the old ones by
    rename, only once all of them were written). A failure leaves `out` as it was.
    """
    _check_out(out, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fresh = not out.exists()
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if fresh else out))
        try:
            for name, write in writers.items():
                write(stage / name)
            if fresh:
                os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes it private (0700)
                os.rename(stage, out)
            else:
                for name in writers:
                    os.replace(stage / name, out / name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    except OSError as err:
        raise UsageError(f"cannot write the run into {out}: {err.strerror or err}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run it as `chainrule train` or `chainrule demo`")
