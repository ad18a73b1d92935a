"""`chainrule eval` and `chainrule predict`: use a model that `chainrule train` saved.

    chainrule eval runs/moons/model.json                      # the points it was trained on
    chainrule eval runs/moons/model.json --data-seed 7 --samples 500 --boundary b.png
    chainrule predict runs/moons/model.json 0.5 -0.3          # the output for one point

`eval` scores the model on a data set's points: accuracy and loss on the training points and
on the held-out ones. By default they are the very points of its training run (the model file
keeps the data flags it was trained with), so the numbers match what `train` printed; every
data flag of `train` draws other points. `predict` prints the model's output for the numbers
given, and the class it stands for.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..learn import inputs, io
from ..learn.loop import evaluate, predict, predict_scores
from ..learn.losses import LOSSES
from ..learn.tasks import Task
from ..viz import plots
from .common import UsageError, percent, require_packages
from .train import add_data_flags
from .train_settings import DATA_FLAGS, load_data, required_modules

__all__ = ["register", "run_eval", "run_predict"]


def register(sub: Any) -> None:
    """Add the `eval` and `predict` subcommands to the `chainrule` parser."""
    ev = sub.add_parser(
        "eval",
        help="score a saved model on a data set: accuracy and loss",
        description=(
            "Score a model saved by chainrule train on a data set's points: accuracy and loss "
            "on the training points and on the held-out ones. Without data flags these are the "
            "points it was trained and tested on (kept in the model file); each flag given "
            "draws other points."
        ),
    )
    ev.add_argument("model", type=Path, metavar="MODEL.json", help="a model file")
    add_data_flags(ev.add_argument_group("data"), data_default=None)
    g = ev.add_argument_group("scoring and pictures")
    g.add_argument(
        "--loss", choices=list(LOSSES), help="loss to report (default: the one it was trained with)"
    )
    g.add_argument("--boundary", type=Path, metavar="FILE.png", help="draw the decision boundary")
    g.add_argument("--confusion", type=Path, metavar="FILE.png", help="draw the confusion matrix")
    ev.set_defaults(func=run_eval)

    pr = sub.add_parser(
        "predict",
        help="print a saved model's output for one point",
        description=(
            "Print the output of a model saved by chainrule train for the numbers given (one "
            "per input feature), and the class it predicts."
        ),
    )
    pr.add_argument("model", type=Path, metavar="MODEL.json", help="a model file")
    pr.add_argument("x", type=float, nargs="+", metavar="X", help="the input numbers, in order")
    pr.set_defaults(func=run_predict)


def _load(path: Path) -> tuple[Any, dict[str, Any]]:
    try:
        return io.load(path), io.read_metadata(path)
    except io.ModelFileError as err:
        raise UsageError(str(err)) from None


def _describe(model: Any) -> str:
    """`MLP 2-16-16-1, 337 parameters` for an MLP of either engine, else the model's type."""
    config = model.config()
    sizes = None
    if config.get("type") == "MLP":
        sizes = [config["nin"], *config["nouts"]]
    elif config.get("type") == "Sequential":
        linear = [layer for layer in config.get("layers", []) if layer.get("type") == "Linear"]
        if linear and all(layer.get("type") in ("Linear", "ReLU", "Tanh", "Sigmoid")
                          for layer in config["layers"]):  # fmt: skip
            sizes = [linear[0]["nin"], *(layer["nout"] for layer in linear)]
    kind = f"MLP {'-'.join(map(str, sizes))}" if sizes else config.get("type", "model")
    return f"{kind}, {model.num_parameters():,} parameters"


def _width(model: Any, row: Any) -> int:
    """How many numbers the model returns for one row."""
    scores = predict_scores(model, [row])[0]
    return len(scores) if isinstance(scores, list) else 1


# -- eval --------------------------------------------------------------------------------------


