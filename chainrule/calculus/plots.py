"""Pictures of derivatives: a function with its slope and tangent line, and the activations.

The figures are built on `matplotlib.figure.Figure` directly, never through pyplot's global
state, so these functions work the same on a headless server, in a script and in Jupyter: no
backend is chosen or switched, and nothing accumulates in pyplot's list of open figures when they
are called in a loop. In Jupyter a returned Figure shows itself as a PNG (it has `_repr_png_`),
whichever backend the notebook uses. Pass `path` to also save a PNG (written atomically).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..engines import numbers_of
from ..value import Value
from ..viz.plots import _figure, _save, png_path, save_figure
from .check import numerical_derivative
from .derivatives import grad, value_and_grad

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
    order: int = 1,
) -> Figure:
    """Plot `f` and its derivatives side by side; with `x0`, also the tangent lines at `x0`.

    With `order=1` (the default) the derivative is numerical (central differences with step
    `h`), so any Python function of one number works, including one built from chainrule
    Values. With `order=2` (or 3) the panels show f, f′, f″ (and f‴), computed exactly by
    `chainrule.grad` applied to itself, so `f` must accept a Value (write `x.tanh()`, `x**2`,
    not `math.tanh`). `xs` are the points to evaluate (default: 201 points over [-5, 5], or
    around `x0` if it lies outside). The tangent at `x0` is `f(x0) + f'(x0)·(x - x0)`: the
    line whose slope the lecture computes (`3x² - 4x + 5` at x = 3 has slope 14); on the
    derivative's panel the tangent's slope is f″(x0), the curvature Newton's method uses.

    Args:
        f: A function of one number (of a Value, for `order` 2 or 3).
        x0: Where to draw the tangents, or None for none.
        xs: The points to evaluate, at least two.
        path: Also save the figure there, as a PNG.
        h: The step of the numerical derivative (`order=1`).
        order: How many derivatives to show: 1, 2 or 3.

    Returns:
        The matplotlib Figure, one panel per function.

    Raises:
        ValueError: `order` is not 1, 2 or 3, `xs` has fewer than two points, or `path` does
            not end in `.png`.
        chainrule.extras.MissingExtra: matplotlib is not installed.

    Examples:
        >>> from chainrule.calculus import plot_function
        >>> fig = plot_function(lambda x: 3 * x**2 - 4 * x + 5, x0=3.0)
        >>> [ax.get_title() for ax in fig.axes]
        ['f(x)', 'its derivative']
    """
    if order not in (1, 2, 3):
        raise ValueError(f"plot_function: order must be 1, 2 or 3, got {order!r}")
    if path is not None:
        png_path(path)
    grid = _grid(xs, x0)
    derivs = _derivatives(f, order, h)
    names = ["f(x)", "f'(x)", "f''(x)", "f'''(x)"]
    how = " (numerical)" if order == 1 else " (chainrule.grad)"
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    titles = ["f(x)", "its derivative", "its second derivative", "its third derivative"]

    fig, axes = _figure(None, (5 * (order + 1), 4), columns=order + 1)
    for k, ax in enumerate(axes):
        ys = [derivs[k](x) for x in grid]
        ax.plot(grid, ys, label=names[k] + (how if k else ""), color=colors[k])
    if x0 is not None:
        x0 = float(x0)
        for k in range(order):
            _tangent(axes[k], grid, x0, derivs[k](x0), derivs[k + 1](x0), names[k])
        last = derivs[order](x0)
        axes[order].plot([x0], [last], "o", color="tab:red", label=f"at x = {x0:g}: {last:.4g}")
        axes[order].axvline(x0, color="tab:red", lw=0.6, alpha=0.5)
    for ax, title in zip(axes, titles):
        ax.set(title=title, xlabel="x")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def _derivatives(f: Callable[[float], Any], order: int, h: float) -> list[Callable[[float], float]]:
    """Give f and its first `order` derivatives, each a function of a float."""
    if order == 1:
        return [lambda x: _value(f(x)), lambda x: numerical_derivative(f, x, h=h, method="central")]
    derivs = [f]
    for _ in range(order):
        derivs.append(grad(derivs[-1]))
    return [lambda x: _value(f(Value(x)))] + [lambda x, d=d: _value(d(x)) for d in derivs[1:]]


def _tangent(ax: Any, grid: list[float], x0: float, y0: float, slope: float, name: str) -> None:
    """Draw the tangent of one panel's curve at x0, and the point it touches."""
    half = (max(grid) - min(grid)) / 4
    lo, hi = min(min(grid), x0), max(max(grid), x0)
    tx = [max(x0 - half, lo), min(x0 + half, hi)]
    label = f"tangent of {name} at x = {x0:g} (slope {slope:.4g})"
    ax.plot(tx, [y0 + slope * (t - x0) for t in tx], "--", color="tab:red", label=label)
    ax.plot([x0], [y0], "o", color="tab:red")


# The activations drawn, each a Value method (its closed-form derivative is its row's formula in
# `chainrule.ops`: the curve drawn here is what backward() computes, not that formula).
ACTIVATIONS = ("tanh", "relu", "sigmoid")


def plot_activations(
    path: str | os.PathLike[str] | None = None, xs: Iterable[Number] | None = None
) -> Figure:
    """Plot tanh, relu and sigmoid with their derivatives, one panel each.

    Each derivative is what chainrule's backward pass computes (`y = act(Value(x));
    y.backward(); x.grad`), not a formula typed in here, so the picture also shows the engine
    at work; the closed forms are the rows' formulas in `chainrule.ops`.

    Args:
        path: Also save the figure there, as a PNG.
        xs: The points to evaluate (default: 201 over [-5, 5]).

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: `xs` has fewer than two points, or `path` does not end in `.png`.
        chainrule.extras.MissingExtra: matplotlib is not installed.

    Examples:
        >>> from chainrule.calculus import plot_activations
        >>> fig = plot_activations(xs=[-1.0, 0.0, 1.0])
        >>> [ax.get_title() for ax in fig.axes]
        ['tanh', 'relu', 'sigmoid']
    """
    if path is not None:
        png_path(path)
    grid = _grid(xs, None)
    fig, axes = _figure(None, (12, 3.6), columns=len(ACTIVATIONS))
    for ax, name in zip(axes, ACTIVATIONS):
        act = value_and_grad(lambda v, name=name: getattr(v, name)())  # y.backward(); x.grad
        ys, ds = zip(*map(act, grid))
        ax.plot(grid, ys, label=f"{name}(x)", color="tab:blue")
        ax.plot(grid, ds, "--", label=f"d {name}/dx (backward)", color="tab:orange")
        ax.set(title=name, xlabel="x")
        ax.axhline(0, color="black", lw=0.5)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


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


def _value(y: Any) -> float:
    """Read f(x) as a float: f may return a node of either engine or a plain number."""
    return numbers_of(y)[0]
