"""The layers of makemore and of a CNN: PyTorch's defaults, outputs and gradients in train and
eval modes against PyTorch's layers built from the same hyper-parameters (not through
`to_torch`, which would copy a wrong setting across), running statistics, train()/eval(), round
trips through files and PyTorch, shape errors that name the layer, and `fit` with BatchNorm."""

from __future__ import annotations

import inspect
import math

import baselines
import numpy as np
import pytest
import torch

from chainrule import io
from chainrule.interop import from_torch, to_torch
from chainrule.learn.io import from_config, parameter_count
from chainrule.tensor import Tensor, no_grad
from chainrule.tensor.layers import (
    BatchNorm1d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Tanh,
)

RNG = np.random.default_rng(1)
F64 = np.float64


def cnn(dtype=np.float32, seed=0):
    return Sequential(
        Conv2d(1, 4, 3, padding=1, seed=seed, dtype=dtype),
        ReLU(),
        MaxPool2d(2),
        Conv2d(4, 6, 3, stride=2, padding=1, seed=seed + 1, dtype=dtype),
        ReLU(),
        Flatten(),
        Dropout(0.25, seed=seed),
        Linear(6 * 2 * 2, 10, seed=seed + 2, dtype=dtype),
    )


def names_mlp(dtype=np.float32, seed=0):
    return Sequential(
        Embedding(27, 5, seed=seed, dtype=dtype),
        Flatten(),
        Linear(15, 32, bias=False, seed=seed + 1, dtype=dtype),
        BatchNorm1d(32, dtype=dtype),
        Tanh(),
        LayerNorm(32, dtype=dtype),
        Linear(32, 27, seed=seed + 2, dtype=dtype),
    )


def test_default_initialisation_and_float32_follow_pytorch():
    conv, theirs = Conv2d(3, 16, 5), torch.nn.Conv2d(3, 16, 5)
    bound = 1 / math.sqrt(3 * 25)
    assert conv.weight.shape == tuple(theirs.weight.shape) == (16, 3, 5, 5)
    assert conv.weight.dtype == np.float32 and conv.bias.dtype == np.float32
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert conv.weight.data.std() == pytest.approx(theirs.weight.detach().numpy().std(), rel=0.1)
    emb = Embedding(1000, 16, seed=0)
    assert emb.weight.dtype == np.float32
    assert emb.weight.data.std() == pytest.approx(1.0, rel=0.05)  # N(0, 1), as PyTorch
    assert not Embedding(5, 2, padding_idx=3).weight.data[3].any()
    bn = BatchNorm1d(4)
    assert (bn.weight.data == 1).all() and (bn.bias.data == 0).all()
    assert (bn.running_mean.data == 0).all() and (bn.running_var.data == 1).all()
    assert bn.num_batches_tracked.data == 0 and bn.eps == 1e-5 and bn.momentum == 0.1
    assert not bn.running_mean.requires_grad
    ln = LayerNorm((2, 3))
    assert ln.weight.shape == (2, 3) and (ln.weight.data == 1).all() and ln.eps == 1e-5
    assert MaxPool2d(3).stride == (3, 3) and Dropout().p == 0.5


# The oracle is PyTorch's own layers built from the hyper-parameters each case chooses, never
# `to_torch(ours)`: a stride, padding, eps or momentum that chainrule stored wrongly would be
# copied across by `to_torch` and agree with itself. Each layer is (name, args, kwargs), and the
# same numbers build chainrule's layer and `torch.nn`'s; only the weights are copied over, so
# the running statistics start from PyTorch's defaults and follow PyTorch's momentum rule.
ORACLE_CASES = {
    "cnn": [
        ("Conv2d", (1, 4, 3), {"padding": 1}),
        ("ReLU", (), {}),
        ("MaxPool2d", (2,), {}),
        ("Conv2d", (4, 6, 3), {"stride": 2, "padding": 1}),
        ("ReLU", (), {}),
        ("Flatten", (), {}),
        ("Linear", (6 * 2 * 2, 10), {}),
    ],
    "names-mlp": [
        ("Embedding", (27, 5), {"padding_idx": 0}),
        ("Flatten", (), {}),
        ("Linear", (15, 32), {"bias": False}),
        ("BatchNorm1d", (32,), {"eps": 1e-3, "momentum": 0.3}),
        ("Tanh", (), {}),
        ("LayerNorm", (32,), {"eps": 1e-2}),
        ("Linear", (32, 27), {}),
    ],
    "strided": [
        ("Conv2d", (2, 3, (3, 2)), {"stride": (2, 1), "padding": (0, 1)}),
        ("MaxPool2d", (3,), {"stride": 1, "padding": 1}),
        ("Flatten", (1, 2), {}),
    ],
    "cumulative-bn": [
        ("BatchNorm1d", (4,), {"momentum": None, "eps": 0.5}),
        ("LayerNorm", (5,), {"eps": 0.25, "bias": False}),
    ],
}
ORACLE_INPUTS = {
    "cnn": lambda: RNG.random((5, 1, 8, 8)),
    "names-mlp": lambda: RNG.integers(0, 27, (6, 3)),  # index 0, the padding row, comes up
    "strided": lambda: RNG.random((3, 2, 7, 6)),
    "cumulative-bn": lambda: RNG.standard_normal((3, 4, 5)) * 0.5,  # eps matters at this scale
}


