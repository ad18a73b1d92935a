"""numerical_derivative and gradcheck: the lecture's slope, and wrong derivatives caught.

`gradcheck(fn, inputs)` follows `torch.autograd.gradcheck(func, inputs)`: `fn(*inputs)`, every
element of every Value and float64 Tensor input checked, True or `GradcheckError`.
"""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from lecture import lecture_cube
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

from chainrule import Tensor, Value, dot
from chainrule.calculus.check import (
    GradcheckError,
    GradcheckReport,
    gradcheck,
    gradcheck_report,
    numerical_derivative,
)
from chainrule.tensor import cross_entropy


def f(x):
    return 3 * x**2 - 4 * x + 5  # f'(x) = 6x - 4


def test_lecture_slope_at_3_is_14():
    forward = numerical_derivative(f, 3.0)  # the lecture's (f(x + h) - f(x)) / h, h = 1e-6
    central = numerical_derivative(f, 3.0, method="central")
    assert abs(forward - 14) < 1e-4
    assert abs(central - 14) < 1e-6
    # forward differences are off by about 3h for this parabola; central ones are not
    coarse = 1e-2
    assert abs(numerical_derivative(f, 3.0, h=coarse) - 14) == pytest.approx(3 * coarse, rel=1e-6)
    assert abs(numerical_derivative(f, 3.0, h=coarse, method="central") - 14) < 1e-9


def test_numerical_derivative_of_a_value_function():
    slope = numerical_derivative(lambda x: Value(x).tanh(), 0.5, method="central")
    assert math.isclose(slope, 1 - math.tanh(0.5) ** 2, rel_tol=1e-8)


@pytest.mark.parametrize("bad", [dict(h=0), dict(h=-1e-3), dict(h=float("nan")), dict(method="x")])
def test_numerical_derivative_refuses_bad_settings(bad):
    with pytest.raises(ValueError):
        numerical_derivative(f, 3.0, **bad)


# -- Values ------------------------------------------------------------------------------------


def neuron(x1, x2, w1, w2, b):
    return (x1 * w1 + x2 * w2 + b).tanh()


CORRECT = [
    (neuron, [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]),
    (lambda a, b, c, f: (a * b + c) * f, [2.0, -3.0, 10.0, -2.0]),
    (lambda a, b: a / b - b**3 + (a * 0.3).exp(), [1.5, -0.7]),
    (lambda a, b: a.log() * b.sigmoid() + b.relu(), [2.5, 0.4]),
    (lambda a, b: a**b, [1.7, 2.3]),
    (lambda *v: dot(v[:2], v[2:4], v[4]).tanh(), [0.3, -0.2, 1.0, 2.0, 0.1]),
    (lambda a: a + a * a, [0.9]),  # reuse
]


@pytest.mark.parametrize("fn, numbers", CORRECT)
def test_gradcheck_passes_on_correct_value_ops(fn, numbers):
    inputs = [Value(x) for x in numbers]
    assert gradcheck(fn, inputs) is True
    report = gradcheck_report(fn, inputs)
    assert isinstance(report, GradcheckReport) and report.ok and bool(report)
    assert len(report) == len(inputs)  # one scalar output: one entry per input
    for entry in report:
        assert entry.ok and entry.abs_error < 1e-6 and entry.index is None


def test_gradcheck_checks_a_subclass_of_value_with_the_scalar_engine():
    class Mine(Value):  # a learner's own Value, as the lecture's notebooks extend it
        pass

    report = gradcheck_report(lambda a: a * a, Mine(3.0, label="a"))
    assert report.ok
    assert [(e.name, e.analytic) for e in report] == [("a", 6.0)]


def test_report_numbers_and_text():
    x, y = Value(2.0, label="x"), Value(-3.0, label="y")
    report = gradcheck_report(lambda a, b: a * b, (x, y))
    assert [e.name for e in report] == ["x", "y"]
    assert [e.position for e in report] == [0, 1]
    assert report[0].analytic == -3.0 and report[1].analytic == 2.0
    assert report[0].numeric == pytest.approx(-3.0, abs=1e-8)
    text = str(report)
    assert "x" in text and "all gradients agree" in text and "MISMATCH" not in text
    # the caller's Values are left alone
    assert (x.data, x.grad, y.data, y.grad) == (2.0, 0.0, -3.0, 0.0)


