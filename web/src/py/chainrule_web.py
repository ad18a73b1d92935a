"""The playground's Python: what the page asks chainrule, in the browser (Pyodide, in a Web Worker).

Every function takes plain numbers and strings and returns a JSON string, so nothing but text
crosses between Python and JavaScript. The work is chainrule's own: expressions are read by the
safe parser of `chainrule graph` (`chainrule.cli.expressions.evaluate_program`; user text is
never evaluated), the Expression tab's picture and frames are `chainrule.animate`'s
(`animation_data`: draw_dot's look, explain's narration, played by the package's own player),
the Neuron tab's picture is `draw_dot`'s, and training is `chainrule.learn.fit` on a
`chainrule.nn.MLP`, on points drawn, scaled and turned into input features by
`chainrule.learn.inputs` (the recipe an exported model file keeps, so that `chainrule eval`
rebuilds the same points). This module only translates.

The build (web/build.mjs) zips this file with the `chainrule/` package of the repository; the
tests (tests/test_playground_python.py) import it with the native CPython as well.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import json
import math
import os
import re
import sys
import tempfile
import time
import warnings
from typing import Any

import chainrule
from chainrule import nn, optim
from chainrule.autograd import no_grad, topological_order
from chainrule.cli.expressions import (
    FUNCTIONS,
    MAX_PROGRAM_CHARS,
    ProgramError,
    evaluate_program,
)
from chainrule.learn import TrainingDiverged, TrainingWarning, fit, inputs
from chainrule.learn.advice import diagnose
from chainrule.learn.losses import LOSSES, Task, compute_loss, outputs_needed
from chainrule.value import Value, _children
from chainrule.viz.animate import animation_data
from chainrule.viz.graph import draw_dot, graph_size
from chainrule.viz.narrate import explain

__all__ = [
    "boot",
    "expression",
    "neuron",
    "train_new",
    "train_step",
    "train_add_point",
    "train_point_program",
    "train_neuron_program",
    "train_export",
    "benchmark",
]

# The draw_dot limit: graphs with more values than this are refused, as draw_dot refuses them.
MAX_NODES: int = inspect.signature(draw_dot).parameters["max_nodes"].default

# The page's menus, read from the library's tables: the data sets it can draw in plain Python
# (`chainrule.learn.data.DATASETS`; how many classes each has is read from a few of its points,
# and the two-class ones come first), the activations (`chainrule.nn.ACTIVATIONS`, every
# function of the op table that works as one) and the losses (`chainrule.learn.losses.LOSSES`).
CLASSES = {name: len(set(inputs.draw(name, 20, 0.0, 0)[1])) for name in inputs.DATASETS}
DATASETS = tuple(sorted(inputs.DATASETS, key=CLASSES.__getitem__))
ACTIVATIONS = nn.ACTIVATIONS
MAX_LAYERS, MAX_WIDTH = 6, 16
GRID = 24  # the decision-boundary picture: GRID x GRID scores over the plane
NEURON_GRID = 12  # each hidden neuron's little heatmap
SPAN = 1.3  # the plane shown: [-SPAN, SPAN] on both axes
# The page's choices (index.html's selects): advice names one of them, never another number.
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 3.0)
BATCH_SIZES = (1, 10, 30, 100)
# How the page writes each input feature (chainrule.learn.inputs.FEATURES, by name).
FEATURE_LABELS = {
    "x1": "x1",
    "x2": "x2",
    "x1_sq": "x1²",
    "x2_sq": "x2²",
    "x1_x2": "x1·x2",
    "sin_x1": "sin x1",
    "sin_x2": "sin x2",
}


def _json(obj: Any) -> str:
    """JSON for the page. A number that is not finite (a run that diverged) becomes null, which
    the page shows as "–": JSON has no NaN, and the page says in words what happened."""
    try:
        return json.dumps(obj, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_finite(obj), allow_nan=False, separators=(",", ":"))


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def boot() -> str:
    """What the page shows about the Python it talks to."""
    return _json(
        {
            "chainrule": chainrule.__version__,
            "python": sys.version.split()[0],
            "max_nodes": MAX_NODES,
            "functions": list(FUNCTIONS),
            "datasets": list(DATASETS),
            "classes": CLASSES,
            "activations": list(ACTIVATIONS),
            "losses": list(LOSSES),
            "features": [
                {"name": name, "label": FEATURE_LABELS[name], "formula": formula}
                for name, (formula, _) in inputs.FEATURES.items()
            ],
            "learning_rates": list(LEARNING_RATES),
        }
    )


# -- the Expression tab -------------------------------------------------------------------------

_POSITION = re.compile(r"at (?:line (\d+), )?column (\d+)")


class _Program:
    """The page's text split in two: `name = number` statements give the leaves their values
    (what `chainrule graph --set` gives), everything else is the program for `evaluate_program`.

    The program keeps every other statement at its line; the leaf statements are blanked out
    and each line's leading blanks removed, so an error's column can be mapped back to the
    text the user typed (`where`).
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.values: dict[str, float] = {}
        self.leaf_lines: dict[str, tuple[int, int]] = {}
        self.shift: list[int] = []
        lines = source.split("\n")
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            self.program = source  # evaluate_program reports it, with its position
            self.shift = [0] * len(lines)
            return
        blank = [list(line) for line in lines]
        for statement in tree.body:
            leaf = _leaf(statement)
            if leaf is None:
                continue
            name, number = leaf
            where = (statement.lineno, statement.col_offset + 1)
            if name in self.values:
                raise ProgramError(
                    f"{_at(where, source)}: {name} is given a number twice; keep one of them"
                )
            if not math.isfinite(number):
                raise ProgramError(f"{_at(where, source)}: {name} must be a finite number")
            self.values[name] = number
            self.leaf_lines[name] = where
            self._blank(blank, statement)
        kept = []
        for chars in blank:
            text = "".join(chars)
            stripped = text.lstrip()
            self.shift.append(len(text) - len(stripped))
            kept.append(stripped.rstrip())
        self.program = "\n".join(kept)

    def _blank(self, blank: list[list[str]], node: ast.stmt) -> None:
        """Blank out a one-line leaf statement and the `;` after it."""
        row = blank[node.lineno - 1]
        end = node.end_col_offset or len(row)
        for i in range(node.col_offset, end):
            row[i] = " "
        i = end
        while i < len(row) and row[i] in " \t":
            i += 1
        if i < len(row) and row[i] == ";":
            row[i] = " "

    def where(self, message: str) -> tuple[str, int | None, int | None]:
        """The message with its position mapped back to the typed text, and that position."""
        match = _POSITION.search(message)
        if not match:
            return message, None, None
        # Without a line, the program was one line once stripped: the one that is not blank.
        line = int(match.group(1)) if match.group(1) else self._only_line()
        column = int(match.group(2)) + (self.shift[line - 1] if line - 1 < len(self.shift) else 0)
        text = message[: match.start()] + _at((line, column), self.source) + message[match.end() :]
        return text, line, column

    def _only_line(self) -> int:
        for i, text in enumerate(self.program.split("\n"), 1):
            if text.strip():
                return i
        return 1


