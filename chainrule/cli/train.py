"""`chainrule train`: train a small network from the terminal.

    chainrule train --data moons --model 2,16,16,1 --activation relu --loss hinge \\
        --steps 100 --lr 1.0 --seed 1337 --out runs/moons

prints progress and the final train / held-out accuracy and wall time, and leaves in `--out`:
`model.json` (reload with `chainrule.learn.io.load`, or `chainrule eval` / `predict`), `loss.png`
(loss and accuracy curves), for 2-D data `boundary.png` (micrograd's decision-boundary
picture), for more than two classes `confusion.png`, and for pictures (digits) `samples.png`.

Each data set trains well with no flag but `--data`: it has its own settings (its row of
`chainrule.learn.data.DATASETS`: micrograd's demo for the 2-D sets, the lecture's network for
toy, mini-batches for digits), and each flag given replaces its own setting. Settings that only
make sense together stay together: the data set's learning rate and momentum come with its
optimizer and loss (`--optimizer adam` alone gets Adam's default rate, not the digits' SGD
rate), and its length (steps or epochs) only when neither `--steps` nor `--epochs` is given.

The choices of `--activation`, `--loss`, `--optimizer`, `--schedule` and `--data` are the
tables of the library (`ACTIVATIONS`, `LOSSES`, `OPTIMIZERS`, `SCHEDULES`, `DATASETS`): a row
added there is a choice here. Every mistake in the request (a bad flag, a model that does not
fit the data, an `--out` that is a file or already holds a run, a package to install) is found
before training starts and reported in one line with exit status 2; a run that learned nothing,
or diverged, says so after its results, with the flags to try.
"""

from __future__ import annotations

import argparse
import textwrap
import time
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any

from .. import nn
from ..extras import MissingExtra
from ..learn.advice import TrainingDiverged, TrainingWarning
from ..learn.data import DATASETS, MICROGRAD, DataDefaults
from ..learn.loop import History, predict
from ..learn.losses import LOSSES, default_loss, outputs_needed
from ..learn.optim import OPTIMIZERS, SCHEDULES
from ..viz import plots
from . import common, distributed
from .common import UsageError, add_flags, nonneg_float, nonneg_int, positive_float, positive_int
from .preset import PRESETS

try:
    from ..tensor.layers import mlp as tensor_mlp
except MissingExtra:  # no numpy: `_model` says what to install if a tensor model is asked for
    tensor_mlp = None  # type: ignore[assignment]


# The seed of the initial weights, of `train` and of micrograd's demo (`chainrule demo`),
# picked so that the demo's run is a good one; other seeds are listed in the docs.
DEMO_SEED = 1337


