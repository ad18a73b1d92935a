"""chainrule.learn.fit: it learns, records what happened, evaluates without a graph."""

import json
import math

import baselines
import pytest

from chainrule import Value, data, is_grad_enabled, losses, nn, optim
from chainrule.learn import History, fit, predict, predict_scores
from chainrule.nn import Module


def demo_model(seed=0, hidden=8):
    return nn.MLP(2, [hidden, hidden, 1], activation="relu", output_activation=None, seed=seed)


class Recorder(Module):
    """Wraps a model and notes, for every call, the input row and whether grad mode was on."""

    def __init__(self, model):
        self.model = model
        self._calls = []

    def __call__(self, x):
        out = self.model(x)
        self._calls.append((x, is_grad_enabled(), out))
        return out


# -- it learns --------------------------------------------------------------------------------


def test_fit_learns_moons_with_micrograds_recipe():
    X, y = data.moons(50, noise=0.1, seed=0)
    X_test, y_test = data.moons(100, noise=0.1, seed=100)
    model = demo_model(seed=0)
    h = fit(
        model,
        X,
        y,
        loss="hinge",
        lr=1.0,
        l2=1e-4,
        schedule="linear",
        steps=40,
        X_test=X_test,
        y_test=y_test,
        progress=False,
    )
    assert h.loss[-1] < 0.25 * h.loss[0]
    # a straight line through these points scores about 88% on them and 86% on the held-out
    # ones: 95% takes the curve
    assert 0.95 > baselines.linear_accuracy(X, y) + 0.05
    assert 0.95 > baselines.linear_accuracy(X, y, X_test, y_test) + 0.05
    assert h.final_train_accuracy >= 0.95
    assert h.final_test_accuracy >= 0.95
    # the final accuracies are the model's, measured after the last update
    pm1 = [2 * c - 1 for c in y]
    assert h.final_train_accuracy == losses.binary_accuracy(predict_scores(model, X), pm1)


def test_one_step_is_the_hand_written_micrograd_step():
    """loss, backward and update are exactly the lecture's loop: same numbers, bit for bit."""
    X, y = data.moons(20, noise=0.1, seed=3, labels="pm1")
    by_hand, fitted = demo_model(seed=5), demo_model(seed=5)
    params = by_hand.parameters()
    expected = []
    for k in range(3):
        scores = [by_hand(row) for row in X]
        loss = losses.hinge(scores, y, params, alpha=1e-4)
        for p in params:
            p.grad = 0.0
        loss.backward()
        lr = 1.0 - 0.9 * k / 3
        for p in params:
            p.data -= lr * p.grad
        expected.append(loss.data)
    h = fit(fitted, X, y, loss="hinge", lr=1.0, l2=1e-4, schedule="linear", steps=3, progress=False)
    assert h.loss == expected
    assert [p.data for p in fitted.parameters()] == [p.data for p in params]
    assert h.lr == pytest.approx([1.0, 0.7, 0.4])


def test_the_lecture_loop_on_the_toy_set_with_mse():
    X, y = data.toy()
    model = nn.MLP(3, [4, 4, 1], seed=0)  # tanh everywhere, as in the lecture
    h = fit(model, X, y, loss="mse", lr=0.1, steps=100, progress=False)
    assert h.loss[-1] < 0.01
    assert h.final_train_accuracy == 1.0
    assert h.threshold == 0.0  # targets -1/+1: the sign decides


def test_cross_entropy_learns_three_blobs():
    X, y = data.blobs(60, centers=3, seed=1)  # well apart: a linear classifier gets 100%
    model = nn.MLP(2, [8, 3], activation="relu", output_activation=None, seed=0)
    h = fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=optim.Adam(model.parameters(), lr=0.05),
        steps=30,
        progress=False,
    )
    assert h.loss[-1] < h.loss[0]
    assert baselines.majority_accuracy(y, y) < 0.4  # three classes of about 20 points each
    assert h.final_train_accuracy >= 0.95
    assert predict(model, X[:5]) == [
        max(range(3), key=s.__getitem__) for s in predict_scores(model, X[:5])
    ]


