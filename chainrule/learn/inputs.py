"""A run's inputs written down as a recipe, so that the very same numbers can be made again.

The browser playground trains on 2-D points it draws itself: a data set (moons, circles, xor,
spirals, blobs) with some noise and a seed, centred and scaled into [-1, 1] (the plane it
shows), split into training and held-out points, with the points the learner clicked in added
to the training set; the network may be fed features of each point (x1², sin x1, ...) rather
than the point itself, as in TensorFlow Playground. A model trained on those inputs is useless
without them: scored on unscaled points it gets another accuracy than the page showed.

So a model exported from the playground keeps the recipe in its file's metadata, under
"inputs":

    {"dataset": "moons", "samples": 200, "noise": 0.1, "seed": 2, "test_fraction": 0.25,
     "scaling": {"center": [0.5, 0.25], "scale": 1.6}, "features": ["x1", "x2"],
     "added": [[0.25, -0.5, 1]]}

and `rebuild(recipe)` makes the points again, bit for bit, with the same functions the page
uses (`draw`, `scale`, `split`, `features`): `chainrule eval model.json` scores exactly the
points the page trained and tested on. `network_inputs(recipe, points)` turns points given in
the data set's own units into what the network takes (`chainrule predict`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import data

__all__ = [
    "DATASETS", "FEATURES", "Points", "check", "describe", "draw", "features", "fit_scaling",
    "network_inputs", "rebuild", "scale", "split",
]  # fmt: skip

# The data sets the playground draws: those of `chainrule.learn.data.DATASETS` that it can draw
# in plain Python on its plane.
DATASETS = tuple(name for name, row in data.DATASETS.items() if row.plane is not None)
MAX_SAMPLES = 1000

Point = Sequence[float]

# The input features of TensorFlow Playground, by the name a model file records: what each one
# is computed from a point (x1, x2) of the plane, and how the playground's programs write it.
FEATURES: dict[str, tuple[str, Callable[[float, float], float]]] = {
    "x1": ("x1", lambda a, b: a),
    "x2": ("x2", lambda a, b: b),
    "x1_sq": ("x1**2", lambda a, b: a * a),
    "x2_sq": ("x2**2", lambda a, b: b * b),
    "x1_x2": ("x1*x2", lambda a, b: a * b),
    "sin_x1": ("sin(x1)", lambda a, b: math.sin(a)),
    "sin_x2": ("sin(x2)", lambda a, b: math.sin(b)),
}


@dataclass
class Points:
    """The points of a recipe: training and held-out, on the network's inputs (the features).

    Attributes:
        X: The training points, as features.
        y: Their classes.
        X_test: The held-out points, as features.
        y_test: Their classes.

    Examples:
        >>> from chainrule.learn.inputs import Points
        >>> Points(X=[[0.5, 0.5]], y=[1], X_test=[], y_test=[]).y
        [1]
    """

    X: list[list[float]]
    y: list[int]
    X_test: list[list[float]]
    y_test: list[int]


# -- the data sets, drawn in plain Python (the browser has no scikit-learn) ------------------


def draw(name: str, n: int, noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    """Draw `n` points of the data set `name`, in its own units, in plain Python.

    Drawn by its `plane` in `chainrule.learn.data.DATASETS`, so that the browser and the
    command line make the same points.

    Args:
        name: One of `DATASETS`.
        n: How many points.
        noise: The standard deviation of the noise.
        seed: The draw.

    Returns:
        `(X, y)`: the points and their classes.

    Raises:
        ValueError: A data set the playground does not draw.

    Examples:
        >>> from chainrule.learn.inputs import draw
        >>> X, y = draw("xor", 4, noise=0.1, seed=0)
        >>> y, [round(v, 3) for v in X[0]]
        ([0, 1, 1, 1], [0.621, 0.553])
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; the playground's are {', '.join(DATASETS)}")
    plane = data.DATASETS[name].plane
    assert plane is not None
    X, y = plane(n=n, noise=noise, seed=seed)
    return X, [int(c) for c in y]


# -- scaling, splitting, features ---------------------------------------------------------------


def fit_scaling(X: Sequence[Point]) -> dict[str, Any]:
    """Find the centre of the points and the scale that puts the farthest coordinate at 1.

    So every data set fills the same plane, [-1, 1] on both axes.

    Args:
        X: The points (x1, x2).

    Returns:
        `{"center": [x, y], "scale": s}`, as a recipe records it.

    Examples:
        >>> from chainrule.learn.inputs import fit_scaling
        >>> fit_scaling([[0.0, 0.0], [2.0, 1.0]])
        {'center': [1.0, 0.5], 'scale': 1.0}
    """
    mx = sum(p[0] for p in X) / len(X)
    my = sum(p[1] for p in X) / len(X)
    size = max(max(abs(p[0] - mx), abs(p[1] - my)) for p in X) or 1.0
    return {"center": [mx, my], "scale": size}