def _leaf(statement: ast.stmt) -> tuple[str, float] | None:
    """`name = 2.5` or `name = -3` on one line: a leaf and its number."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return None
    target, value = statement.targets[0], statement.value
    if not isinstance(target, ast.Name) or statement.lineno != statement.end_lineno:
        return None
    sign = 1.0
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(value.op, ast.USub) else 1.0
        value = value.operand
    if not isinstance(value, ast.Constant) or isinstance(value.value, bool):
        return None
    if not isinstance(value.value, (int, float)):
        return None
    try:
        return target.id, sign * float(value.value)
    except OverflowError:  # an integer too large for a float
        return target.id, math.inf


def _at(where: tuple[int, int], source: str) -> str:
    line, column = where
    if "\n" in source.strip():
        return f"at line {line}, column {column}"
    return f"at column {column}"


def _words(message: str) -> str:
    """`chainrule graph`'s wording, said as the page says it (`--set a=2` is `a = 2` here)."""
    message = re.sub(r"--set (\w+)=NUMBER", r"\1 = NUMBER", message)
    message = re.sub(r"--set (\w+)=(\S+)", r"\1 = \2", message)
    message = message.replace("given by --set", "given a number")
    return message.replace("names given with --set", "names given a number (a = 2)")


def _error(message: str, line: int | None = None, column: int | None = None) -> str:
    return _json({"ok": False, "error": {"message": message, "line": line, "column": column}})


def _overflow(root: Value, program: _Program) -> str | None:
    """A value that became inf or nan (float arithmetic does not raise): say which, and where."""
    for node in topological_order(root, _children):
        if math.isfinite(node.data):
            continue
        name = node.label or "a value"
        text = f"{name} = {node.data}: the result is too large for a float (overflow)"
        where = _find(program.source, node.label) if node.label else None
        if where:
            return _error(f"{_at(where, program.source)}: {text}", *where)
        return _error(text)
    return None