@pytest.mark.parametrize("labels", ["01", "pm1"])
def test_labels_are_coded_for_each_loss(labels):
    """0/1 and -1/+1 labels give the same run: fit codes them for the loss."""
    X, y = data.moons(20, noise=0.1, seed=1, labels=labels)
    runs = {}
    for loss in ("hinge", "bce"):
        runs[loss] = fit(demo_model(seed=2), X, y, loss=loss, steps=3, progress=False).loss
    pm1 = [1.0 if v > 0 else -1.0 for v in y]
    zero_one = [1.0 if v > 0 else 0.0 for v in y]
    hinge_model, bce_model = demo_model(seed=2), demo_model(seed=2)
    assert runs["hinge"][0] == losses.hinge([hinge_model(r) for r in X], pm1).data
    assert runs["bce"][0] == losses.bce_with_logits([bce_model(r) for r in X], zero_one).data


def test_a_callable_loss_gets_outputs_and_the_labels_as_given():
    X, y = data.moons(10, noise=0.1, seed=1)
    seen = []

    def loss(outputs, targets):
        seen.append(list(targets))
        assert all(isinstance(o, Value) for o in outputs)
        return losses.mse(outputs, targets)

    h = fit(demo_model(), X, y, loss=loss, steps=2, progress=False)
    assert seen == [y, y, y]  # two steps, then the whole set's final loss
    assert h.threshold == 0.5  # mse-like on 0/1 targets: split half way


# -- the history --------------------------------------------------------------------------------


def test_history_records_every_step_and_the_evaluations():
    X, y = data.moons(30, noise=0.1, seed=1)
    X_test, y_test = data.moons(20, noise=0.1, seed=2)
    h = fit(
        demo_model(),
        X,
        y,
        lr=0.5,
        schedule="linear",
        steps=12,
        eval_every=5,
        X_test=X_test,
        y_test=y_test,
        progress=False,
    )
    assert isinstance(h, History) and h.steps == 12
    assert len(h.loss) == len(h.train_accuracy) == len(h.lr) == len(h.step_time) == 12
    assert h.lr == pytest.approx([0.5 * (1 - 0.9 * k / 12) for k in range(12)])
    assert h.eval_steps == [0, 5, 10, 12]
    assert all(a is not None and 0 <= a <= 1 for a in h.train_accuracy + h.test_accuracy)
    assert all(a * 30 == round(a * 30) for a in h.train_accuracy)  # whole points counted
    assert all(t > 0 for t in h.step_time)
    assert h.time_per_step == pytest.approx(sum(h.step_time) / 12)
    assert h.total_time >= sum(h.step_time)
    assert h.final_test_accuracy == h.test_accuracy[-1]
    d = h.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["steps"] == 12 and d["loss"] == h.loss and d["eval_steps"] == h.eval_steps
    assert "12 steps" in repr(h) and "ms/step" in repr(h)


def test_regression_targets_have_no_accuracy():
    X = [[0.1 * i, 0.0] for i in range(10)]
    y = [0.3 * i for i in range(10)]
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation=None, seed=0)
    h = fit(model, X, y, loss="mse", lr=0.01, steps=3, progress=False)
    assert h.train_accuracy == [None] * 3 and h.final_train_accuracy is None


# -- evaluation records no graph; the loop adds no copies ----------------------------------------


def test_evaluation_runs_under_no_grad_and_records_no_graph():
    X, y = data.moons(12, noise=0.1, seed=1)
    X_test, y_test = data.moons(7, noise=0.1, seed=2)
    model = Recorder(demo_model())
    fit(model, X, y, steps=4, eval_every=2, X_test=X_test, y_test=y_test, progress=False)
    calls = model._calls
    training = [out for _, grad, out in calls if grad]
    evaluation = [out for _, grad, out in calls if not grad]
    assert len(training) == 4 * 12
    # one probe of the output width, the test set at steps 0, 2, 4, the train set at the end
    assert len(evaluation) == 1 + 3 * 7 + 12
    assert all(out._prev == () and out._op == "" for out in evaluation)
    assert all(out._prev for out in training)


def test_the_data_are_converted_once_and_a_full_batch_is_not_copied():
    X, y = data.moons(10, noise=0.1, seed=1)
    model = Recorder(demo_model())
    fit(model, X, y, steps=3, progress=False)
    rows = [x for x, grad, _ in model._calls if grad]
    assert all(isinstance(v, Value) for row in rows for v in row)
    first, later = rows[:10], rows[10:]
    assert all(a is b for a, b in zip(first * 2, later))  # the same rows, every step


