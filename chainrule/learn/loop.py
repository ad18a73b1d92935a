"""The training loop: `fit(model, X, y)` runs the lecture's cycle for you.

That cycle is forward / zero_grad / backward / update; `fit` adds minibatches, a learning-rate
schedule, a progress bar, held-out evaluation and a `History` of what happened at every step:

    >>> from chainrule import data, nn
    >>> from chainrule.learn import fit
    >>> X, y = data.moons(100, noise=0.1, seed=1)
    >>> model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation=None, seed=1)
    >>> history = fit(model, X, y, loss="hinge", lr=1.0, schedule="linear", steps=10,
    ...               progress=False)
    >>> history.steps, history.final_train_accuracy
    (10, 0.95)

Every string `chainrule train` takes, `fit` takes too: `loss="cross_entropy"`,
`optimizer="adam"`, `schedule="cosine"`.

Failures speak. Data holding a NaN or an infinity are refused before the first step, naming
the row and column. A run whose loss, or whose BatchNorm's running statistics, become inf or
nan stops (`TrainingDiverged`, saying where and what to try). A run that ends having learned
nothing (chance-level accuracy, a loss flat from the start) or whose loss grew far above where
it began warns (`TrainingWarning`) and keeps the advice in `History.warnings`
(`chainrule.learn.advice`).

Labels. Give class labels as the data sets do: 0/1 (or -1/+1) for two classes, 0..C-1 for more.
`fit` turns them into what the loss needs (`chainrule.learn.losses.Task`): -1/+1 for `hinge`,
0/1 for `bce`, class indices for `cross_entropy`; `mse` gets the targets exactly as given (the
lecture's +1/-1). The losses are `chainrule.learn.losses.LOSSES`; `fit` also takes any callable
`loss(outputs, targets) -> node`.

Speed. A step is the model's forward pass, the loss, `backward()` and the optimizer's update;
the loop adds almost nothing around them: the data are turned into the engine's numbers once,
before the first step, a full batch is the data itself (no copy), and parameters are listed
once (the optimizer holds them). Evaluation runs under `no_grad()`, so it records no graph.

Engines. Everything that depends on how a model computes sits in one small class per engine,
`ScalarEngine` and `TensorEngine` in `chainrule.engines`; `engine_for(model)` picks one,
and `fit`, `predict` and the plots only call these (`owns`, `inputs`, `targets`, `take`,
`forward`, `penalty`, `scores`, `correct`, `width`: see that module).
"""

from __future__ import annotations

import math
import numbers
import random
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

from ..autograd import collector_paused, no_grad
from ..engines import engine_for
from ..extras import require
from ..nn import check_number, check_size
from . import optim
from .advice import Advice, TrainingDiverged, TrainingWarning, diagnose, diverged_advice
from .data import check_finite
from .losses import LOSSES, Task, compute_loss

__all__ = ["LOSSES", "History", "evaluate", "fit", "predict", "predict_scores"]

# -- the record of a run ----------------------------------------------------------------------