def scale(X: Sequence[Point], scaling: Mapping[str, Any]) -> list[list[float]]:
    """Put the points on the plane: `(x - center) / scale` on each axis.

    Args:
        X: The points, in the data set's units.
        scaling: As `fit_scaling` gives it.

    Returns:
        The points on the plane.

    Examples:
        >>> from chainrule.learn.inputs import scale
        >>> scale([[0.0, 0.0]], {"center": [0.5, 0.25], "scale": 2.0})
        [[-0.25, -0.125]]
    """
    (mx, my), size = scaling["center"], scaling["scale"]
    return [[(p[0] - mx) / size, (p[1] - my) / size] for p in X]


def split(X: list, y: list, test_fraction: float, seed: int) -> tuple[list, list, list, list]:
    """Split as `chainrule.learn.data.train_test_split` does: X_train, X_test, y_train, y_test.

    Args:
        X: The points.
        y: Their classes.
        test_fraction: The share held out.
        seed: The shuffle.

    Returns:
        `X_train, X_test, y_train, y_test`.

    Examples:
        >>> from chainrule.learn.inputs import split
        >>> split([[0], [1], [2], [3]], [0, 1, 0, 1], 0.25, seed=0)
        ([[0], [1], [3]], [[2]], [0, 1, 1], [0])
    """
    return data.train_test_split(X, y, test_fraction, seed=seed)


def features(X: Sequence[Point], names: Sequence[str]) -> list[list[float]]:
    """Turn each point (x1, x2) of the plane into the named features, in order.

    Args:
        X: The points on the plane.
        names: Names of `FEATURES` (`x1`, `x1_sq`, `sin_x2`, ...).

    Returns:
        One row of features per point: what the network sees.

    Raises:
        ValueError: An unknown feature.

    Examples:
        >>> from chainrule.learn.inputs import features
        >>> features([[0.5, -1.0]], ["x1", "x2", "x1_sq", "x1_x2"])
        [[0.5, -1.0, 0.25, -0.5]]
    """
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0]!r}; the features are {', '.join(FEATURES)}")
    functions = [FEATURES[name][1] for name in names]
    return [[f(p[0], p[1]) for f in functions] for p in X]


# -- the recipe -------------------------------------------------------------------------------


def check(recipe: Any) -> dict[str, Any]:
    """Check a recipe: every key present, of the right kind and in range.

    Args:
        recipe: What a model file's metadata holds under "inputs".

    Returns:
        The recipe, as a new dict ("added" defaults to none).

    Raises:
        ValueError: Names the first key that is wrong (a model file edited by hand, or from
            another version).

    Examples:
        >>> from chainrule.learn.inputs import check
        >>> check({"dataset": "moons", "samples": 20, "noise": -1})
        Traceback (most recent call last):
        ...
        ValueError: inputs 'noise' must be a number in [0, 1], got -1
    """
    if not isinstance(recipe, Mapping):
        raise ValueError(f"the inputs must be a JSON object, got {type(recipe).__name__}")
    r = dict(recipe)

    def need(key: str, ok: Callable[[Any], bool], what: str) -> Any:
        if key not in r:
            raise ValueError(f"the inputs have no {key!r}")
        if not ok(r[key]):
            shown = repr(r[key])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise ValueError(f"inputs {key!r} must be {what}, got {shown}")
        return r[key]

    need("dataset", lambda v: v in DATASETS, f"one of {', '.join(DATASETS)}")
    need("samples", lambda v: type(v) is int and 2 <= v <= MAX_SAMPLES, f"2..{MAX_SAMPLES}")
    need("noise", lambda v: _number(v) and 0 <= v <= 1, "a number in [0, 1]")
    need("seed", lambda v: type(v) is int and v >= 0, "an integer >= 0")
    need("test_fraction", lambda v: _number(v) and 0 < v < 1, "a number in (0, 1)")
    need("scaling", _is_scaling, 'an object {"center": [x, y], "scale": s > 0}')
    names = need(
        "features",
        lambda v: isinstance(v, list) and bool(v) and all(isinstance(f, str) for f in v),
        "a non-empty list of feature names",
    )
    features([], names)  # an unknown feature is named
    r.setdefault("added", [])
    need(
        "added", lambda v: isinstance(v, list) and all(map(_is_added, v)), "[[x1, x2, class], ...]"
    )
    return r


def _number(v: Any) -> bool:
    """A finite real number (an integer of 400 digits is not one: no float holds it)."""
    return type(v) in (int, float) and abs(v) <= sys.float_info.max