def build_both(spec, seed=0):
    """chainrule's Sequential and PyTorch's, each built from `spec`; PyTorch's gets chainrule's
    initial weights (parameters only) by name, and nothing else."""
    from chainrule.tensor import layers

    ours, theirs = [], []
    for i, (name, args, kwargs) in enumerate(spec):
        cls = getattr(layers, name)
        takes = inspect.signature(cls).parameters
        extra = {"seed": seed + i, "dtype": F64}
        ours.append(cls(*args, **kwargs, **{k: v for k, v in extra.items() if k in takes}))
        theirs.append(getattr(torch.nn, name)(*args, **kwargs))
    ours, theirs = Sequential(*ours), torch.nn.Sequential(*theirs).double()
    named = dict(theirs.named_parameters())
    copied = set()
    with torch.no_grad():
        for name, p in ours.named_parameters():
            key = name.removeprefix("layers.")
            assert named[key].shape == p.shape, name
            named[key].copy_(torch.from_numpy(p.data))
            copied.add(key)
    assert copied == set(named)  # the same parameters on both sides, none left at random
    return ours, theirs


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("case", list(ORACLE_CASES))
def test_layers_match_torch_built_from_the_same_hyper_parameters(case, mode):
    ours, theirs = build_both(ORACLE_CASES[case])
    getattr(ours, mode)()
    getattr(theirs, mode)()
    make_input = ORACLE_INPUTS[case]
    for _ in range(3):  # several batches: BatchNorm's running statistics must keep up
        x = make_input()
        ours.zero_grad()
        theirs.zero_grad()
        tx = torch.from_numpy(x)
        out = ours(Tensor(x, requires_grad=x.dtype.kind == "f"))
        tout = theirs(tx.requires_grad_() if x.dtype.kind == "f" else tx)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-10)
        g = RNG.standard_normal(out.shape)
        out.backward(g)
        tout.backward(torch.from_numpy(g))
        named = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            tp = named[name.removeprefix("layers.")]
            np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-8, atol=1e-10)
    buffers = dict(theirs.named_buffers())
    ours_buffers = dict(ours.named_buffers())
    assert {name.removeprefix("layers.") for name in ours_buffers} == set(buffers)
    for name, b in ours_buffers.items():
        np.testing.assert_allclose(b.data, buffers[name.removeprefix("layers.")].numpy(),
                                   rtol=1e-12)  # fmt: skip


def test_to_torch_gives_the_layers_pytorch_builds_from_the_same_hyper_parameters():
    """`to_torch` itself, against the layers built by hand: the same outputs and the same
    running statistics after a training batch, so it carried every setting across."""
    for case, spec in ORACLE_CASES.items():
        ours, theirs = build_both(spec)
        converted = to_torch(ours)
        assert [type(m) for m in converted] == [type(m) for m in theirs], case
        x = torch.from_numpy(ORACLE_INPUTS[case]())
        torch.testing.assert_close(converted(x), theirs(x), rtol=1e-12, atol=1e-12)
        for a, b in zip(converted.state_dict().items(), theirs.state_dict().items(), strict=True):
            assert a[0] == b[0], case
            torch.testing.assert_close(a[1], b[1], rtol=1e-12, atol=0)


def test_batch_norm_running_statistics_after_several_batches_then_eval():
    ours = BatchNorm1d(3, eps=0.1, momentum=0.3, dtype=F64)
    theirs = torch.nn.BatchNorm1d(3, eps=0.1, momentum=0.3).double()
    for _ in range(5):
        x = RNG.standard_normal((8, 3)) * 0.5 + 1
        np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy())
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == 5
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal((1, 3))  # one sample is fine in evaluation
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy())
    assert int(ours.num_batches_tracked.data) == 5  # evaluation does not count batches
    ours.train()
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3.*N > 1 in training.*got \(1, 3\)"):
        ours(x)


def test_dropout_layer_drops_in_training_only_with_its_own_seed():
    layer = Dropout(0.5, seed=3)
    x = np.ones((50, 40), np.float32)
    out = layer(x).data
    assert set(np.unique(out)) == {0.0, 2.0}
    assert np.array_equal(out, Dropout(0.5, seed=3)(x).data)
    layer.eval()
    assert np.array_equal(layer(x).data, x)
    assert isinstance(to_torch(layer), torch.nn.Dropout) and not to_torch(layer).training


def test_train_and_eval_reach_every_layer():
    model = names_mlp()
    assert model.training and all(layer.training for layer in model)
    assert model.eval() is model
    assert not any(layer.training for layer in model) and not to_torch(model).training
    model.train()
    assert all(layer.training for layer in model) and to_torch(model)[3].training