def _find(source: str, text: str) -> tuple[int, int] | None:
    for i, line in enumerate(source.split("\n"), 1):
        column = line.find(text)
        if column >= 0:
            return i, column + 1
    return None


def expression(source: str) -> str:
    """Evaluate the page's program, backpropagate, and return the picture and the frames."""
    if len(source) > MAX_PROGRAM_CHARS:
        return _error(
            f"the program is {len(source)} characters long; the limit is {MAX_PROGRAM_CHARS}"
        )
    try:
        program = _Program(source)
    except ProgramError as err:
        return _error(_words(str(err)), *_position_of(str(err)))
    if program.values and not program.program.strip():
        names = ", ".join(program.values)
        return _error(
            f"{names}: only numbers are given; write what to compute from them, "
            f"e.g. L = {next(iter(program.values))}*2"
        )
    try:
        root = evaluate_program(program.program, program.values)
    except ProgramError as err:
        text, line, column = program.where(str(err))
        return _error(_words(text), line, column)
    problem = _overflow(root, program)
    if problem:
        return problem
    size = graph_size(root)
    if size > MAX_NODES:
        return _error(
            f"the graph has {size} values, more than the {MAX_NODES} a picture can show "
            "readably (the draw_dot limit); draw a part of it (a smaller expression), "
            "or for a network's point use fewer hidden neurons"
        )
    return _json({"ok": True, **_pictures(root, size)})


def _position_of(message: str) -> tuple[int | None, int | None]:
    match = _POSITION.search(message)
    if not match:
        return None, None
    return int(match.group(1) or 1), int(match.group(2))


def _pictures(root: Value, size: int) -> dict[str, Any]:
    """`animation_data(root)` for the page's player (it runs the backward pass, as `explain`
    does), with the output and every gradient by the narration's names (a constant, which the
    narration writes as its number, has no entry, as in `explain(root).grads`)."""
    animation = animation_data(root, max_nodes=MAX_NODES)
    narration = explain(root, backward=False)  # the gradients are in .grad already
    return {
        "title": animation["title"],
        "output": {"name": narration.root, "data": root.data},
        "grads": narration.grads,
        "size": size,
        "dot": animation["dot"],
        "animation": animation,
    }


# -- the Neuron tab ------------------------------------------------------------------------------

NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n)"


def neuron(x1: float, x2: float, w1: float, w2: float, b: float) -> str:
    """The lecture's neuron o = tanh(x1*w1 + x2*w2 + b) at these numbers, after backward."""
    values = {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}
    root = evaluate_program(NEURON, {k: float(v) for k, v in values.items()})
    root.backward()
    nodes = {
        node.label: {"data": node.data, "grad": node.grad}
        for node in topological_order(root, _children)
    }
    return _json({"ok": True, "dot": draw_dot(root).source, "nodes": nodes, "output": root.data})


# -- the Train tab -------------------------------------------------------------------------------

make_dataset = inputs.draw  # the points of each data set, in its own units


DEFAULTS: dict[str, Any] = {
    "dataset": "moons",
    "n": 200,
    "noise": 0.1,
    "train": 0.75,
    "layers": [4, 2],
    "activation": "tanh",
    "lr": 1.0,
    "l2": 0.0,
    "batch": 0,  # 0: the whole training set
    "loss": "auto",
    "seed": 2,
    "features": ["x1", "x2"],
}


def _config(raw: dict[str, Any]) -> dict[str, Any]:
    """The page's settings, checked and clamped; anything unusable becomes the default."""
    c = dict(DEFAULTS)
    c.update({k: v for k, v in raw.items() if k in DEFAULTS and v is not None})
    if c["dataset"] not in DATASETS:
        c["dataset"] = DEFAULTS["dataset"]
    c["n"] = int(min(max(int(c["n"]), 20), 1000))
    c["noise"] = float(min(max(float(c["noise"]), 0.0), 1.0))
    c["train"] = float(min(max(float(c["train"]), 0.1), 0.9))
    layers = [int(w) for w in c["layers"]][:MAX_LAYERS]
    c["layers"] = [min(max(w, 1), MAX_WIDTH) for w in layers]
    if c["activation"] not in ACTIVATIONS:
        c["activation"] = DEFAULTS["activation"]
    c["lr"] = float(min(max(float(c["lr"]), 1e-5), 10.0))
    c["l2"] = float(min(max(float(c["l2"]), 0.0), 1.0))
    c["batch"] = max(int(c["batch"]), 0)
    c["seed"] = max(int(c["seed"]), 0)
    chosen = set(c["features"]) if isinstance(c["features"], list) else set()
    c["features"] = [name for name in inputs.FEATURES if name in chosen] or DEFAULTS["features"]
    classes = CLASSES[c["dataset"]]
    if c["loss"] not in LOSSES or (classes > 2 and not LOSSES[c["loss"]].per_class):
        c["loss"] = "cross_entropy" if classes > 2 else "hinge"
    c["classes"] = classes
    return c


