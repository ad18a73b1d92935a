"""Tensor models in the training loop, the losses, save/load and `chainrule train`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import baselines
import numpy as np
import pytest
import torch
from PIL import Image

from chainrule import Value, data, io, losses, optim
from chainrule.interop import from_torch, to_torch
from chainrule.learn import ScalarEngine, TensorEngine, engine_for, fit, predict
from chainrule.learn.data import digits_arrays as digits
from chainrule.nn import MLP
from chainrule.tensor import Tensor, binary_cross_entropy_with_logits
from chainrule.tensor.layers import Linear, ReLU, Sequential, mlp

ROOT = str(Path(__file__).resolve().parents[1])


def twin(model: MLP) -> Sequential:
    """The scalar model's exact weights as a float64 tensor model."""
    return from_torch(to_torch(model), dtype=np.float64)


@pytest.mark.parametrize(
    "name, loss, nouts, out_act, batch",
    [
        ("moons", "hinge", [8, 1], None, None),
        ("moons", "bce", [8, 1], None, 16),
        ("moons", "mse", [8, 1], "tanh", None),
        ("blobs", "cross_entropy", [8, 3], None, 16),
    ],
)
def test_fit_gives_the_same_run_on_both_engines(name, loss, nouts, out_act, batch):
    X, y = data.load(name, n=40, seed=3)
    X = np.float32(X).tolist()  # numbers a float32 input array holds exactly
    scalar = MLP(2, nouts, activation="relu", output_activation=out_act, seed=5)
    tensor = twin(scalar)
    assert isinstance(engine_for(scalar), ScalarEngine)
    assert isinstance(engine_for(tensor), TensorEngine)
    runs = []
    for model in (scalar, tensor):
        runs.append(
            fit(model, X, y, loss=loss, lr=0.3, l2=1e-3, steps=12, batch_size=batch,
                schedule="linear", X_test=X, y_test=y, progress=False, seed=7)
        )  # fmt: skip
    a, b = runs
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-9, atol=1e-12)
    assert a.train_accuracy == b.train_accuracy and a.test_accuracy == b.test_accuracy
    assert predict(scalar, X) == predict(tensor, X)


def test_fit_trains_digits_from_numpy_arrays():
    X_train, y_train, X_test, y_test = digits(seed=0)
    model = mlp([64, 64, 10], activation="relu", seed=0)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = fit(
        model, X_train, y_train, loss="cross_entropy", optimizer=opt, epochs=3, batch_size=32,
        X_test=X_test, y_test=y_test, progress=False, seed=0,
    )  # fmt: skip
    assert history.steps == 3 * 43
    assert baselines.majority_accuracy(y_train, y_test) < 0.15  # ten digits, about 10% each
    assert history.final_test_accuracy > 0.9
    assert history.loss[-1] < history.loss[0] / 5


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_losses_hand_tensors_to_the_tensor_versions(reduction):
    rng = np.random.default_rng(0)
    s = rng.standard_normal(6)
    pm1 = rng.choice([-1.0, 1.0], 6)
    for name, labels, kwargs in (
        ("mse", rng.standard_normal(6), {"reduction": reduction}),
        ("bce_with_logits", (pm1 + 1) / 2, {"reduction": reduction}),
        ("hinge", pm1, {}),
    ):
        values = [Value(v) for v in s]
        expected = getattr(losses, name)(values, list(labels), **kwargs)
        expected.backward()
        t = Tensor(s.reshape(-1, 1), requires_grad=True)  # a one-output model's column
        got = getattr(losses, name)(t, labels, **kwargs)
        assert isinstance(got, Tensor)
        got.backward()
        assert got.item() == pytest.approx(expected.data, rel=1e-12)
        np.testing.assert_allclose(t.grad[:, 0], [v.grad for v in values], rtol=1e-10)
    rows = rng.standard_normal((4, 3))
    classes = [2, 0, 1, 1]
    expected = losses.cross_entropy([[Value(v) for v in r] for r in rows], classes, reduction)
    got = losses.cross_entropy(Tensor(rows), classes, reduction)
    assert got.item() == pytest.approx(expected.data, rel=1e-12)


