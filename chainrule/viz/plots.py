"""Pictures of training: loss and accuracy curves, a decision boundary, confusion, samples.

The 2-D decision boundary is micrograd's picture; for several classes there are a confusion
matrix and a grid of sample predictions (`plot_confusion_matrix`, `plot_sample_predictions`).

Every function returns a matplotlib `Figure` and, given `path`, also writes it as a PNG
(written atomically: an existing picture is replaced whole or not at all).

Backends. The figures are made without `pyplot`, so drawing them never picks, starts or changes
a matplotlib backend: they render with Agg, which needs no display, so they work on a headless
server, in CI and over SSH. In Jupyter a returned figure shows inline, once (it knows how to
draw itself as a PNG), whatever backend the notebook uses. To draw into your own pyplot
figure instead, pass `ax=`; the function then draws there and returns that axes' figure.

matplotlib is imported only when a plot is made.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from ..extras import require
from ..files import atomic_path
from ..learn.loop import predict_scores
from .graph import checked_target

__all__ = [
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "plot_sample_predictions",
]

CMAP = "Spectral"  # micrograd's colours: red and blue ends for two classes
MAX_CONFUSION_CELLS = 40  # rows (and columns) of a confusion matrix at most
MIN_PIXELS = 800  # a saved picture's shorter side at least, so that its labels read clearly
# `fit`'s loss names -> the loss axis' label ('hinge' -> 'hinge loss'); another name as it is
LOSS_NAMES = {
    "cross_entropy": "cross-entropy",
    "bce": "binary cross-entropy",
    "mse": "squared-error",
}


def plot_history(
    history: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    ax: Any = None,
    smoothing: int | None = None,
    loss: str | None = None,
) -> Any:
    """Plot the loss (left) and the accuracy (right) against the training step.

    `history` is a `train.History` or its `to_dict()`. The loss axis is logarithmic when every
    loss is positive (a loss falling from 1 to 0.01 is then a readable line, not a corner).
    Train accuracy is per step, on the step's batch; test accuracy is marked where it was
    measured. With `ax` (a pair of axes) the curves go there.

    Mini-batch runs: each step's loss and accuracy are one batch's, so they jump from step to
    step; the curves are then a moving average (`smoothing` steps, centred; default about a
    25th of the run), drawn over the raw values in faint colour. The loss title says whose
    loss it is (each batch's, or the whole set's) and whether it includes the L2 term.

    Args:
        history: What `fit` returned, or its `to_dict()`.
        path: Also save the figure there, as a PNG.
        ax: A pair of axes to draw in, instead of a new figure.
        smoothing: Steps in the moving average of a mini-batch run.
        loss: The loss's name (`fit`'s `loss`), which labels the loss axis.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: The history has no steps, or `path` does not end in `.png`.
        ImportError: matplotlib is not installed (the `viz` extra).

    Examples:
        >>> from chainrule import fit, nn
        >>> from chainrule.viz.plots import plot_history
        >>> xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
        >>> history = fit(nn.MLP(3, [4, 4, 1], seed=0), xs, [1.0, -1.0, -1.0, 1.0],
        ...               loss="mse", lr=0.05, steps=20, progress=False)
        >>> fig = plot_history(history, "history.png")
        >>> [ax.get_title() for ax in fig.axes]
        ['loss of the whole training set', 'accuracy']
    """
    h = history if isinstance(history, dict) else history.to_dict()
    ylabel = f"{LOSS_NAMES.get(loss, loss)} loss" if loss else "loss"
    values = list(h.get("loss") or [])
    if not values:
        raise ValueError("plot_history: the history has no steps to plot")
    fig, (ax_loss, ax_acc) = _figure(ax, (10, 4), columns=2)
    batch, size = h.get("batch_size") or 0, h.get("train_size") or 0
    window = _window(len(values), batch < size, smoothing)
    _curve(ax_loss, range(len(values)), values, window, "batch")
    if all(v > 0 for v in values):
        ax_loss.set_yscale("log")
    whose = "loss of each step's batch" if batch < size else "loss of the whole training set"
    title = whose + (" (with the L2 term)" if h.get("l2") else "")
    ax_loss.set(title=title, xlabel="step", ylabel=ylabel)
    ax_loss.grid(alpha=0.3)
    if window > 1:
        ax_loss.legend(loc="upper right")

    train_acc = [(k, 100 * a) for k, a in enumerate(h.get("train_accuracy") or []) if a is not None]
    if train_acc:
        ks, accs = zip(*train_acc)
        _curve(ax_acc, ks, accs, window, "train (batch)", label="train (batch)")
    measured = zip(h.get("eval_steps") or [], h.get("test_accuracy") or [])
    test = [(k, 100 * a) for k, a in measured if a is not None]
    if test:
        ax_acc.plot(*zip(*test), "o-", color="tab:orange", ms=4, lw=1.5, label="test")
    ax_acc.set(title="accuracy", xlabel="step", ylabel="accuracy (%)", ylim=(-2, 102))
    ax_acc.grid(alpha=0.3)
    if train_acc or test:
        ax_acc.legend(loc="lower right")
    else:
        none = "no accuracy: regression targets"
        ax_acc.text(0.5, 0.5, none, ha="center", transform=ax_acc.transAxes)
    return _save(fig, path)


def plot_decision_boundary(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    path: str | os.PathLike[str] | None = None,
    *,
    X_test: Sequence[Sequence[float]] | None = None,
    y_test: Sequence[float] | None = None,
    resolution: int = 100,
    threshold: float = 0.0,
    margin: float = 1.0,
    ax: Any = None,
    title: str | None = None,
    features: tuple[str, str] = ("x1", "x2"),
) -> Any:
    """Draw micrograd's picture: the plane coloured by the class the model predicts, and points.

    The model is evaluated (without recording a graph) on a `resolution` x `resolution` grid
    spanning the data plus `margin` on every side. With one output, class 1 is a score above
    `threshold` (0 for hinge and logits); with several, the largest score wins. The black line
    is where the prediction changes.

    Points are drawn in the full colour of their true class over a pale background, so a point
    on the wrong side stands out; each one the model gets wrong is also crossed out. The
    held-out points (`X_test`, `y_test`), where given, are triangles beside the training
    circles. The axes are named `features`, and a legend names the classes and the markers
    with how many points of each set are wrong.

    Args:
        model: A model of either engine, taking two inputs.
        X: The training points, two numbers each.
        y: Their labels.
        path: Also save the figure there, as a PNG.
        X_test: Held-out points, drawn as triangles.
        y_test: Their labels.
        resolution: Grid points along each axis.
        threshold: The score above which one output means class 1.
        margin: Space around the data, on every side.
        ax: Axes to draw in, instead of a new figure.
        title: The title (by default, 'decision boundary').
        features: The names of the two axes.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: Points that are not pairs of numbers, labels that do not match them, or a
            `path` not ending in `.png`.
        ImportError: matplotlib or numpy is not installed (the `viz` extra).

    Examples:
        >>> from chainrule import nn
        >>> from chainrule.viz.plots import plot_decision_boundary
        >>> X, y = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], [0, 0, 1, 1]
        >>> fig = plot_decision_boundary(nn.MLP(2, [4, 1], seed=0), X, y, resolution=20)
        >>> [ax.get_title() for ax in fig.axes]
        ['decision boundary']
    """
    import numpy as np

    train = _points(X, y, "")
    test = None if X_test is None and y_test is None else _points(X_test, y_test, "held-out ")
    if type(resolution) is not int or resolution < 2:
        raise ValueError(
            f"plot_decision_boundary: resolution must be an int >= 2, got {resolution!r}"
        )

    everything = np.asarray(train[0] + (test[0] if test else []))
    (x0, y0), (x1, y1) = everything.min(axis=0) - margin, everything.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()]).tolist()
    scores = np.asarray(predict_scores(model, grid), dtype=float)
    labels = sorted(set(train[1]) | set(test[1] if test else []))
    n_classes = max(len(labels), scores.shape[1] if scores.ndim == 2 else 2)
    rule = _Classes(labels, threshold, several=scores.ndim == 2)
    zone = rule.predicted(scores).reshape(xx.shape)

    fig, ax = _figure(ax, (7.6, 5.4))
    levels = np.arange(n_classes + 1) - 0.5
    colours = {"cmap": class_colours(n_classes), "vmin": 0, "vmax": n_classes - 1}
    ax.contourf(xx, yy, zone, levels=levels, alpha=0.3, **colours)  # pale: points stand out
    if zone.min() != zone.max():  # a line only where the prediction does change
        ax.contour(xx, yy, zone, levels=levels[1:-1], colors="k", linewidths=0.8)
    wrong = [_draw_points(ax, model, train, rule, ("o", 42, "training"), colours)]
    if test is not None:
        wrong.append(_draw_points(ax, model, test, rule, ("^", 58, "held-out"), colours))
    ax.set(xlim=(x0, x1), ylim=(y0, y1), title=title or "decision boundary")
    ax.set(xlabel=features[0], ylabel=features[1])
    _legend(ax, rule, n_classes, test is not None, wrong)
    return _save(fig, path)


def _draw_points(ax: Any, model: Any, points: Any, rule: _Classes, style: Any, colours: Any) -> str:
    """Draw one set of points (rows, labels) in the colour of its true class.

    Those the model gets wrong are crossed out; `style` is (marker, size, what they are).
    Returns how many are wrong, as the legend says it.
    """
    import numpy as np

    (rows, ys), (marker, size, what) = points, style
    pts, truth = np.asarray(rows), rule.true(ys)
    look = dict(marker=marker, s=size, edgecolors="k", linewidths=0.8, zorder=3, **colours)
    ax.scatter(pts[:, 0], pts[:, 1], c=truth, gid=f"{what} points", **look)  # gid: its name
    missed = rule.predicted(np.asarray(predict_scores(model, rows), dtype=float)) != truth
    if missed.any():
        crosses = {"marker": "x", "c": "k", "s": size * 1.6, "zorder": 4}
        ax.scatter(pts[missed, 0], pts[missed, 1], gid=f"{what} misclassified", **crosses)
    return f"{int(missed.sum())} of {len(rows)} {what}"


def class_colours(n_classes: int) -> Any:
    """Choose one strong colour per class, class k at k of a scale from 0 to n_classes - 1.

    The red and blue ends of micrograd's Spectral map for two classes; for more, tab10's
    colours (the middle of Spectral is a pale yellow that vanishes on a pale background),
    Spectral again beyond ten.

    Args:
        n_classes: How many classes.

    Returns:
        A matplotlib colour map of `n_classes` colours.

    Examples:
        >>> from chainrule.viz.plots import class_colours
        >>> class_colours(2).N
        2
    """
    import matplotlib as mpl
    from matplotlib.colors import ListedColormap

    if 2 < n_classes <= 10:
        tab10: Any = mpl.colormaps["tab10"]  # (a ListedColormap: its colours are a list)
        return ListedColormap(tab10.colors[:n_classes])
    spectral, n = mpl.colormaps[CMAP], max(n_classes, 1)
    return ListedColormap([spectral(k / max(n - 1, 1)) for k in range(n)])


def _points(
    X: Sequence[Sequence[float]] | None, y: Sequence[float] | None, which: str
) -> tuple[list[list[float]], list[float]]:
    """Check the rows against their labels, and give them as lists of two floats."""
    if X is None or y is None:
        raise ValueError(f"plot_decision_boundary: {which}points need both X and y")
    rows = [list(map(float, r)) for r in X]
    if not rows or any(len(r) != 2 for r in rows):
        width = len(rows[0]) if rows else 0
        raise ValueError(f"plot_decision_boundary: needs points with 2 features, got {width}")
    if len(rows) != len(y):
        raise ValueError(f"plot_decision_boundary: {len(rows)} {which}points but {len(y)} labels")
    return rows, list(y)


class _Classes:
    """Which class a score or a label stands for: 0, 1, ... in the colour map's order."""

    def __init__(self, labels: list[float], threshold: float, several: bool) -> None:
        self.labels, self.threshold, self.several = labels, threshold, several
        # two labels (0/1, -1/+1) split at their midpoint; one output otherwise at the threshold
        self.mid = (labels[0] + labels[-1]) / 2 if len(labels) == 2 else threshold

    def predicted(self, scores: Any) -> Any:
        """Give the class of each score: the largest of several, or one above the threshold."""
        return scores.argmax(axis=1) if self.several else (scores > self.threshold).astype(int)

    def true(self, ys: list[float]) -> Any:
        import numpy as np

        return np.asarray([int(v) if self.several else int(v > self.mid) for v in ys])

    def name(self, k: int) -> str:
        """Give the label a class stands for, as written in the data (`-1`, `1`, `3`)."""
        two = not self.several and len(self.labels) == 2
        value = (self.labels[0], self.labels[-1])[k] if two else k
        return str(int(value)) if float(value).is_integer() else str(value)


