"""The playground's Python: what the page asks chainrule, in the browser (Pyodide, in a Web Worker).

Every function takes plain numbers and strings and returns a JSON string, so nothing but text
crosses between Python and JavaScript. The work is chainrule's own: expressions are read by the
safe parser of `chainrule graph` (`chainrule.cli.expressions.evaluate_program`; user text is
never evaluated), the Expression tab's picture and frames are `chainrule.animate`'s
(`animation_data`: draw_dot's look, explain's narration, played by the package's own player),
the Neuron tab's picture is `draw_dot`'s, and training is `chainrule.learn.fit` on a
`chainrule.nn.MLP`. This module only translates.

The build (web/build.mjs) zips this file with the `chainrule/` package of the repository; the
tests (tests/test_playground_python.py) import it with the native CPython as well.
"""

from __future__ import annotations

import ast
import inspect
import json
import math
import os
import random
import re
import sys
import tempfile
import time
import warnings
from typing import Any

import chainrule
from chainrule import data as datasets
from chainrule import nn, optim
from chainrule.autograd import no_grad, topological_order
from chainrule.cli.expressions import (
    FUNCTIONS,
    MAX_PROGRAM_CHARS,
    ProgramError,
    evaluate_program,
)
from chainrule.learn import fit
from chainrule.learn.losses import LOSSES
from chainrule.learn.tasks import Task, compute_loss, outputs_needed
from chainrule.value import Value, _children
from chainrule.viz.animate import animation_data
from chainrule.viz.dot import draw_dot, graph_size
from chainrule.viz.narration import explain

__all__ = [
    "boot",
    "expression",
    "neuron",
    "train_new",
    "train_step",
    "train_add_point",
    "train_point_program",
    "train_export",
    "benchmark",
]

# The draw_dot limit: graphs with more values than this are refused, as draw_dot refuses them.
MAX_NODES: int = inspect.signature(draw_dot).parameters["max_nodes"].default

DATASETS = ("moons", "circles", "xor", "spirals", "blobs")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
TWO_CLASS_LOSSES = ("hinge", "bce", "mse")
MAX_LAYERS, MAX_WIDTH = 6, 16
GRID = 24  # the decision-boundary picture: GRID x GRID scores over the plane
NEURON_GRID = 12  # each hidden neuron's little heatmap


def _json(obj: Any) -> str:
    return json.dumps(obj, allow_nan=False, separators=(",", ":"))


