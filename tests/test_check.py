"""numerical_derivative and gradcheck: the lecture's slope, and wrong derivatives caught."""

import math

import pytest

from chainrule import Value, dot
from chainrule.check import GradcheckError, GradcheckReport, gradcheck, numerical_derivative


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


def neuron(v):
    x1, x2, w1, w2, b = v
    return (x1 * w1 + x2 * w2 + b).tanh()


CORRECT = [
    (neuron, [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]),
    (lambda v: (v[0] * v[1] + v[2]) * v[3], [2.0, -3.0, 10.0, -2.0]),
    (lambda v: v[0] / v[1] - v[1] ** 3 + (v[0] * 0.3).exp(), [1.5, -0.7]),
    (lambda v: v[0].log() * v[1].sigmoid() + v[1].relu(), [2.5, 0.4]),
    (lambda v: v[0] ** v[1], [1.7, 2.3]),
    (lambda v: dot(v[:2], v[2:4], v[4]).tanh(), [0.3, -0.2, 1.0, 2.0, 0.1]),
    (lambda v: v[0] + v[0] * v[0], [0.9]),  # reuse
]


@pytest.mark.parametrize("fn, inputs", CORRECT)
def test_gradcheck_passes_on_correct_ops(fn, inputs):
    report = gradcheck(fn, inputs)
    assert isinstance(report, GradcheckReport) and report.ok and bool(report)
    assert len(report) == len(inputs)
    for entry in report:
        assert entry.ok and entry.abs_error < 1e-6


def test_report_numbers_and_text():
    x, y = Value(2.0, label="x"), Value(-3.0, label="y")
    report = gradcheck(lambda v: v[0] * v[1], [x, y])
    assert [e.name for e in report] == ["x", "y"]
    assert report[0].analytic == -3.0 and report[1].analytic == 2.0
    assert report[0].numeric == pytest.approx(-3.0, abs=1e-8)
    text = str(report)
    assert "x" in text and "all gradients agree" in text and "MISMATCH" not in text
    # the caller's Values are left alone
    assert (x.data, x.grad, y.data, y.grad) == (2.0, 0.0, -3.0, 0.0)


def wrong_cube(a):
    """A custom op written the lecture's way, with a wrong local derivative (2a² for 3a²)."""
    out = Value(a.data**3, (a,), "cube")

    def _backward():
        a.grad += 2 * a.data**2 * out.grad

    out._backward = _backward
    return out


def right_cube(a):
    out = Value(a.data**3, (a,), "cube")

    def _backward():
        a.grad += 3 * a.data**2 * out.grad

    out._backward = _backward
    return out


def test_gradcheck_catches_a_wrong_custom_op():
    x = Value(2.0, label="x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda v: wrong_cube(v[0]) + v[1], [x, Value(1.0, label="y")])
    message = str(info.value)
    # backward says 2·2² = 8, the true slope of x³ at 2 is 12
    assert "x" in message and "backward() gives 8" in message and "give 12" in message
    report = info.value.report
    assert [e.ok for e in report] == [False, True]
    assert isinstance(info.value, AssertionError)


def test_gradcheck_passes_the_fixed_custom_op():
    assert gradcheck(lambda v: right_cube(v[0]), [2.0]).ok


def test_no_raise_returns_the_failed_report():
    report = gradcheck(lambda v: wrong_cube(v[0]), [1.5], raise_on_mismatch=False)
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

    assert gradcheck(lambda v: slightly_off(v[0]), [1.0], rtol=1e-2).ok
    with pytest.raises(GradcheckError):
        gradcheck(lambda v: slightly_off(v[0]), [1.0], rtol=1e-4)


def test_bad_arguments():
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda v: 3.0, [1.0])
    with pytest.raises(TypeError, match="inputs\\[0\\]"):
        gradcheck(lambda v: v[0], ["one"])
    with pytest.raises(ValueError):
        gradcheck(lambda v: v[0], [])
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda v: v[0], [1.0], eps=0)
