"""micrograd's own tests, run on chainrule through micrograd's import path.

micrograd ships `test/test_engine.py` with two tests (a sanity check and a longer chain of
`+ * ** relu - /`), each comparing its `Value` with PyTorch. The tests are not in micrograd's
wheel, so the same checks are written out here; what they import is what micrograd's test
imports, `from micrograd.engine import Value`, with that name pointed at `chainrule.Value`
(the two-line shim a learner would use). micrograd's `nn` module, re-imported on the patched
engine, must then build, run and train its MLP on chainrule Values, with the very gradients
micrograd's own engine gives.
"""

import importlib
import random
import sys
from contextlib import contextmanager

import micrograd
import micrograd.engine
import micrograd.nn
import pytest
import torch

import chainrule


@contextmanager
def micrograd_on_chainrule():
    """`micrograd.engine.Value` is chainrule's inside the block; yields `micrograd.nn` built on it.

    micrograd's own engine is unusable meanwhile (its methods look `Value` up in the same
    module), so anything run on it for comparison runs before or after the block.
    """
    original_value = micrograd.engine.Value
    original_nn = sys.modules["micrograd.nn"]
    micrograd.engine.Value = chainrule.Value
    del sys.modules["micrograd.nn"]
    try:
        yield importlib.import_module("micrograd.nn")
    finally:
        micrograd.engine.Value = original_value
        sys.modules["micrograd.nn"] = original_nn
        micrograd.nn = original_nn


@pytest.fixture
def shim():
    with micrograd_on_chainrule() as nn:
        yield nn


def torch_leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


# The expressions of micrograd's two tests, written once; both engines run the same code.


def sanity(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def more_ops(a, b):
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    return g + 10.0 / f


def test_the_shim_points_micrograd_at_chainrule(shim):
    from micrograd.engine import Value

    assert Value is chainrule.Value
    assert shim.Value is chainrule.Value


def test_sanity_check(shim):
    from micrograd.engine import Value

    x = Value(-4.0)
    y = sanity(x)
    y.backward()
    assert isinstance(y, chainrule.Value)

    xt = torch_leaf(-4.0)
    yt = sanity(xt)
    yt.backward()

    assert y.data == yt.item()  # micrograd's test asks for equality here
    assert x.grad == xt.grad.item()


def test_more_ops(shim):
    from micrograd.engine import Value

    a, b = Value(-4.0), Value(2.0)
    g = more_ops(a, b)
    g.backward()

    at, bt = torch_leaf(-4.0), torch_leaf(2.0)
    gt = more_ops(at, bt)
    gt.backward()

    tol = 1e-6  # micrograd's tolerance
    assert abs(g.data - gt.item()) < tol
    assert abs(a.grad - at.grad.item()) < tol
    assert abs(b.grad - bt.grad.item()) < tol


# micrograd's demo: an MLP with ReLU hidden layers, the SVM max-margin loss and L2, plain SGD.
POINTS = [(0.5, 1.0), (-1.2, 0.3), (1.5, -0.7), (-0.4, -1.1), (0.9, 0.2), (-1.0, 1.4)]
LABELS = [1, -1, 1, -1, 1, -1]


def demo_loss(model, value):
    scores = [model([value(x0), value(x1)]) for x0, x1 in POINTS]
    margins = [(1 + -yi * si).relu() for yi, si in zip(LABELS, scores)]
    data_loss = sum(margins) * (1.0 / len(margins))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def train(nn, value, steps=15):
    random.seed(1337)
    model = nn.MLP(2, [16, 16, 1])
    losses, grads = [], []
    for k in range(steps):
        loss = demo_loss(model, value)
        model.zero_grad()
        loss.backward()
        losses.append(loss.data)
        grads.append([p.grad for p in model.parameters()])
        lr = 1.0 - 0.9 * k / steps
        for p in model.parameters():
            p.data -= lr * p.grad
    return model, losses, grads


def test_micrograd_nn_trains_on_chainrule_values():
    # first the run on micrograd's own engine, for reference
    _, ref_losses, ref_grads = train(micrograd.nn, micrograd.engine.Value)
    with micrograd_on_chainrule() as nn:
        model, losses, grads = train(nn, chainrule.Value)
    params = model.parameters()
    assert len(params) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert all(type(p) is chainrule.Value for p in params)
    assert losses[-1] < 0.5 * losses[0]
    # the same losses and gradients as micrograd's engine, step by step
    assert losses == pytest.approx(ref_losses, rel=1e-12, abs=1e-12)
    for ours, theirs in zip(grads, ref_grads):
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_the_shim_is_undone_after_each_test():
    assert micrograd.engine.Value is not chainrule.Value
    assert sys.modules["micrograd.nn"].Value is micrograd.engine.Value
