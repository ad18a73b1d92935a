"""Pictures of derivatives: a function with its slope and tangent line, and the activations.

The figures are built on `matplotlib.figure.Figure` directly, never through pyplot's global
state, so these functions work the same on a headless server, in a script and in Jupyter: no
backend is chosen or switched, and nothing accumulates in pyplot's list of open figures when they
are called in a loop. In Jupyter a returned Figure shows itself as a PNG (it has `_repr_png_`),
whichever backend the notebook uses. Pass `path` to also save a PNG (written atomically).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..check import numerical_derivative
from ..engine import Value
from .plots import new_figure, png_path, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_function", "plot_activations", "save_figure"]

Number = float | int


def plot_function(
    f: Callable[[float], float | Value],
    x0: Number | None = None,
    xs: Iterable[Number] | None = None,
    path: str | os.PathLike[str] | None = None,
    h: float = 1e-6,
) -> Figure:
    """Plot `f` and its derivative side by side; with `x0`, also the tangent line at `x0`.

    The derivative is numerical (central differences with step `h`), so any Python function of
    one number works, including one built from chainrule Values. `xs` are the points to
    evaluate (default: 201 points over [-5, 5], or around `x0` if it lies outside). The
    tangent at `x0` is `f(x0) + f'(x0)·(x - x0)`: the line whose slope the lecture computes
    (`3x² - 4x + 5` at x = 3 has slope 14).
    """
    if path is not None:
        png_path(path)
    grid = _grid(xs, x0)
    ys = [_value(f, x) for x in grid]
    slopes = [numerical_derivative(f, x, h=h, method="central") for x in grid]

    fig = new_figure(figsize=(10, 4))
    ax_f, ax_d = fig.subplots(1, 2)
    ax_f.plot(grid, ys, label="f(x)", color="tab:blue")
    ax_d.plot(grid, slopes, label="f'(x) (numerical)", color="tab:orange")
    if x0 is not None:
        x0 = float(x0)
        y0 = _value(f, x0)
        slope = numerical_derivative(f, x0, h=h, method="central")
        half = (max(grid) - min(grid)) / 4
        lo, hi = min(min(grid), x0), max(max(grid), x0)
        tx = [max(x0 - half, lo), min(x0 + half, hi)]
        ax_f.plot(
            tx,
            [y0 + slope * (t - x0) for t in tx],
            "--",
            color="tab:red",
            label=f"tangent at x = {x0:g} (slope {slope:.4g})",
        )
        ax_f.plot([x0], [y0], "o", color="tab:red")
        ax_d.plot([x0], [slope], "o", color="tab:red", label=f"f'({x0:g}) = {slope:.4g}")
        ax_d.axvline(x0, color="tab:red", lw=0.6, alpha=0.5)
    for ax, title in ((ax_f, "f(x)"), (ax_d, "its derivative")):
        ax.set_title(title)
        ax.set_xlabel("x")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


# name -> (the Value method, the derivative in closed form, for the reader and the tests)
ACTIVATIONS: dict[str, tuple[Callable[[Value], Value], Callable[[float], float]]] = {
    "tanh": (Value.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "relu": (Value.relu, lambda x: 1.0 if x > 0 else 0.0),
    "sigmoid": (Value.sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
}


def plot_activations(
    path: str | os.PathLike[str] | None = None, xs: Iterable[Number] | None = None
) -> Figure:
    """tanh, relu and sigmoid with their derivatives, one panel each.

    Each derivative is what chainrule's backward pass computes (`y = act(Value(x));
    y.backward(); x.grad`), not a formula typed in here, so the picture also shows the engine
    at work; the closed forms are in `ACTIVATIONS` for comparison.
    """
    if path is not None:
        png_path(path)
    grid = _grid(xs, None)
    fig = new_figure(figsize=(12, 3.6))
    axes = fig.subplots(1, len(ACTIVATIONS))
    for ax, (name, (act, _)) in zip(axes, ACTIVATIONS.items()):
        ys, ds = [], []
        for x in grid:
            v = Value(x, label="x")
            y = act(v)
            y.backward()
            ys.append(y.data)
            ds.append(v.grad)
        ax.plot(grid, ys, label=f"{name}(x)", color="tab:blue")
        ax.plot(grid, ds, "--", label=f"d {name}/dx (backward)", color="tab:orange")
        ax.set_title(name)
        ax.set_xlabel("x")
        ax.axhline(0, color="black", lw=0.5)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


# -- helpers ------------------------------------------------------------------------------


def _grid(xs: Iterable[Number] | None, x0: Number | None) -> list[float]:
    if xs is not None:
        grid = sorted(float(x) for x in xs)
        if len(grid) < 2:
            raise ValueError("xs needs at least two points to draw a curve")
        return grid
    lo, hi = -5.0, 5.0
    if x0 is not None and not lo <= float(x0) <= hi:
        lo, hi = float(x0) - 5.0, float(x0) + 5.0
    return [lo + (hi - lo) * i / 200 for i in range(201)]


def _value(f: Callable[[float], Any], x: float) -> float:
    y = f(x)
    return float(y.data if isinstance(y, Value) else y)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
