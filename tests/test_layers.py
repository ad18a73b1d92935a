"""Tensor layers: PyTorch's init and outputs, config and state round trips, training on digits."""

from __future__ import annotations

import json
import math

import baselines
import numpy as np
import pytest
import torch

from chainrule.learn.data import digits_arrays as digits
from chainrule.learn.optim import SGD
from chainrule.tensor import Tensor, cross_entropy, no_grad
from chainrule.tensor.layers import Linear, ReLU, Sequential, Sigmoid, Tanh, from_config


def test_linear_init_follows_pytorch():
    layer = Linear(64, 128, seed=0)
    bound = 1 / math.sqrt(64)
    assert layer.weight.shape == (128, 64) and layer.bias.shape == (128,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.9 * bound  # spread over the whole range, not clustered
    # PyTorch's own layer draws from the same range, with the same spread
    theirs = torch.nn.Linear(64, 128).weight.detach().numpy()
    assert np.abs(theirs).max() <= bound
    assert layer.weight.data.std() == pytest.approx(theirs.std(), rel=0.1)
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_seed_makes_init_reproducible():
    a, b, c = Linear(3, 2, seed=7), Linear(3, 2, seed=7), Linear(3, 2, seed=8)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    assert Linear(3, 2, bias=False).bias is None


def test_sequential_forward_and_backward_match_torch():
    model = Sequential(
        Linear(4, 5, seed=1), Tanh(), Linear(5, 3, seed=2), Sigmoid(), Linear(3, 2, seed=3), ReLU()
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 5),
        torch.nn.Tanh(),
        torch.nn.Linear(5, 3),
        torch.nn.Sigmoid(),
        torch.nn.Linear(3, 2),
        torch.nn.ReLU(),
    )
    with torch.no_grad():
        for (_, p), tp in zip(model.named_parameters(), theirs.parameters()):
            tp.copy_(torch.from_numpy(p.data))
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    out = model(x)  # a plain array is accepted as input
    tout = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    for p, tp in zip(model.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_parameter_names_and_count():
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1, bias=False))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.2.weight"]
    assert model.num_parameters() == 2 * 3 + 3 + 3
    assert "12 parameters" in repr(model) and "Linear(2 -> 3)" in repr(model)
    assert len(model) == 3 and isinstance(model[1], ReLU)


def test_config_round_trip_is_json():
    model = Sequential(Linear(64, 128), ReLU(), Linear(128, 10, bias=False), Tanh(), Sigmoid())
    config = json.loads(json.dumps(model.config()))
    assert config == {
        "type": "Sequential",
        "layers": [
            {"type": "Linear", "nin": 64, "nout": 128, "bias": True},
            {"type": "ReLU"},
            {"type": "Linear", "nin": 128, "nout": 10, "bias": False},
            {"type": "Tanh"},
            {"type": "Sigmoid"},
        ],
    }
    rebuilt = from_config(config)
    assert rebuilt.config() == config
    assert [p.shape for p in rebuilt.parameters()] == [p.shape for p in model.parameters()]


@pytest.mark.parametrize(
    "config, message",
    [
        ({"type": "Conv3d"}, "unknown type 'Conv3d'"),
        ({"type": "Linear", "nin": 0, "nout": 2}, "nin must be a positive integer"),
        ({"type": "Linear", "nin": 2}, "bad Linear config"),
        ({"type": "Sequential"}, "needs exactly a 'layers' list"),
        ({"type": "Linear", "nin": 2, "nout": 2, "seed": 1}, "must not carry a seed"),
        ([1, 2], "must be a mapping"),
    ],
)
def test_from_config_rejects_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        from_config(config)


