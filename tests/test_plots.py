"""chainrule.plots: real PNGs, the right colours, no backend changes, atomic files."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from chainrule import data, plots
from chainrule.learn import History

ROOT = str(Path(__file__).resolve().parents[1])  # this checkout, not an installed copy
PNG = b"\x89PNG\r\n\x1a\n"


def sign_model(row):
    """Score = x: class 1 on the right half of the plane, class 0 on the left."""
    return row[0] * 1.0


def three_way_model(row):
    """Three scores, one per vertical band: x < -1, -1 < x < 1, x > 1."""
    x = row[0]
    return [-x - 1.0, 0.0 * x, x - 1.0]


def pixel(fig, ax, x, y):
    """RGB of the rendered figure at data point (x, y)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    return image[image.shape[0] - int(round(py)), int(round(px)), :3].astype(int)


def is_png(path):
    content = path.read_bytes()
    return len(content) > 1000 and content.startswith(PNG)


def small_history():
    h = History()
    h.loss = [1.0, 0.5, 0.25, 0.2]
    h.train_accuracy = [0.5, 0.7, 0.9, 1.0]
    h.lr = [0.1] * 4
    h.step_time = [0.01] * 4
    h.eval_steps, h.test_accuracy = [0, 2, 4], [0.5, 0.8, 0.95]
    return h


def test_plot_history_writes_a_png_and_returns_the_figure(tmp_path):
    path = tmp_path / "loss.png"
    fig = plots.plot_history(small_history(), path)
    assert isinstance(fig, Figure) and is_png(path)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_yscale() == "log"  # positive losses
    assert list(loss_ax.lines[0].get_ydata()) == [1.0, 0.5, 0.25, 0.2]
    train, test = acc_ax.lines
    assert list(train.get_ydata()) == [50, 70, 90, 100]
    assert list(test.get_xdata()) == [0, 2, 4] and list(test.get_ydata()) == [50, 80, 95]


def test_plot_history_takes_the_dict_form_too(tmp_path):
    d = small_history().to_dict()
    d["loss"] = [1.0, 0.0, -0.5, 0.1]  # not all positive: a linear axis
    fig = plots.plot_history(d, tmp_path / "h.png")
    assert fig.axes[0].get_yscale() == "linear" and is_png(tmp_path / "h.png")
    with pytest.raises(ValueError, match="no steps"):
        plots.plot_history(History())


def test_decision_boundary_colours_the_two_classes_differently(tmp_path):
    X = [[-1.0, 0.0], [-0.5, 0.5], [0.5, -0.5], [1.0, 0.0]]
    y = [0, 0, 1, 1]
    path = tmp_path / "boundary.png"
    fig = plots.plot_decision_boundary(sign_model, X, y, path, resolution=40)
    assert isinstance(fig, Figure) and is_png(path)
    ax = fig.axes[0]
    left, right = pixel(fig, ax, -1.8, 0.9), pixel(fig, ax, 1.8, 0.9)  # background, no points
    assert np.abs(left - right).sum() > 50  # pale, so that the points stand out, but distinct
    faces = points(ax, "training").get_facecolors()[:, :3] * 255
    class0, class1 = faces[0], faces[3]
    assert np.allclose(faces[0], faces[1]) and np.allclose(faces[2], faces[3])

    # each region has the colour of its own class's points, washed out towards white: its
    # distance from white points the same way as theirs
    def tint(colour):
        away = 255 - np.asarray(colour, dtype=float)
        return away / np.linalg.norm(away)

    assert tint(left) @ tint(class0) > tint(left) @ tint(class1)
    assert tint(right) @ tint(class1) > tint(right) @ tint(class0)


def points(ax, gid):
    """The scatter of one group of points: 'training points', 'held-out misclassified', ..."""
    found = [c for c in ax.collections if (c.get_gid() or "").startswith(gid)]
    assert len(found) == 1, [c.get_gid() for c in ax.collections]
    return found[0]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_decision_boundary_names_its_axes_and_classes():
    X = [[-1.0, 0.0], [1.0, 0.0]]
    ax = plots.plot_decision_boundary(sign_model, X, [-1, 1], resolution=20).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    assert legend_texts(ax) == [
        "class -1",
        "class 1",
        "training point",
        "misclassified:\n0 of 2 training",
    ]
    named = plots.plot_decision_boundary(sign_model, X, [0, 1], resolution=20, features=("a", "b"))
    assert named.axes[0].get_xlabel() == "a" and legend_texts(named.axes[0])[:2] == [
        "class 0",
        "class 1",
    ]


def test_held_out_points_get_their_own_marker_and_mistakes_are_crossed_out(tmp_path):
    X, y = [[-1.0, 0.0], [-0.5, 0.5], [0.5, -0.5], [1.0, 0.0]], [0, 0, 1, 1]
    X_test, y_test = [[-2.0, 1.0], [0.7, 1.0], [2.0, -1.0]], [0, 0, 1]  # (0.7, 1) is wrong
    path = tmp_path / "boundary.png"
    fig = plots.plot_decision_boundary(
        sign_model, X, y, path, X_test=X_test, y_test=y_test, resolution=30
    )
    assert is_png(path)
    ax = fig.axes[0]
    train, held_out = points(ax, "training points"), points(ax, "held-out points")
    assert len(train.get_offsets()) == 4 and len(held_out.get_offsets()) == 3
    circle, triangle = train.get_paths()[0].vertices, held_out.get_paths()[0].vertices
    assert circle.shape != triangle.shape or not np.allclose(circle, triangle)
    crossed = points(ax, "held-out misclassified")
    assert crossed.get_offsets().tolist() == [[0.7, 1.0]]
    assert not [c for c in ax.collections if c.get_gid() == "training misclassified"]
    texts = legend_texts(ax)
    assert (
        "held-out point" in texts
        and texts[-1] == "misclassified:\n0 of 4 training,\n1 of 3 held-out"
    )
    # the plane spans the held-out points too
    assert ax.get_xlim()[0] <= -3.0 and ax.get_xlim()[1] >= 3.0
    with pytest.raises(ValueError, match="held-out points need both X and y"):
        plots.plot_decision_boundary(sign_model, X, y, X_test=X_test)
    with pytest.raises(ValueError, match="3 held-out points but 2 labels"):
        plots.plot_decision_boundary(sign_model, X, y, X_test=X_test, y_test=[0, 1])


