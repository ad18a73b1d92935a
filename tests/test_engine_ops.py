"""Every Value op against PyTorch (float64) and against central finite differences."""

import math

import pytest
import torch

from chainrule import Value, dot

# (name, function of two operands, domain of a, domain of b). Each applies to Values or tensors.
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow_value": lambda a, b: a**b,
}
UNARY = {
    "neg": lambda a: -a,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(),
    "pow2": lambda a: a**2,
    "pow_neg": lambda a: a**-1.5,
    "rpow": lambda a: 2.5**a,
    "radd": lambda a: 3 + a,
    "rsub": lambda a: 3 - a,
    "rmul": lambda a: 3 * a,
    "rdiv": lambda a: 3 / a,
    "add_const": lambda a: a + 0.25,
    "div_const": lambda a: a / 4,
}
POINTS = [0.3, 1.7, 2.9]


def torch_grads(fn, *xs):
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = fn(*ts)
    out.backward()
    return out.item(), [t.grad.item() for t in ts]


def value_grads(fn, *xs):
    vs = [Value(x) for x in xs]
    out = fn(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


def torch_unary(name):
    special = {
        "exp": torch.exp,
        "log": torch.log,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
    }
    return special.get(name, UNARY[name])


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("a", POINTS)
@pytest.mark.parametrize("b", [-1.3, 0.6, 2.2])
def test_binary_ops_match_torch(name, a, b):
    fn = BINARY[name]
    got, got_grads = value_grads(fn, a, b)
    want, want_grads = torch_grads(fn, a, b)
    assert got == pytest.approx(want, rel=1e-12)
    assert got_grads == pytest.approx(want_grads, rel=1e-12, abs=1e-15)


POSITIVE_ONLY = ("log", "pow_neg")  # outside their real domain they raise (see the error tests)
UNARY_CASES = [
    (name, a)
    for name in sorted(UNARY)
    for a in POINTS + [-0.8]
    if a > 0 or name not in POSITIVE_ONLY
]


@pytest.mark.parametrize(("name", "a"), UNARY_CASES)
def test_unary_ops_match_torch(name, a):
    got, got_grads = value_grads(UNARY[name], a)
    want, want_grads = torch_grads(torch_unary(name), a)
    assert got == pytest.approx(want, rel=1e-12)
    assert got_grads == pytest.approx(want_grads, rel=1e-12, abs=1e-15)


def central_difference(fn, xs, i, h=1e-6):
    hi = list(xs)
    lo = list(xs)
    hi[i] += h
    lo[i] -= h
    return (fn(*map(Value, hi)).data - fn(*map(Value, lo)).data) / (2 * h)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_match_finite_differences(name):
    fn = BINARY[name]
    for a in POINTS:
        for b in (-1.3, 0.6, 2.2):
            _, grads = value_grads(fn, a, b)
            for i in range(2):
                numeric = central_difference(fn, [a, b], i)
                assert grads[i] == pytest.approx(numeric, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_match_finite_differences(name):
    fn = UNARY[name]
    for a in POINTS + ([] if name in POSITIVE_ONLY else [-0.8]):
        _, (grad,) = value_grads(fn, a)
        assert grad == pytest.approx(central_difference(fn, [a], 0), rel=1e-6, abs=1e-7)


def test_micrograd_readme_expression_matches_torch():
    def expression(a, b):
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        relu = torch.relu if isinstance(a, torch.Tensor) else (lambda v: v.relu())
        d = d + d * 2 + relu(b + a)
        d = d + 3 * d + relu(b - a)
        e = c - d
        f = e**2
        g = f / 2.0
        g = g + 10.0 / f
        return g

    g, (da, db) = value_grads(expression, -4.0, 2.0)
    tg, (tda, tdb) = torch_grads(expression, -4.0, 2.0)
    assert (round(g, 4), round(da, 4), round(db, 4)) == (24.7041, 138.8338, 645.5773)
    assert (g, da, db) == pytest.approx((tg, tda, tdb), rel=1e-12)


def test_in_place_operators_build_new_nodes():
    a = Value(-4.0)
    c = a + 1
    before = c
    c += c + 1
    assert c is not before and c.data == 2 * before.data + 1


def test_dot_is_bit_identical_to_the_lecture_sum():
    ws = [Value(w) for w in (0.1, -0.7, 0.33, 1.9)]
    xs = [Value(x) for x in (1.5, 0.2, -2.25, 0.4)]
    b = Value(0.05)
    lecture = sum((wi * xi for wi, xi in zip(ws, xs)), b).tanh()
    lecture.backward()
    expected = [v.grad for v in (*ws, *xs, b)]
    for v in (*ws, *xs, b):
        v.grad = 0.0
    fused = dot(ws, xs, b).tanh()
    fused.backward()
    assert fused.data == lecture.data
    assert [v.grad for v in (*ws, *xs, b)] == expected


def test_dot_accepts_plain_numbers_and_checks_lengths():
    w = [Value(2.0), Value(3.0)]
    assert dot(w, [1, 2], 0.5).data == 8.5
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        dot(w, [1, 2, 3])


def test_sigmoid_is_stable_at_extremes():
    assert Value(-800.0).sigmoid().data == 0.0
    assert Value(800.0).sigmoid().data == 1.0
    assert math.isclose(Value(-30.0).sigmoid().data, 1 / (1 + math.exp(30)), rel_tol=1e-12)


def test_dot_weights_must_be_values():
    with pytest.raises(TypeError, match="weights must be Values"):
        dot([1.0, 2.0], [Value(1.0), Value(2.0)])
