"""A `chainrule train` run, from its parsed flags: the data, the model, the optimizer, the
training, the report, and the files.

Every mistake in the request (an unknown data set, a model that does not fit the data, an
`--out` that is a file or already holds a run, a package that is not installed) is found before
training starts and reported in one line (`UsageError`, exit status 2). A run that learned
nothing, or diverged, says so after its results, with the flags to try.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import nn
from ..extras import MissingExtra
from ..learn import io
from ..learn.advice import TrainingDiverged, TrainingWarning
from ..learn.loop import History, fit, predict
from ..viz import plots
from . import distributed
from .common import UsageError, percent, require_packages
from .run_files import check_out, write_run
from .train_settings import Settings, data_flags, load_data, required_modules, resolve

__all__ = ["run_train"]


def run_train(args: argparse.Namespace) -> int:
    """Train as the flags say, print what happens, and write the run into --out."""
    wall = time.perf_counter()
    say = (lambda *a: None) if args.quiet else print
    out = args.out if args.out is not None else Path("runs", args.data)
    check_out(out, args.force)
    header = getattr(args, "header", None)  # only the demo sets one
    purpose = "chainrule demo" if header else f"chainrule train --data {args.data}"
    require_packages(purpose, required_modules(args), "train")
    distributed.prepare(args)
    if header:
        say(header)

    X, y, X_test, y_test, about_data = load_data(args)
    features = len(X[0])
    s = resolve(args, features, len(set(y) | set(y_test or [])))
    engine_name = args.engine
    if engine_name == "auto":
        engine_name = "tensor" if features > 8 or len(X) > 1000 else "scalar"
    model = _model(
        "tensor" if engine_name == "torch" else engine_name, s.sizes, s.activation,
        s.output_activation, args.seed,
    )  # fmt: skip

    full = s.batch_size is None or s.batch_size >= len(X)
    batch = "full batch" if full else f"batches of {s.batch_size}"
    length = f"{s.epochs} epochs" if s.epochs else f"{s.steps} steps"
    l2 = f" + {s.l2:g} L2" if s.l2 else ""
    momentum = f" momentum {s.momentum:g}" if s.momentum else ""
    say(f"data   {about_data}")
    say(
        f"model  MLP {'-'.join(map(str, s.sizes))}, {s.activation} hidden, "
        f"{s.output_activation} output, {model.num_parameters():,} parameters "
        f"(seed {args.seed}), {engine_name} engine"
    )
    say(
        f"train  {s.loss}{l2}, {s.optimizer} lr {s.lr:g}{momentum} ({s.schedule}), {length}, "
        f"{batch}"
    )

    try:
        with warnings.catch_warnings():  # the advice is printed below, with flags
            warnings.simplefilter("ignore", TrainingWarning)
            options = dict(
                loss=s.loss, optimizer=s.optimizer, lr=s.lr, momentum=s.momentum,
                l2=s.l2, steps=s.steps, epochs=s.epochs, batch_size=s.batch_size,
                schedule=s.schedule, X_test=X_test, y_test=y_test, eval_every=args.eval_every,
                progress=not args.quiet, seed=args.seed,
            )  # fmt: skip
            if engine_name == "torch":
                history = distributed.fit(args, model, X, y, **options)
                if history is None:  # another rank of torchrun's: rank 0 reports
                    return 0
            else:
                history = fit(model, X, y, **options)
    except TrainingDiverged as err:
        raise UsageError(err.advice.text("cli")) from None
    except MissingExtra as err:
        raise UsageError(str(err)) from None

    test = history.final_test_accuracy
    results = f"train accuracy {percent(history.final_train_accuracy)}" + (
        f", test accuracy {percent(test)} ({len(X_test)} held-out points)"
        if test is not None
        else ", no held-out points"
    )
    metadata = {
        "data": about_data,
        "data_flags": data_flags(args),
        "engine": engine_name,
        "loss": s.loss,
        "l2": s.l2,
        "threshold": history.threshold,
        "steps": history.steps,
        "final_loss": history.final_loss,
        "train_accuracy": history.final_train_accuracy,
        "test_accuracy": test,
        "train_seconds": history.total_time,
        "seconds_per_step": history.time_per_step,
        "seed": args.seed,
        "data_seed": args.data_seed,
        "warnings": [w.text("cli") for w in history.warnings],
        **distributed.run_metadata(history),
    }
    writers: dict[str, Callable[[Path], Any]] = {
        "model.json": lambda p: io.save(model, p, metadata=metadata),
        "loss.png": lambda p: plots.plot_history(history, p),
    }
    if features == 2:
        title = f"{args.data}: {results.replace(', test', chr(10) + 'test')}"
        writers["boundary.png"] = lambda p: plots.plot_decision_boundary(
            model, X, y, p, X_test=X_test, y_test=y_test, threshold=history.threshold,
            title=title,
        )  # fmt: skip
    writers.update(_class_pictures(model, history, s, X, y, X_test, y_test))
    write_run(out, writers, args.force)

    print(f"done   {results}; {_final_loss(history, s)}")
    print(
        f"time   training {history.total_time:.2f} s ({history.steps} steps, "
        f"{1e3 * history.time_per_step:.2f} ms/step); wall {time.perf_counter() - wall:.2f} s "
        f"with data, plots and files"
    )
    print(f"wrote  {', '.join(str(out / name) for name in writers)}")
    for advice in history.warnings:
        print(f"warning: {advice.text('cli')}")
    return 0


def _final_loss(history: History, s: Settings) -> str:
    """The loss after training, saying whose it is and whether it holds the L2 term."""
    l2 = ", without the L2 term" if s.l2 else ""
    return (
        f"final loss {history.final_loss:.4g} ({s.loss} on all {history.train_size} training "
        f"points{l2})"
    )


def _class_pictures(
    model: Any, history: History, s: Settings, X: Any, y: Any, X_test: Any, y_test: Any
) -> dict[str, Callable[[Path], Any]]:
    """confusion.png for more than two classes, samples.png for pictures, on the held-out
    points where there are some."""
    if s.sizes[-1] < 3:
        return {}
    held_out = X_test is not None and len(X_test) > 0
    points, labels, which = (X_test, y_test, "held-out") if held_out else (X, y, "training")
    guesses = predict(model, points, threshold=history.threshold)
    right = sum(int(g == t) for g, t in zip(guesses, labels))
    writers: dict[str, Callable[[Path], Any]] = {
        "confusion.png": lambda p: plots.plot_confusion_matrix(
            labels, guesses, p, classes=s.sizes[-1],
            title=f"{right} of {len(labels)} {which} points right",
        )  # fmt: skip
    }
    shape = s.defaults.image_shape
    if shape is not None and len(points[0]) == shape[0] * shape[1]:
        writers["samples.png"] = lambda p: plots.plot_sample_predictions(
            points, labels, guesses, p, shape=shape
        )
    return writers


def _model(engine_name: str, sizes: list[int], activation: str, out_act: str, seed: int) -> Any:
    """An MLP of these sizes on the engine named "scalar" or "tensor"."""
    if engine_name == "scalar":
        return nn.MLP(
            sizes[0], sizes[1:], activation=activation, output_activation=out_act, seed=seed
        )
    require_packages("the tensor engine", ["numpy"], "tensor")
    from ..tensor.layers import mlp  # numpy is optional: only the tensor engine needs it

    return mlp(sizes, activation, out_act, seed=seed)