def test_save_load_gives_the_same_predictions(tmp_path):
    for model, x in ((cnn(), RNG.random((4, 1, 8, 8), np.float32)),
                     (names_mlp(), RNG.integers(0, 27, (5, 3)))):  # fmt: skip
        for _ in range(3):  # move the running statistics off their start
            model(x)
        model.eval()
        path = io.save(model, tmp_path / "model.json")
        loaded = io.load(path).eval()
        np.testing.assert_array_equal(loaded(x).data, model(x).data)
        assert loaded.config() == model.config()
        theirs = loaded.named_buffers()
        for (name, b), (name2, b2) in zip(model.named_buffers(), theirs, strict=True):
            assert name == name2 and np.array_equal(b.data, b2.data)


def test_to_torch_from_torch_round_trip_keeps_weights_buffers_and_mode():
    for model in (cnn(), names_mlp()):
        model(np.zeros((2, 1, 8, 8), np.float32) if isinstance(model[0], Conv2d)
              else RNG.integers(0, 27, (4, 3)))  # fmt: skip
        model.eval()
        back = from_torch(to_torch(model))
        assert back.config() == model.config() and not back.training
        ours, theirs = model.state_dict(), back.state_dict()
        assert list(ours) == list(theirs)
        for name, a in ours.items():
            assert np.array_equal(np.asarray(a), np.asarray(theirs[name])), name
    single = from_torch(torch.nn.Conv2d(2, 3, (1, 2), stride=2))
    assert isinstance(single, Conv2d) and single.stride == (2, 2)
    with pytest.raises(TypeError, match="dilation"):
        from_torch(torch.nn.Conv2d(2, 3, 3, dilation=2))


@pytest.mark.parametrize(
    "model",
    [
        cnn(),
        names_mlp(),
        LayerNorm((2, 3), bias=False),
        BatchNorm1d(4, affine=False),
        Conv2d(2, 3, 2, bias=False),
    ],
)
def test_config_rebuilds_and_counts_without_building(model):  # fmt: skip
    config = model.config()
    assert from_config(config).config() == config
    assert parameter_count(config) == model.num_parameters()


def test_shape_errors_name_the_layer_the_expected_and_the_received_shape():
    cases = [
        (Conv2d(1, 8, 3), np.zeros((64, 784)),
         r"Conv2d\(1, 8, kernel_size=\(3, 3\)\): expected input of shape \(N, 1, H, W\) "
         r"or \(1, H, W\), got \(64, 784\)"),
        (Conv2d(1, 8, 5), np.zeros((2, 1, 3, 3)), r"Conv2d\(1, 8.*H >= 5 and W >= 5.*got"),
        (MaxPool2d(2), np.zeros((4, 4)), r"MaxPool2d\(kernel_size=\(2, 2\).*got \(4, 4\)"),
        (BatchNorm1d(200), np.zeros((32, 30)), r"BatchNorm1d\(200.*\(N, 200\).*got \(32, 30\)"),
        (LayerNorm(8), np.zeros((3, 4)), r"LayerNorm\(\(8,\).*\(\*, 8\), got \(3, 4\)"),
        (Flatten(2), np.zeros(3), r"Flatten\(start_dim=2.*got \(3,\)"),
        (Linear(1568, 10), np.zeros((64, 784)), r"Linear\(1568 -> 10\): .*got \(64, 784\)"),
    ]  # fmt: skip
    for layer, x, message in cases:
        with pytest.raises(ValueError, match=message):
            layer(x)
    with pytest.raises(TypeError, match=r"Embedding\(27, 5\): expected integer indices"):
        Embedding(27, 5)(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"Embedding\(27, 5\).*index 27 is out of range"):
        Embedding(27, 5)(np.array([[27]]))


def test_fit_trains_batchnorm_and_scores_in_eval_mode():
    from chainrule import optim
    from chainrule.learn import fit

    X = np.random.default_rng(0).integers(0, 27, (300, 3))
    y = (X[:, 0] + X[:, 2]) % 27  # learnable from the context
    model = names_mlp(seed=2)
    history = fit(model, X, y, loss="cross_entropy", optimizer=optim.Adam(model.parameters(),
                  lr=0.02), steps=60, batch_size=32, X_test=X[:50], y_test=y[:50],
                  progress=False, seed=0)  # fmt: skip
    # A model blind to the context scores the label frequencies: a loss of about 3.25 and 6%
    # accuracy (the most common label). 60 steps reach about 2.2 and 37% on the 300 contexts.
    unigram, majority = baselines.unigram_loss(y, y, 27), baselines.majority_accuracy(y, y)
    assert 2.6 < unigram - 0.5 and 0.25 > 3 * majority
    assert history.final_loss < 2.6 and history.final_train_accuracy >= 0.25, history
    assert model.training  # fit leaves the mode it found
    assert int(model[3].num_batches_tracked.data) == 60  # evaluation never counted a batch
    with no_grad():
        assert model.eval()(X[:1]).shape == (1, 27)