def wrong_cube(a):
    """A custom op written the lecture's way, with a wrong local derivative (2a² for 3a²)."""
    return lecture_cube(a, factor=2)


right_cube = lecture_cube


def test_gradcheck_catches_a_wrong_custom_op():
    x = Value(2.0, label="x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: wrong_cube(a) + b, (x, Value(1.0, label="y")))
    message = str(info.value)
    # backward says 2·2² = 8, the true slope of x³ at 2 is 12
    assert "input 'x' (inputs[0])" in message
    assert "backward() gives 8" in message and "differences give 12" in message
    report = info.value.report
    assert [e.ok for e in report] == [False, True]
    assert report.worst.input == "x" and report.worst.position == 0
    assert isinstance(info.value, AssertionError)


def test_an_unlabelled_input_is_named_by_its_position():
    with pytest.raises(GradcheckError, match=r"input inputs\[1\]: backward\(\) gives"):
        gradcheck(lambda a, b: a * wrong_cube(b), (Value(1.0), Value(1.5)))


def test_gradcheck_passes_the_fixed_custom_op():
    assert gradcheck(right_cube, Value(2.0))


def test_no_raise_returns_false():
    assert gradcheck(wrong_cube, Value(1.5), raise_exception=False) is False
    assert gradcheck(right_cube, Value(1.5), raise_exception=False) is True
    report = gradcheck_report(wrong_cube, Value(1.5))
    assert not report.ok and report.failures[0].name == "inputs[0]"
    assert "MISMATCH" in str(report) and "1 mismatch" in str(report)


def test_tolerances_are_used():
    # a derivative off by 1e-3 relative passes a loose rtol and fails a tight one
    def slightly_off(a):
        out = Value(a.data**2, (a,), "sq")

        def _backward():
            a.grad += 2 * a.data * (1 + 1e-3) * out.grad

        out._backward = _backward
        return out

    assert gradcheck(slightly_off, Value(1.0), rtol=1e-2)
    with pytest.raises(GradcheckError):
        gradcheck(slightly_off, Value(1.0), rtol=1e-4)
    with pytest.raises(GradcheckError):
        gradcheck(slightly_off, Value(1.0), atol=0.0, rtol=0.0)


def test_bad_arguments():
    with pytest.raises(TypeError, match="must be a Value or a Tensor"):
        gradcheck(lambda a: 3.0, Value(1.0))
    with pytest.raises(TypeError, match=r"output 1 of fn"):
        gradcheck(lambda a: (a, "two"), Value(1.0))
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda a: a, [])
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda a: Value(a), [1.0])  # a plain number is passed through, not checked
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda a: a, Value(1.0), eps=0)
    with pytest.raises(ValueError, match="rtol"):
        gradcheck(lambda a: a, Value(1.0), rtol=-1)
    with pytest.raises(TypeError):
        gradcheck(lambda a: a, Value(1.0), 1e-6)  # the settings are keyword-only, as in torch


# -- the calling convention: fn(*inputs), as torch.autograd.gradcheck ---------------------------


def test_fn_is_called_with_the_inputs_unpacked():
    seen = []

    def fn(a, scale, b, flag):
        seen.append((type(a), scale, type(b), flag))
        return (a * scale + b) if flag == "add" else a * b

    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    assert gradcheck(fn, (a, 3.0, b, "add"))
    # numbers and anything else are passed through unchanged; Values are fresh copies
    assert all(s == (Value, 3.0, Value, "add") for s in seen)
    report = gradcheck_report(fn, [a, 3.0, b, "add"])  # a list is the same as a tuple
    assert [(e.name, e.position) for e in report] == [("a", 0), ("b", 2)]
    assert report[0].analytic == 3.0 and report[1].analytic == 1.0


def test_a_single_input_is_wrapped():
    x = Value(0.3)
    assert gradcheck(lambda a: a.tanh(), x)
    assert gradcheck(lambda a: a.tanh(), (x,))
    W = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    assert gradcheck(lambda w: (w * w).sum(), W)