def test_minibatches_visit_every_point_once_per_epoch_and_follow_the_seed():
    X, y = data.moons(25, noise=0.1, seed=1)
    model = Recorder(demo_model())
    h = fit(model, X, y, batch_size=10, epochs=2, seed=7, progress=False)
    assert h.steps == 6 and h.batch_size == 10  # 10 + 10 + 5 per epoch
    rows = [id(x) for x, grad, _ in model._calls if grad]
    assert len(rows) == 50
    assert len(set(rows[:25])) == 25 and set(rows[25:]) == set(rows[:25])
    assert rows[:25] != rows[25:]  # reshuffled each epoch
    again = fit(demo_model(), X, y, batch_size=10, epochs=2, seed=7, progress=False)
    other = fit(demo_model(), X, y, batch_size=10, epochs=2, seed=8, progress=False)
    assert again.loss == h.loss and other.loss != h.loss


# -- schedules, optimizers, progress -------------------------------------------------------------


def test_schedules_by_object_and_by_function():
    X, y = data.moons(10, noise=0.1, seed=1)
    model = demo_model()
    opt = optim.SGD(model.parameters(), lr=0.2)
    h = fit(
        model,
        X,
        y,
        optimizer=opt,
        schedule=optim.CosineAnnealingLR(opt, 4),
        steps=4,
        progress=False,
    )
    assert h.lr == pytest.approx([0.2 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)])
    h = fit(demo_model(), X, y, lr=1.0, schedule=lambda k: 1 / (k + 1), steps=3, progress=False)
    assert h.lr == [1.0, 0.5, 1 / 3]
    with pytest.raises(ValueError, match="different optimizer"):
        other = optim.SGD(demo_model().parameters(), lr=0.1)
        fit(model, X, y, optimizer=opt, schedule=optim.ConstantLR(other), progress=False)


def test_progress_bar_goes_to_stderr_and_is_silent_when_off(capsys):
    X, y = data.moons(10, noise=0.1, seed=1)
    fit(demo_model(), X, y, steps=2, progress=False)
    assert capsys.readouterr() == ("", "")
    fit(demo_model(), X, y, steps=2, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "2/2" in err and "loss" in err


def test_a_diverging_run_stops_with_a_clear_error():
    X, y = data.moons(10, noise=0.1, seed=1)
    model = nn.MLP(2, [4, 1], activation="linear", seed=0)
    with pytest.raises(
        FloatingPointError, match=r"loss became (inf|nan) at step .*lr=1e\+200 made the loss grow"
    ):
        fit(model, X, y, loss="mse", lr=1e200, steps=10, progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"loss": "l1"}, "unknown loss 'l1'; valid: 'hinge', 'mse', 'bce', 'cross_entropy'"),
        ({"steps": 3, "epochs": 1}, "steps or epochs, not both"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"l2": -1}, "l2 must be a number >= 0"),
        ({"X_test": [[0.0, 0.0]]}, "both X_test and y_test"),
        ({"loss": "cross_entropy"}, "cross_entropy needs a model with one output per class"),
        ({"schedule": 3}, "schedule must be a name"),
        ({"schedule": "warp"}, "unknown learning-rate schedule 'warp'"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    X, y = data.moons(10, noise=0.1, seed=1)
    with pytest.raises((ValueError, TypeError), match=match):
        fit(demo_model(), X, y, progress=False, **kwargs)


def test_bad_data_and_mismatched_models_are_named():
    X, y = data.moons(10, noise=0.1, seed=1)
    with pytest.raises(ValueError, match="X has 10 rows but y has 9 labels"):
        fit(demo_model(), X, y[:9], progress=False)
    with pytest.raises(ValueError, match=r"y\[2\] must be a finite number"):
        fit(demo_model(), X, y[:2] + [float("nan")] + y[3:], progress=False)
    three = nn.MLP(2, [4, 3], seed=0)
    with pytest.raises(
        ValueError, match="hinge loss needs a model with one output, this one has 3"
    ):
        fit(three, X, y, loss="hinge", progress=False)
    with pytest.raises(ValueError, match="class indices 0..2"):
        fit(three, X, [5] * 10, loss="cross_entropy", progress=False)
    blobs_X, blobs_y = data.blobs(12, centers=3, seed=0)
    with pytest.raises(ValueError, match="bce loss is for two classes, the labels have 3"):
        fit(demo_model(), blobs_X, blobs_y, loss="bce", progress=False)


# -- strings, as the command line takes them -------------------------------------------------------


@pytest.mark.parametrize(
    "name, made",
    [("sgd", lambda p: optim.SGD(p, lr=0.05)), ("adam", lambda p: optim.Adam(p, lr=0.05))],
)
def test_an_optimizer_by_name_is_the_optimizer_made_by_hand(name, made):
    X, y = data.moons(20, noise=0.1, seed=1)
    by_name, by_hand = demo_model(seed=3), demo_model(seed=3)
    h1 = fit(by_name, X, y, optimizer=name, lr=0.05, steps=5, progress=False)
    h2 = fit(by_hand, X, y, optimizer=made(by_hand.parameters()), steps=5, progress=False)
    assert h1.loss == h2.loss
    assert [p.data for p in by_name.parameters()] == [p.data for p in by_hand.parameters()]


def test_optimizer_names_have_their_own_default_rate_and_sgd_takes_momentum():
    X, y = data.moons(20, noise=0.1, seed=1)
    assert fit(demo_model(), X, y, optimizer="adam", steps=2, progress=False).lr == [0.01] * 2
    assert fit(demo_model(), X, y, optimizer="sgd", steps=2, progress=False).lr == [0.1] * 2
    with_momentum, by_hand = demo_model(seed=4), demo_model(seed=4)
    h1 = fit(with_momentum, X, y, optimizer="sgd", lr=0.1, momentum=0.9, steps=4, progress=False)
    opt = optim.SGD(by_hand.parameters(), lr=0.1, momentum=0.9)
    assert h1.loss == fit(by_hand, X, y, optimizer=opt, steps=4, progress=False).loss


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"optimizer": "rmsprop"}, "unknown optimizer 'rmsprop'; valid: 'sgd', 'adam'"),
        ({"optimizer": 3}, "optimizer must be a name"),
        ({"optimizer": "adam", "momentum": 0.9}, "momentum applies to optimizer='sgd' only"),
        ({"momentum": -1}, "momentum must be a number >= 0"),
    ],
)
def test_bad_optimizer_requests_are_named(kwargs, match):
    X, y = data.moons(10, noise=0.1, seed=1)
    with pytest.raises((ValueError, TypeError), match=match):
        fit(demo_model(), X, y, progress=False, **kwargs)


