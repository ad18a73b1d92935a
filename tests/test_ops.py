"""The op table's catalogue: every row, on both engines, against PyTorch (float64) and against
central differences. A row added to `chainrule.ops` is checked here without a new test: the
only per-op line below is the name of its PyTorch twin and the domain it is sampled from."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from chainrule import Tensor, Value, ops
from chainrule.ops import define_op

# row name -> (PyTorch function, low, high): operands are sampled uniformly from [low, high].
TWINS = {
    "+": (torch.add, -3, 3),
    "-": (torch.sub, -3, 3),
    "*": (torch.mul, -3, 3),
    "/": (torch.div, 0.5, 3),
    "**": (torch.pow, 0.5, 2.5),
    "neg": (torch.neg, -3, 3),
    "exp": (torch.exp, -3, 3),
    "log": (torch.log, 0.1, 5),
    "tanh": (torch.tanh, -3, 3),
    "relu": (torch.relu, -3, 3),
    "sigmoid": (torch.sigmoid, -6, 6),
    "sin": (torch.sin, -4, 4),
    "cos": (torch.cos, -4, 4),
    "sqrt": (torch.sqrt, 0.1, 5),
    "abs": (torch.abs, -3, 3),
    "softplus": (F.softplus, -6, 6),
    "silu": (F.silu, -6, 6),
    "gelu": (lambda x: F.gelu(x, approximate="tanh"), -4, 4),
    "step": (lambda x: (x > 0).to(x.dtype) + 0 * x, -3, 3),  # 0 * x: torch's flat graph
    "sign": (torch.sign, -3, 3),
}
BUILTINS = [name for name in TWINS]


def test_every_builtin_row_has_a_twin_here():
    assert set(ops.BUILTINS) == set(TWINS)  # a new row without a twin fails here


def operands(name, n, seed):
    _, lo, hi = TWINS[name]
    rng = np.random.default_rng(seed)
    xs = rng.uniform(lo, hi, size=(ops.TABLE[name].arity, n))
    return np.where(np.abs(xs) < 1e-3, 0.5, xs)  # keep away from the kinks of relu, abs, sign


def torch_reference(name, xs):
    twin = TWINS[name][0]
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = twin(*ts)
    out.sum().backward()
    grads = [t.grad.numpy() if t.grad is not None else np.zeros_like(x) for t, x in zip(ts, xs)]
    return out.detach().numpy(), grads


@pytest.mark.parametrize("name", BUILTINS)
def test_row_on_values_matches_torch(name):
    op = ops.TABLE[name]
    xs = operands(name, 6, seed=1)
    want, want_grads = torch_reference(name, xs)
    for j in range(xs.shape[1]):
        vs = [Value(float(x[j])) for x in xs]
        out = op(*vs)
        out.backward()
        assert out.data == pytest.approx(want[j], rel=1e-12, abs=1e-14)
        for v, g in zip(vs, want_grads):
            assert v.grad == pytest.approx(g[j], rel=1e-12, abs=1e-14), (name, j)


@pytest.mark.parametrize("name", BUILTINS)
def test_row_on_tensors_matches_torch(name):
    op = ops.TABLE[name]
    xs = operands(name, 7, seed=2)
    want, want_grads = torch_reference(name, xs)
    ts = [Tensor(x, requires_grad=True) for x in xs]
    out = op(*ts)
    out.sum().backward()
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-14)
    for t, g in zip(ts, want_grads):
        np.testing.assert_allclose(t.grad, g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", [n for n in BUILTINS if n not in ("step", "sign")])
def test_row_partials_match_central_differences(name):
    op = ops.TABLE[name]
    xs = operands(name, 5, seed=3)
    h = 1e-6
    for j in range(xs.shape[1]):
        point = [float(x[j]) for x in xs]
        out = op.scalar(*point)
        for i, partial in enumerate(op.partials):
            up, down = list(point), list(point)
            up[i] += h
            down[i] -= h
            slope = (op.scalar(*up) - op.scalar(*down)) / (2 * h)
            assert float(partial(*point, out)) == pytest.approx(slope, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("name", ["sin", "cos", "sqrt", "abs", "softplus", "silu", "gelu"])
def test_new_builtins_are_methods_of_both_engines(name):
    x = 0.7
    v = getattr(Value(x), name)()
    t = getattr(Tensor(np.array([x])), name)()
    assert v.data == pytest.approx(float(t.data[0]), rel=1e-12)
    assert v._op == name


def test_abs_is_the_builtin_abs():
    v = Value(-2.5)
    out = abs(v)
    out.backward()
    assert (out.data, v.grad) == (2.5, -1.0)
    t = Tensor(np.array([-2.0, 3.0]), requires_grad=True)
    abs(t).sum().backward()
    assert t.grad.tolist() == [-1.0, 1.0]


# -- the lecture's methods of Value record their rows, and backward applies them exactly -------


FAST = {
    "+": lambda a, b: a + b,
    "*": lambda a, b: a * b,
    "**": lambda a, b: a**b,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(),
}


def test_each_lecture_method_records_its_row():
    for name, method in FAST.items():
        vs = [Value(1.5) for _ in range(ops.TABLE[name].arity)]
        assert method(*vs)._rule is ops.TABLE[name]


@pytest.mark.parametrize("name", sorted(FAST))
def test_value_fast_path_equals_its_row_bit_for_bit(name):
    op = ops.TABLE[name]
    xs = operands(name, 8, seed=4)
    for j in range(xs.shape[1]):
        point = [float(x[j]) for x in xs]
        vs = [Value(p) for p in point]
        out = FAST[name](*vs)
        assert out._op == name
        out.backward(0.37)
        assert out.data == op.scalar(*point)
        for i, v in enumerate(vs):
            assert v.grad == op.partials[i](*point, out.data) * 0.37


def test_constant_exponent_fast_path_equals_the_pow_row():
    for x in (0.3, 1.7, -2.0):
        for k in (2, 3, -1.5 if x > 0 else -1, 0.5 if x > 0 else 4):
            v = Value(x)
            out = v**k
            out.backward(1.3)
            assert out.data == ops.POW.scalar(x, k)
            assert v.grad == ops.POW.partials[0](x, k, out.data) * 1.3


@pytest.mark.parametrize(
    "name", ["+", "-", "*", "/", "**", "exp", "log", "tanh", "relu", "sigmoid", "neg"]
)
def test_tensor_fast_path_equals_its_row(name):
    op = ops.TABLE[name]
    xs = operands(name, 9, seed=5)
    fast = {
        "+": "__add__",
        "-": "__sub__",
        "*": "__mul__",
        "/": "__truediv__",
        "**": "__pow__",
        "neg": "__neg__",
    }.get(name, name)
    ts = [Tensor(x, requires_grad=True) for x in xs]
    out = getattr(ts[0], fast)(*ts[1:])
    assert out._op == name and out._ctx is None  # the hand-written path, not the generic one
    out.backward(np.full(out.shape, 0.37))
    np.testing.assert_allclose(out.data, op.array(*xs), rtol=1e-15)
    for i, t in enumerate(ts):
        np.testing.assert_allclose(t.grad, op.partials[i](*xs, out.data) * 0.37, rtol=1e-14)


# -- define_op: the public door to the same table ---------------------------------------------


@pytest.fixture
def cube():
    op = define_op("cube_test", lambda x: x**3, lambda x, out: 3 * x**2, formula="3·x²")
    yield op
    del ops.TABLE["cube_test"]


@pytest.fixture
def hypot():
    op = define_op(
        "hypot_test",
        lambda x, y: (x * x + y * y) ** 0.5,
        lambda x, y, out: (x / out, y / out),
        formula=("x/out", "y/out"),
    )
    yield op
    del ops.TABLE["hypot_test"]


def test_define_op_on_a_value_backpropagates_the_derivative(cube):
    x = Value(2.0, label="x")
    y = cube(x)
    y.backward()
    assert (y.data, x.grad, y._op) == (8.0, 12.0, "cube_test")
    assert cube(3.0) == 27.0  # plain numbers are computed directly


def test_define_op_on_a_tensor_gives_the_elementwise_gradient(cube):
    x = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    cube(x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2)


def test_define_op_two_operands_sums_broadcast_gradients_back(hypot):
    a = Tensor(np.array([[3.0], [6.0]]), requires_grad=True)  # (2, 1)
    b = Tensor(np.array([4.0, 8.0, 0.0]), requires_grad=True)  # (3,)
    out = hypot(a, b)
    assert out.shape == (2, 3)
    out.sum().backward()
    ta = torch.tensor(a.data, requires_grad=True)
    tb = torch.tensor(b.data, requires_grad=True)
    torch.hypot(ta, tb).sum().backward()
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-12)
    assert a.grad.shape == (2, 1) and b.grad.shape == (3,)


def test_define_op_two_operands_on_values_with_a_constant(hypot):
    x = Value(3.0)
    out = hypot(x, 4.0)
    out.backward()
    assert (out.data, x.grad) == (5.0, 0.6)


def test_define_op_formula_reads_in_the_graph_names(cube, hypot):
    assert cube.formula(0, ("a",), "c") == "3·a²"
    assert hypot.formula(1, ("a", "b"), "h") == "b/h"


def test_define_op_derivative_written_with_table_functions_works_on_both_engines():
    sinsq = define_op(
        "sinsq_test", lambda x: ops.SIN(x) ** 2, lambda x, out: 2 * ops.SIN(x) * ops.COS(x)
    )
    try:
        v = Value(0.4)
        sinsq(v).backward()
        assert v.grad == pytest.approx(math.sin(0.8), rel=1e-12)
        t = Tensor(np.array([0.4, 1.1]), requires_grad=True)
        sinsq(t).sum().backward()
        np.testing.assert_allclose(t.grad, np.sin(2 * t.data), rtol=1e-12)
    finally:
        del ops.TABLE["sinsq_test"]


def test_define_op_refuses_bad_definitions(cube):
    with pytest.raises(ValueError, match="already defined"):
        define_op("cube_test", lambda x: x, lambda x, out: 1)
    with pytest.raises(ValueError, match="already defined"):
        define_op("dot", lambda x: x, lambda x, out: 1)  # the engines' own op names are taken
    with pytest.raises(ValueError, match="identifier"):
        define_op("my op", lambda x: x, lambda x, out: 1)
    with pytest.raises(ValueError, match="one or two operands"):
        define_op("three", lambda x, y, z: x, lambda x, y, z, out: 1)
    with pytest.raises(TypeError, match="derivative must be callable"):
        define_op("nope", lambda x: x, 3)


def test_a_two_operand_derivative_must_return_a_pair():
    bad = define_op("bad_pair_test", lambda x, y: x * y, lambda x, y, out: y)
    try:
        out = bad(Value(2.0), Value(3.0))
        with pytest.raises(TypeError, match="must return a tuple"):
            out.backward()
    finally:
        del ops.TABLE["bad_pair_test"]


def test_domain_errors_name_the_op_and_the_operand():
    with pytest.raises(ValueError, match=r"sqrt of a = -1.0 is undefined \(sqrt needs"):
        Value(-1.0, label="a").sqrt()
    with pytest.raises(OverflowError, match="exp"):
        Value(1000.0).exp()


def test_value_and_tensor_do_not_mix_silently():
    with pytest.raises(TypeError, match="Tensor"):
        ops.MUL(Value(1.0), Tensor(np.array([1.0])))
    with pytest.raises(TypeError, match="Tensor"):
        Value(1.0) * Tensor(np.array([1.0]))


# -- the expression parser of `chainrule graph` reads the same table ------------------------


def test_the_expression_parser_accepts_every_function_row_and_define_op():
    from chainrule.cli.expressions import FUNCTIONS, ProgramError, evaluate_program

    for name in ("sin", "cos", "sqrt", "abs", "softplus", "silu", "gelu", "exp", "tanh"):
        assert name in FUNCTIONS
        out = evaluate_program(f"y = {name}(x)", {"x": 0.7})
        assert out.data == ops.TABLE[name].scalar(0.7)
    define_op(
        "hyp_expr_test", lambda x, y: (x * x + y * y) ** 0.5, lambda x, y, out: (x / out, y / out)
    )
    try:
        out = evaluate_program("h = hyp_expr_test(a, 4)", {"a": 3.0})
        assert out.data == 5.0 and out._op == "hyp_expr_test"
        with pytest.raises(ProgramError, match="takes 2 arguments"):
            evaluate_program("h = hyp_expr_test(a)", {"a": 3.0})
    finally:
        del ops.TABLE["hyp_expr_test"]
    with pytest.raises(ProgramError, match="unknown function 'hyp_expr_test'"):
        evaluate_program("h = hyp_expr_test(a, 4)", {"a": 3.0})


def test_a_zeroth_power_is_flat_even_at_zero():
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0  # torch.pow(0., 0) has gradient 0 too
    t = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    (t**0).sum().backward()
    assert t.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", [n for n in BUILTINS if ops.TABLE[n].arity == 1 and n != "step"])
def test_nan_in_nan_out_as_torch_on_both_engines(name):
    """Every row's value and gradient at nan are PyTorch's: nan is never turned into a number
    silently (relu(nan) is nan), and the few gradients torch defines there (relu passes the
    gradient on, abs gives 0) are the same."""
    op = ops.TABLE[name]
    nan = float("nan")
    t = torch.tensor(nan, dtype=torch.float64, requires_grad=True)
    out = TWINS[name][0](t)
    out.backward()
    want, want_grad = out.item(), t.grad.item()
    v = Value(nan)
    y = op(v)
    y.backward()
    assert y.data == pytest.approx(want, nan_ok=True)
    assert v.grad == pytest.approx(want_grad, nan_ok=True)
    x = Tensor(np.array([nan, 0.5]), requires_grad=True)
    op(x).sum().backward()
    assert x.grad[0] == pytest.approx(want_grad, nan_ok=True)
    fast = getattr(Tensor(np.array([nan]), requires_grad=True), name, None)
    if fast is not None:  # the hand-written method, where there is one
        z = fast()
        z.sum().backward()
        assert z.data[0] == pytest.approx(want, nan_ok=True)