def _legend(ax: Any, rule: _Classes, n_classes: int, held_out: bool, wrong: list[str]) -> None:
    """Draw one legend: a swatch per class, then the markers (training, held out, wrong)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    swatch = list(class_colours(n_classes).colors)  # as the points are coloured
    handles: list[Any] = [
        Patch(facecolor=colour, edgecolor="k", label=f"class {rule.name(k)}")
        for k, colour in enumerate(swatch)
    ]
    dot: dict[str, Any] = {"color": "none", "markerfacecolor": "0.75", "markeredgecolor": "k"}
    handles.append(Line2D([], [], marker="o", markersize=7, label="training point", **dot))
    if held_out:
        handles.append(Line2D([], [], marker="^", markersize=8, label="held-out point", **dot))
    cross: dict[str, Any] = {"color": "none", "markeredgecolor": "k", "markersize": 8}
    wrong_text = "misclassified:\n" + ",\n".join(wrong)
    handles.append(Line2D([], [], marker="x", markeredgewidth=1.6, label=wrong_text, **cross))
    place = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    ax.legend(handles=handles, fontsize=9, frameon=False, **place)


def _window(steps: int, minibatch: bool, smoothing: int | None) -> int:
    """Choose the steps in the moving average: 1 (none) for a full batch or a short run."""
    if smoothing is not None:
        if isinstance(smoothing, bool) or not isinstance(smoothing, int) or smoothing < 1:
            raise ValueError(f"plot_history: smoothing must be an int >= 1, got {smoothing!r}")
        return smoothing
    return max(3, steps // 25) if minibatch and steps >= 20 else 1


def _curve(ax: Any, xs: Any, ys: Any, window: int, raw: str, label: str | None = None) -> None:
    """Draw a line; with `window` > 1 the raw values faint and their centred moving average."""
    if window <= 1:
        ax.plot(xs, ys, color="tab:blue", lw=1.5, label=label)
        return
    ax.plot(xs, ys, color="tab:blue", lw=0.8, alpha=0.25, label=f"{raw}, each step")
    ax.plot(xs, smooth(ys, window), color="tab:blue", lw=1.8, label=f"{raw}, mean of {window}")


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Compute the centred moving average over `window` values (fewer at the cut ends).

    Args:
        values: The values.
        window: How many values each average covers.

    Returns:
        One average per value.

    Examples:
        >>> from chainrule.viz.plots import smooth
        >>> smooth([1.0, 2.0, 3.0, 4.0, 5.0], 3)
        [1.5, 2.0, 3.0, 4.0, 4.5]
    """
    import numpy as np

    start, ones = window - window // 2 - 1, np.ones(window)  # value k averages k - window // 2 on
    sums = np.convolve(values, ones)[start : start + len(values)]
    return (sums / np.convolve(np.ones(len(values)), ones)[start : start + len(values)]).tolist()