class Session:
    """One training run of the Train tab: the data, the model, the optimizer, the curves.

    The points come from a recipe (`chainrule.learn.inputs`): the data set drawn, scaled onto
    the plane, split, with the points the learner adds; the network sees the recipe's
    features of each point (`self.F`). The same recipe goes into an exported model file, so
    `chainrule eval` rebuilds exactly these points.
    """

    def __init__(self, raw: dict[str, Any]) -> None:
        c = self.config = _config(raw)
        X, _ = inputs.draw(c["dataset"], c["n"], c["noise"], c["seed"])
        self.recipe: dict[str, Any] = {
            "dataset": c["dataset"],
            "samples": c["n"],
            "noise": c["noise"],
            "seed": c["seed"],
            "test_fraction": 1 - c["train"],
            "scaling": inputs.fit_scaling(X),
            "features": list(c["features"]),
            "added": [],
        }
        self.X, self.X_test, self.y, self.y_test = inputs.plane_points(self.recipe)
        self.F = inputs.features(self.X, c["features"])
        self.F_test = inputs.features(self.X_test, c["features"])
        self.outputs = outputs_needed(c["loss"], c["classes"])
        self.model = nn.MLP(
            len(c["features"]),
            [*c["layers"], self.outputs],
            activation=None if c["activation"] == "linear" else c["activation"],
            output_activation=None,
            seed=c["seed"],
        )
        self.optimizer = optim.SGD(self.model.parameters(), lr=c["lr"])
        self.steps = 0
        self.curves: dict[str, list] = {
            "step": [],
            "train_loss": [],
            "test_loss": [],
            "train_accuracy": [],
            "test_accuracy": [],
        }
        self.seconds = 0.0
        self.losses: list[float] = []  # every step's training loss, over every chunk
        self.advice: dict[str, Any] | None = None  # what the whole run says about itself
        self.grads: list | None = None  # d(training loss)/d(each weight), at self.grads_step
        self.grads_step = -1
        self.focus = ("train", 0)  # the point whose graph the Expression tab shows

    # -- training

    def step(self, count: int) -> None:
        """`count` more steps of `fit`, then the run judged as a whole. A run that diverged
        (its weights are inf or nan) takes no more steps: only a new run can go on."""
        if count < 1 or self.diverged:
            return
        c = self.config
        batch = c["batch"] if 0 < c["batch"] < len(self.F) else None
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():  # each chunk is a slice of one run: the page
                warnings.simplefilter("ignore", TrainingWarning)  # judges the whole run below
                history = fit(
                    self.model,
                    self.F,
                    self.y,
                    loss=c["loss"],
                    optimizer=self.optimizer,
                    l2=c["l2"],
                    steps=count,
                    batch_size=batch,
                    progress=False,
                    seed=self.steps,
                )
        except TrainingDiverged as err:
            self.seconds += time.perf_counter() - t0
            self._blew_up(str(err), count)
            return
        self.seconds += time.perf_counter() - t0
        self.steps += count
        self.losses.extend(history.loss)
        self.judge(history.final_train_accuracy)

    @property
    def diverged(self) -> bool:
        return bool(self.advice and self.advice["kind"] == "diverged")

    def judge(self, accuracy: float | None) -> None:
        """The whole run so far, judged by `chainrule.learn.advice.diagnose` (what `fit` says
        of one call), and said in the page's words; None when nothing is wrong (any more)."""
        c = self.config
        found = diagnose(
            self.losses,
            accuracy,
            Task(c["loss"], self.y, self.outputs).classes(self.y),
            lr=c["lr"],
            default_lr=DEFAULTS["lr"],
            optimizer=None,  # the page has one optimizer: never advise another
            batch_size=c["batch"] if 0 < c["batch"] < len(self.F) else len(self.F),
            samples=len(self.F),
            relu=c["activation"] == "relu",
        )
        self.advice = _page_advice(found[0], self) if found else None

    def _blew_up(self, message: str, count: int) -> None:
        """fit stopped: the loss became inf or nan. Say where, and offer smaller steps."""
        match = re.search(r"became (\S+) at step (\d+)", message)
        value, at = (match.group(1), int(match.group(2))) if match else ("inf", count - 1)
        lr = self.config["lr"]
        word = "not a number (nan)" if value == "nan" else "infinite"
        self.steps += at + 1
        self.advice = {
            "kind": "diverged",
            "text": (
                f"Training diverged at step {self.steps}: the loss became {word}. The learning "
                f"rate {lr:g} makes each step too large, and the weights are lost."
            ),
            "tries": [t for t in [_lr_try(lr, lr / 10)] if t],
        }

    # -- measuring

    def _measure(
        self, F: list, y: list, gradients: bool = False
    ) -> tuple[float | None, float | None]:
        """Loss and accuracy on these points; with `gradients`, also d(training loss)/d(w)
        for every weight, kept in self.grads (the loss as fit trains it: with the L2 term)."""
        if not F:
            return None, None
        c = self.config
        task = Task(c["loss"], self.y, self.outputs)
        with contextlib.nullcontext() if gradients else no_grad():
            outputs = [self.model(row) for row in F]
            loss = compute_loss(c["loss"], outputs, task.targets(y))
            hits = 0
            for out, cls in zip(outputs, task.classes(y)):
                hits += _predicted(out, task.threshold) == cls
        if gradients:
            params = self.model.parameters()
            total = loss + c["l2"] * sum((p * p for p in params), Value(0.0)) if c["l2"] else loss
            for p in params:
                p.grad = 0.0
            total.backward()
            self.grads = [
                [{"w": [w.grad for w in unit.w], "b": unit.b.grad} for unit in layer.neurons]
                for layer in self.model.layers
            ]
            self.grads_step = self.steps
            for p in params:
                p.grad = 0.0
        return float(loss.data), hits / len(y)

    def record(self) -> None:
        if self.curves["step"] and self.curves["step"][-1] == self.steps:
            return
        train_loss, train_acc = self._measure(self.F, self.y, gradients=True)
        test_loss, test_acc = self._measure(self.F_test, self.y_test)
        for key, value in (
            ("step", self.steps),
            ("train_loss", train_loss),
            ("test_loss", test_loss),
            ("train_accuracy", train_acc),
            ("test_accuracy", test_acc),
        ):
            self.curves[key].append(value)

    def weights(self) -> list:
        """Every layer's neurons: their weights (one per input) and bias."""
        return [
            [{"w": [w.data for w in unit.w], "b": unit.b.data} for unit in layer.neurons]
            for layer in self.model.layers
        ]

    def picture(self) -> dict[str, Any]:
        """Scores over the plane (the boundary), every hidden neuron's output there, and every
        input feature's value there."""
        ticks = [-SPAN + 2 * SPAN * (i + 0.5) / GRID for i in range(GRID)]
        widths = self.config["layers"]
        names = self.config["features"]
        neuron_maps: list[list[list[float]]] = [[[] for _ in range(w)] for w in widths]
        feature_maps: dict[str, list[float]] = {name: [] for name in inputs.FEATURES}
        scores: list[Any] = []
        step = GRID // NEURON_GRID
        with no_grad():
            for j, gy in enumerate(reversed(ticks)):  # top row first, as an image is stored
                for i, gx in enumerate(ticks):
                    sampled = i % step == 0 and j % step == 0
                    if sampled:
                        everything = inputs.features([[gx, gy]], list(inputs.FEATURES))[0]
                        for name, value in zip(inputs.FEATURES, everything):
                            feature_maps[name].append(round(value, 3))
                    x: Any = inputs.features([[gx, gy]], names)[0]
                    for k, layer in enumerate(self.model.layers):
                        x = layer(x)
                        if k < len(widths) and sampled:
                            outs = x if isinstance(x, list) else [x]
                            for m, node in enumerate(outs):
                                neuron_maps[k][m].append(round(node.data, 3))
                    outs = x if isinstance(x, list) else [x]
                    if len(outs) == 1:
                        scores.append(round(outs[0].data, 4))
                    else:
                        scores.append([round(o.data, 4) for o in outs])
        return {
            "span": SPAN,
            "grid": GRID,
            "scores": scores,
            "neurons": neuron_maps,
            "features": feature_maps,
            "neuron_grid": NEURON_GRID,
        }

    def state(self, picture: bool) -> dict[str, Any]:
        """Where the run is. The curves (and the weights' gradients) get a point with each
        picture (measuring the whole sets costs a forward pass over them, so not after every
        step), and at step 0. The weights come every time: the network's edges follow them."""
        if picture or not self.curves["step"]:
            self.record()
        task = Task(self.config["loss"], self.y, self.outputs)
        out: dict[str, Any] = {
            "ok": True,
            "config": {k: v for k, v in self.config.items()},
            "steps": self.steps,
            "seconds": self.seconds,
            "threshold": task.threshold,
            "curves": self.curves,
            "train": {"X": _rounded(self.X), "y": self.y},
            "test": {"X": _rounded(self.X_test), "y": self.y_test},
            "parameters": len(self.model.parameters()),
            "advice": self.advice,
            "network": {
                "weights": self.weights(),
                "grads": self.grads,
                "grads_step": self.grads_step,
            },
        }
        if picture:
            out["picture"] = self.picture()
        return out

    # -- programs for the Expression tab

    def _program(self, x: list[float], upto: int, only: int | None) -> tuple[list[str], list[str]]:
        """The lines that compute the network at the plane point `x`, layer by layer, up to
        layer `upto` (1-based, the output layer last); in that layer only neuron `only` (a
        1-based index) where given. Returns the lines and the last layer's names."""
        names = list(self.config["features"])
        needs = {base for name in names for base in ("x1", "x2") if base in _formula(name)}
        leaves = [f"{base} = {x[i]!r}" for i, base in enumerate(("x1", "x2")) if base in needs]
        lines = ["; ".join(leaves)]
        lines += [f"{name} = {_formula(name)}" for name in names if name not in ("x1", "x2")]
        layers = self.model.layers[:upto]
        for k, layer in enumerate(layers, 1):
            last = k == len(self.model.layers)
            act = None if last else self.config["activation"]
            outs = []
            for m, unit in enumerate(layer.neurons, 1):
                if k == upto and only is not None and m != only:
                    continue
                weights = [f"w{k}_{m}_{i} = {w.data!r}" for i, w in enumerate(unit.w, 1)]
                lines.append("; ".join([*weights, f"b{k}_{m} = {unit.b.data!r}"]))
                terms = " + ".join(f"w{k}_{m}_{i}*{n}" for i, n in enumerate(names, 1))
                total = f"{terms} + b{k}_{m}"
                name = _unit_name(k, m, last, len(layer.neurons))
                if act is None or act == "linear":
                    lines.append(f"{name} = {total}")
                else:
                    lines.append(f"{name} = {act}({total})")
                outs.append(name)
            names = outs
        return lines, names

    def _point(self, which: str, index: int) -> tuple[list[float], int]:
        X, y = (self.X, self.y) if which == "train" else (self.X_test, self.y_test)
        if not 0 <= index < len(X):
            raise IndexError(f"no {which} point {index}")
        return X[index], y[index]

    def point_program(self, which: str, index: int) -> str:
        """A program in the expression language that computes this point's loss with the
        network's current weights: its forward and backward graph, for the Expression tab."""
        x, label = self._point(which, index)
        self.focus = (which, index)
        lines, outs = self._program(x, len(self.model.layers), None)
        lines.append(_loss_line(self.config["loss"], outs, label, self.y))
        return "\n".join(lines)

    def neuron_program(self, layer: int, index: int) -> str:
        """A program that computes one neuron's output (layer and index 1-based, the output
        layer last) at the point last opened (else the first training point), from the
        inputs through every neuron that feeds it: its forward and backward pass."""
        if not 1 <= layer <= len(self.model.layers):
            raise IndexError(f"no layer {layer}")
        if not 1 <= index <= len(self.model.layers[layer - 1].neurons):
            raise IndexError(f"no neuron {index} in layer {layer}")
        which, at = self.focus
        x, _ = self._point(which, at)
        lines, (name,) = self._program(x, layer, index)
        where = "training" if which == "train" else "test"
        head = f"# {name}: layer {layer}, neuron {index}, at {where} point {at + 1}"
        return "\n".join([head, *lines])


