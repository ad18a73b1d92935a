"""A run that learned nothing, or blew up, says so: in fit's History, as a warning, and on the
command line, each time with settings to try."""

import json
import re
import warnings

import numpy as np
import pytest

from chainrule import data, nn
from chainrule.learn import Advice, TrainingDiverged, TrainingWarning, fit
from chainrule.learn.advice import diagnose
from chainrule.tensor.layers import mlp, names_mlp


def run(loss, accuracy=None, classes=None, **overrides):
    settings = dict(lr=0.1, default_lr=0.1, optimizer="sgd", batch_size=100, samples=100,
                    relu=False)  # fmt: skip
    return diagnose(loss, accuracy, classes, **{**settings, **overrides})


# -- the checks, on made-up runs ------------------------------------------------------------------


def test_a_run_that_learned_says_nothing():
    loss = [1.0 * 0.97**k for k in range(100)]
    assert run(loss, 0.98, [0, 1] * 50) == []
    assert run(loss) == []  # regression targets, a falling loss


def test_chance_level_accuracy_is_named_with_the_majority_share():
    loss = [2.3 - 0.001 * k for k in range(100)]
    classes = [k % 10 for k in range(100)]
    [advice] = run(loss, 0.11, classes)
    assert advice.kind == "learned_nothing"
    assert "train accuracy 11.0% is chance level" in advice.message
    assert "most common class scores 10.0%" in advice.message
    # a run that closes a fair part of the gap to 100% is not at chance
    assert run(loss, 0.30, classes) == []


def test_a_plateau_from_the_start_is_named_with_its_step():
    loss = [1.5, 1.2, 1.06] + [1.044] * 97
    [advice] = run(loss, 0.5, [0, 0, 1, 1] * 25, relu=True)
    assert "the loss stayed at 1.044 from step 3 on" in advice.message
    # a flat loss after real progress is convergence, not a plateau
    assert run([1.0] + [0.01] * 99) == []
    # regression: the plateau alone is the symptom
    [advice] = run([0.5] * 100)
    assert advice.message == "the model learned nothing: the loss stayed at 0.5 from step 0 on"


def test_the_advice_fits_the_run_and_is_said_for_python_and_for_the_cli():
    loss = [2.3] * 100
    classes = [k % 10 for k in range(1000)]
    [advice] = run(loss, 0.1, classes, samples=1000, batch_size=1000, relu=True)
    assert advice.tries == ({"batch_size": 32, "epochs": 10}, {"activation": "tanh"},
                            {"optimizer": "adam", "lr": 0.01})  # fmt: skip
    assert advice.text("cli").endswith(
        "; try --batch-size 32 --epochs 10, or --activation tanh, or --optimizer adam --lr 0.01"
    )
    assert str(advice).endswith(
        "; try batch_size=32 and epochs=10, or activation='tanh' in the model, "
        "or optimizer='adam' and lr=0.01"
    )
    # mini-batches, tanh, Adam already: a larger step or a longer run
    [advice] = run(loss, 0.1, classes, optimizer="adam", lr=0.001, default_lr=0.01)
    assert advice.tries == ({"lr": 0.01}, {"steps": 500})


def test_a_loss_that_grows_is_divergence_with_a_smaller_learning_rate_to_try():
    loss = [0.9 * 10**k for k in range(15)]
    [advice] = run(loss, 0.5, [0, 1] * 50, lr=1000.0)
    assert advice.kind == "diverged"
    assert "the loss grew from 0.9 to" in advice.message
    assert "lr=1000 made the loss grow" in advice.message
    assert advice.tries == ({"lr": 0.1}, {"optimizer": "adam", "lr": 0.01})
    # even a short run: a loss that explodes is worth a word at once
    assert run([1.0, 50.0, 2000.0], lr=3.0, default_lr=0.1)[0].kind == "diverged"
    # a learning rate below the default: a tenth of it
    assert run(loss, lr=0.05)[0].tries[0] == {"lr": 0.005}


def test_short_runs_are_not_judged():
    assert run([1.0] * 5, 0.5, [0, 1] * 50) == []


# -- fit keeps the advice and warns --------------------------------------------------------------


def test_fit_warns_and_keeps_the_advice_when_the_digits_learn_nothing():
    X, y = data.digits()
    model = mlp([64, 16, 16, 10], "relu", "linear", seed=1337)
    with pytest.warns(TrainingWarning, match="learned nothing: train accuracy .* chance level"):
        h = fit(model, X[:1300], y[:1300], loss="cross_entropy", lr=0.1, l2=1e-4,
                schedule="linear", steps=100, progress=False)  # fmt: skip
    [advice] = h.warnings
    assert isinstance(advice, Advice) and advice.kind == "learned_nothing"
    assert advice.tries[0] == {"batch_size": 32, "epochs": 10}
    assert "warning: learned_nothing" in repr(h)
    d = h.to_dict()
    assert json.loads(json.dumps(d)) == d and d["warnings"][0]["kind"] == "learned_nothing"
    # the advice works: mini-batches of 32 for 10 epochs learn
    model = mlp([64, 16, 16, 10], "relu", "linear", seed=1337)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingWarning)
        h = fit(model, X[:1300], y[:1300], loss="cross_entropy", lr=0.1, batch_size=32,
                epochs=10, progress=False, seed=0)  # fmt: skip
    assert h.warnings == [] and h.final_train_accuracy > 0.8


def test_fit_warns_when_the_loss_grows_far_above_its_start():
    X, y = data.moons(30, noise=0.1, seed=1)
    model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation=None, seed=1337)
    with pytest.warns(TrainingWarning, match="diverged: the loss grew from .* try lr=0.1"):
        h = fit(model, X, y, loss="hinge", lr=1000, l2=1e-4, steps=30, progress=False)
    assert [w.kind for w in h.warnings] == ["diverged"]


@pytest.mark.parametrize("engine", ["scalar", "tensor"])
def test_a_loss_that_becomes_inf_stops_with_the_advice(engine):
    X, y = data.moons(10, noise=0.1, seed=1)
    model = nn.MLP(2, [4, 1], activation="linear", seed=0)
    if engine == "tensor":
        model, X = mlp([2, 4, 1], "linear", "linear", seed=0), np.array(X, np.float32)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as info:
        fit(model, X, y, loss="mse", lr=1e200, steps=10, progress=False)
    message = str(info.value)
    assert message.startswith("fit: the run diverged: the loss became")
    assert "lr=1e+200 made the loss grow; try lr=0.1" in message
    assert isinstance(info.value, FloatingPointError)  # what earlier code caught
    assert info.value.advice.text("cli").endswith("try --lr 0.1, or --optimizer adam --lr 0.01")


def test_running_statistics_that_overflow_stop_the_run_at_that_step():
    """A batch's loss uses the batch's own statistics, so it stays finite while BatchNorm's
    running variance overflows: the run is lost all the same, and stops there."""
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 27, (64, 3)), rng.integers(0, 27, 64)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as info:
        fit(names_mlp(seed=0), X, y, loss="cross_entropy", lr=1e12, steps=50, progress=False)
    assert re.search(r"layers\.3\.running_var became inf or nan at step \d+", str(info.value))