def test_several_value_outputs_are_checked_as_a_jacobian():
    a, b = Value(0.7, label="a"), Value(-0.4, label="b")
    report = gradcheck_report(lambda p, q: (p * q, p + q.exp()), (a, b))
    assert len(report) == 4
    assert [(e.name, e.output) for e in report] == [
        ("a", "outputs[0]"),
        ("a", "outputs[1]"),
        ("b", "outputs[0]"),
        ("b", "outputs[1]"),
    ]
    assert [e.analytic for e in report] == pytest.approx([-0.4, 1.0, 0.7, math.exp(-0.4)])
    with pytest.raises(GradcheckError, match=r"derivative of outputs\[1\]"):
        gradcheck(lambda p: (p * 2, wrong_cube(p)), Value(1.1))


def test_check_needs_no_numpy():
    """gradcheck of Values works where numpy is not installed (as in a bare Pyodide)."""
    code = (
        "import sys\n"
        "class NoNumpy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'numpy':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoNumpy())\n"
        "from chainrule import Value\n"
        "from chainrule.calculus import gradcheck\n"
        "assert gradcheck(lambda a, b: (a * b).tanh(), (Value(0.5), Value(-1.0)))\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- Tensors -------------------------------------------------------------------------------


def t64(data, label="", requires_grad=True):
    return Tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad, label=label)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_tensor_scalar_output_checks_every_element(rng):
    x = t64(rng.normal(size=(4, 3)), "x", requires_grad=False)
    W = t64(rng.normal(size=(3, 2)), "W")
    b = t64(rng.normal(size=2), "b")
    report = gradcheck_report(lambda x, W, b: ((x @ W + b).tanh() ** 2).mean(), (x, W, b))
    assert report.ok and len(report) == 6 + 2  # x needs no grad: passed through, not checked
    assert [e.name for e in report][:3] == ["W[0, 0]", "W[0, 1]", "W[1, 0]"]
    assert report[0].index == (0, 0) and report[-1].name == "b[1]"
    assert all(e.output is None for e in report)
    assert gradcheck(lambda x, W, b: ((x @ W + b).tanh() ** 2).mean(), (x, W, b))
    # the caller's tensors are left alone
    assert W.grad is None and b.grad is None


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, b: a * b + a.exp(),
        lambda a, b: (a @ b.T).sigmoid(),
        lambda a, b: (a - b).relu() / (1 + b * b),
        lambda a, b: a.softmax(axis=-1) * b,
        lambda a, b: (a.log_softmax() + b).max(axis=0),
        lambda a, b: (a.reshape(6)[1:4] * b.T.reshape(6)[:3]).sum(),
    ],
)
def test_tensor_ops_pass(fn, rng):
    a = t64(rng.uniform(0.5, 1.5, size=(2, 3)), "a")
    b = t64(rng.normal(size=(2, 3)), "b")
    assert gradcheck(fn, (a, b))
    assert gradcheck(fn, (a, b), fast_mode=True)


def test_non_scalar_output_is_the_full_jacobian(rng):
    x = t64(rng.normal(size=(4, 3)), "x")
    W = t64(rng.normal(size=(3, 2)), "W")
    report = gradcheck_report(lambda x, W: (x @ W).tanh(), (x, W))
    assert report.ok and len(report) == (12 + 6) * 8
    first = report[0]
    assert first.name == "x[0, 0]" and first.output == "out[0, 0]"
    # every entry equals PyTorch's Jacobian; entries go input by input, element by element,
    # then output element by output element, all in C order
    jx, jW = torch.autograd.functional.jacobian(
        lambda x, W: (x @ W).tanh(), (torch.tensor(x.data), torch.tensor(W.data))
    )
    ours = np.array([e.analytic for e in report])
    np.testing.assert_allclose(ours[: 12 * 8], jx.reshape(8, 12).T.reshape(-1), atol=1e-12)
    np.testing.assert_allclose(ours[12 * 8 :], jW.reshape(8, 6).T.reshape(-1), atol=1e-12)
    assert [e.output for e in report[:8]] == [f"out[{i}, {j}]" for i in range(4) for j in (0, 1)]
    # fast mode: one projected number per input element
    fast = gradcheck_report(lambda x, W: (x @ W).tanh(), (x, W), fast_mode=True)
    assert fast.ok and len(fast) == 18 and all(e.output is None for e in fast)
    # a big report prints its mismatches first and counts the rest
    assert "more entries, all ok" in str(report)


