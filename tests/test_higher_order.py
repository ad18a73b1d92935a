"""Derivatives of derivatives: `grad`, `value_and_grad`, `hessian` and `backward(create_graph=True)`
on both engines, against PyTorch (float64, `torch.autograd.grad(..., create_graph=True)`) and
against central differences."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from lecture import lecture_cube, lecture_neuron
from test_engine_property import _valid, apply, instruction

from chainrule import Tensor, Value, draw_dot, grad, hessian, ops, value_and_grad
from chainrule.value import NotTwiceDifferentiable


def third_of_tanh_x2_exp(x):
    return (x * x).tanh() * x.exp()


def torch_derivatives_of_tanh_x2_exp(x, order=3):
    """f', f'', ... of tanh(x²)·eˣ at x, by PyTorch in float64."""
    want = []
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    d = torch.tanh(t * t) * torch.exp(t)
    for _ in range(order):
        (d,) = torch.autograd.grad(d, t, create_graph=True)
        want.append(d.item())
    return want


def test_third_derivative_of_tanh_x2_exp_matches_torch():
    want = torch_derivatives_of_tanh_x2_exp(0.4)
    f = third_of_tanh_x2_exp
    got = [grad(f)(0.4), grad(grad(f))(0.4), grad(grad(grad(f)))(0.4)]
    assert got == pytest.approx(want, rel=1e-13)
    vec = grad(grad(grad(lambda x: third_of_tanh_x2_exp(x).sum())))
    assert vec(np.array([0.4]))[0] == pytest.approx(want[2], rel=1e-13)


# -- random graphs: first, second and third derivatives against torch ------------------------


def build(leaves, program, tanh, data):
    """The random program of test_engine_property on any engine's leaves."""
    vals = list(leaves)
    for op, i, j, k, c in program:
        i, j = i % len(vals), j % len(vals)
        x, y = data(vals[i]), data(vals[j])
        if not (np.all(_valid(op, x, y, k)) if np.ndim(x) == 0 else _valid_all(op, x, y, k)):
            op = "tanh"
        if op == "div_c" and c == 0:
            op = "mul_c"
        v = apply(op, vals[i], vals[j], k, c, tanh)
        if not np.all(np.isfinite(data(v))) or np.max(np.abs(data(v))) > 1e4:
            v = tanh(vals[i])
        vals.append(v)
    return vals[-1] + vals[-2] if len(vals) > 1 else vals[-1]


def _valid_all(op, x, y, k):
    return all(_valid(op, a, b, k) for a, b in zip(np.ravel(x), np.ravel(y)))


def torch_derivatives(inputs, program, order=3):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = build(ts, program, torch.tanh, lambda t: t.detach().numpy())
    out = out.sum()
    found = []
    d = out
    for _ in range(order):
        (d,) = torch.autograd.grad(d, ts[0], create_graph=True, allow_unused=True)
        if d is None or not d.requires_grad:
            found.append(0.0 if d is None else d.detach().numpy())
            found += [0.0] * (order - len(found))
            break
        found.append(d.detach().numpy())
        d = d.sum()
    return out.item(), found


# Whole numbers are left out: at exactly x = 1, torch's third derivative of x**x is 2 (its
# power rule special-cases the base 1), where the true value, and chainrule's, is 3.
floats = st.floats(min_value=-2, max_value=2, allow_nan=False).filter(
    lambda x: abs(x) > 1e-2 and x != round(x)
)


@settings(max_examples=150, deadline=None)
@given(inputs=st.lists(floats, min_size=1, max_size=3), program=st.lists(instruction, max_size=8))
def test_random_value_graphs_to_third_order(inputs, program):
    def f(*xs):
        xs = [x if isinstance(x, Value) else Value(x) for x in xs]  # the inputs held fixed
        return build(xs, program, lambda v: v.tanh(), lambda v: v.data)

    _, want = torch_derivatives(inputs, program)
    rest = inputs[1:]
    got = [
        grad(f)(inputs[0], *rest),
        grad(lambda x, *r: grad(f)(x, *r))(inputs[0], *rest),
        grad(lambda x, *r: grad(lambda y, *s: grad(f)(y, *s))(x, *r))(inputs[0], *rest),
    ]
    for g, w in zip(got, want):
        assert g == pytest.approx(float(w), rel=1e-7, abs=1e-8)


vectors = st.lists(
    st.lists(floats, min_size=3, max_size=3), min_size=1, max_size=3
)  # each input a vector of 3


@settings(max_examples=60, deadline=None)
@given(inputs=vectors, program=st.lists(instruction, max_size=6))
def test_random_tensor_graphs_to_third_order(inputs, program):
    arrays = [np.array(x) for x in inputs]

    def f(*xs):
        xs = [x if isinstance(x, Tensor) else Tensor(x) for x in xs]  # the inputs held fixed
        return build(xs, program, lambda t: t.tanh(), lambda t: t.data).sum()

    def second(*xs):
        return grad(f)(*xs).sum()

    def third(*xs):
        return grad(second)(*xs).sum()

    _, want = torch_derivatives(arrays, program)
    got = [grad(f)(*arrays), grad(second)(*arrays), grad(third)(*arrays)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.broadcast_to(w, (3,)), rtol=1e-7, atol=1e-8)