def test_state_dict_round_trip():
    model = Sequential(Linear(3, 4, seed=1), ReLU(), Linear(4, 2, seed=2))
    state = json.loads(json.dumps(model.state_dict()))
    other = Sequential(Linear(3, 4, seed=5), ReLU(), Linear(4, 2, seed=6))
    weight = other.layers[0].weight
    held = weight.data
    other.load_state_dict(state)
    assert weight.data is held  # loaded in place: an optimizer's view of it stays valid
    for p, q in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(model(x).data, other(x).data)


def test_load_state_dict_errors_name_the_key_and_leave_the_model_alone():
    model = Sequential(Linear(3, 4, seed=1), ReLU(), Linear(4, 2, seed=2))
    before = [p.data.copy() for p in model.parameters()]
    state = model.state_dict()
    bad = dict(state, **{"layers.2.weight": np.zeros((2, 5)).tolist(), "layers.0.bias": [0.0] * 4})
    with pytest.raises(ValueError, match=r"'layers.2.weight'.* shape \(2, 5\).* shape \(2, 4\)"):
        model.load_state_dict(bad)
    missing = {k: v for k, v in state.items() if k != "layers.0.bias"}
    with pytest.raises(ValueError, match=r"missing 1 parameter\(s\): 'layers.0.bias'"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected 1 parameter\(s\): 'extra'"):
        model.load_state_dict(dict(state, extra=[1.0]))
    nan = dict(state, **{"layers.0.bias": [float("nan")] * 4})
    with pytest.raises(ValueError, match=r"\['layers.0.bias'\] holds values that are not finite"):
        model.load_state_dict(nan)
    for p, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, old)


def test_sgd_steps_tensor_parameters_like_torch():
    model = Sequential(Linear(3, 4, seed=1), ReLU(), Linear(4, 2, seed=2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for p, tp in zip(model.parameters(), theirs.parameters()):
            tp.copy_(torch.from_numpy(p.data))
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((5, 3)).astype(np.float32)
        y = rng.integers(0, 2, 5)
        loss = cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-5)
    for p, tp in zip(model.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_digits_loader():
    X_train, y_train, X_test, y_test = digits(test_fraction=0.25, seed=0)
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    # stratified: every digit about a quarter in the test set
    counts = np.bincount(y_test) / (np.bincount(y_train) + np.bincount(y_test))
    assert np.all(np.abs(counts - 0.25) < 0.02)
    again = digits(seed=0)
    np.testing.assert_array_equal(again[0], X_train)
    assert not np.array_equal(digits(seed=1)[0], X_train)
    with pytest.raises(ValueError, match="test_fraction"):
        digits(test_fraction=1.5)


def test_digits_train_quickly_to_high_accuracy():
    X_train, y_train, X_test, y_test = digits(seed=0)
    model = Sequential(Linear(64, 64, seed=0), ReLU(), Linear(64, 10, seed=1))
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(3):
        order = rng.permutation(len(X_train))
        for i in range(0, len(order), 32):
            idx = order[i : i + 32]
            loss = cross_entropy(model(Tensor(X_train[idx])), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with no_grad():
        predicted = model(X_test).data.argmax(axis=1)
    assert baselines.majority_accuracy(y_train, y_test) < 0.15  # ten digits, about 10% each
    assert (predicted == y_test).mean() > 0.9


def test_model_files_rebuild_tensor_layers_and_nn_needs_no_numpy():
    import subprocess
    import sys

    from chainrule.learn import io

    config = Sequential(Linear(2, 3), ReLU()).config()
    assert io.from_config(config).config() == config  # what chainrule.learn.io loads models with
    code = "import sys, chainrule.nn; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr  # the scalar classes need no numpy


def test_parameter_count_from_config_matches_the_built_model():
    from chainrule import layers

    model = Sequential(Linear(64, 128), ReLU(), Linear(128, 10, bias=False), Tanh())
    assert layers.parameter_count(model.config()) == model.num_parameters() == 64 * 128 + 128 + 1280
    with pytest.raises(ValueError, match="nout"):
        layers.parameter_count({"type": "Linear", "nin": 3, "nout": -1})