def _formula(feature: str) -> str:
    return inputs.FEATURES[feature][0]


def _unit_name(k: int, m: int, last: bool, width: int) -> str:
    if last:
        return "out" if width == 1 else f"out{m}"
    return f"h{k}_{m}"


def _loss_line(loss: str, outs: list[str], label: int, y: list) -> str:
    """The loss of one point, written as chainrule.learn.losses computes it for a batch of one."""
    if loss == "cross_entropy":
        total = " + ".join(f"exp({o})" for o in outs)
        return f"L = log({total}) - {outs[label]}"
    task = Task(loss, y, 1)
    (target,) = task.targets([label])
    (o,) = outs
    if loss == "hinge":
        return f"L = relu(1 - {target!r}*{o})"
    if loss == "bce":
        return f"L = log(1 + exp({o})) - {float(target)!r}*{o}"
    return f"L = ({o} - {float(target)!r})**2"


# -- advice, in the page's words ---------------------------------------------------------------


def _nearest(value: float, choices: tuple[float, ...]) -> float:
    """The page's choice nearest to `value` (by ratio: 0.05 is nearer 0.03 than 0.1)."""
    return min(choices, key=lambda c: abs(math.log(c / value)))


def _lr_try(current: float, wanted: float) -> dict[str, Any] | None:
    lr = _nearest(wanted, LEARNING_RATES)
    if lr == current:
        return None
    verb = "raise" if lr > current else "lower"
    return {"text": f"{verb} the learning rate to {lr:g}", "set": {"lr": f"{lr:g}"}}


