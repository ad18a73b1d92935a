"""A `chainrule train` run, from its parsed flags: the data, the model, the optimizer, the
training, the report, and the files.

Every mistake in the request (an unknown data set, a model that does not fit the data, an
`--out` that is a file or already holds a run) is found before training starts and reported in
one line (`UsageError`, exit status 2).
"""

from __future__ import annotations

import argparse
import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import data, io, nn, optim
from ..train.loop import fit
from ..train.tasks import TWO_CLASS_CODES, default_loss, outputs_needed
from ..viz import plots
from .common import UsageError, percent
from .run_files import check_out, write_run

__all__ = ["load_data", "run_train"]

# Fixed data sets (no draw to repeat for held-out points) hold back this fraction by default.
DEFAULT_TEST_FRACTION = {"digits": 0.25}


def run_train(args: argparse.Namespace) -> int:
    """Train as the flags say, print what happens, and write the run into --out."""
    wall = time.perf_counter()
    say = (lambda *a: None) if args.quiet else print
    out = args.out if args.out is not None else Path("runs", args.data)
    check_out(out, args.force)
    if getattr(args, "header", None):
        say(args.header)

    X, y, X_test, y_test, about_data = load_data(args)
    features = len(X[0])
    loss, sizes = _loss_and_sizes(args, features, len(set(y) | set(y_test or [])))
    if args.momentum and args.optimizer != "sgd":
        raise UsageError("--momentum applies to --optimizer sgd only")
    out_act = args.output_activation or ("tanh" if loss == "mse" else "linear")
    engine_name = args.engine
    if engine_name == "auto":
        engine_name = "tensor" if features > 8 or len(X) > 1000 else "scalar"
    model = _model(engine_name, sizes, args.activation, out_act, args.seed)
    lr = args.lr
    if lr is None:  # micrograd's 1.0 suits its hinge demo; other losses need gentler steps
        lr = 0.01 if args.optimizer == "adam" else 1.0 if loss == "hinge" else 0.1
    if args.optimizer == "sgd":
        optimizer: Any = optim.SGD(model.parameters(), lr=lr, momentum=args.momentum)
    else:
        optimizer = optim.Adam(model.parameters(), lr=lr)

    full = args.batch_size is None or args.batch_size >= len(X)
    batch = "full batch" if full else f"batches of {args.batch_size}"
    length = f"{args.epochs} epochs" if args.epochs else f"{args.steps or 100} steps"
    l2 = f" + {args.l2:g} L2" if args.l2 else ""
    say(f"data   {about_data}")
    say(
        f"model  MLP {'-'.join(map(str, sizes))}, {args.activation} hidden, {out_act} output, "
        f"{model.num_parameters():,} parameters (seed {args.seed}), {engine_name} engine"
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
    results = f"train accuracy {percent(history.final_train_accuracy)}" + (
        f", test accuracy {percent(test)} ({len(X_test)} held-out points)"
        if test is not None
        else ", no held-out points"
    )
    metadata = {
        "data": about_data,
        "engine": engine_name,
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
    write_run(out, writers, args.force)

    print(f"done   {results}; final loss {history.loss[-1]:.4g}")
    print(
        f"time   training {history.total_time:.2f} s ({history.steps} steps, "
        f"{1e3 * history.time_per_step:.2f} ms/step); wall {time.perf_counter() - wall:.2f} s "
        f"with data, plots and files"
    )
    print(f"wrote  {', '.join(str(out / name) for name in writers)}")
    return 0


def _loss_and_sizes(args: argparse.Namespace, features: int, n_classes: int) -> tuple[str, list]:
    """The loss and the layer sizes, checked against the data: inputs and outputs must fit."""
    loss = args.loss or default_loss(n_classes)
    outputs = outputs_needed(loss, n_classes)
    if loss in TWO_CLASS_CODES and n_classes > 2:
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
    return loss, sizes


def _model(engine_name: str, sizes: list[int], activation: str, out_act: str, seed: int) -> Any:
    """An MLP of these sizes on the engine named "scalar" or "tensor"."""
    if engine_name == "scalar":
        return nn.MLP(
            sizes[0], sizes[1:], activation=activation, output_activation=out_act, seed=seed
        )
    try:
        from ..tensor.layers import mlp  # numpy is optional: only the tensor engine needs it
    except ImportError as err:
        raise UsageError(f"--engine tensor needs numpy ({err})") from None
    return mlp(sizes, activation, out_act, seed=seed)


# -- data ----------------------------------------------------------------------------------------


def load_data(args: argparse.Namespace) -> tuple[Any, Any, Any, Any, str]:
    """Training and held-out points as the flags ask; flags a set does not take are errors."""
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