# -- every row's second derivative against central differences of its first -------------------

DOMAIN = {"log": (0.2, 3), "sqrt": (0.2, 3), "/": (0.5, 3), "**": (0.5, 2.5)}


@pytest.mark.parametrize("name", sorted(set(ops.TABLE) - {"step", "sign"}))
def test_every_row_second_derivative_matches_differences_of_the_first(name):
    op = ops.TABLE[name]
    lo, hi = DOMAIN.get(name, (-2.5, 2.5))
    rng = np.random.default_rng(7)
    h = 1e-5
    for _ in range(4):
        point = [float(v) for v in rng.uniform(lo, hi, op.arity)]
        if any(abs(v) < 0.05 for v in point):
            continue
        for i in range(op.arity):
            first = grad(op, argnums=i)
            second = grad(first, argnums=i)
            up, down = list(point), list(point)
            up[i] += h
            down[i] -= h
            slope = (first(*up) - first(*down)) / (2 * h)
            assert second(*point) == pytest.approx(slope, rel=1e-5, abs=1e-6), (name, point)


def test_relu_second_derivative_is_zero_and_does_not_raise():
    assert grad(grad(lambda x: x.relu()))(1.3) == 0.0
    assert grad(grad(lambda x: x.relu() * x))(1.3) == 2.0  # (x·relu x)'' = 2 for x > 0


# -- backward(create_graph=True) ------------------------------------------------------------


def test_value_backward_create_graph_records_the_gradient():
    x = Value(0.4, label="x")
    y = third_of_tanh_x2_exp(x)
    y.label = "y"
    y.backward(create_graph=True)
    first, second = torch_derivatives_of_tanh_x2_exp(0.4, order=2)
    g = x.grad
    assert isinstance(g, Value) and g.label == "dy/dx"
    assert g.data == pytest.approx(first, rel=1e-13)
    x.grad = 0.0
    g.backward()
    assert x.grad == pytest.approx(second, rel=1e-13)


def test_create_graph_leaves_accumulate_as_in_the_float_sweep():
    x = Value(2.0)
    (x * x).backward(create_graph=True)
    (x * x * x).backward(create_graph=True)
    assert x.grad.data == 4.0 + 12.0
    x.grad.backward()  # d/dx (2x + 3x²) = 2 + 6x = 14 at x = 2, added to what x.grad held
    assert isinstance(x.grad, Value) and x.grad.data == 16.0 + 14.0


def test_tensor_backward_create_graph_matches_torch():
    xd = np.array([0.4, -0.3, 1.2])
    Wd = np.arange(6.0).reshape(2, 3) / 5

    def program(x, W, lib):
        sm = x.softmax(-1) if lib is torch else x.softmax()
        return ((W @ x).tanh() * x[:2].exp()).sum() + (x**3).mean() + sm.max()

    x = Tensor(xd, requires_grad=True)
    W = Tensor(Wd, requires_grad=True)
    program(x, W, None).backward(create_graph=True)
    g = x.grad
    x.grad = W.grad = None
    (g * g).sum().backward()
    tx = torch.tensor(xd, requires_grad=True)
    tW = torch.tensor(Wd, requires_grad=True)
    (tg,) = torch.autograd.grad(program(tx, tW, torch), tx, create_graph=True)
    want_x, want_W = torch.autograd.grad((tg * tg).sum(), [tx, tW])
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, want_x.numpy(), rtol=1e-10)
    np.testing.assert_allclose(W.grad, want_W.numpy(), rtol=1e-10)


def test_tensor_losses_and_layers_are_twice_differentiable():
    rng = np.random.default_rng(0)
    xd, Wd, bd = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    labels = np.array([0, 1, 1, 0])
    from chainrule.tensor import binary_cross_entropy_with_logits, cross_entropy, linear

    def ours(W):
        z = linear(Tensor(xd), W, Tensor(bd))
        return (
            cross_entropy(z, labels)
            + binary_cross_entropy_with_logits(z[:, 0], labels.astype(float))
            + z.reshape(-1).log_softmax().mean()
        )

    def theirs(W):
        z = torch.nn.functional.linear(torch.tensor(xd), W, torch.tensor(bd))
        F = torch.nn.functional
        return (
            F.cross_entropy(z, torch.tensor(labels))
            + F.binary_cross_entropy_with_logits(z[:, 0], torch.tensor(labels, dtype=z.dtype))
            + z.reshape(-1).log_softmax(-1).mean()
        )

    H = hessian(lambda w: ours(w.reshape(2, 3)))(Wd.reshape(-1))
    tH = torch.autograd.functional.hessian(lambda w: theirs(w.reshape(2, 3)), torch.tensor(Wd))
    np.testing.assert_allclose(H, tH.reshape(6, 6).numpy(), rtol=1e-9, atol=1e-12)