def _page_try(settings: dict[str, Any], session: Session) -> dict[str, Any] | None:
    """One of `diagnose`'s tries (keyword arguments of fit) as the page's own control."""
    if "lr" in settings and len(settings) == 1:
        return _lr_try(session.config["lr"], settings["lr"])
    if "activation" in settings:
        value = settings["activation"]
        return {"text": f"switch the activation to {value}", "set": {"activation": value}}
    if "batch_size" in settings:
        size = int(_nearest(settings["batch_size"], BATCH_SIZES))
        return {"text": f"set the batch size to {size}", "set": {"batch": str(size)}}
    if "steps" in settings:
        return {"text": f"keep training, to step {settings['steps']}", "set": None}
    return None  # another optimizer: the page has only SGD


def _page_advice(advice: Any, session: Session) -> dict[str, Any]:
    """`diagnose`'s advice for the page: what happened, in plain words, and the page's
    controls to change (each one a button there)."""
    lr = session.config["lr"]
    if advice.kind == "diverged":
        start, end = session.losses[0], session.losses[-1]
        return {
            "kind": "diverged",
            "text": (
                f"Training diverged: the loss grew from {start:.3g} to {end:.3g} in "
                f"{session.steps} steps. The learning rate {lr:g} makes each step too large."
            ),
            "tries": [t for t in [_lr_try(lr, lr / 10)] if t],
        }
    detail = advice.message.split(": ", 1)[-1]
    tries = [t for t in (_page_try(s, session) for s in advice.tries) if t]
    return {
        "kind": advice.kind,
        "text": f"After {session.steps} steps the network has learned nothing: {detail}.",
        "tries": tries,
    }


