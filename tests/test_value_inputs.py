"""A Value holds one number: what is not one gets an error that says what to use instead."""

import numpy as np
import pytest

from chainrule import Tensor, Value


def test_arrays_point_to_tensor():
    with pytest.raises(TypeError, match=r"holds one number, got ndarray of shape \(2,\).*Tensor"):
        Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="Tensor"):
        Value(2.0) * np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="Tensor"):
        np.array([1.0, 2.0]) * Value(2.0)  # numpy steps aside instead of an object array
    with pytest.raises(TypeError, match="Tensor"):
        np.array([1.0, 2.0]) + Value(2.0)


def test_tensor_and_value_do_not_mix():
    with pytest.raises(TypeError, match="cannot combine a Value with a Tensor in \\+"):
        Tensor(np.ones(2)) + Value(1.0)
    with pytest.raises(TypeError, match="cannot combine a Value with a Tensor in \\*"):
        Value(1.0) * Tensor(np.ones(2))


def test_numpy_scalars_and_bools_are_numbers():
    assert Value(np.float64(2.5)).data == 2.5
    assert Value(np.array(3.0)).data == 3.0
    v = Value(True)
    assert v.data == 1.0 and isinstance(v.data, float)


def test_division_by_zero_says_so():
    with pytest.raises(ZeroDivisionError, match="division by zero: a / b"):
        Value(1.0, label="a") / Value(0.0, label="b")
    with pytest.raises(ZeroDivisionError, match="division by zero: 3 / z"):
        3 / Value(0.0, label="z")
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Value(1.0) / 0