# -- the functional API ---------------------------------------------------------------------


def test_hessian_matches_torch_for_tensors_and_for_lists_of_values():
    def f(x):
        return (x**3).sum() + (x[0] * x[1]).exp() + (x[1] * x[2]).sin()

    xd = np.array([0.5, 1.0, -0.7])
    H = hessian(f)(xd)
    tH = torch.autograd.functional.hessian(f, torch.tensor(xd))
    np.testing.assert_allclose(H, tH.numpy(), rtol=1e-12)
    assert isinstance(hessian(f)(Tensor(xd)), Tensor)
    rows = hessian(lambda v: v[0] ** 2 * v[1] + v[1].tanh())([1.0, 0.5])
    assert rows[0] == pytest.approx([1.0, 2.0])
    assert rows[1][1] == pytest.approx(-2 * math.tanh(0.5) * (1 - math.tanh(0.5) ** 2))


def test_grad_kinds_and_argnums():
    def g(x, y):
        return (x * y).sin() + y**2

    dx, dy = grad(g, argnums=(0, 1))(1.0, 2.0)
    assert (dx, dy) == pytest.approx((2 * math.cos(2.0), math.cos(2.0) + 4))
    assert isinstance(grad(g, argnums=-1)(1.0, 2.0), float)
    v, d = value_and_grad(g)(1.0, 2.0)
    assert v == pytest.approx(math.sin(2.0) + 4) and d == pytest.approx(2 * math.cos(2.0))
    t = grad(lambda x: (x * x).sum())(Tensor(np.array([1.0, 2.0])))
    assert isinstance(t, Tensor) and t.data.tolist() == [2.0, 4.0]
    a = grad(lambda x: (x * x).sum())(np.array([1.0, 2.0]))
    assert isinstance(a, np.ndarray) and a.tolist() == [2.0, 4.0]
    assert grad(lambda x: 3.0)(1.0) == 0.0  # a function that ignores its argument


def test_grad_does_not_touch_the_grads_of_captured_parameters():
    w = Value(3.0)
    w.grad = 0.5
    assert grad(lambda x: w * x * x)(2.0) == 12.0
    assert w.grad == 0.5


def test_clear_errors():
    with pytest.raises(ValueError, match="argnums=2 is out of range.*1 argument"):
        grad(third_of_tanh_x2_exp, argnums=2)(1.0)
    with pytest.raises(ValueError, match="argnums=\\(0, 3\\) is out of range"):
        grad(lambda a, b: a * b, argnums=(0, 3))(1.0, 2.0)
    with pytest.raises(TypeError, match="argnums must be an int"):
        grad(third_of_tanh_x2_exp, argnums="0")(1.0)
    with pytest.raises(ValueError, match="must return a scalar.*shape \\(2,\\)"):
        grad(lambda t: t * 2)(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="argument 0 is str 'a', not differentiable"):
        grad(third_of_tanh_x2_exp)("a")
    with pytest.raises(TypeError, match="dtype int64, which cannot be differentiated"):
        grad(lambda t: t.sum())(np.array([1, 2]))
    with pytest.raises(TypeError, match="dtype int64"):
        grad(lambda t: t.sum())(Tensor(np.array([1, 2])))


def test_a_lecture_closure_cannot_be_differentiated_twice():
    x = Value(2.0)
    lecture_cube(x).backward()
    assert x.grad == 12.0  # first order works as ever
    with pytest.raises(NotTwiceDifferentiable, match="op 'cube'.*_backward closure.*define_op"):
        grad(grad(lecture_cube))(2.0)


def test_draw_dot_of_a_recorded_gradient_shows_the_backward_pass():
    o, leaves = lecture_neuron()
    w1 = leaves["w1"]
    o.backward(create_graph=True)
    assert w1.grad.data == pytest.approx(1.0, rel=1e-9)  # x1 · (1 - o²) = 2 · 0.5
    source = draw_dot(w1.grad).source
    assert "do/dw1" in source and "tanh" in source
    assert "x1" in source  # do/dw1 = x1 · (1 - o²): the input it multiplies by is in the graph


def test_a_zeroth_power_stays_flat_in_the_recorded_pass():
    """relu(x)**2 at x < 0: its third derivative reaches relu(x)**0 = 0**0, whose slope is 0;
    computed as 0 * 0**-1 it would be nan (found by the random tensor graphs)."""

    def f(x):
        return x.relu() ** 2 + x.exp()

    assert grad(grad(grad(f)))(-0.5) == pytest.approx(math.exp(-0.5), rel=1e-15)

    def second(x):
        return grad(lambda t: f(t).sum())(x).sum()

    third = grad(lambda x: grad(second)(x).sum())(np.array([0.5, -0.5]))
    np.testing.assert_allclose(third, np.exp([0.5, -0.5]), rtol=1e-15)