def _predicted(out: Any, threshold: float) -> int:
    if isinstance(out, list):
        scores = [o.data for o in out]
        return scores.index(max(scores))
    return int(out.data > threshold)


def _rounded(X: list) -> list:
    return [[round(a, 4), round(b, 4)] for a, b in X]


_session: Session | None = None


def _current() -> Session:
    global _session
    if _session is None:
        _session = Session({})
    return _session


def train_new(config_json: str) -> str:
    """Start a new run with these settings (JSON); returns the state with a picture."""
    global _session
    _session = Session(json.loads(config_json))
    return _json(_session.state(picture=True))


def train_step(count: int, picture: bool = True) -> str:
    """Train `count` more steps; returns the state (with the boundary picture if asked)."""
    session = _current()
    try:
        session.step(int(count))
    except (FloatingPointError, OverflowError, ValueError) as err:
        return _json({"ok": False, "error": {"message": str(err)}, "steps": session.steps})
    return _json(session.state(picture=bool(picture)))


def train_add_point(x: float, y: float, label: int) -> str:
    """A point the user clicked, added to the training set; returns the state."""
    session = _current()
    label = int(label)
    if not 0 <= label < session.config["classes"]:
        return _json({"ok": False, "error": {"message": f"no class {label} in this data set"}})
    point = [float(x), float(y)]
    session.recipe["added"].append([*point, label])  # an exported model keeps it too
    session.X.append(point)
    session.y.append(label)
    session.F.extend(inputs.features([point], session.config["features"]))
    curves = session.curves
    if curves["step"] and curves["step"][-1] == session.steps:  # measured on the old set:
        for values in curves.values():  # measure this step again, with the new point
            values.pop()
    return _json(session.state(picture=True))