def plot_confusion_matrix(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    path: str | os.PathLike[str] | None = None,
    *,
    classes: int | None = None,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """Plot how often each class (row) was predicted as each class (column).

    The diagonal holds the right answers; a large count off it names two classes the model
    confuses (a 4 taken for a 9). Cells are shaded by the share of their row, so a rare class
    reads as clearly as a common one, and each shows its count. Past `MAX_CONFUSION_CELLS`
    classes, neighbouring classes share a row and a column (1,000 classes in groups of 25),
    so that the picture stays a picture, not classes² cells (gigabytes for 1,000).

    Args:
        y_true: The true classes.
        y_pred: The predicted classes.
        path: Also save the figure there, as a PNG.
        classes: How many classes (default: the largest label + 1).
        title: The title (by default, how many are right).
        ax: Axes to draw in, instead of a new figure.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: The lists differ in length or hold no class index, or `path` does not
            end in `.png`.
        ImportError: matplotlib is not installed.

    Examples:
        >>> from chainrule.viz.plots import plot_confusion_matrix
        >>> fig = plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
        >>> fig.axes[0].get_title()
        'confusion matrix: 3 of 4 right'
    """
    true, pred = [int(v) for v in y_true], [int(v) for v in y_pred]
    if not true or len(true) != len(pred):
        raise ValueError(
            f"plot_confusion_matrix: needs as many predictions as labels (at least one), got "
            f"{len(pred)} and {len(true)}"
        )
    n = classes or max(max(true), max(pred)) + 1
    group = -(-n // MAX_CONFUSION_CELLS)  # classes per row and column: 1 up to the limit
    m = -(-n // group)
    counts = [[0] * m for _ in range(m)]
    for t, p in zip(true, pred):
        counts[t // group][p // group] += 1
    shares = [[c / max(1, sum(row)) for c in row] for row in counts]
    fig, ax = _figure(ax, (1.6 + 0.5 * m, 1.2 + 0.5 * m))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for t in range(m):
        for p in range(m):
            if counts[t][p]:
                colour = "white" if shares[t][p] > 0.5 else "black"
                ax.text(p, t, counts[t][p], ha="center", va="center", color=colour, fontsize=8)
    right = sum(t == p for t, p in zip(true, pred))
    grouped = f" (groups of {group}: 0-{group - 1}, {group}-{2 * group - 1}, ...)" * (group > 1)
    ticks = [k * group for k in range(m)]
    ax.set(xticks=range(m), yticks=range(m), xticklabels=ticks, yticklabels=ticks)
    ax.set(xlabel=f"predicted class{grouped}", ylabel=f"true class{grouped}")
    ax.set_title(title or f"confusion matrix: {right} of {len(true)} right")
    return _save(fig, path)


def plot_sample_predictions(
    X: Sequence[Sequence[float]],
    y_true: Sequence[int],
    y_pred: Sequence[int],
    path: str | os.PathLike[str] | None = None,
    *,
    shape: tuple[int, int] = (8, 8),
    count: int = 32,
    columns: int = 8,
    mistakes_first: bool = True,
    title: str | None = None,
) -> Any:
    """Draw a grid of pictures (rows of `X` reshaped to `shape`), titled with the prediction.

    Each title is black where the prediction is right, red with the true class where wrong.

    With `mistakes_first` the wrong answers are shown first (up to half the grid), then the
    first right ones: what the model gets wrong is the interesting part.

    Args:
        X: The rows (pixels).
        y_true: The true classes.
        y_pred: The predicted classes.
        path: Also save the figure there, as a PNG.
        shape: The picture's (height, width).
        count: How many pictures.
        columns: Pictures per row of the grid.
        mistakes_first: Show the wrong answers first.
        title: The figure's title.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: The lists differ in length, the rows do not fit `shape`, or `path` does
            not end in `.png`.
        ImportError: matplotlib or numpy is not installed.

    Examples:
        >>> from chainrule.viz.plots import plot_sample_predictions
        >>> pixels = [[0.0, 1.0, 1.0, 0.0]] * 3
        >>> fig = plot_sample_predictions(pixels, [0, 1, 1], [0, 1, 0], shape=(2, 2), count=3,
        ...                               columns=3)
        >>> [ax.get_title() for ax in fig.axes]  # the mistake first
        ['0 (is 1)', '0', '1']
    """
    import numpy as np

    if not len(X) or not len(X) == len(y_true) == len(y_pred):
        raise ValueError("plot_sample_predictions: needs as many pictures, labels and predictions")
    pictures = np.asarray(X, dtype=float).reshape(len(X), *shape)
    order = list(range(len(X)))
    if mistakes_first:
        wrong = [i for i in order if y_true[i] != y_pred[i]][: count // 2]
        order = wrong + [i for i in order if i not in set(wrong)]
    order = order[:count]
    rows = -(-len(order) // columns)
    fig = new_figure(figsize=(1.1 * columns, 1.25 * rows + 0.4))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), order):
        ax.imshow(pictures[i], cmap="gray_r")
        right = y_true[i] == y_pred[i]
        text = f"{y_pred[i]}" if right else f"{y_pred[i]} (is {y_true[i]})"
        ax.set_title(text, fontsize=9, color="black" if right else "tab:red")
    wrong_count = sum(1 for t, p in zip(y_true, y_pred) if t != p)
    first = " (shown first)" if mistakes_first and wrong_count else ""
    fig.suptitle(title or f"predictions: {wrong_count} of {len(X)} wrong, in red{first}")
    return _save(fig, path)


# -- figures without pyplot (shared with chainrule.calculus) ----------------------------------

_FIGURE_CLASS: Any = None


def new_figure(**kwargs: Any) -> Any:
    """Make a matplotlib Figure that belongs to no backend and shows itself in Jupyter.

    Made without pyplot, so no backend is ever chosen or switched (safe headless, and a
    notebook's own backend is left alone); `_repr_png_` is how Jupyter displays it inline.

    Args:
        **kwargs: Go to `matplotlib.figure.Figure` (`figsize=(5, 4)`).

    Returns:
        The Figure.

    Raises:
        chainrule.extras.MissingExtra: matplotlib is not installed (the `viz` extra).
    """
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        Figure: Any = require("matplotlib.figure", "viz", "plots").Figure

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
    """Check that `path` names a PNG file in a folder that exists, before any drawing starts.

    Args:
        path: The file.

    Returns:
        `path` as a string.

    Raises:
        ValueError: It does not end in `.png`.
        FileNotFoundError: Its folder does not exist.
    """
    return str(checked_target(path, (".png",), "a plot"))


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 100) -> str:
    """Save `fig` as PNG at `path`, atomically (the old file stays until the new one is whole).

    The resolution is raised where the picture would be less than `MIN_PIXELS` on its shorter
    side: a small figure (a confusion matrix of 3 classes is 3 inches) would print its labels
    a few pixels high.

    Args:
        fig: A matplotlib Figure.
        path: The file, ending in `.png`.
        dpi: The resolution, at least.

    Returns:
        `path` as a string.

    Raises:
        ValueError: `path` does not end in `.png`.

    Examples:
        >>> from chainrule.calculus import plot_activations, save_figure
        >>> save_figure(plot_activations(xs=[-1.0, 1.0]), "activations.png")
        'activations.png'
    """
    path = png_path(path)
    with atomic_path(path) as tmp:
        least = math.ceil(MIN_PIXELS / min(fig.get_size_inches()))
        fig.savefig(tmp, format="png", dpi=max(dpi, least))
    return path


def _figure(ax: Any, size: tuple[float, float], columns: int = 1) -> tuple[Any, Any]:
    """Give the figure and axes to draw in: `ax` and its figure, or a new figure of `size`.

    With several `columns`, `ax` is a sequence of axes, one per column, as a new figure has.
    """
    if ax is not None:
        return (ax[0] if columns > 1 else ax).figure, ax
    fig = new_figure(figsize=size)
    return fig, fig.subplots(1, columns)


def _save(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    """Lay `fig` out, and save it to `path` if one is given; return it."""
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig
