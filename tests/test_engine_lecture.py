"""The lecture's own examples, typed as a learner types them, must give the lecture's numbers."""

import math

import pytest

from chainrule import Value


def build_L():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    return a, b, c, d, e, f, L


def build_neuron(b_value=6.8813735870195432):
    x1 = Value(2.0, label="x1")
    x2 = Value(0.0, label="x2")
    w1 = Value(-3.0, label="w1")
    w2 = Value(1.0, label="w2")
    b = Value(b_value, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    return x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n


def test_L_example_backward():
    a, b, c, d, e, f, L = build_L()
    assert L.data == -8.0
    L.backward()
    assert (L.grad, a.grad, b.grad, c.grad, f.grad, d.grad, e.grad) == (1, 6, -4, -2, 4, -2, -2)


def test_L_example_numerical_slope_matches():
    # The lecture nudges a by h and measures the slope of L: it must agree with a.grad.
    h = 1e-6

    def L_of(a_val):
        a = Value(a_val)
        return ((a * Value(-3.0) + Value(10.0)) * Value(-2.0)).data

    slope = (L_of(2.0 + h) - L_of(2.0)) / h
    a, *_, L = build_L()
    L.backward()
    assert slope == pytest.approx(a.grad, rel=1e-6)


def test_neuron_backward_matches_lecture():
    x1, x2, w1, w2, b, *_, n = build_neuron()
    o = n.tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert x1.grad == pytest.approx(-1.5, abs=1e-9)
    assert w1.grad == pytest.approx(1.0, abs=1e-9)
    assert x2.grad == pytest.approx(0.5, abs=1e-9)
    assert w2.grad == 0.0
    assert b.grad == pytest.approx(0.5, abs=1e-9)


def test_manual_backward_stepping_like_the_lecture():
    x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n = build_neuron()
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, b, x1w1x2w2, x1w1, x2w2):
        node._backward()
    assert n.grad == pytest.approx(1 - o.data**2)
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0))


def test_reused_node_accumulates():
    a = Value(3.0, label="a")
    b = a + a
    b.backward()
    assert a.grad == 2.0  # the lecture's bug gave 1.0


def test_d_times_e_example():
    a = Value(-2.0, label="a")
    b = Value(3.0, label="b")
    d = a * b
    e = a + b
    f = d * e
    f.backward()
    # f = ab(a+b): df/da = 2ab + b^2 = -3, df/db = a^2 + 2ab = -8
    assert (a.grad, b.grad) == (-3.0, -8.0)


def test_tanh_written_with_exp_matches_tanh():
    *inputs, n = build_neuron()
    o = n.tanh()
    o.backward()
    grads_tanh = [v.grad for v in inputs[:5]]

    *inputs2, n2 = build_neuron()
    e = (2 * n2).exp()
    o2 = (e - 1) / (e + 1)
    o2.backward()
    assert o2.data == pytest.approx(o.data, rel=1e-12)
    assert [v.grad for v in inputs2[:5]] == pytest.approx(grads_tanh, rel=1e-9, abs=1e-12)


def test_op_written_the_lecture_way_takes_part_in_backward():
    def cube(self):
        out = Value(self.data**3, (self,), "cube")

        def _backward():
            self.grad += 3 * self.data**2 * out.grad

        out._backward = _backward
        return out

    x = Value(2.0, label="x")
    y = cube(x) * 5 + x
    y.backward()
    assert y._prev and (x.grad == 5 * 3 * 4 + 1)
    assert cube(x)._op == "cube"


def test_lecture_mlp_loop_with_values_typed_by_hand():
    import random

    rng = random.Random(0)

    class Neuron:
        def __init__(self, nin):
            self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
            self.b = Value(rng.uniform(-1, 1))

        def __call__(self, x):
            return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

        def parameters(self):
            return self.w + [self.b]

    layers = [[Neuron(3) for _ in range(4)], [Neuron(4) for _ in range(4)], [Neuron(4)]]

    def net(x):
        for layer in layers:
            x = [n(x) for n in layer]
        return x[0]

    params = [p for layer in layers for n in layer for p in n.parameters()]
    assert len(params) == 41
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    for _ in range(100):
        loss = sum((net(x) - y) ** 2 for x, y in zip(xs, ys))
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data += -0.1 * p.grad
    assert loss.data < 0.01
    assert all(math.copysign(1, net(x).data) == y for x, y in zip(xs, ys))
