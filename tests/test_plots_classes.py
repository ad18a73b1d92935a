"""Training pictures for mini-batches and for several classes: smoothed curves, the confusion
matrix, the grid of sample predictions."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from chainrule import plots
from chainrule.learn import History

PNG = b"\x89PNG\r\n\x1a\n"


def minibatch_history(steps=100):
    rng = np.random.default_rng(0)
    h = History(batch_size=32, train_size=1000, l2=1e-4)
    h.loss = list(np.exp(-np.arange(steps) / 30) + rng.uniform(0, 0.3, steps))
    h.train_accuracy = list(np.clip(np.arange(steps) / steps + rng.uniform(-0.2, 0.2, steps), 0, 1))
    h.lr = [0.1] * steps
    h.step_time = [0.001] * steps
    return h


def test_minibatch_curves_are_smoothed_over_the_faint_raw_ones(tmp_path):
    h = minibatch_history()
    fig = plots.plot_history(h, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes().startswith(PNG)
    loss_ax, acc_ax = fig.axes
    raw, smooth = loss_ax.lines
    assert list(raw.get_ydata()) == h.loss and raw.get_alpha() < 0.5
    assert smooth.get_label() == "batch, mean of 4"  # 100 steps // 25
    assert np.std(np.diff(smooth.get_ydata())) < 0.5 * np.std(np.diff(h.loss))
    assert loss_ax.get_title() == "loss of each step's batch (with the L2 term)"
    assert [line.get_label() for line in acc_ax.lines] == [
        "train (batch), each step",
        "train (batch), mean of 4",
    ]
    # the moving average is centred: a constant stays constant, a line stays the line
    assert plots.smooth([2.0] * 7, 3) == [2.0] * 7
    assert plots.smooth([0.0, 1.0, 2.0, 3.0, 4.0], 3) == [0.5, 1.0, 2.0, 3.0, 3.5]
    # a chosen window, and none
    fig = plots.plot_history(h, smoothing=10)
    assert fig.axes[0].lines[1].get_label() == "batch, mean of 10"
    assert len(plots.plot_history(h, smoothing=1).axes[0].lines) == 1
    with pytest.raises(ValueError, match="smoothing must be an int >= 1"):
        plots.plot_history(h, smoothing=0)


def test_full_batch_curves_are_drawn_as_they_are_and_say_whose_loss():
    h = minibatch_history()
    h.batch_size = h.train_size  # every step saw the whole set
    h.l2 = 0.0
    loss_ax, _ = plots.plot_history(h).axes
    assert len(loss_ax.lines) == 1 and list(loss_ax.lines[0].get_ydata()) == h.loss
    assert loss_ax.get_title() == "loss of the whole training set"


def test_the_confusion_matrix_counts_each_true_and_predicted_pair(tmp_path):
    true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    pred = [0, 1, 1, 1, 1, 2, 2, 0, 2]
    fig = plots.plot_confusion_matrix(true, pred, tmp_path / "confusion.png")
    assert isinstance(fig, Figure) and (tmp_path / "confusion.png").read_bytes().startswith(PNG)
    ax = fig.axes[0]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts}  # fmt: skip
    assert cells == {(0, 0): "1", (0, 1): "1", (1, 1): "3", (2, 2): "3", (2, 0): "1"}
    shares = ax.images[0].get_array()
    assert shares[2][2] == pytest.approx(0.75) and shares[0][1] == pytest.approx(0.5)
    assert ax.get_title() == "confusion matrix: 7 of 9 right"
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    wide = plots.plot_confusion_matrix([0, 1], [0, 1], classes=4, title="mine").axes[0]
    assert wide.images[0].get_array().shape == (4, 4) and wide.get_title() == "mine"
    with pytest.raises(ValueError, match="as many predictions as labels"):
        plots.plot_confusion_matrix([0, 1], [0])


def test_the_sample_grid_shows_mistakes_first_in_red(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, (40, 64)).tolist()
    true = [k % 10 for k in range(40)]
    pred = list(true)
    pred[5], pred[30] = 3, 8  # two mistakes
    fig = plots.plot_sample_predictions(X, true, pred, tmp_path / "samples.png", count=16)
    assert (tmp_path / "samples.png").read_bytes().startswith(PNG)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 16
    titles = [ax.get_title() for ax in shown]
    assert titles[:2] == ["3 (is 5)", "8 (is 0)"]
    assert titles[2:5] == ["0", "1", "2"]
    assert shown[0].title.get_color() == "tab:red" and shown[2].title.get_color() == "black"
    assert shown[0].images[0].get_array().shape == (8, 8)
    assert fig._suptitle.get_text() == "predictions: 2 of 40 wrong, in red (shown first)"
    in_order = plots.plot_sample_predictions(X, true, pred, count=8, mistakes_first=False)
    assert [ax.get_title() for ax in in_order.axes if ax.images][5] == "3 (is 5)"


def test_the_loss_axis_names_the_loss_and_the_accuracy_axis_its_unit():
    h = minibatch_history()
    for loss, label in [("hinge", "hinge loss"), ("cross_entropy", "cross-entropy loss"),
                        ("bce", "binary cross-entropy loss"), (None, "loss")]:  # fmt: skip
        loss_ax, acc_ax = plots.plot_history(h, loss=loss).axes
        assert loss_ax.get_ylabel() == label
        assert acc_ax.get_ylabel() == "accuracy (%)"
        assert max(acc_ax.lines[0].get_ydata()) > 1  # percent, not a fraction


def test_the_cli_pictures_name_the_loss_and_are_large_enough_to_read(tmp_path, monkeypatch):
    from PIL import Image

    from chainrule import cli
    from chainrule.viz import plots as viz_plots

    labels = []
    drawn = viz_plots.plot_history

    def spy(*args, **kwargs):
        fig = drawn(*args, **kwargs)
        labels.append(fig.axes[0].get_ylabel())
        return fig

    monkeypatch.setattr(viz_plots, "plot_history", spy)
    quick = ["--samples", "60", "--test-samples", "30", "--steps", "5", "--quiet"]
    assert cli.main(["train", "--data", "blobs", *quick, "--out", str(tmp_path / "b")]) == 0
    assert labels == ["cross-entropy loss"]
    confusion = tmp_path / "c.png"
    model = str(tmp_path / "b" / "model.json")
    assert cli.main(["eval", model, "--confusion", str(confusion)]) == 0
    with Image.open(confusion) as picture:
        assert min(picture.size) >= 800  # 3 classes: 310 x 270 pixels at 100 dpi before
    with Image.open(tmp_path / "b" / "loss.png") as picture:
        assert min(picture.size) >= 800
