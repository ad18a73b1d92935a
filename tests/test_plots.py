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
from chainrule.train import History

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
    assert np.abs(left - right).sum() > 100
    faces = ax.collections[-1].get_facecolors()[:, :3] * 255  # the scatter points
    class0, class1 = faces[0], faces[3]
    assert np.allclose(faces[0], faces[1]) and np.allclose(faces[2], faces[3])
    # each region has the colour of its own class's points (washed out by alpha)
    assert np.abs(left - class0).sum() < np.abs(left - class1).sum()
    assert np.abs(right - class1).sum() < np.abs(right - class0).sum()


def test_decision_boundary_threshold_and_pm1_labels(tmp_path):
    X = [[-1.0, 0.0], [1.0, 0.0]]
    fig = plots.plot_decision_boundary(sign_model, X, [-1, 1], resolution=30, threshold=0.5)
    ax = fig.axes[0]
    # score 0.3 is below the threshold 0.5: that point is painted as class 0 (like x = -1.8)
    assert np.abs(pixel(fig, ax, 0.3, 0.9) - pixel(fig, ax, -1.8, 0.9)).sum() < 30
    assert np.abs(pixel(fig, ax, 0.3, 0.9) - pixel(fig, ax, 1.8, 0.9)).sum() > 100


def test_decision_boundary_with_several_classes(tmp_path):
    X = [[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]]
    fig = plots.plot_decision_boundary(three_way_model, X, [0, 1, 2], resolution=60)
    ax = fig.axes[0]
    bands = [pixel(fig, ax, x, 0.8) for x in (-2.5, 0.0, 2.5)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(bands[i] - bands[j]).sum() > 60


def test_decision_boundary_of_a_trained_model_on_moons(tmp_path):
    from chainrule import nn
    from chainrule.train import fit

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
        from chainrule.train import History
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
