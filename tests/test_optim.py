"""chainrule.learn.optim against torch.optim, float64: same start, same gradients, same
parameters."""

import math
import random

import numpy as np
import pytest
import torch

from chainrule import Value
from chainrule.learn.optim import (
    SGD,
    Adam,
    ConstantLR,
    CosineAnnealingLR,
    LinearDecayLR,
    get_scheduler,
)
from chainrule.nn import MLP

START = [0.7, -1.3, 0.25, 2.0, -0.4]
COEF = [1.5, -0.5, 2.0, 0.75, -1.25]


def scalar_loss(ps):
    """A loss whose gradient depends on the parameters, so optimizer state matters."""
    n = len(ps)
    return sum(
        c * p.tanh() * ps[(i + 1) % n] + 0.5 * p * p for i, (c, p) in enumerate(zip(COEF, ps))
    )


def torch_loss(t):
    c = torch.tensor(COEF, dtype=torch.float64)
    return (c * torch.tanh(t) * torch.roll(t, -1) + 0.5 * t * t).sum()


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
]


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_three_steps_on_values_match_torch(name, kwargs):
    ps = [Value(x) for x in START]
    opt = {"SGD": SGD, "Adam": Adam}[name](ps, **kwargs)
    t = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    t_opt = getattr(torch.optim, name)([t], **kwargs)
    for _ in range(3):
        opt.zero_grad()
        scalar_loss(ps).backward()
        opt.step()
        t_opt.zero_grad()
        torch_loss(t).backward()
        t_opt.step()
    assert [p.grad for p in ps] == pytest.approx(t.grad.tolist(), rel=1e-12)
    assert [p.data for p in ps] == pytest.approx(t.tolist(), rel=1e-12)
    assert [p.data for p in ps] != START


class ArrayParam:
    """What a Tensor parameter looks like to an optimizer: array data, array-or-None grad."""

    def __init__(self, data):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_three_steps_on_arrays_match_torch_in_place(name, kwargs):
    rng = np.random.default_rng(0)
    w0, b0 = rng.normal(size=(3, 2)), rng.normal(size=3)
    w, b, frozen = ArrayParam(w0), ArrayParam(b0), ArrayParam([1.0, 2.0])
    arrays = (w.data, b.data)
    opt = {"SGD": SGD, "Adam": Adam}[name]([w, b, frozen], **kwargs)
    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    t_opt = getattr(torch.optim, name)([tw, tb], **kwargs)
    x = torch.tensor(rng.normal(size=(4, 2)))
    for _ in range(3):
        t_opt.zero_grad()
        torch.tanh(x @ tw.T + tb).pow(2).sum().backward()
        opt.zero_grad()
        assert w.grad is None and frozen.grad is None
        # the array engine's gradients of the same loss at our current weights
        tw2 = torch.tensor(w.data, requires_grad=True)
        tb2 = torch.tensor(b.data, requires_grad=True)
        torch.tanh(x @ tw2.T + tb2).pow(2).sum().backward()
        w.grad, b.grad = tw2.grad.numpy().copy(), tb2.grad.numpy().copy()
        opt.step()
        t_opt.step()
    assert w.data is arrays[0] and b.data is arrays[1]  # updated in place
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(frozen.data, [1.0, 2.0])  # grad None: untouched


def test_momentum_buffer_is_not_an_alias_of_the_gradient():
    p = ArrayParam([1.0, 1.0])
    opt = SGD([p], lr=0.1, momentum=0.5)
    p.grad = np.array([1.0, 1.0])
    opt.step()
    p.grad += 100.0  # an engine accumulating into the same array must not move the buffer
    p.grad[:] = [1.0, 1.0]
    opt.step()
    # buf: 1, then 0.5*1 + 1 = 1.5; p = 1 - 0.1 - 0.15
    np.testing.assert_allclose(p.data, [0.75, 0.75], rtol=1e-15)


def test_plain_sgd_is_the_lecture_update():
    model = MLP(3, [4, 4, 1], seed=2)
    twin = MLP(3, [4, 4, 1], seed=2)
    opt = SGD(model.parameters(), lr=0.1)
    for m in (model, twin):
        m([2.0, 3.0, -1.0]).backward()
    opt.step()
    for p in twin.parameters():
        p.data += -0.1 * p.grad
    assert [p.data for p in model.parameters()] == [p.data for p in twin.parameters()]
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_a_module_is_accepted_as_params():
    model = MLP(2, [3, 1], seed=0)
    assert SGD(model, lr=0.1).params == model.parameters()


# -- schedules -------------------------------------------------------------------------------


def test_linear_decay_is_micrograds_schedule_exactly():
    opt = SGD([Value(1.0)], lr=1.0)
    sched = LinearDecayLR(opt, total_steps=100)
    seen = []
    for _ in range(100):
        seen.append(opt.lr)
        opt.step()
        sched.step()
    assert seen == [1.0 - 0.9 * k / 100 for k in range(100)]
    assert sched.lr_at(100) == pytest.approx(0.1) and sched.lr_at(500) == sched.lr_at(100)
    assert sched.get_last_lr() == [opt.lr]


