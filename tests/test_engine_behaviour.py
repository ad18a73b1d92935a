"""Deep graphs, accumulation, grad mode, freeing, and errors that name what went wrong."""

import gc
import math

import pytest

import chainrule
from chainrule import Value, no_grad, zero_grad


def test_million_deep_chain_backpropagates():
    x = Value(0.5, label="x")
    y = x
    for _ in range(1_000_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    assert y.data == pytest.approx(0.5 + 1.0, rel=1e-9)


def test_deep_mixed_chain_gradient_is_the_product_of_local_slopes():
    x = Value(0.3)
    y = x
    for _ in range(200_000):
        y = (y * 0.999999).tanh() * 1.5
    y.backward()
    # recompute the chain-rule product independently in plain floats
    v, g = 0.3, 1.0
    for _ in range(200_000):
        t = math.tanh(v * 0.999999)
        g *= 0.999999 * (1 - t * t) * 1.5
        v = t * 1.5
    assert y.data == v
    assert x.grad == pytest.approx(g, rel=1e-9)


def test_backward_twice_accumulates_into_leaves_like_pytorch():
    a = Value(2.0)
    b = Value(-3.0)
    out = (a * b).tanh() + a
    out.backward()
    first = (a.grad, b.grad)
    mid = out._prev
    out.backward()
    assert (a.grad, b.grad) == pytest.approx((2 * first[0], 2 * first[1]))
    assert out.grad == 1.0  # intermediate nodes show this call's gradient, not a sum
    assert all(n.grad != 0 for n in mid)
    zero_grad([a, b])
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_zero_grad_on_a_graph():
    a = Value(1.5)
    y = (a * a).exp()
    y.backward()
    y.zero_grad()
    assert a.grad == 0.0 and y.grad == 0.0


def test_no_grad_records_nothing_and_nests():
    w = Value(2.0)
    with no_grad():
        y = w * 3 + 1
        with chainrule.enable_grad():
            z = w * 3
        assert not chainrule.is_grad_enabled()
    assert chainrule.is_grad_enabled()
    assert y.data == 7.0 and y._prev == () and y._op == ""
    assert len(z._prev) == 2 and w in z._prev
    y.backward()
    assert w.grad == 0.0


def _live_values():
    return sum(1 for o in gc.get_objects() if type(o) is Value)


def test_dropped_graph_is_freed_by_reference_counting():
    gc.collect()
    gc.disable()  # with the collector off, only reference counting can free the graph
    try:
        x = Value(1.0)
        before = _live_values()
        y = x
        for _ in range(1000):
            y = ((y * 0.5).tanh() + 3) ** 2 / 7
        y.backward()
        assert _live_values() > before + 5000
        del y
        assert _live_values() == before
    finally:
        gc.enable()


def test_backward_restores_the_garbage_collector_setting():
    y = Value(1.0) * 2
    gc.disable()
    y.backward()
    assert not gc.isenabled()
    gc.enable()
    y.backward()
    assert gc.isenabled()


def test_tanh_is_stable_where_the_lecture_formula_overflows():
    assert Value(400.0).tanh().data == 1.0
    assert Value(-400.0).tanh().data == -1.0
    with pytest.raises(OverflowError):  # the lecture's formula
        math.exp(2 * 400.0)


def test_log_of_non_positive_names_the_op_and_label():
    with pytest.raises(ValueError, match=r"log of x = -1\.0"):
        Value(-1.0, label="x").log()
    with pytest.raises(ValueError, match="log of an unlabeled Value = 0"):
        Value(0.0).log()


def test_zero_to_negative_power_is_a_named_zero_division():
    with pytest.raises(ZeroDivisionError, match=r"zero cannot be raised to a negative power"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match="d"):
        Value(1.0) / Value(0.0, label="d")


def test_fractional_power_of_negative_base_is_refused():
    with pytest.raises(ValueError, match="negative base"):
        Value(-8.0, label="a") ** (1 / 3)
    with pytest.raises(ValueError, match="negative base"):
        Value(-8.0) ** Value(0.5, label="k")


def test_gradient_of_exponent_needs_positive_base():
    a, k = Value(-2.0, label="a"), Value(2.0, label="k")
    y = a**k
    assert y.data == 4.0
    with pytest.raises(ValueError, match="positive base"):
        y.backward()


def test_gradient_of_exponent_at_a_nan_base_is_nan_as_in_torch():
    """nan flows through, as in the recorded sweep and the tensor engine: no 'positive base'."""
    for create_graph in (False, True):
        a, k = Value(math.nan, label="a"), Value(2.0, label="k")
        (a**k).backward(create_graph=create_graph)
        assert math.isnan(float(a.grad)) and math.isnan(float(k.grad))


def test_exp_overflow_names_the_node():
    with pytest.raises(OverflowError, match="exp of big"):
        Value(1000.0, label="big").exp()


@pytest.mark.parametrize("bad", ["abc", None, [1.0], b"1", object()])
def test_value_refuses_non_numbers_at_construction(bad):
    with pytest.raises(TypeError, match="real number"):
        Value(bad)


def test_value_of_a_value_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="use that Value itself"):
        Value(Value(1.0))


def test_unsupported_operand_is_a_type_error_naming_the_op():
    with pytest.raises(TypeError, match=r"\+ with w"):
        Value(1.0, label="w") + "2"
    with pytest.raises(TypeError):
        "2" * Value(1.0)


def test_repr_float_and_numpy_scalars():
    import numpy as np

    v = Value(np.float32(1.5), label="n")
    assert float(v) == 1.5 and isinstance(v.data, float)
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert "label='n'" in repr(v)


def test_prev_lists_distinct_children_like_the_lecture_set():
    a = Value(3.0)
    assert (a + a)._prev == (a,)
    b = Value(1.0)
    assert set((a * b)._prev) == {a, b}
    assert (a**2)._op == "**2" and (a**2)._prev == (a,)


def test_no_grad_is_per_thread_like_pytorch():
    import threading

    inside, recorded = threading.Event(), threading.Event()
    results = {}

    def evaluate():
        with no_grad():
            inside.set()
            recorded.wait(5)
            results["eval"] = (Value(1.0) * 2)._prev

    worker = threading.Thread(target=evaluate)
    worker.start()
    inside.wait(5)
    results["train"] = (Value(1.0) * 2)._prev  # the main thread still records
    recorded.set()
    worker.join(5)
    assert len(results["train"]) == 2 and results["eval"] == ()
