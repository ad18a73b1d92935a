"""Plots of f(x) with its tangent, and of the activations with their backward-pass derivatives."""

import math
import subprocess
import sys

import numpy as np
import pytest

from chainrule.calculus.plots import plot_activations, plot_function


def f(x):
    return 3 * x**2 - 4 * x + 5


def line(ax, label_start):
    (found,) = [ln for ln in ax.get_lines() if ln.get_label().startswith(label_start)]
    return np.asarray(found.get_xdata(), float), np.asarray(found.get_ydata(), float)


def test_function_tangent_and_derivative(tmp_path):
    path = tmp_path / "f.png"
    fig = plot_function(f, x0=3, path=path)
    assert path.read_bytes().startswith(b"\x89PNG")
    ax_f, ax_d = fig.axes
    tx, ty = line(ax_f, "tangent")
    slope = (ty[1] - ty[0]) / (tx[1] - tx[0])
    assert slope == pytest.approx(14, abs=1e-5)  # the lecture's slope at x = 3
    assert ty[0] + slope * (3 - tx[0]) == pytest.approx(f(3.0))  # it touches f at x = 3
    xs, ys = line(ax_f, "f(x)")
    assert np.allclose(ys, 3 * xs**2 - 4 * xs + 5)
    xs, ds = line(ax_d, "f'(x)")
    assert np.allclose(ds, 6 * xs - 4, atol=1e-5)
    assert "slope 14" in ax_f.get_legend().get_texts()[1].get_text()


def test_function_without_point_and_with_own_grid():
    fig = plot_function(math.sin, xs=[0, 1, 2, 3])
    xs, ds = line(fig.axes[1], "f'(x)")
    assert np.allclose(ds, np.cos(xs), atol=1e-6)
    assert not [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("tangent")]
    with pytest.raises(ValueError):
        plot_function(math.sin, xs=[1.0])


def closed_forms(x):
    s = 1 / (1 + math.exp(-x))
    return {"tanh": 1 - math.tanh(x) ** 2, "relu": 1.0 if x > 0 else 0.0, "sigmoid": s * (1 - s)}


def test_activation_derivatives_come_out_of_backward_right(tmp_path):
    path = tmp_path / "act.png"
    fig = plot_activations(path=path)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert [ax.get_title() for ax in fig.axes] == ["tanh", "relu", "sigmoid"]
    for ax in fig.axes:
        name = ax.get_title()
        xs, ds = line(ax, f"d {name}/dx")
        expected = [closed_forms(x)[name] for x in xs]
        assert np.allclose(ds, expected, atol=1e-12)


def test_png_only_and_repr_png(tmp_path):
    fig = plot_activations()
    assert fig._repr_png_().startswith(b"\x89PNG")  # what Jupyter shows
    with pytest.raises(ValueError, match=r"f\.jpg: '\.jpg' is not one of \.png"):
        plot_function(f, path=tmp_path / "f.jpg")
    with pytest.raises(FileNotFoundError, match="folder .*missing does not exist"):
        plot_activations(tmp_path / "missing" / "a.png")  # refused before anything is drawn
    assert list(tmp_path.iterdir()) == []


def test_headless_and_pyplot_free():
    code = (
        "import sys; from chainrule.calculus.plots import plot_function, plot_activations;"
        "plot_function(lambda x: x*x, x0=1); plot_activations();"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "", "PYTHONPATH": ":".join(sys.path)},  # no DISPLAY, nothing inherited
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_second_order_panels_are_exact_derivatives_with_tangents():
    fig = plot_function(lambda x: x**3 - 2 * x, x0=1.5, order=2, xs=np.linspace(-2, 2, 41))
    ax_f, ax_d, ax_dd = fig.axes
    xs, ds = line(ax_d, "f'(x)")
    np.testing.assert_allclose(ds, 3 * xs**2 - 2, rtol=1e-12)
    xs, dds = line(ax_dd, "f''(x)")
    np.testing.assert_allclose(dds, 6 * xs, rtol=1e-12, atol=1e-12)
    tx, ty = line(ax_d, "tangent")  # the tangent of f' at 1.5 has slope f''(1.5) = 9
    assert (ty[1] - ty[0]) / (tx[1] - tx[0]) == pytest.approx(9.0)
    with pytest.raises(ValueError, match="order must be 1, 2 or 3"):
        plot_function(f, order=4)
