"""Anomaly mode: the first op, forward or backward, that makes a nan or inf is named."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import Tensor, Value
from chainrule.autograd import AnomalyError


def test_off_by_default_nan_and_inf_flow_as_in_python():
    a, b = Value(1e308, label="a"), Value(10.0, label="b")
    assert (a * b).data == float("inf")


def test_forward_value_names_the_op_operands_and_values():
    a, b = Value(1e308, label="a"), Value(10.0, label="b")
    with cr.detect_anomaly():
        with pytest.raises(AnomalyError, match=r"\* of 'a' = 1e\+308, 'b' = 10.0 produced inf"):
            a * b
    assert (a * b).data == float("inf")  # switched off again on the way out


def test_nan_is_named_forward_and_backward():
    x = Value(float("nan"), label="x")
    w = Value(2.0, label="w")
    with cr.detect_anomaly():
        with pytest.raises(AnomalyError, match=r"\* of 'x' = nan, 'w' = 2.0 produced nan"):
            x * w
        x = Value(2.0, label="x")
        y = x * 3.0  # finite forward
        y.label = "y"
        with pytest.raises(
            AnomalyError,
            match=r"the step of '\*' \(y\) gave 'x' = 2.0 the "
            r"gradient nan",
        ):
            y.backward(float("nan"))


def test_an_infinite_gradient_is_caught_in_the_step_that_makes_it():
    x = Value(2.0, label="x")
    z = x * 1e307  # finite
    z.label = "z"
    with cr.detect_anomaly():
        z.backward(1.0)  # every gradient finite: nothing to say
        with pytest.raises(AnomalyError, match=r"the step of '\*' \(z\) gave 'x' = 2.0 .* inf"):
            z.backward(100.0)  # dz/dx = 1e307 · 100 overflows


def test_tensor_forward_and_backward():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True, label="x")
    with cr.detect_anomaly():
        with pytest.raises(AnomalyError, match="log of 'x' = \\[ 1. -1.\\] produced nan at flat"):
            with np.errstate(invalid="ignore"):
                x.log()
        y = Tensor(np.array([0.0, 1.0]), requires_grad=True, label="y")
        with pytest.raises(AnomalyError, match="backward pass: the step of '\\*\\*'.*'y'"):
            with np.errstate(divide="ignore"):
                (y**0.5).sum().backward()


def test_nests_and_restores():
    with cr.detect_anomaly():
        with cr.detect_anomaly():
            pass
        with pytest.raises(AnomalyError):
            Value(1e308) * 10
    assert (Value(1e308) * 10).data == float("inf")
