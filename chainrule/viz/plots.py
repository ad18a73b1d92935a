"""Pictures of training: loss and accuracy curves, and a 2-D decision boundary.

Both functions return a matplotlib `Figure` and, given `path`, also write it as a PNG (written
atomically: an existing picture is replaced whole or not at all).

Backends. The figures are made without `pyplot`, so drawing them never picks, starts or changes
a matplotlib backend: they render with Agg, which needs no display, so they work on a headless
server, in CI and over SSH. In Jupyter a returned figure shows inline, once (it knows how to
draw itself as a PNG), whatever backend the notebook uses. To draw into your own pyplot
figure instead, pass `ax=`; the function then draws there and returns that axes' figure.

matplotlib is imported only when a plot is made.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ..atomic import atomic_path

__all__ = ["plot_history", "plot_decision_boundary"]

CMAP = "Spectral"  # micrograd's colours: red and blue ends for two classes


def plot_history(
    history: Any, path: str | os.PathLike[str] | None = None, *, ax: Any = None
) -> Any:
    """Loss (left) and accuracy (right) against the training step.

    `history` is a `train.History` or its `to_dict()`. The loss axis is logarithmic when every
    loss is positive (a loss falling from 1 to 0.01 is then a readable line, not a corner).
    Train accuracy is per step, on the step's batch; test accuracy is marked where it was
    measured. With `ax` (a pair of axes) the curves go there.
    """
    h = history if isinstance(history, dict) else history.to_dict()
    loss = list(h.get("loss") or [])
    if not loss:
        raise ValueError("plot_history: the history has no steps to plot")
    if ax is None:
        fig = new_figure(figsize=(10, 4))
        ax_loss, ax_acc = fig.subplots(1, 2)
    else:
        ax_loss, ax_acc = ax
        fig = ax_loss.figure
    steps = range(len(loss))
    ax_loss.plot(steps, loss, color="tab:blue", lw=1.5)
    if all(v > 0 for v in loss):
        ax_loss.set_yscale("log")
    ax_loss.set(title="loss", xlabel="step")
    ax_loss.grid(alpha=0.3)

    train_acc = [(k, 100 * a) for k, a in enumerate(h.get("train_accuracy") or []) if a is not None]
    if train_acc:
        ax_acc.plot(*zip(*train_acc), color="tab:blue", lw=1.5, label="train (batch)")
    test = [
        (k, 100 * a)
        for k, a in zip(h.get("eval_steps") or [], h.get("test_accuracy") or [])
        if a is not None
    ]
    if test:
        ax_acc.plot(*zip(*test), "o-", color="tab:orange", ms=4, lw=1.5, label="test")
    ax_acc.set(title="accuracy", xlabel="step", ylabel="%", ylim=(-2, 102))
    ax_acc.grid(alpha=0.3)
    if train_acc or test:
        ax_acc.legend(loc="lower right")
    else:
        ax_acc.text(
            0.5, 0.5, "no accuracy: regression targets", ha="center", transform=ax_acc.transAxes
        )
    fig.tight_layout()
    return _save(fig, path)


def plot_decision_boundary(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    path: str | os.PathLike[str] | None = None,
    *,
    resolution: int = 100,
    threshold: float = 0.0,
    margin: float = 1.0,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """micrograd's picture: the plane coloured by the class the model predicts, and the points.

    The model is evaluated (without recording a graph) on a `resolution` x `resolution` grid
    spanning the data plus `margin` on every side. With one output, class 1 is a score above
    `threshold` (0 for hinge and logits); with several, the largest score wins. The black line
    is where the prediction changes. Points are coloured by their true class on the same scale,
    so a point on the wrong side stands out.
    """
    import numpy as np

    from ..train.loop import predict_scores

    rows = [list(map(float, r)) for r in X]
    if not rows or any(len(r) != 2 for r in rows):
        width = len(rows[0]) if rows else 0
        raise ValueError(f"plot_decision_boundary: needs points with 2 features, got {width}")
    if len(rows) != len(y):
        raise ValueError(f"plot_decision_boundary: {len(rows)} points but {len(y)} labels")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(
            f"plot_decision_boundary: resolution must be an int >= 2, got {resolution!r}"
        )

    pts = np.asarray(rows)
    (x0, y0), (x1, y1) = pts.min(axis=0) - margin, pts.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()]).tolist()
    scores = np.asarray(predict_scores(model, grid), dtype=float)

    labels = sorted(set(y))
    n_classes = max(len(labels), scores.shape[1] if scores.ndim == 2 else 2)
    if scores.ndim == 2:  # one score per class: the largest wins
        zone = scores.argmax(axis=1).reshape(xx.shape)
        point_class = np.asarray([int(v) for v in y])
    else:
        zone = (scores > threshold).astype(int).reshape(xx.shape)
        mid = (labels[0] + labels[-1]) / 2 if len(labels) == 2 else threshold
        point_class = np.asarray([int(v > mid) for v in y])

    if ax is None:
        fig = new_figure(figsize=(6, 5.4))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(xx, yy, zone, levels=levels, cmap=CMAP, vmin=0, vmax=n_classes - 1, alpha=0.8)
    if zone.min() != zone.max():  # a line only where the prediction does change
        ax.contour(xx, yy, zone, levels=levels[1:-1], colors="k", linewidths=0.8)
    ax.scatter(
        pts[:, 0],
        pts[:, 1],
        c=point_class,
        cmap=CMAP,
        vmin=0,
        vmax=n_classes - 1,
        s=40,
        edgecolors="k",
        linewidths=0.6,
    )
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=title or "decision boundary")
    fig.tight_layout()
    return _save(fig, path)


# -- figures without pyplot (shared with chainrule.calculus) ----------------------------------

_FIGURE_CLASS: Any = None


def new_figure(**kwargs: Any) -> Any:
    """A matplotlib Figure that belongs to no backend and shows itself in Jupyter.

    Made without pyplot, so no backend is ever chosen or switched (safe headless, and a
    notebook's own backend is left alone); `_repr_png_` is how Jupyter displays it inline.
    """
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(
                "plots need matplotlib: pip install 'chainrule[viz]' (or pip install matplotlib)"
            ) from None

        class PlotFigure(Figure):
            """A Figure that notebooks display as a PNG (no pyplot, no backend involved)."""

            def _repr_png_(self) -> bytes:
                import io

                buffer = io.BytesIO()
                self.savefig(buffer, format="png", bbox_inches="tight")
                return buffer.getvalue()

        _FIGURE_CLASS = PlotFigure
    return _FIGURE_CLASS(**kwargs)


def png_path(path: str | os.PathLike[str]) -> str:
    """`path` as a string, if it names a PNG file (checked before any drawing starts)."""
    path = os.fspath(path)
    if not path.lower().endswith(".png"):
        raise ValueError(f"cannot save {path}: plots are saved as PNG, give a path ending in .png")
    return path


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 100) -> str:
    """Save `fig` as PNG at `path`, atomically (the old file stays until the new one is whole)."""
    path = png_path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path


def _save(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    if path is not None:
        save_figure(fig, path)
    return fig