def boot() -> str:
    """What the page shows about the Python it talks to."""
    return _json(
        {
            "chainrule": chainrule.__version__,
            "python": sys.version.split()[0],
            "max_nodes": MAX_NODES,
            "functions": list(FUNCTIONS),
            "datasets": list(DATASETS),
            "activations": list(ACTIVATIONS),
            "losses": list(LOSSES),
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


def _moons(n: int, noise: float, rng: random.Random) -> tuple[list, list]:
    """scikit-learn's make_moons, for a Python without scikit-learn (Pyodide)."""
    outer, inner = n // 2, n - n // 2
    X, y = [], []
    for i in range(outer):
        t = math.pi * i / max(outer - 1, 1)
        X.append([math.cos(t), math.sin(t)])
        y.append(0)
    for i in range(inner):
        t = math.pi * i / max(inner - 1, 1)
        X.append([1 - math.cos(t), 1 - math.sin(t) - 0.5])
        y.append(1)
    return _noisy(X, noise, rng), y


def _circles(n: int, noise: float, rng: random.Random, factor: float = 0.5) -> tuple[list, list]:
    """scikit-learn's make_circles (the inner circle is class 1)."""
    outer, inner = n // 2, n - n // 2
    X, y = [], []
    for count, radius, label in ((outer, 1.0, 0), (inner, factor, 1)):
        for i in range(count):
            t = 2 * math.pi * i / count
            X.append([radius * math.cos(t), radius * math.sin(t)])
            y.append(label)
    return _noisy(X, noise, rng), y


def _blobs(n: int, noise: float, rng: random.Random, centers: int = 3) -> tuple[list, list]:
    """Three round clusters, one class each, spread by `noise`."""
    X, y = [], []
    spread = 0.15 + noise
    for i in range(n):
        k = i % centers
        angle = 2 * math.pi * k / centers + 0.5
        X.append([math.cos(angle) + rng.gauss(0, spread), math.sin(angle) + rng.gauss(0, spread)])
        y.append(k)
    return X, y


def _noisy(X: list, noise: float, rng: random.Random) -> list:
    return [[a + rng.gauss(0, noise), b + rng.gauss(0, noise)] for a, b in X]


def make_dataset(name: str, n: int, noise: float, seed: int) -> tuple[list, list]:
    """chainrule.learn.data's set of that name; moons, circles and blobs are drawn here when
    scikit-learn (their generator in chainrule.learn.data) is not installed, as in the browser."""
    if name in ("xor", "spirals"):
        return datasets.load(name, n=n, noise=noise, seed=seed)
    rng = random.Random(seed)
    return {"moons": _moons, "circles": _circles, "blobs": _blobs}[name](n, noise, rng)


def _standardized(X: list) -> list:
    """Centred and scaled so the largest coordinate is 1: every set fills the same plane."""
    mx = sum(p[0] for p in X) / len(X)
    my = sum(p[1] for p in X) / len(X)
    scale = max(max(abs(p[0] - mx), abs(p[1] - my)) for p in X) or 1.0
    return [[(p[0] - mx) / scale, (p[1] - my) / scale] for p in X]


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
    classes = 3 if c["dataset"] == "blobs" else 2
    if c["loss"] not in LOSSES or (classes > 2 and c["loss"] in TWO_CLASS_LOSSES):
        c["loss"] = "cross_entropy" if classes > 2 else "hinge"
    c["classes"] = classes
    return c


class Session:
    """One training run of the Train tab: the data, the model, the optimizer, the curves."""

    def __init__(self, raw: dict[str, Any]) -> None:
        c = self.config = _config(raw)
        X, y = make_dataset(c["dataset"], c["n"], c["noise"], c["seed"])
        X = _standardized(X)
        self.X, self.X_test, self.y, self.y_test = datasets.train_test_split(
            X, y, 1 - c["train"], seed=c["seed"]
        )
        self.outputs = outputs_needed(c["loss"], c["classes"])
        self.model = nn.MLP(
            2,
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
        self.warning: str | None = None  # what fit warned about last (a diverging run, ...)

    def step(self, count: int) -> None:
        if count < 1:
            return
        c = self.config
        batch = c["batch"] if 0 < c["batch"] < len(self.X) else None
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:  # fit's advice, shown on the page
            warnings.simplefilter("always")
            fit(
                self.model,
                self.X,
                self.y,
                loss=c["loss"],
                optimizer=self.optimizer,
                l2=c["l2"],
                steps=count,
                batch_size=batch,
                progress=False,
                seed=self.steps,
            )
        self.seconds += time.perf_counter() - t0
        self.steps += count
        if caught:
            self.warning = str(caught[-1].message)

    def _measure(self, X: list, y: list) -> tuple[float | None, float | None]:
        if not X:
            return None, None
        task = Task(self.config["loss"], self.y, self.outputs)
        with no_grad():
            outputs = [self.model(row) for row in X]
            loss = compute_loss(self.config["loss"], outputs, task.targets(y))
            classes = task.classes(y)
            hits = 0
            for out, cls in zip(outputs, classes):
                hits += _predicted(out, task.threshold) == cls
        return float(loss.data), hits / len(classes)

    def record(self) -> None:
        if self.curves["step"] and self.curves["step"][-1] == self.steps:
            return
        train_loss, train_acc = self._measure(self.X, self.y)
        test_loss, test_acc = self._measure(self.X_test, self.y_test)
        for key, value in (
            ("step", self.steps),
            ("train_loss", train_loss),
            ("test_loss", test_loss),
            ("train_accuracy", train_acc),
            ("test_accuracy", test_acc),
        ):
            self.curves[key].append(value)

    def picture(self) -> dict[str, Any]:
        """Scores over the plane (the boundary) and every hidden neuron's output there."""
        span = 1.3
        ticks = [-span + 2 * span * (i + 0.5) / GRID for i in range(GRID)]
        widths = self.config["layers"]
        neuron_maps = [[[] for _ in range(w)] for w in widths]
        scores: list[Any] = []
        step = GRID // NEURON_GRID
        with no_grad():
            for j, gy in enumerate(reversed(ticks)):  # top row first, as an image is stored
                for i, gx in enumerate(ticks):
                    x: Any = [gx, gy]
                    sampled = i % step == 0 and j % step == 0
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
            "span": span,
            "grid": GRID,
            "scores": scores,
            "neurons": neuron_maps,
            "neuron_grid": NEURON_GRID,
        }

    def state(self, picture: bool) -> dict[str, Any]:
        """Where the run is. The curves get a point with each picture (measuring the whole
        sets costs a forward pass over them, so not after every step), and at step 0."""
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
            "warning": self.warning,
        }
        if picture:
            out["picture"] = self.picture()
        return out

    def point_program(self, which: str, index: int) -> str:
        """A program in the expression language that computes this point's loss with the
        network's current weights: its forward and backward graph, for the Expression tab."""
        X, y = (self.X, self.y) if which == "train" else (self.X_test, self.y_test)
        x, label = X[index], y[index]
        lines = [f"x1 = {x[0]!r}; x2 = {x[1]!r}"]
        names = ["x1", "x2"]
        layers = self.model.layers
        for k, layer in enumerate(layers, 1):
            last = k == len(layers)
            act = None if last else self.config["activation"]
            outs = []
            for m, unit in enumerate(layer.neurons, 1):
                weights = [f"w{k}_{m}_{i} = {w.data!r}" for i, w in enumerate(unit.w, 1)]
                lines.append("; ".join([*weights, f"b{k}_{m} = {unit.b.data!r}"]))
                terms = " + ".join(f"w{k}_{m}_{i}*{n}" for i, n in enumerate(names, 1))
                total = f"{terms} + b{k}_{m}"
                name = ("out" if len(layer.neurons) == 1 else f"out{m}") if last else f"h{k}_{m}"
                if act is None or act == "linear":
                    lines.append(f"{name} = {total}")
                else:
                    lines.append(f"{name} = {act}({total})")
                outs.append(name)
            names = outs
        lines.append(_loss_line(self.config["loss"], names, label, self.y))
        return "\n".join(lines)


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
    session.X.append([float(x), float(y)])
    session.y.append(label)
    curves = session.curves
    if curves["step"] and curves["step"][-1] == session.steps:  # measured on the old set:
        for values in curves.values():  # measure this step again, with the new point
            values.pop()
    return _json(session.state(picture=True))


def train_point_program(which: str, index: int) -> str:
    """The program of one point's forward and backward pass, for the Expression tab."""
    session = _current()
    return _json({"ok": True, "program": session.point_program(which, int(index))})


def train_export() -> str:
    """The trained model as a chainrule model file, and a script that loads it and predicts."""
    from chainrule import io

    session = _current()
    c = session.config
    metadata = {
        "dataset": c["dataset"],
        "steps": session.steps,
        "loss": c["loss"],
        "train_accuracy": session.curves["train_accuracy"][-1] if session.curves["step"] else None,
        "made_by": "chainrule playground",
    }
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "model.json")
    io.save(session.model, path, metadata=metadata)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    task = Task(c["loss"], session.y, session.outputs)
    script = PREDICT_SCRIPT.format(threshold=task.threshold)
    return _json({"ok": True, "model": text, "script": script})


PREDICT_SCRIPT = '''"""Load the model trained in the chainrule playground; classify a few points."""

from chainrule import io
from chainrule.learn import predict

model = io.load("model.json")
print(model)
print(io.read_metadata("model.json"))

# The playground centres each data set and scales it into [-1, 1]: give points on that scale.
points = [[-0.5, 0.5], [0.0, 0.0], [0.5, -0.5]]
for point, cls in zip(points, predict(model, points, threshold={threshold!r})):
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