def test_tensor_hinge_with_params_adds_the_l2_term():
    layer = Linear(2, 1, seed=0, dtype=np.float64)
    s = layer(np.ones((3, 2)))
    plain = losses.hinge(s, [1, -1, 1])
    with_l2 = losses.hinge(s, [1, -1, 1], params=layer.parameters(), alpha=0.5)
    l2 = sum(float((p.data**2).sum()) for p in layer.parameters())
    assert with_l2.item() == pytest.approx(plain.item() + 0.5 * l2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: losses.hinge(t, [1, 0, 1]), r"labels must be -1 or \+1, got labels\[1\]"),
        (lambda t: losses.bce_with_logits(t, [0, 2, 1]), r"labels must be in \[0, 1\]"),
        (lambda t: losses.mse(t, [1.0, 2.0]), "mse: 3 predictions but 2 targets"),
        (lambda t: losses.mse(t, [1.0, 2.0, 3.0], reduction="max"), "unknown reduction"),
    ],
)
def test_tensor_losses_reject_bad_labels(call, message):
    with pytest.raises(ValueError, match=message):
        call(Tensor(np.zeros((3, 1))))


def test_bce_with_logits_matches_torch_and_stays_finite():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 2)) * 4
    x[0, 0] = 0.0  # the gradient is sigmoid(0) - y here too
    x[1, 1] = 800.0
    y = rng.uniform(0, 1, (5, 2))
    for reduction in ("mean", "sum", "none"):
        ours = Tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        out = binary_cross_entropy_with_logits(ours, y, reduction)
        tout = torch.nn.functional.binary_cross_entropy_with_logits(
            theirs, torch.tensor(y), reduction=reduction
        )
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
        up = np.ones(out.shape)
        out.backward(up)
        tout.backward(torch.tensor(up))
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_save_and_load_a_tensor_model(tmp_path):
    model = mlp([4, 6, 3], activation="tanh", output_activation="sigmoid", seed=2)
    path = io.save(model, tmp_path / "model.json", metadata={"note": "tensor"})
    loaded = io.load(path)
    assert isinstance(loaded, Sequential) and loaded.config() == model.config()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)  # float32 weights exactly


def test_mlp_builder():
    model = mlp([3, 5, 5, 2], activation="tanh", output_activation="linear", seed=1)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    again = mlp([3, 5, 5, 2], activation="tanh", seed=1)
    for p, q in zip(model.parameters(), again.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        mlp([2, 2], activation="swish")
    assert isinstance(mlp([2, 2], output_activation="relu")[1], ReLU)


def chainrule(*args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "chainrule", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_cli_trains_digits_on_the_tensor_engine(tmp_path):
    out = tmp_path / "digits"
    args = (
        "train --data digits --model 64,128,10 --activation relu --loss cross_entropy "
        "--optimizer sgd --lr 0.1 --momentum 0.9 --epochs 20 --batch-size 32 --quiet"
    ).split()
    result = chainrule(*args, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "450 held-out points" in result.stdout
    test = float(re.search(r"test accuracy (\d+\.\d)%", result.stdout).group(1))
    assert test >= 96.0
    model = io.load(out / "model.json")
    assert isinstance(model, Sequential)
    assert io.read_metadata(out / "model.json")["engine"] == "tensor"
    # no boundary for 64-D data; ten classes of 8x8 pictures: a confusion matrix and samples
    assert sorted(os.listdir(out)) == ["confusion.png", "loss.png", "model.json", "samples.png"]


def test_cli_engine_flag_on_moons(tmp_path):
    quick = ["--samples", "40", "--test-samples", "20", "--steps", "10", "--quiet"]
    for engine, kind in (("tensor", Sequential), ("scalar", MLP), ("auto", MLP)):
        out = tmp_path / engine
        result = chainrule("train", "--engine", engine, *quick, "--out", str(out), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert isinstance(io.load(out / "model.json"), kind)
        with Image.open(out / "boundary.png") as picture:
            assert picture.format == "PNG" and min(picture.size) > 200
            assert len(picture.getcolors(1 << 16) or range(1 << 16)) > 16  # drawn, not blank