def _is_scaling(v: Any) -> bool:
    center = v.get("center") if isinstance(v, Mapping) else None
    centred = isinstance(center, list) and len(center) == 2 and all(map(_number, center))
    return centred and _number(v.get("scale")) and v["scale"] > 0


def _is_added(p: Any) -> bool:
    """Say whether `p` is an added point: [x1, x2, class] on the plane."""
    on_plane = isinstance(p, list) and len(p) == 3 and _number(p[0]) and _number(p[1])
    return on_plane and type(p[2]) is int and p[2] >= 0


def plane_points(recipe: Mapping[str, Any]) -> tuple[list, list, list, list]:
    """Make the recipe's points on the plane (before the features): X, X_test, y, y_test."""
    X, y = draw(recipe["dataset"], recipe["samples"], recipe["noise"], recipe["seed"])
    X = scale(X, recipe["scaling"])
    X, X_test, y, y_test = split(X, y, recipe["test_fraction"], recipe["seed"])
    for x1, x2, label in recipe.get("added", []):
        X.append([float(x1), float(x2)])
        y.append(label)
    return X, X_test, y, y_test


def rebuild(recipe: Any) -> Points:
    """Make the points a recipe describes again, as the network takes them.

    Drawn, scaled with the recorded scaling, split, with the added points, then turned into
    the features.

    Args:
        recipe: What a model file's metadata holds under "inputs".

    Returns:
        The training and held-out `Points`.

    Raises:
        ValueError: The recipe is not valid (see `check`).

    Examples:
        >>> from chainrule.learn.inputs import rebuild
        >>> recipe = {"dataset": "moons", "samples": 20, "noise": 0.1, "seed": 2,
        ...           "test_fraction": 0.25, "features": ["x1", "x2"], "added": [[0.25, -0.5, 1]],
        ...           "scaling": {"center": [0.5, 0.25], "scale": 1.6}}
        >>> points = rebuild(recipe)
        >>> len(points.X), len(points.X_test), points.y[-1]  # 15 drawn + 1 added, 5 held out
        (16, 5, 1)
    """
    r = check(recipe)
    X, X_test, y, y_test = plane_points(r)
    names = r["features"]
    return Points(features(X, names), y, features(X_test, names), y_test)


def network_inputs(recipe: Any, points: Sequence[Point]) -> list[list[float]]:
    """Turn points in the data set's own units into what the network takes.

    The points (as `chainrule.learn.data` draws them) are scaled onto the plane and turned
    into the recipe's features.

    Args:
        recipe: What a model file's metadata holds under "inputs".
        points: Points (x1, x2) in the data set's units.

    Returns:
        One row of features per point.

    Raises:
        ValueError: The recipe is not valid, or a point has not 2 numbers.

    Examples:
        >>> from chainrule.learn.inputs import network_inputs
        >>> recipe = {"dataset": "moons", "samples": 20, "noise": 0.1, "seed": 2,
        ...           "test_fraction": 0.25, "features": ["x1", "x2"], "added": [[0.25, -0.5, 1]],
        ...           "scaling": {"center": [0.5, 0.25], "scale": 1.6}}
        >>> network_inputs(recipe, [[0.5, 0.25], [2.1, 0.25]])
        [[0.0, 0.0], [1.0, 0.0]]
    """
    r = check(recipe)
    for point in points:
        if len(point) != 2:
            raise ValueError(f"a point of {r['dataset']} has 2 numbers (x1 x2), got {len(point)}")
    return features(scale(points, r["scaling"]), r["features"])


def describe(recipe: Any) -> str:
    """Describe a recipe in one line: the data set, how drawn, scaled and split, the features.

    Args:
        recipe: What a model file's metadata holds under "inputs".

    Returns:
        The line.

    Raises:
        ValueError: The recipe is not valid.

    Examples:
        >>> from chainrule.learn.inputs import describe
        >>> print(describe({"dataset": "moons", "samples": 20, "noise": 0.1, "seed": 2,
        ...           "test_fraction": 0.25, "features": ["x1", "x2"], "added": [[0.25, -0.5, 1]],
        ...           "scaling": {"center": [0.5, 0.25], "scale": 1.6}}))
        moons as the playground draws it: 20 points (noise 0.1, seed 2), scaled into [-1, 1];
        15 + 1 added training points, 5 held out; features x1, x2
    """
    r = check(recipe)
    added = f" + {len(r['added'])} added" if r["added"] else ""
    held_out = math.ceil(r["test_fraction"] * r["samples"])
    return (
        f"{r['dataset']} as the playground draws it: {r['samples']} points (noise {r['noise']:g}, "
        f"seed {r['seed']}), scaled into [-1, 1]; {r['samples'] - held_out}{added} training "
        f"points, {held_out} held out; features {', '.join(r['features'])}"
    )