def train_point_program(which: str, index: int) -> str:
    """The program of one point's forward and backward pass, for the Expression tab."""
    session = _current()
    return _json({"ok": True, "program": session.point_program(which, int(index))})


def train_neuron_program(layer: int, index: int) -> str:
    """The program of one neuron's forward and backward pass, for the Expression tab."""
    session = _current()
    try:
        program = session.neuron_program(int(layer), int(index))
    except IndexError as err:
        return _error(str(err))
    return _json({"ok": True, "program": program})


def train_export() -> str:
    """The trained model as a chainrule model file, and a script that loads it, scores it on
    the page's own points and predicts. The file records the inputs (`chainrule.learn.inputs`:
    data set, noise, seed, split, scaling, features, added points), so `chainrule eval
    model.json` scores exactly the points the page did and reports the page's accuracy."""
    from chainrule import io

    session = _current()
    session.record()  # the numbers the page shows, at this very step
    c = session.config
    curves = session.curves
    task = Task(c["loss"], session.y, session.outputs)
    metadata = {
        "made_by": "chainrule playground",
        "dataset": c["dataset"],
        "inputs": session.recipe,
        "loss": c["loss"],
        "threshold": task.threshold,
        "classes": c["classes"],
        "steps": session.steps,
        "train_accuracy": curves["train_accuracy"][-1],
        "test_accuracy": curves["test_accuracy"][-1],
        "train_loss": curves["train_loss"][-1],
        "test_loss": curves["test_loss"][-1],
        "settings": {k: c[k] for k in ("layers", "activation", "lr", "l2", "batch")},
    }
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "model.json")
    try:
        io.save(session.model, path, metadata=metadata)
    except ValueError as err:  # weights that are not numbers: a run that diverged
        return _error(f"this run diverged, so there is no model to export ({err})")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return _json(
        {
            "ok": True,
            "model": text,
            "script": PREDICT_SCRIPT,
            "steps": session.steps,
            "train_accuracy": metadata["train_accuracy"],
            "test_accuracy": metadata["test_accuracy"],
        }
    )


PREDICT_SCRIPT = '''"""The model trained in the chainrule playground: scored on the page's own
points (the same accuracy as the page showed), then used on points of your own."""

from chainrule.learn import evaluate, inputs, io, predict

model = io.load("model.json")
meta = io.read_metadata("model.json")
recipe = meta["inputs"]  # the data set, noise, seed, split, scaling and input features
print(model)
print(inputs.describe(recipe))

points = inputs.rebuild(recipe)  # the very points the page trained and tested on
for name, X, y in (("train", points.X, points.y), ("held-out", points.X_test, points.y_test)):
    loss, accuracy = evaluate(model, X, y, loss=meta["loss"])
    score = f"accuracy {100 * accuracy:.1f}%, {meta['loss']} loss {loss:.4g}"
    print(f"{name:9}  {score} ({len(X)} points)")

# Points of your own, in the data set's own units: scaled onto the page's plane and turned into
# the same input features before the network sees them.
mine = [[0.0, 0.5], [1.0, -0.5]]
classes = predict(model, inputs.network_inputs(recipe, mine), threshold=meta["threshold"])
for point, cls in zip(mine, classes):
    print(point, "-> class", cls)
'''


def benchmark(steps: int = 100) -> str:
    """micrograd's moons loop (2-16-16-1, relu, hinge, full batch of 100): training steps per
    second of this Python, the figure compared between the browser and native CPython."""
    X, y = make_dataset("moons", 100, 0.1, 1)
    model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation=None, seed=1)
    t0 = time.perf_counter()
    history = fit(model, X, y, loss="hinge", lr=0.1, steps=int(steps), progress=False)
    seconds = time.perf_counter() - t0
    return _json(
        {
            "steps": int(steps),
            "seconds": seconds,
            "steps_per_s": int(steps) / seconds,
            "accuracy": history.final_train_accuracy,
            "python": sys.version.split()[0],
        }
    )
