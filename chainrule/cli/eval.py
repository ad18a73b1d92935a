"""`chainrule eval`: score a model that `chainrule train` (or the playground) saved.

    chainrule eval runs/moons/model.json                      # the points it was trained on
    chainrule eval runs/moons/model.json --data-seed 7 --samples 500 --boundary b.png

Accuracy and loss on the training points and on the held-out ones. By default they are the very
points of its training run (the model file keeps the data flags it was trained with, or the
playground's recipe of its points), so the numbers match what `train` printed; every data flag
of `train` draws other points.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..learn import inputs
from ..learn.loop import evaluate, predict, predict_scores
from ..learn.losses import LOSSES, Task
from ..viz import plots
from . import common, preset
from .common import DATA_FLAGS, UsageError, network_inputs


def register(sub: Any) -> None:
    """Add `chainrule eval` to the command line (called from `chainrule.cli.main`)."""
    p = sub.add_parser(
        "eval",
        help="score a saved model on a data set: accuracy and loss",
        description=(
            "Score a model saved by chainrule train on a data set's points: accuracy and loss "
            "on the training points and on the held-out ones. Without data flags these are the "
            "points it was trained and tested on (kept in the model file); each flag given "
            "draws other points."
        ),
    )
    p.add_argument("model", type=common.path, metavar="MODEL.json", help="a model file")
    common.add_data_flags(p, data_default=None)
    common.add_flags(p.add_argument_group("scoring and pictures"), [
        ("--loss", list(LOSSES), "loss to report (default: the one it was trained with)"),
        ("--boundary FILE.png", common.path, "draw the decision boundary"),
        ("--confusion FILE.png", common.path, "draw the confusion matrix"),
    ])  # fmt: skip
    p.set_defaults(func=run)


def _points(args: argparse.Namespace, meta: dict[str, Any], given: dict[str, Any]) -> Any:
    """(X, y, X_test, y_test, a description): the points of the model's training run (from
    its file's data flags, or the playground's recipe of them), unless a data flag says."""
    recipe = meta.get("inputs")
    if meta.get("preset") is not None:  # a preset's model: its own data, rebuilt
        args.data = meta["preset"]
        if given:
            raise UsageError(
                f"{args.model} is a model of the preset {args.data}: it is scored on the "
                f"preset's own data, which no data flag changes (--{next(iter(given))})"
            )
        return preset.rebuild(args.model, meta)[:5]
    if recipe is not None and not given:  # the very points it was trained and tested on
        with common.usage_errors(f"{args.model}: ", ValueError):
            points, about = inputs.rebuild(recipe), inputs.describe(recipe)
        args.data = recipe["dataset"]
        return points.X, points.y, points.X_test, points.y_test, about
    trained = meta["data_flags"] if isinstance(meta.get("data_flags"), dict) else {}
    if "data" not in given and "data" not in trained:
        raise UsageError(f"{args.model} does not say which data it was trained on; give --data")
    if given.get("data", trained.get("data")) == trained.get("data"):
        for name, value in trained.items():  # the training run's points, unless a flag says
            if name in DATA_FLAGS and name not in given:
                setattr(args, name, value)
    args.quiet = True
    common.require_packages(
        f"chainrule eval --data {args.data}", common.required_modules(args), "train"
    )
    X, y, X_test, y_test, about = common.load_data(args)
    if recipe is not None:  # scaled and turned into features, as the model was trained
        X = network_inputs(args.model, recipe, X)
        X_test = None if X_test is None else network_inputs(args.model, recipe, X_test)
    return X, y, X_test, y_test, about


def run(args: argparse.Namespace) -> int:
    """Score the model on the training and held-out points the flags (or the file) name."""
    common.check_file("--boundary", args.boundary, [".png"])
    common.check_file("--confusion", args.confusion, [".png"])
    model, meta = common.load_model(args.model)
    given = {name: getattr(args, name) for name in DATA_FLAGS if getattr(args, name) is not None}
    recipe = meta.get("inputs")
    X, y, X_test, y_test, about = _points(args, meta, given)
    trained = meta.get("loss") or (preset.PRESETS[args.data].loss if "preset" in meta else None)
    loss = args.loss or trained or "hinge"
    width = _check_fits(args, model, X, y)
    print(f"model  {args.model}: {_describe(model)}, trained with {trained or '?'}")
    print(f"data   {about}")
    kept = "page" if recipe is not None else "run" if "preset" in meta else None
    if kept and not given and meta.get("train_accuracy") is not None:
        page = [f"train {common.percent(meta['train_accuracy'])}"]
        if meta.get("test_accuracy") is not None:
            page.append(f"held-out {common.percent(meta['test_accuracy'])}")
        if isinstance(meta.get("test_loss"), float):
            page[-1] += f" and loss {meta['test_loss']:.4f}"
        print(f"{kept:6} {', '.join(page)} at step {meta.get('steps', '?')} (kept in the file)")
    held_out = X_test is not None and len(X_test) > 0
    sets = [("train", X, y)] + ([("held-out", X_test, y_test)] if held_out else [])
    wrong = f"{args.model} cannot score --data {args.data}: "
    for name, xs, labels in sets:
        with common.usage_errors(wrong, ValueError, TypeError):
            value, accuracy = evaluate(model, xs, labels, loss=loss)
        digits = ".4f" if kept == "run" else ".4g"  # a preset printed .4f
        shown = f"accuracy {common.percent(accuracy)}, {loss} loss {value:{digits}}"
        print(f"{name:9}  {shown} ({len(xs)} points)")
    points, labels, which = (X_test, y_test, "held-out") if held_out else (X, y, "training")
    threshold = float(meta.get("threshold", 0.0))
    # checked before the work, but a disk may fill or a folder go
    with common.usage_errors("writing the pictures failed: ", OSError):
        if args.boundary is not None:
            if len(points[0]) != 2:
                what = f"{args.model} takes" if recipe is not None else f"{args.data} has"
                raise UsageError(f"--boundary needs 2-D points; {what} {len(points[0])} features")
            test = {"X_test": X_test, "y_test": y_test} if held_out else {}
            title = f"{args.model} on {args.data}"
            plots.plot_decision_boundary(
                model, X, y, args.boundary, **test, threshold=threshold, title=title
            )
            print(f"wrote  {args.boundary}")
        if args.confusion is not None:
            guesses = predict(model, points, threshold=threshold)
            classes = Task(loss, labels, width).classes(labels) or []
            title = f"{which} points of {args.data}"
            plots.plot_confusion_matrix(
                classes, guesses, args.confusion, classes=max(width, 2), title=title
            )
            print(f"wrote  {args.confusion}")
    return 0


def _describe(model: Any) -> str:
    """`MLP 2-16-16-1, 337 parameters` for an MLP of either engine, else the model's type."""
    config = model.config()
    sizes = None
    if config.get("type") == "MLP":
        sizes = [config["nin"], *config["nouts"]]
    elif config.get("type") == "Sequential":
        layers = config.get("layers", [])
        linear = [layer for layer in layers if layer.get("type") == "Linear"]
        plain = ("Linear", "ReLU", "Tanh", "Sigmoid", "Activation")
        if linear and all(layer.get("type") in plain for layer in layers):
            sizes = [linear[0]["nin"], *(layer["nout"] for layer in linear)]
    kind = f"MLP {'-'.join(map(str, sizes))}" if sizes else config.get("type", "model")
    return f"{kind}, {model.num_parameters():,} parameters"


def _check_fits(args: argparse.Namespace, model: Any, X: Any, y: Any) -> int:
    """The model takes the data's features and has an output for each of its classes; returns
    how many numbers it gives per point."""
    taken = f"{args.model} cannot take the {len(X[0])} features of {args.data}: "
    with common.usage_errors(taken, ValueError, TypeError):
        scores = predict_scores(model, X[:1])[0]
    width = len(scores) if isinstance(scores, list) else 1
    classes = len(set(y))
    if (width == 1 and classes > 2) or (width > 1 and max(y) >= width):
        has = "one output (two classes)" if width == 1 else f"{width} outputs (classes)"
        raise UsageError(f"{args.model} has {has}, but {args.data} has {classes} classes")
    return width