def run_eval(args: argparse.Namespace) -> int:
    """Score the model on the training and held-out points the flags (or the file) name."""
    model, meta = _load(args.model)
    trained = meta.get("data_flags") if isinstance(meta.get("data_flags"), dict) else {}
    given = {name: getattr(args, name) for name in DATA_FLAGS if getattr(args, name) is not None}
    recipe = meta.get("inputs")
    loss = args.loss or meta.get("loss") or "hinge"
    if recipe is not None and not given:  # the very points it was trained and tested on
        X, y, X_test, y_test, about = _recipe_points(args, recipe)
    else:
        if "data" not in given and "data" not in trained:
            raise UsageError(f"{args.model} does not say which data it was trained on; give --data")
        if given.get("data", trained.get("data")) == trained.get("data"):
            for name, value in trained.items():  # the training run's points, unless a flag says
                if name in DATA_FLAGS and name not in given:
                    setattr(args, name, value)
        else:
            args.data = given["data"]
        args.quiet = True
        require_packages(f"chainrule eval --data {args.data}", required_modules(args), "train")
        X, y, X_test, y_test, about = load_data(args)
        if recipe is not None:  # scaled and turned into features, as the model was trained
            X = _network_inputs(args.model, recipe, X)
            X_test = None if X_test is None else _network_inputs(args.model, recipe, X_test)
    _check_fits(args, model, X, y)
    print(f"model  {args.model}: {_describe(model)}, trained with {meta.get('loss', '?')}")
    print(f"data   {about}")
    if recipe is not None and not given and meta.get("train_accuracy") is not None:
        shown = [f"train {percent(meta['train_accuracy'])}"]
        if meta.get("test_accuracy") is not None:
            shown.append(f"held-out {percent(meta['test_accuracy'])}")
        print(f"page   {', '.join(shown)} at step {meta.get('steps', '?')} (kept in the file)")
    held_out = X_test is not None and len(X_test) > 0
    sets = [("train", X, y)] + ([("held-out", X_test, y_test)] if held_out else [])
    for name, points, labels in sets:
        try:
            value, accuracy = evaluate(model, points, labels, loss=loss)
        except (ValueError, TypeError) as err:
            raise UsageError(f"{args.model} cannot score --data {args.data}: {err}") from None
        print(
            f"{name:9}  accuracy {percent(accuracy)}, {loss} loss {value:.4g} "
            f"({len(points)} points)"
        )
    points, labels, which = (X_test, y_test, "held-out") if held_out else (X, y, "training")
    threshold = float(meta.get("threshold", 0.0))
    if args.boundary is not None:
        if len(points[0]) != 2:
            what = f"{args.model} takes" if recipe is not None else f"{args.data} has"
            raise UsageError(f"--boundary needs 2-D points; {what} {len(points[0])} features")
        plots.plot_decision_boundary(
            model, X, y, args.boundary, X_test=X_test if held_out else None,
            y_test=y_test if held_out else None, threshold=threshold,
            title=f"{args.model} on {args.data}",
        )  # fmt: skip
        print(f"wrote  {args.boundary}")
    if args.confusion is not None:
        guesses = predict(model, points, threshold=threshold)
        width = _width(model, points[0])
        classes = Task(loss, labels, width).classes(labels)
        plots.plot_confusion_matrix(
            classes, guesses, args.confusion, classes=max(width, 2),
            title=f"{which} points of {args.data}",
        )  # fmt: skip
        print(f"wrote  {args.confusion}")
    return 0


def _recipe_points(args: argparse.Namespace, recipe: Any) -> tuple[Any, Any, Any, Any, str]:
    """The points a playground model was trained and tested on, rebuilt from its file."""
    try:
        points, about = inputs.rebuild(recipe), inputs.describe(recipe)
    except ValueError as err:
        raise UsageError(f"{args.model}: {err}") from None
    args.data = recipe["dataset"]
    return points.X, points.y, points.X_test, points.y_test, about


def _network_inputs(path: Path, recipe: Any, points: Any) -> list[list[float]]:
    """Points in the data set's units, as the playground model takes them (`inputs`)."""
    try:
        return inputs.network_inputs(recipe, points)
    except ValueError as err:
        raise UsageError(f"{path}: {err}") from None


def _check_fits(args: argparse.Namespace, model: Any, X: Any, y: Any) -> None:
    """The model takes the data's features and has an output for each of its classes."""
    try:
        width = _width(model, X[0])
    except (ValueError, TypeError) as err:
        raise UsageError(
            f"{args.model} cannot take the {len(X[0])} features of {args.data}: {err}"
        ) from None
    classes = len(set(y))
    if (width == 1 and classes > 2) or (width > 1 and max(y) >= width):
        has = "one output (two classes)" if width == 1 else f"{width} outputs (classes)"
        raise UsageError(f"{args.model} has {has}, but {args.data} has {classes} classes")


# -- predict -----------------------------------------------------------------------------------


def run_predict(args: argparse.Namespace) -> int:
    """Print the output for one row of numbers and the class it stands for."""
    model, meta = _load(args.model)
    row = args.x
    if meta.get("inputs") is not None:  # a playground model: scaled, then its features
        row = _network_inputs(args.model, meta["inputs"], [args.x])[0]
        plane = inputs.scale([args.x], meta["inputs"]["scaling"])[0]
        print(f"input   {' '.join(f'{v:g}' for v in args.x)}: ({plane[0]:.4g}, {plane[1]:.4g}) "
              "on the playground's plane")  # fmt: skip
    elif getattr(model, "nin", None) not in (None, len(args.x)):
        raise UsageError(f"{args.model} takes {model.nin} numbers, got {len(args.x)}")
    try:
        scores = predict_scores(model, [row])[0]
    except (ValueError, TypeError) as err:
        raise UsageError(f"{args.model} cannot take these {len(args.x)} numbers: {err}") from None
    if isinstance(scores, list):
        print("output  " + " ".join(f"{v:.6g}" for v in scores))
        print(f"class   {scores.index(max(scores))} (the largest score)")
        return 0
    print(f"output  {scores:.6g}")
    loss = meta.get("loss")
    if loss in ("hinge", "bce", "mse", None):
        threshold = float(meta.get("threshold", 0.0))
        side = ">" if scores > threshold else "<="
        print(f"class   {int(scores > threshold)} (output {side} {threshold:g})")
    return 0