@dataclass
class History:
    """What `fit` saw, step by step; step k is the k-th update (0-based).

    `loss[k]`, `train_accuracy[k]` and `lr[k]` describe step k: the loss and the accuracy of
    the forward pass it backpropagated (on its batch, with k updates done, as micrograd
    prints them) and the learning rate of its update. `step_time[k]` is its wall time in
    seconds (forward, loss, backward, update). `test_accuracy[i]` was measured after
    `eval_steps[i]` updates (0 = before training). `final_*` are measured on the whole sets
    after the last update: `final_loss` is the loss of the whole training set without the L2
    term (`loss[k]` is one batch's, with it). Accuracies are fractions in [0, 1], None where
    undefined (targets of a regression). `warnings` holds an `Advice` for a run that learned
    nothing or diverged (`chainrule.learn.advice`).

    Attributes:
        loss: The loss of each step's batch (with the L2 term).
        train_accuracy: The accuracy on each step's batch, or None.
        lr: The learning rate of each step's update.
        step_time: Each step's wall time, in seconds.
        eval_steps: After how many updates the held-out set was scored.
        test_accuracy: The held-out accuracy at each of `eval_steps`.
        final_train_accuracy: The accuracy on the whole training set, at the end.
        final_test_accuracy: The accuracy on the held-out set, at the end.
        final_loss: The loss on the whole training set, at the end (no L2 term).
        threshold: The score above which one output means class 1.
        batch_size: The rows per step.
        train_size: The rows of the training set.
        l2: The weight of the L2 term.
        total_time: The wall time of the whole run, in seconds.
        warnings: `Advice` for a run that learned nothing or diverged.

    Examples:
        >>> from chainrule import fit, nn
        >>> xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
        >>> history = fit(nn.MLP(3, [4, 4, 1], seed=0), xs, [1.0, -1.0, -1.0, 1.0],
        ...               loss="mse", lr=0.05, steps=50, progress=False)
        >>> history
        History(50 steps, loss 1.932 -> 0.02942, train accuracy 100.0%, ... ms/step)
        >>> history.steps, history.full_batch, round(history.final_loss, 4)
        (50, True, 0.0283)
    """

    loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    step_time: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    test_accuracy: list[float | None] = field(default_factory=list)
    final_train_accuracy: float | None = None
    final_test_accuracy: float | None = None
    final_loss: float | None = None
    threshold: float = 0.0
    batch_size: int = 0
    train_size: int = 0
    l2: float = 0.0
    total_time: float = 0.0
    warnings: list[Advice] = field(default_factory=list)

    @property
    def steps(self) -> int:
        """How many updates were made."""
        return len(self.loss)

    @property
    def full_batch(self) -> bool:
        """Whether every step saw the whole training set (so `loss[k]` is the set's loss)."""
        return self.batch_size >= self.train_size

    @property
    def time_per_step(self) -> float:
        """Mean wall time of one training step, in seconds (0.0 before any step)."""
        return sum(self.step_time) / len(self.step_time) if self.step_time else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Give the run as plain lists and numbers, ready for `json.dump`.

        Returns:
            Every field, with `steps` and `time_per_step` added and the warnings as dicts.
        """
        out = asdict(self)
        out["warnings"] = [w.to_dict() for w in self.warnings]
        out["steps"] = self.steps
        out["time_per_step"] = self.time_per_step
        return out

    def __repr__(self) -> str:
        """Sum the run up: steps, loss from first to last, accuracy, time per step."""
        if not self.loss:
            return "History(no steps)"
        acc = _percent(self.final_train_accuracy)
        test = f", test accuracy {_percent(self.final_test_accuracy)}" if self.eval_steps else ""
        warned = "".join(f", warning: {w.kind}" for w in self.warnings)
        return (
            f"History({self.steps} steps, loss {self.loss[0]:.4g} -> {self.loss[-1]:.4g}, "
            f"train accuracy {acc}{test}, {1e3 * self.time_per_step:.2f} ms/step{warned})"
        )


def _percent(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


# -- predictions -------------------------------------------------------------------------------


def predict_scores(model: Any, X: Sequence[Sequence[float]]) -> list[float] | list[list[float]]:
    """Give the model's raw outputs for each row of `X`, as plain numbers, without a graph.

    Args:
        model: A model of either engine (a `chainrule.nn` model, a tensor layer).
        X: The rows.

    Returns:
        One score per row for a model of one output, else one list of scores per row.

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.learn import predict_scores
        >>> predict_scores(nn.Neuron(2, activation=None, seed=0), [[1.0, 0.0], [0.0, 1.0]])
        [0.5299868647117862, 0.35705196754229496]
    """
    engine = engine_for(model)
    with no_grad(), evaluating(model):
        return engine.scores(engine.forward(model, engine.inputs(X)))


def predict(model: Any, X: Sequence[Sequence[float]], threshold: float = 0.0) -> list[int]:
    """Predict the class of each row of `X`, without recording a graph.

    For a model of one output the class is 1 where the score > `threshold`, else 0; for more
    outputs it is the index of the largest score.

    Args:
        model: A model of either engine.
        X: The rows.
        threshold: The score above which one output means class 1 (0.0 for hinge and mse on
            -1/+1 labels).

    Returns:
        One class per row.

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.learn import predict
        >>> model = nn.Neuron(2, activation=None, seed=0)
        >>> predict(model, [[1.0, 0.0], [-3.0, 0.0]])
        [1, 0]
    """
    scores: Any = predict_scores(model, X)
    if scores and isinstance(scores[0], (list, tuple)):
        return [row.index(max(row)) for row in scores]
    return [int(s > threshold) for s in scores]


def evaluate(
    model: Any, X: Sequence[Sequence[float]], y: Sequence[float], loss: str | Callable = "hinge"
) -> tuple[float, float | None]:
    """Score `model` on `(X, y)`: the loss and the accuracy, computed without a graph.

    The loss is computed as `fit` computes it (labels coded for it, no L2 term). A trained
    model scored on its training set gives `fit`'s `final_loss` and `final_train_accuracy`.

    Args:
        model: A model of either engine.
        X: The rows.
        y: Their labels (or targets, for a regression).
        loss: A name of `LOSSES`, or a callable `loss(outputs, targets) -> node`.

    Returns:
        `(loss, accuracy)`: the accuracy a fraction, None for regression targets.

    Raises:
        ValueError: `X` is not a non-empty list of rows of finite numbers, `y` does not match
            it, or the labels do not suit the loss.

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.learn import evaluate
        >>> model = nn.Neuron(2, activation=None, seed=0)
        >>> loss, accuracy = evaluate(model, [[1.0, 0.0], [-3.0, 0.0]], [1, 0])
        >>> round(loss, 4), accuracy
        (0.235, 1.0)
    """
    _check_data(X, y, "X", "y")
    engine = engine_for(model)
    task = _task(model, engine, loss, X, y)
    targets = engine.targets(task.targets(y))
    return _scored(model, engine, loss, task, engine.inputs(X), targets, task.classes(y))


# -- the loop ------------------------------------------------------------------------------------


def fit(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    loss: str | Callable[..., Any] = "hinge",
    optimizer: Any = None,
    lr: float | None = None,
    momentum: float = 0.0,
    l2: float = 0.0,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    schedule: Any = None,
    X_test: Sequence[Sequence[float]] | None = None,
    y_test: Sequence[float] | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    seed: int | None = None,
) -> History:
    """Train `model` on `(X, y)` and return the `History` of the run.

    Every string `chainrule train` takes, `fit` takes too. Data holding a NaN or an infinity
    are refused before the first step; a run that learned nothing warns (`TrainingWarning`)
    and keeps the advice in `History.warnings`.

    Args:
        model: A model of either engine (a `chainrule.nn` model, a tensor layer).
        X: The training rows.
        y: Their labels: 0/1 (or -1/+1) for two classes, 0..C-1 for more, or regression
            targets for `mse`.
        loss: 'hinge' (micrograd's demo), 'mse' (the lecture), 'bce' (on logits),
            'cross_entropy' (several classes), or a callable `loss(outputs, targets) -> node`
            that gets the model's outputs for a batch and the matching `y` as given.
        optimizer: 'sgd' (the default) or 'adam', made over `model.parameters()` with `lr`
            (default: sgd 0.1, adam 0.01) and, for sgd, `momentum`; or an optimizer you made
            (`lr`, if given, then replaces its learning rate).
        lr: The learning rate.
        momentum: SGD's momentum (for `optimizer='sgd'` only).
        l2: Adds `l2 * sum(p*p)` over the parameters to the loss (micrograd's demo: 1e-4).
        steps: How many updates (default 100); give `steps` or `epochs`, not both.
        epochs: How many passes over the data, in batches of `batch_size`.
        batch_size: The rows per step (default: the whole set, one step per epoch).
        schedule: None (the optimizer's lr throughout), 'constant', 'linear' (micrograd's
            `lr * (1 - 0.9 k/steps)`), 'cosine', an `optim.LRScheduler` made on `optimizer`,
            or a function `k -> lr`.
        X_test: A held-out set, scored every `eval_every` steps, before the first and after
            the last step.
        y_test: Its labels.
        eval_every: Steps between scorings of the held-out set (default: about 10 in the run).
        progress: Show a tqdm bar (a widget in notebooks); False prints nothing.
        seed: The order of minibatches (the model's weights come from the model's own seed).

    Returns:
        The `History` of the run.

    Raises:
        ValueError: A bad argument or bad data, named (a NaN in `X` names its row and column).
        TypeError: An optimizer or a schedule of the wrong kind.
        TrainingDiverged: The loss (or BatchNorm's running statistics) became inf or nan;
            the message says where, and what to try.
        chainrule.extras.MissingExtra: `progress=True` without tqdm installed.

    Examples:
        >>> from chainrule import fit, nn
        >>> xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
        >>> ys = [1.0, -1.0, -1.0, 1.0]  # the lecture's four examples
        >>> model = nn.MLP(3, [4, 4, 1], seed=0)
        >>> history = fit(model, xs, ys, loss="mse", lr=0.05, steps=50, progress=False)
        >>> round(history.loss[0], 4), round(history.loss[-1], 4)
        (1.9324, 0.0294)
        >>> history.final_train_accuracy
        1.0
    """
    engine = engine_for(model)
    n = _check_data(X, y, "X", "y")
    if (X_test is None) != (y_test is None):
        raise ValueError("fit: give both X_test and y_test, or neither")
    if X_test is not None:
        _check_data(X_test, y_test, "X_test", "y_test")
    momentum, l2 = _nonneg(momentum, "momentum"), _nonneg(l2, "l2")
    if not (callable(loss) or loss in LOSSES):
        valid = ", ".join(repr(k) for k in LOSSES)
        raise ValueError(f"fit: unknown loss {loss!r}; valid: {valid}, or a callable")
    batch = n if batch_size is None else min(check_size(batch_size, "fit: batch_size"), n)
    per_epoch = math.ceil(n / batch)
    if steps is not None and epochs is not None:
        raise ValueError("fit: give steps or epochs, not both")
    if epochs is not None:
        total = check_size(epochs, "fit: epochs") * per_epoch
    else:
        total = 100 if steps is None else check_size(steps, "fit: steps")
    every = max(1, total // 10) if eval_every is None else check_size(eval_every, "fit: eval_every")

    params = model.parameters()
    buffers: list[tuple[str, Any]] = getattr(model, "named_buffers", list)()
    optimizer, name = _optimizer(optimizer, params, lr, momentum)
    scheduler, lr_at = _schedule(schedule, optimizer, total)
    tqdm = _tqdm() if progress else None  # before any work: a missing tqdm is said at once

    task = _task(model, engine, loss, X, y)
    inputs, targets, classes = engine.inputs(X), engine.targets(task.targets(y)), task.classes(y)
    history = History(threshold=task.threshold, batch_size=batch, train_size=n, l2=l2)

    test_inputs = None if X_test is None else engine.inputs(X_test)
    test_classes = None if y_test is None else task.classes(y_test)

    def score_held_out(done: int) -> None:
        if test_inputs is not None:
            history.eval_steps.append(done)
            with no_grad(), evaluating(model):
                outputs = None if test_classes is None else engine.forward(model, test_inputs)
                history.final_test_accuracy = _accuracy(engine, outputs, test_classes, task)
                history.test_accuracy.append(history.final_test_accuracy)

    rng = random.Random(seed)
    order = list(range(n))
    bar = None if tqdm is None else tqdm(total=total, desc="train", unit="step", dynamic_ncols=True)
    clock = time.perf_counter
    started = clock()
    score_held_out(0)
    # BatchNorm and Dropout behave as in training for the steps; the bar closes however it ends
    with nullcontext() if bar is None else bar, evaluating(model, training=True):
        for k in range(total):
            t0 = clock()
            xb, yb, cb = inputs, targets, classes
            if batch < n:
                start = (k % per_epoch) * batch
                if start == 0:
                    rng.shuffle(order)
                index = order[start : start + batch]
                xb, yb = engine.take(inputs, index), engine.take(targets, index)
                cb = None if classes is None else [classes[i] for i in index]
            if lr_at is not None:
                optimizer.lr = lr_at(k)
            history.lr.append(optimizer.lr)
            with collector_paused():
                outputs = engine.forward(model, xb)
                total_loss = compute_loss(loss, outputs, yb)
                if l2:
                    total_loss = total_loss + l2 * engine.penalty(params)
                optimizer.zero_grad()
                total_loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                value = float(total_loss.data)
                acc = _accuracy(engine, outputs, cb, task)
                del outputs, total_loss  # free the graph while the collector is paused
            history.step_time.append(clock() - t0)
            history.loss.append(value)
            history.train_accuracy.append(acc)
            # BatchNorm's running statistics can overflow while the loss stays finite (a
            # batch's loss is computed with the batch's own statistics): that run is lost too.
            bad = next((n for n, b in buffers if not math.isfinite(float(b.data.sum()))), None)
            if not math.isfinite(value) or bad:
                became = f"the loss became {value}" if bad is None else f"{bad} became inf or nan"
                what = f"{became} at step {k} (the loss started at {history.loss[0]:.4g})"
                advice = diverged_advice(what, history.lr[0], _default_lr(name), name)
                raise TrainingDiverged(f"fit: {advice}", advice)
            if (k + 1) % every == 0 or k + 1 == total:
                score_held_out(k + 1)
            if bar is not None:
                shown = "" if acc is None else f" acc {100 * acc:.0f}%"
                bar.set_postfix_str(
                    f"loss {value:.4f}{shown} lr {history.lr[-1]:.3g}", refresh=False
                )
                bar.update()
    history.total_time = clock() - started
    scores = _scored(model, engine, loss, task, inputs, targets, classes)
    history.final_loss, history.final_train_accuracy = scores
    run: dict[str, Any] = {"lr": history.lr[0], "default_lr": _default_lr(name), "optimizer": name}
    run.update(batch_size=batch, samples=n, relu=_uses_relu(model), epochs=epochs is not None)
    history.warnings = diagnose(history.loss, history.final_train_accuracy, classes, **run)
    for advice in history.warnings:
        warnings.warn(str(advice), TrainingWarning, stacklevel=2)
    return history


# -- helpers -------------------------------------------------------------------------------------


@contextmanager
def evaluating(model: Any, training: bool = False) -> Iterator[None]:
    """Put the model in evaluation mode for the block, then back in the mode it was in.

    Evaluation mode means BatchNorm's running statistics and no dropout. Models without modes
    (any callable) are left alone. `fit` runs its steps in training mode the same way.

    Args:
        model: The model.
        training: Put it in training mode instead.

    Yields:
        Nothing: the block runs with the model evaluating.

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.learn.loop import evaluating
        >>> model = nn.Neuron(2, seed=0)
        >>> with evaluating(model):
        ...     print(model.training)
        False
        >>> model.training
        True
    """
    was_training = getattr(model, "training", None)
    if was_training is None or not callable(getattr(model, "train", None)):
        yield
        return
    model.train(training)
    try:
        yield
    finally:
        model.train(was_training)


def _task(model: Any, engine: Any, loss: Any, X: Any, y: Any) -> Task:
    """Read the labels for `loss`, given the model's output width (one row's forward pass)."""
    with no_grad(), evaluating(model):
        return Task(loss, y, engine.width(engine.forward(model, engine.inputs(X[:1]))))


def _accuracy(engine: Any, outputs: Any, classes: list[int] | None, task: Task) -> float | None:
    return (
        None if classes is None else engine.correct(outputs, classes, task.threshold) / len(classes)
    )


def _scored(
    model: Any, engine: Any, loss: Any, task: Task, inputs: Any, targets: Any, classes: Any
) -> tuple[float, float | None]:
    """Give the loss (no L2 term) and the accuracy of the whole set, without a graph."""
    with no_grad(), evaluating(model):
        outputs = engine.forward(model, inputs)
        value = float(compute_loss(loss, outputs, targets).data)
        return value, _accuracy(engine, outputs, classes, task)


def _check_data(X: Any, y: Any, xname: str, yname: str) -> int:
    if isinstance(X, (str, bytes)) or not _is_rows(X) or not len(X):
        raise ValueError(f"fit: {xname} must be a non-empty list of rows")
    check_finite(X, xname, "fit")
    if isinstance(y, (str, bytes)) or not _is_rows(y):
        raise ValueError(f"fit: {yname} must be a list of labels")
    if len(X) != len(y):
        raise ValueError(f"fit: {xname} has {len(X)} rows but {yname} has {len(y)} labels")
    for i, v in enumerate(y):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"fit: {yname}[{i}] must be a finite number, got {v!r}")
    return len(X)


def _is_rows(data: Any) -> bool:
    """Say whether `data` is a list or tuple, or an array (numpy's are not Sequences)."""
    return isinstance(data, Sequence) or (hasattr(data, "shape") and hasattr(data, "__len__"))


def _nonneg(value: Any, name: str) -> float:
    return float(check_number(value, f"fit: {name}", lambda v: v >= 0, "a number >= 0"))


def _optimizer(optimizer: Any, params: list[Any], lr: Any, momentum: float) -> tuple[Any, Any]:
    """Give the optimizer and its name in `optim.OPTIMIZERS` (or None).

    Made from a name, or as given with `lr` (if any) replacing its learning rate.
    """
    if optimizer is None or isinstance(optimizer, str):
        name = optimizer or "sgd"
        if momentum and name != "sgd":
            raise ValueError(f"fit: momentum applies to optimizer='sgd' only, not {name!r}")
        return optim.get_optimizer(
            name, params, lr, **({"momentum": momentum} if momentum else {})
        ), name
    if not isinstance(optimizer, optim.Optimizer):
        raise TypeError(
            f"fit: optimizer must be a name ('sgd', 'adam') or an Optimizer, got {optimizer!r}"
        )
    if momentum:
        raise ValueError("fit: momentum goes to the optimizer you made, not to fit")
    if lr is not None:
        optimizer.lr = lr
    kinds = {kind: key for key, (kind, _) in optim.OPTIMIZERS.items()}
    return optimizer, kinds.get(type(optimizer))


def _default_lr(name: str | None) -> float:
    return optim.OPTIMIZERS[name][1] if name in optim.OPTIMIZERS else 0.1


def _uses_relu(model: Any) -> bool:
    """Whether the model's hidden layers are ReLUs (an MLP of either engine)."""
    if getattr(model, "activation", None) == "relu":
        return True
    return any(type(layer).__name__ == "ReLU" for layer in getattr(model, "layers", ()))


def _schedule(schedule: Any, optimizer: Any, total: int) -> tuple[Any, Any]:
    """Give a scheduler to step after each update, or a function k -> lr to apply before it."""
    if schedule is None:
        return None, None
    if isinstance(schedule, str):
        return optim.get_scheduler(schedule, optimizer, total), None
    if isinstance(schedule, optim.LRScheduler):
        if schedule.optimizer is not optimizer:
            raise ValueError("fit: the schedule was made for a different optimizer")
        return schedule, None
    if callable(schedule):
        return None, schedule
    raise TypeError(f"fit: schedule must be a name, an LRScheduler or a function, got {schedule!r}")


def _tqdm() -> Any:
    """Give the progress bar's class: a widget in Jupyter, else text; imported when shown."""
    return require("tqdm.auto", "train", "fit's progress bar (progress=False goes without)").tqdm