# -- data that cannot be trained on ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_nan_or_inf_in_the_data_is_refused_before_training_naming_row_and_column(bad):
    X, y = data.moons(12, noise=0.1, seed=1)
    X[3][1] = bad
    model = Recorder(demo_model())
    with pytest.raises(ValueError) as info:
        fit(model, X, y, steps=3, progress=False)
    assert str(info.value).startswith(f"fit: X[3][1] is {bad} (row 3, column 1)")
    assert str(info.value).endswith(
        "; one NaN or infinity in the data makes every weight nan: remove or replace it before "
        "training"
    )
    assert model._calls == []  # not one forward pass
    X_test = [row[:] for row in X]
    X[3][1] = 0.0
    X_test[7][0] = bad
    with pytest.raises(ValueError, match=r"fit: X_test\[3\]\[1\] is .* \(and 1 more value not"):
        fit(model, X, y, X_test=X_test, y_test=y, progress=False)


def test_a_nan_in_an_array_is_refused_on_the_tensor_engine_too():
    import numpy as np

    from chainrule.tensor.layers import mlp

    X, y = data.moons(12, noise=0.1, seed=1)
    X = np.array(X, np.float32)
    X[5, 0] = np.nan
    with pytest.raises(ValueError, match=r"^fit: X\[5\]\[0\] is nan \(row 5, column 0\)"):
        fit(mlp([2, 4, 1], seed=0), X, y, progress=False)
    images = np.zeros((4, 1, 3, 3), np.float32)
    images[2, 0, 1, 2] = np.inf
    with pytest.raises(ValueError, match=r"^fit: X\[2, 0, 1, 2\] is inf \(row 2\)"):
        fit(mlp([9, 2], seed=0), images, [0, 1, 0, 1], loss="cross_entropy", progress=False)


# -- the final loss is the whole set's --------------------------------------------------------


def test_the_final_loss_is_the_whole_training_sets_without_l2():
    from chainrule.learn import evaluate

    X, y = data.moons(30, noise=0.1, seed=1)
    model = demo_model()
    h = fit(model, X, y, lr=0.5, l2=1e-2, batch_size=8, epochs=2, progress=False, seed=1)
    assert h.final_loss == evaluate(model, X, y, loss="hinge")[0]
    assert evaluate(model, X, y, loss="hinge")[1] == h.final_train_accuracy
    assert h.train_size == 30 and h.l2 == 1e-2 and not h.full_batch
    full = fit(demo_model(), X, y, steps=2, progress=False)
    assert full.full_batch and full.l2 == 0.0