def register(sub: Any) -> None:
    """Add `chainrule train` to the command line (called from `chainrule.cli.main`)."""
    p = sub.add_parser(
        "train",
        help="train a network on a small data set; save the model and plots",
        description=textwrap.fill(
            "Train an MLP on a small data set and write model.json, loss.png and (for 2-D "
            "data) boundary.png into --out. Each data set has settings that train it well "
            "(listed below); any flag overrides its own.",
            78,
        ),
        epilog=_settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common.add_data_flags(p, data_default="moons")
    p.elsewhere = {name: f"a preset: chainrule preset {name}" for name in PRESETS}
    activations = list(nn.ACTIVATIONS)
    add_flags(p.add_argument_group("model"), [
        ("--model SIZES", common.layer_sizes,
         "layer sizes, inputs first: 2,16,16,1 (default: FEATURES,16,16,OUTPUTS)"),
        ("--activation", activations, "activation of the hidden layers (default: relu; toy: tanh)"),
        ("--output-activation", activations,
         "activation of the last layer (default: linear; tanh for --loss mse)"),
        ("--seed S", nonneg_int,
         f"seed of the initial weights and the batch order (default: {DEMO_SEED})"),
        ("--engine", ["auto", "scalar", "tensor", "torch"],
         "scalar (one Value per number, the lecture's MLP) or tensor (numpy arrays); auto: "
         "tensor for data with more than 8 features or 1,000 points; torch: the tensor MLP "
         "trained by PyTorch, over --workers processes (default: auto)"),
    ])  # fmt: skip
    distributed.add_flags(p.add_argument_group("data-parallel training (--engine torch)"), False)
    g = p.add_argument_group("training")
    add_flags(g, [
        ("--loss", list(LOSSES), "hinge (max-margin, +-1 labels), mse, bce (on logits), "
         "cross_entropy (default: hinge for two classes, cross_entropy for more; toy: mse)"),
        ("--l2 ALPHA", nonneg_float,
         "add ALPHA * sum of squared weights to the loss (default: 1e-4; toy: 0)"),
        ("--optimizer", list(OPTIMIZERS), "sgd or adam (default: sgd)"),
        ("--lr LR", positive_float,
         "learning rate (default: sgd 1.0 with hinge, as micrograd, else 0.1; adam 0.01)"),
        ("--momentum M", common.momentum, "SGD momentum in [0, 1) (default: 0; digits: 0.9)"),
        ("--schedule", list(SCHEDULES), "learning rate over time: linear falls to a tenth "
         "(micrograd), cosine to 0 (default: linear; toy: constant)"),
    ])  # fmt: skip
    add_flags(g.add_mutually_exclusive_group(), [
        ("--steps N", positive_int, "number of updates (default: 100)"),
        ("--epochs N", positive_int, "passes over the data instead of --steps"),
    ])  # fmt: skip
    add_flags(g, [
        ("--batch-size N", positive_int,
         "points per update (default: all of them, full batch; digits: 32)"),
        ("--eval-every N", positive_int,
         "score the held-out points every N steps (default: 10 times a run)"),
    ])  # fmt: skip
    add_flags(p.add_argument_group("output"), [
        ("--out DIR", common.path, "folder for model.json and the pictures (default: runs/DATA)"),
        ("--force", "store_true", "replace the files of an earlier run in --out"),
        ("--quiet", "store_true", "no progress bar and no header; only the results"),
    ])  # fmt: skip
    p.set_defaults(func=run, seed=DEMO_SEED, engine="auto")


def _settings_epilog() -> str:
    """Each data set's settings where they differ from micrograd's demo, wrapped."""
    demo = [name for name, row in DATASETS.items() if row.defaults == MICROGRAD]
    demo_text = (
        "micrograd's demo: hidden layers 16,16, relu, hinge for two classes (cross_entropy "
        "for more), sgd lr 1 (0.1 with another loss), 1e-4 L2, linear schedule, 100 "
        "full-batch steps, 100 points and 100 held-out ones"
    )
    lines = [f"{', '.join(demo)}: {demo_text}"]
    for name, row in DATASETS.items():
        own = [f.name for f in fields(DataDefaults)]
        own = [k for k in own if getattr(row.defaults, k) != getattr(MICROGRAD, k)]
        if own:
            lines.append(f"{name}: {', '.join(_as_flag(k, row.defaults) for k in own)}")
    wrapped = (textwrap.fill(t, 78, initial_indent="  ", subsequent_indent=" " * 6) for t in lines)
    return "\n".join(["settings of each data set (a flag given overrides its own):", *wrapped])


def _as_flag(name: str, defaults: DataDefaults) -> str:
    value = getattr(defaults, name)
    if name == "hidden":
        return f"hidden layers {','.join(map(str, value))}"
    return f"--{name.replace('_', '-')} " + (
        f"{value:g}" if isinstance(value, float) else str(value)
    )


# -- the settings: the flags given, the data set's own for the rest ----------------------------

# The settings that are `fit`'s own keyword arguments.
FIT_SETTINGS = "loss optimizer lr momentum l2 steps epochs batch_size schedule".split()


def resolve(args: argparse.Namespace, features: int, n_classes: int) -> argparse.Namespace:
    """Every choice of the run, resolved: what the flags said, else the data set's defaults;
    checked against the data (inputs and outputs must fit)."""
    r = DATASETS[args.data].defaults
    own_loss = r.loss or default_loss(n_classes)
    loss = args.loss or own_loss
    optimizer = args.optimizer or r.optimizer
    own = optimizer == r.optimizer and loss == own_loss  # the data set's rate and momentum
    if args.momentum and optimizer != "sgd":
        raise UsageError("--momentum applies to --optimizer sgd only")
    # micrograd's 1.0 suits its hinge demo on SGD; anything else gets the optimizer's own
    generic_lr = 1.0 if optimizer == "sgd" and loss == "hinge" else OPTIMIZERS[optimizer][1]
    output_activation = args.output_activation or (
        r.output_activation if r.output_activation and loss == own_loss else None
    )
    steps, epochs = (args.steps, args.epochs) if args.steps or args.epochs else (r.steps, r.epochs)
    outputs = outputs_needed(loss, n_classes)
    if LOSSES[loss].codes and n_classes > 2:
        raise UsageError(
            f"--loss {loss} is for two classes, but {args.data} has {n_classes}; "
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
    return argparse.Namespace(
        loss=loss,
        sizes=sizes,
        activation=args.activation or r.activation,
        output_activation=output_activation or ("tanh" if loss == "mse" else "linear"),
        optimizer=optimizer,
        lr=args.lr or (r.lr if own and r.lr else generic_lr),
        momentum=float(args.momentum if args.momentum is not None else r.momentum * own),
        l2=r.l2 if args.l2 is None else args.l2,
        schedule=args.schedule or r.schedule,
        steps=steps if steps or epochs else 100,
        epochs=epochs,
        batch_size=args.batch_size or r.batch_size,
    )


# -- the run -------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Train as the flags say, print what happens, and write the run into --out."""
    wall = time.perf_counter()
    say = (lambda *a: None) if args.quiet else print
    out = args.out if args.out is not None else Path("runs", args.data)
    common.check_out(out, args.force)
    distributed.prepare(args)
    header = getattr(args, "header", None)  # only the demo sets one
    purpose = "chainrule demo" if header else f"chainrule train --data {args.data}"
    common.require_packages(purpose, common.required_modules(args), "train")
    if header:
        say(header)

    X, y, X_test, y_test, about_data = common.load_data(args)
    features = len(X[0])
    s = resolve(args, features, len(set(y) | set(y_test or [])))
    engine = args.engine
    if engine == "auto":
        engine = "tensor" if features > 8 or len(X) > 1000 else "scalar"
    model = _model("tensor" if engine == "torch" else engine, s, args.seed)
    batch = "full batch" if (s.batch_size or len(X)) >= len(X) else f"batches of {s.batch_size}"
    l2 = f" + {s.l2:g} L2" if s.l2 else ""
    momentum = f" momentum {s.momentum:g}" if s.momentum else ""
    say(f"data   {about_data}")
    say(
        f"model  MLP {'-'.join(map(str, s.sizes))}, {s.activation} hidden, {s.output_activation} "
        f"output, {model.num_parameters():,} parameters (seed {args.seed}), {engine} engine"
    )
    length = f"{s.epochs} epochs" if s.epochs else f"{s.steps} steps"
    say(
        f"train  {s.loss}{l2}, {s.optimizer} lr {s.lr:g}{momentum} ({s.schedule}), {length}, "
        f"{batch}"
    )
    options = {k: getattr(s, k) for k in FIT_SETTINGS}
    held_out = {"X_test": X_test, "y_test": y_test, "eval_every": args.eval_every}
    options.update(held_out, progress=not args.quiet, seed=args.seed)
    try:
        with warnings.catch_warnings(), common.usage_errors("", MissingExtra):
            warnings.simplefilter("ignore", TrainingWarning)  # the advice is printed below
            history = distributed.fit(args, model, X, y, **options)
    except TrainingDiverged as err:
        raise UsageError(err.advice.text("cli")) from None
    if history is None:  # another rank of torchrun's: rank 0 reports
        return 0

    test = history.final_test_accuracy
    results = f"train accuracy {common.percent(history.final_train_accuracy)}" + (
        f", test accuracy {common.percent(test)} ({len(X_test)} held-out points)"
        if test is not None
        else ", no held-out points"
    )
    about = {"data": about_data, "engine": engine, "loss": s.loss, "l2": s.l2}
    about["data_flags"] = {name: getattr(args, name, None) for name in common.DATA_FLAGS}
    about.update(seed=args.seed, data_seed=args.data_seed)
    writers: common.Writers = {}
    if features == 2:
        title = f"{args.data}: {results.replace(', test', chr(10) + 'test')}"
        writers["boundary.png"] = lambda p: plots.plot_decision_boundary(
            model, X, y, p, X_test=X_test, y_test=y_test, threshold=history.threshold, title=title
        )
    if s.sizes[-1] >= 3:
        which = (X_test, y_test, "held-out") if X_test else (X, y, "training")
        writers.update(_class_pictures(model, history, s.sizes[-1], args.data, *which))
    written = common.save_run(out, args.force, model, history, about, writers)
    l2_term = ", without the L2 term" if s.l2 else ""
    print(
        f"done   {results}; final loss {history.final_loss:.4g} ({s.loss} on all "
        f"{history.train_size} training points{l2_term})"
    )
    common.report(history, wall, written, "with data, plots and files")
    for advice in history.warnings:
        print(f"warning: {advice.text('cli')}")
    return 0


def _class_pictures(
    model: Any, history: History, classes: int, name: str, points: Any, labels: Any, which: str
) -> common.Writers:
    """confusion.png for more than two classes, samples.png for pictures, on the held-out
    points where there are some."""
    guesses = predict(model, points, threshold=history.threshold)
    right = sum(int(g == t) for g, t in zip(guesses, labels))
    title = f"{right} of {len(labels)} {which} points right"

    def confusion(p: Path) -> Any:
        return plots.plot_confusion_matrix(labels, guesses, p, classes=classes, title=title)

    writers: common.Writers = {"confusion.png": confusion}
    shape = DATASETS[name].image_shape
    if shape is not None and len(points[0]) == shape[0] * shape[1]:
        writers["samples.png"] = lambda p: plots.plot_sample_predictions(
            points, labels, guesses, p, shape=shape
        )
    return writers


def _model(engine: str, s: argparse.Namespace, seed: int) -> Any:
    """An MLP of the run's sizes and activations on the engine named "scalar" or "tensor"."""
    sizes, hidden, last = s.sizes, s.activation, s.output_activation
    if engine == "scalar":
        return nn.MLP(sizes[0], sizes[1:], activation=hidden, output_activation=last, seed=seed)
    common.require_packages("the tensor engine", ["numpy"], "tensor")
    return tensor_mlp(sizes, hidden, last, seed=seed)