def test_points_stand_out_from_the_background_of_their_own_class():
    X, y = [[-1.0, 0.0], [1.0, 0.0]], [0, 1]
    fig = plots.plot_decision_boundary(sign_model, X, y, resolution=30)
    ax = fig.axes[0]
    faces = points(ax, "training points").get_facecolors()[:, :3] * 255
    for (x, _), face in zip(X, faces):
        background = pixel(fig, ax, 2 * x, 0.9)  # the same class's region, away from the point
        assert np.abs(background - face).sum() > 150


def test_several_classes_get_strong_distinct_colours():
    X = [[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]]
    fig = plots.plot_decision_boundary(three_way_model, X, [0, 1, 2], resolution=30)
    FigureCanvasAgg(fig).draw()  # (the colour map is applied when drawing)
    faces = points(fig.axes[0], "training points").get_facecolors()[:, :3]
    assert all(face.min() < 0.6 for face in faces)  # no pale yellow lost on the background
    assert len({tuple(np.round(face, 3)) for face in faces}) == 3


def test_decision_boundary_threshold_and_pm1_labels(tmp_path):
    X = [[-1.0, 0.0], [1.0, 0.0]]
    fig = plots.plot_decision_boundary(sign_model, X, [-1, 1], resolution=30, threshold=0.5)
    ax = fig.axes[0]
    # score 0.3 is below the threshold 0.5: that point is painted as class 0 (like x = -1.8)
    assert np.abs(pixel(fig, ax, 0.3, 0.9) - pixel(fig, ax, -1.8, 0.9)).sum() < 30
    assert np.abs(pixel(fig, ax, 0.3, 0.9) - pixel(fig, ax, 1.8, 0.9)).sum() > 50


def test_decision_boundary_with_several_classes(tmp_path):
    X = [[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]]
    fig = plots.plot_decision_boundary(three_way_model, X, [0, 1, 2], resolution=60)
    ax = fig.axes[0]
    bands = [pixel(fig, ax, x, 0.8) for x in (-2.5, 0.0, 2.5)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(bands[i] - bands[j]).sum() > 40


def test_decision_boundary_of_a_trained_model_on_moons(tmp_path):
    from chainrule import nn
    from chainrule.learn import fit

    X, y = data.moons(30, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 1], activation="relu", output_activation=None, seed=0)
    fit(model, X, y, lr=0.5, steps=5, progress=False)
    plots.plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=30)
    assert is_png(tmp_path / "b.png")


def test_decision_boundary_needs_two_features():
    X, y = data.toy()
    with pytest.raises(ValueError, match="needs points with 2 features, got 3"):
        plots.plot_decision_boundary(sign_model, X, y)
    with pytest.raises(ValueError, match="2 points but 3 labels"):
        plots.plot_decision_boundary(sign_model, [[0.0, 0.0], [1.0, 1.0]], [0, 1, 1])


def test_a_failed_save_leaves_the_old_picture(tmp_path, monkeypatch):
    path = tmp_path / "loss.png"
    path.write_bytes(b"old picture")

    def fail(self, *args, **kwargs):
        with open(args[0], "wb") as handle:
            handle.write(PNG)  # a start, then the failure
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", fail)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        plots.plot_history(small_history(), path)
    assert path.read_bytes() == b"old picture"
    assert os.listdir(tmp_path) == ["loss.png"]


def test_figures_show_in_notebooks_as_png():
    fig = plots.plot_history(small_history())
    assert fig._repr_png_().startswith(PNG)


def test_plots_work_headless_and_never_touch_the_backend(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        import matplotlib
        before = matplotlib.rcParams._get_backend_or_none()
        from chainrule import plots
        from chainrule.learn import History
        h = History(loss=[1.0, 0.5], train_accuracy=[0.5, 1.0], lr=[0.1, 0.1],
                    step_time=[0.1, 0.1])
        plots.plot_history(h, {str(tmp_path / "h.png")!r})
        plots.plot_decision_boundary(lambda r: r[0] * 1.0, [[0.0, 0.0], [1.0, 1.0]], [0, 1],
                                     {str(tmp_path / "b.png")!r}, resolution=20)
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
        assert matplotlib.rcParams._get_backend_or_none() == before, "backend changed"
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    env["PYTHONPATH"] = ROOT
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    assert is_png(tmp_path / "h.png") and is_png(tmp_path / "b.png")


def test_drawing_into_given_axes_uses_them():
    fig = Figure()
    ax = fig.add_subplot()
    assert (
        plots.plot_decision_boundary(sign_model, [[0.0, 0.0], [1, 1]], [0, 1], ax=ax, resolution=10)
        is fig
    )
    pair = Figure().subplots(1, 2)
    assert plots.plot_history(small_history(), ax=pair) is pair[0].figure