def test_schedules_drive_sgd_like_torch_lambda_and_cosine():
    for ours, theirs in [
        (
            lambda o: LinearDecayLR(o, total_steps=10),
            lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda k: 1.0 - 0.9 * k / 10),
        ),
        (
            lambda o: CosineAnnealingLR(o, T_max=6, eta_min=0.01),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
        ),
        (
            lambda o: ConstantLR(o, factor=0.5, total_iters=3),
            lambda o: torch.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3),
        ),
    ]:
        ps = [Value(x) for x in START]
        opt = SGD(ps, lr=0.2, momentum=0.5)
        sched = ours(opt)
        t = torch.tensor(START, dtype=torch.float64, requires_grad=True)
        t_opt = torch.optim.SGD([t], lr=0.2, momentum=0.5)
        t_sched = theirs(t_opt)
        for _ in range(6):
            assert opt.lr == pytest.approx(t_sched.get_last_lr()[0], rel=1e-12)
            opt.zero_grad()
            scalar_loss(ps).backward()
            opt.step()
            sched.step()
            t_opt.zero_grad()
            torch_loss(t).backward()
            t_opt.step()
            t_sched.step()
        assert [p.data for p in ps] == pytest.approx(t.tolist(), rel=1e-12)


def test_constant_and_cosine_values():
    opt = SGD([Value(0.0)], lr=0.3)
    const = ConstantLR(opt)
    assert [const.lr_at(k) for k in (0, 1, 1000)] == [0.3, 0.3, 0.3]
    cos = CosineAnnealingLR(SGD([Value(0.0)], lr=1.0), T_max=4)
    assert [cos.lr_at(k) for k in range(6)] == pytest.approx(
        [1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2, 0, 0],
        abs=1e-15,
    )
    assert get_scheduler("linear", SGD([Value(0.0)], lr=2.0), 10).lr_at(10) == pytest.approx(0.2)
    assert isinstance(get_scheduler("constant", opt, 10), ConstantLR)


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda ps: SGD(ps, lr=-0.1), r"SGD: lr must be a number >= 0.0, got -0.1"),
        (lambda ps: SGD(ps, lr="0.1"), "SGD: lr"),
        (lambda ps: SGD(ps, lr=float("nan")), "SGD: lr"),
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.9), "momentum"),
        (lambda ps: SGD(ps, lr=0.1, weight_decay=-1), "weight_decay"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), "nesterov needs a momentum"),
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov="yes"), "nesterov must be"),
        (lambda ps: Adam(ps, lr=-1), "Adam: lr"),
        (lambda ps: Adam(ps, betas=(1.0, 0.999)), r"betas\[0\] must be a number in \[0.0, 1.0\)"),
        (lambda ps: Adam(ps, betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda ps: Adam(ps, betas=0.9), "betas must be a pair"),
        (lambda ps: Adam(ps, eps=-1e-8), "eps"),
        (lambda ps: SGD([], lr=0.1), "empty parameter list"),
        (lambda ps: SGD([ps[0], ps[1], ps[0]], lr=0.1), r"params\[2\] is the same .*params\[0\]"),
        (lambda ps: LinearDecayLR(SGD(ps, lr=1.0), total_steps=0), "total_steps"),
        (lambda ps: LinearDecayLR(SGD(ps, lr=1.0), 10, decay=1.5), "decay"),
        (lambda ps: CosineAnnealingLR(SGD(ps, lr=1.0), T_max=2.5), "T_max"),
        (lambda ps: ConstantLR(SGD(ps, lr=1.0), total_iters=-1), "total_iters"),
        (lambda ps: LinearDecayLR(SGD(ps, lr=1.0), 10).lr_at(-1), "step must be"),
        (lambda ps: get_scheduler("step", SGD(ps, lr=1.0), 10), "'constant', 'linear', 'cosine'"),
    ],
)
def test_bad_settings_are_named(build, match):
    ps = [Value(1.0), Value(2.0)]
    with pytest.raises(ValueError, match=match):
        build(ps)


def test_bad_params_and_lr_assignment():
    with pytest.raises(TypeError, match="params must be an iterable"):
        SGD(Value(1.0), lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\] has no .data/.grad"):
        SGD([Value(1.0), 2.0], lr=0.1)
    opt = Adam([Value(1.0)])
    with pytest.raises(ValueError, match="Adam: lr"):
        opt.lr = -3
    with pytest.raises(TypeError, match="needs an Optimizer"):
        LinearDecayLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), 10)


def test_repr_mentions_settings():
    ps = [Value(random.random()) for _ in range(3)]
    assert repr(SGD(ps, lr=0.1, momentum=0.9)) == "SGD(3 parameters, lr=0.1, momentum=0.9)"
    assert repr(Adam(ps)).startswith("Adam(3 parameters, lr=0.001, betas=(0.9, 0.999)")