def test_labels_and_integer_targets_pass_through(rng):
    logits = t64(rng.normal(size=(5, 3)), "logits")
    labels = np.array([0, 2, 1, 1, 0])
    assert gradcheck(cross_entropy, (logits, labels))


def with_a_detached_element(W, where=(1, 2)):
    """W² elementwise, summed, with one element's gradient path cut: a wrong custom op."""
    mask = np.zeros(W.shape)
    mask[where] = 1.0
    keep, cut = Tensor(1.0 - mask), Tensor(mask)
    return (W * W * keep + W * W.detach() * cut).sum()


def test_gradcheck_names_the_wrong_tensor_element(rng):
    W = t64(rng.uniform(1, 2, size=(2, 3)), "W")
    x = t64(rng.normal(size=3), "x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, W: (x * x).sum() + with_a_detached_element(W), (x, W))
    message = str(info.value)
    assert "input 'W' (inputs[1]), element [1, 2]" in message
    w12 = W.data[1, 2]
    assert f"backward() gives {w12:.10g}" in message  # the true slope is 2·W[1, 2]
    report = info.value.report
    assert [e.name for e in report.failures] == ["W[1, 2]"]
    assert report.failures[0].numeric == pytest.approx(2 * w12, rel=1e-8)
    # the same in fast mode, and for a non-scalar output; unlabelled, it is named by position
    W.label = ""
    with pytest.raises(GradcheckError, match=r"input inputs\[0\], element \[0, 1\], projected"):
        gradcheck(lambda W: with_a_detached_element(W, (0, 1)) * x, W, fast_mode=True)
    with pytest.raises(GradcheckError, match=r"element \[0, 1\], derivative of out\[") as info:
        gradcheck(lambda W: with_a_detached_element(W, (0, 1)) * x, W)
    bad = info.value.report.failures  # W[0, 1] is wrong in every output element
    assert [(e.name, e.output) for e in bad] == [("inputs[0][0, 1]", f"out[{k}]") for k in range(3)]
    assert gradcheck(lambda W: with_a_detached_element(W) * x, W, raise_exception=False) is False


def test_float32_is_refused():
    W = Tensor(np.ones((2, 2), np.float32), requires_grad=True, label="W")
    with pytest.raises(TypeError, match=r"input 'W' \(inputs\[0\]\) is a float32 tensor.*float64"):
        gradcheck(lambda W: (W * W).sum(), W)
    # a float32 tensor that needs no gradient is only passed through
    c = Tensor(np.ones(2, np.float32))
    assert gradcheck(lambda c, v: (v * v).sum() + c.sum(), (c, t64([0.5, -1.0])))


# -- the same semantics as torch.autograd.gradcheck -----------------------------------------


class TorchWrongCube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a**3

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 2 * a**2 * g  # wrong: 3a²


def tensor_wrong_cube(a):
    """x³ with a backward that forgets a factor, built from public Tensor operations only."""
    return a * a * a.detach() + 0 * a  # d/da is 2a·a instead of 3a²


@pytest.mark.parametrize(
    "fn, ok",
    [
        (lambda a, b: (a * b).tanh().sum(), True),
        (lambda a, b: (a @ b.T).exp(), True),
        (lambda a, b: ((a - b) ** 2).mean(), True),
    ],
)
def test_agrees_with_torch_gradcheck(fn, ok, rng):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    ours = gradcheck(fn, (t64(a), t64(b)), raise_exception=False)
    theirs = torch.autograd.gradcheck(
        fn,
        (torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)),
        raise_exception=False,
    )
    assert ours is theirs is ok


def test_a_wrong_op_fails_in_both(rng):
    a = rng.uniform(1, 2, size=3)
    assert (
        torch.autograd.gradcheck(
            TorchWrongCube.apply, torch.tensor(a, requires_grad=True), raise_exception=False
        )
        is False
    )
    assert gradcheck(tensor_wrong_cube, t64(a), raise_exception=False) is False
    with pytest.raises(TorchGradcheckError):
        torch.autograd.gradcheck(TorchWrongCube.apply, (torch.tensor(a, requires_grad=True),))
    with pytest.raises(GradcheckError):
        gradcheck(tensor_wrong_cube, (t64(a),))
