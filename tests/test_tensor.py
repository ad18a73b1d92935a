"""Tensor: every op's value and gradient against PyTorch (float64) and central differences.

Shapes are drawn by hypothesis (broadcasting both ways, size-1 axes, 0-d tensors); the numbers
come from a numpy generator seeded by hypothesis, which keeps each example cheap.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from chainrule import Value, no_grad
from chainrule.tensor import Tensor, cross_entropy, linear

SETTINGS = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


def against_torch(ours, theirs, arrays, rng, rtol=1e-10, atol=1e-12):
    """Same value, and the same gradient for every input, given a random upstream gradient."""
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = ours(*xs), theirs(*ts)
    assert out.shape == tuple(tout.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    tout.backward(torch.tensor(upstream))
    for x, t in zip(xs, ts):
        assert isinstance(x.grad, np.ndarray) and x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=rtol, atol=atol)


def numeric_grads(f, arrays, upstream, eps=1e-6):
    """d(sum(f(*arrays) * upstream))/d(each array) by central differences."""
    grads = []
    for x in arrays:
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            old = x[idx]
            x[idx] = old + eps
            plus = float((f(*arrays) * upstream).sum())
            x[idx] = old - eps
            minus = float((f(*arrays) * upstream).sum())
            x[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def against_differences(ours, arrays, rng):
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    out = ours(*xs)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)

    def value(*arrs):
        with no_grad():
            return ours(*(Tensor(a) for a in arrs)).data

    for x, g in zip(
        xs, numeric_grads(value, [np.array(a, dtype=np.float64) for a in arrays], upstream)
    ):
        np.testing.assert_allclose(x.grad, g, rtol=1e-5, atol=1e-7)


def nonzero(rng, shape):
    """Numbers safely away from 0 (divisors)."""
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# -- elementwise binary ops, broadcasting both ways ------------------------------------------

BINARY = {
    "+": (lambda a, b: a + b, lambda a, b: a + b),
    "-": (lambda a, b: a - b, lambda a, b: a - b),
    "*": (lambda a, b: a * b, lambda a, b: a * b),
    "/": (lambda a, b: a / b, lambda a, b: a / b),
    "**": (lambda a, b: a**b, lambda a, b: a**b),
}


def binary_inputs(op, rng, sa, sb):
    a = rng.standard_normal(sa)
    b = rng.standard_normal(sb)
    if op == "/":
        b = nonzero(rng, sb)
    if op == "**":
        a = rng.uniform(0.5, 2.0, sa)  # a real power of a positive base
    return a, b


@pytest.mark.parametrize("op", list(BINARY))
@SETTINGS
@given(shapes=pairs, seed=seeds)
def test_binary_ops_match_torch(op, shapes, seed):
    rng = np.random.default_rng(seed)
    ours, theirs = BINARY[op]
    against_torch(ours, theirs, binary_inputs(op, rng, *shapes.input_shapes), rng)


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("sa, sb", [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2)), ((3,), ())])
def test_binary_ops_match_differences(op, sa, sb):
    rng = np.random.default_rng(1)
    against_differences(BINARY[op][0], binary_inputs(op, rng, sa, sb), rng)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda a: 2.5 + a, lambda a: 2.5 + a),
        (lambda a: 2.5 - a, lambda a: 2.5 - a),
        (lambda a: a - 2.5, lambda a: a - 2.5),
        (lambda a: 3 * a, lambda a: 3 * a),
        (lambda a: 1.5 / a, lambda a: 1.5 / a),
        (lambda a: a / 4, lambda a: a / 4),
        (lambda a: a**2, lambda a: a**2),
        (lambda a: a**-1.5, lambda a: a**-1.5),
        (lambda a: a**0, lambda a: a**0),
        (lambda a: 2.0**a, lambda a: 2.0**a),
        (lambda a: -a, lambda a: -a),
    ],
)
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_ops_with_constants_match_torch(ours, theirs, shape, seed):
    rng = np.random.default_rng(seed)
    against_torch(ours, theirs, [rng.uniform(0.5, 2.0, shape)], rng)


def test_numpy_array_on_the_left_makes_a_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# -- elementwise functions ------------------------------------------------------------------

UNARY = {
    "exp": (lambda a: a.exp(), torch.exp),
    "log": (lambda a: a.log(), torch.log),
    "tanh": (lambda a: a.tanh(), torch.tanh),
    "relu": (lambda a: a.relu(), torch.relu),
    "sigmoid": (lambda a: a.sigmoid(), torch.sigmoid),
    "softmax": (lambda a: a.softmax(axis=-1), lambda a: torch.softmax(a, dim=-1)),
    "softmax0": (lambda a: a.softmax(axis=0), lambda a: torch.softmax(a, dim=0)),
    "log_softmax": (lambda a: a.log_softmax(axis=-1), lambda a: torch.log_softmax(a, dim=-1)),
    "log_softmax0": (lambda a: a.log_softmax(axis=0), lambda a: torch.log_softmax(a, dim=0)),
}


def unary_input(op, rng, shape):
    if op == "log":
        return rng.uniform(0.1, 3.0, shape)
    return rng.standard_normal(shape) * 3


@pytest.mark.parametrize("op", list(UNARY))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary_ops_match_torch(op, shape, seed):
    if op.startswith(("softmax", "log_softmax")) and not shape:
        shape = (1,)  # torch's softmax needs an axis
    rng = np.random.default_rng(seed)
    ours, theirs = UNARY[op]
    against_torch(ours, theirs, [unary_input(op, rng, shape)], rng)


@pytest.mark.parametrize("op", list(UNARY))
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_unary_ops_match_differences(op, shape):
    if op.startswith(("softmax", "log_softmax")) and not shape:
        shape = (1,)
    rng = np.random.default_rng(2)
    against_differences(UNARY[op][0], [unary_input(op, rng, shape)], rng)


def test_saturating_functions_stay_finite_and_quiet():
    x = Tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        s = x.sigmoid()
        ls = x.log_softmax()
        sm = x.softmax()
        (s.sum() + ls.sum() + sm.sum()).backward()
    assert np.all(np.isfinite(s.data)) and np.all(np.isfinite(ls.data))
    assert np.all(np.isfinite(x.grad))
    assert s.data[1] == pytest.approx(1 / (1 + np.exp(30.0)), rel=1e-6)  # tail kept precisely
    np.testing.assert_allclose(sm.data.sum(), 1.0)


# -- reductions -----------------------------------------------------------------------------


@st.composite
def reductions(draw):
    shape = draw(shapes)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or not shape:
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-len(shape), len(shape) - 1))
    else:
        axis = tuple(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
        axis = tuple(a - len(shape) if draw(st.booleans()) else a for a in axis)
    return shape, axis, draw(st.booleans())


def torch_reduce(name, t, axis, keepdims):
    dims = tuple(range(t.dim())) if axis is None else axis
    if name == "sum":
        return t.sum(dim=dims, keepdim=keepdims) if t.dim() else t.sum()
    if name == "mean":
        return t.mean(dim=dims, keepdim=keepdims) if t.dim() else t.mean()
    return torch.amax(t, dim=dims, keepdim=keepdims) if t.dim() else t.clone()


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@SETTINGS
@given(case=reductions(), seed=seeds)
def test_reductions_match_torch(name, case, seed):
    shape, axis, keepdims = case
    rng = np.random.default_rng(seed)
    against_torch(
        lambda a: getattr(a, name)(axis=axis, keepdims=keepdims),
        lambda t: torch_reduce(name, t, axis, keepdims),
        [rng.standard_normal(shape)],
        rng,
    )


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize(
    "shape, axis, keepdims",
    [((2, 3), None, False), ((2, 3), 1, False), ((2, 3, 2), (0, -1), True), ((), None, False)],
)
def test_reductions_match_differences(name, shape, axis, keepdims):
    rng = np.random.default_rng(3)
    f = lambda a: getattr(a, name)(axis=axis, keepdims=keepdims)  # noqa: E731
    against_differences(f, [rng.standard_normal(shape)], rng)


def test_max_shares_the_gradient_between_ties_like_torch():
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    for axis in (None, 1, 0):
        x = Tensor(data, requires_grad=True)
        t = torch.tensor(data, requires_grad=True)
        x.max(axis=axis).sum().backward()
        (t.max() if axis is None else torch.amax(t, dim=axis)).sum().backward()
        np.testing.assert_allclose(x.grad, t.grad.numpy())
    np.testing.assert_allclose(x.grad, [[0, 1, 1], [1, 0, 0]])  # axis 0: each column's max


# -- matrix products ------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    left = (*batch.input_shapes[0], n, k)
    right = (*batch.input_shapes[1], k, m)
    kind = draw(st.sampled_from(["matrix", "vector-left", "vector-right", "dot", "2d"]))
    if kind == "vector-left":
        left = (k,)
    elif kind == "vector-right":
        right = (k,)
    elif kind == "dot":
        left, right = (k,), (k,)
    elif kind == "2d":
        left, right = (n, k), (k, m)
    return left, right


@SETTINGS
@given(shapes=matmul_shapes(), seed=seeds)
def test_matmul_matches_torch(shapes, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    against_torch(lambda a, b: a @ b, lambda a, b: a @ b, arrays, rng)


@pytest.mark.parametrize(
    "sa, sb",
    [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)), ((2, 1, 2, 3), (2, 3, 2))],
)
def test_matmul_matches_differences(sa, sb):
    rng = np.random.default_rng(4)
    against_differences(lambda a, b: a @ b, [rng.standard_normal(sa), rng.standard_normal(sb)], rng)


@pytest.mark.parametrize("xshape", [(5, 3), (3,), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch_and_differences(xshape, bias):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(xshape), rng.standard_normal((4, 3))]
    if bias:
        arrays.append(rng.standard_normal(4))
    against_torch(linear, torch.nn.functional.linear, arrays, rng)
    against_differences(linear, arrays, rng)


# -- shape ops and indexing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda a: a.reshape(6, 2), lambda a: a.reshape(6, 2)),
        (lambda a: a.reshape((-1,)), lambda a: a.reshape(-1)),
        (lambda a: a.transpose(), lambda a: a.transpose(-2, -1)),
        (lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2)),
        (lambda a: a.permute(1, 2, 0), lambda a: a.permute(1, 2, 0)),
        (lambda a: a.T, lambda a: a.permute(2, 1, 0)),
    ],
)
def test_shape_ops_match_torch_and_differences(ours, theirs):
    rng = np.random.default_rng(6)
    against_torch(ours, theirs, [rng.standard_normal((2, 3, 2))], rng)
    against_differences(ours, [rng.standard_normal((2, 3, 2))], rng)


INDEXES = [
    1,
    -1,
    slice(1, None),
    (slice(None), 0),
    (Ellipsis, slice(0, 2)),
    (None, 1),
    np.array([0, 2, 0, 0]),  # repeated rows: their gradients must add up
    (np.array([0, 1, 1]), np.array([2, 2, 2])),
    (slice(None), np.array([3, 3])),
    np.array([True, False, True]),
]


@pytest.mark.parametrize("index", INDEXES, ids=repr)
def test_indexing_matches_torch_and_differences(index):
    rng = np.random.default_rng(7)

    def theirs(t):
        parts = index if isinstance(index, tuple) else (index,)
        conv = tuple(torch.from_numpy(p) if isinstance(p, np.ndarray) else p for p in parts)
        return t[conv if isinstance(index, tuple) else conv[0]]

    ours = lambda a: a[index]  # noqa: E731
    against_torch(ours, theirs, [rng.standard_normal((3, 4))], rng)
    against_differences(ours, [rng.standard_normal((3, 4))], rng)


def test_repeated_indices_accumulate():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    x.grad = None
    x[Tensor(np.array([1, 1]))].sum().backward()  # a Tensor index works too
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 0.0])


def test_index_errors_name_the_shape():
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        Tensor([1.0, 2.0, 3.0])[5]


# -- cross-entropy --------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@SETTINGS
@given(n=st.integers(1, 6), c=st.integers(1, 5), one=st.booleans(), seed=seeds)
def test_cross_entropy_matches_torch(reduction, n, c, one, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((c,) if one else (n, c)) * 3
    labels = rng.integers(0, c, () if one else (n,))
    against_torch(
        lambda x: cross_entropy(x, labels, reduction),
        lambda t: torch.nn.functional.cross_entropy(
            t, torch.from_numpy(labels), reduction=reduction
        ),
        [logits],
        rng,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_differences(reduction):
    rng = np.random.default_rng(8)
    labels = np.array([2, 0, 2, 1])
    f = lambda x: cross_entropy(x, labels, reduction)  # noqa: E731
    against_differences(f, [rng.standard_normal((4, 3))], rng)


def test_cross_entropy_is_stable_for_huge_logits():
    x = Tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = cross_entropy(x, [1])
        loss.backward()
    assert loss.item() == pytest.approx(2000.0)
    np.testing.assert_allclose(x.grad, [[1.0, -1.0, 0.0]], atol=1e-12)


@pytest.mark.parametrize(
    "labels, message",
    [
        ([0, 3, 1], r"label 3 at position 1 is out of range for 3 classes"),
        ([0, -1, 1], r"label -1 at position 1 is out of range"),
        (
            [0, 1],
            r"logits of shape \(3, 3\) need labels of shape \(3,\), got labels of shape \(2,\)",
        ),
        (np.array([0.0, 1.0, 2.0]), r"labels must be integer class indices, got dtype float64"),
    ],
)
def test_cross_entropy_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(Tensor(np.zeros((3, 3))), np.asarray(labels))


# -- errors that name the op and the shapes -------------------------------------------------


def test_matmul_shape_error_names_both_shapes():
    a, b = Tensor(np.ones((3, 4))), Tensor(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"@: cannot multiply shapes \(3, 4\) and \(3, 4\)"):
        a @ b
    with pytest.raises(ValueError, match=r"batch dimensions \(2,\) and \(3,\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match=r"at least one dimension"):
        Tensor(2.0) @ Tensor(np.ones(3))


def test_broadcast_error_names_op_shapes_and_labels():
    a = Tensor(np.ones((3, 4)), label="x")
    b = Tensor(np.ones(3), label="b")
    with pytest.raises(
        ValueError, match=r"\+: cannot broadcast shapes \(3, 4\) \('x'\) and \(3,\) \('b'\)"
    ):
        a + b
    for op in ("-", "*", "/", "**"):
        with pytest.raises(ValueError, match=rf"{'[' + op[0] + ']'}.*\(3, 4\).*\(3,\)"):
            eval(f"a {op} b")


def test_linear_and_reshape_errors_name_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) does not fit weight"):
        linear(Tensor(np.ones((2, 5))), Tensor(np.ones((4, 3))))
    with pytest.raises(ValueError, match=r"reshape: .* shape \(3, 4\) .* into shape \(5,\)"):
        Tensor(np.ones((3, 4))).reshape(5)
    with pytest.raises(ValueError, match=r"sum over axis 2 of a tensor of shape \(3, 4\)"):
        Tensor(np.ones((3, 4))).sum(axis=2)
    with pytest.raises(ValueError, match=r"max over axis None .* shape \(0,\): zero-size"):
        Tensor(np.ones(0)).max()
    with pytest.raises(ValueError, match=r"softmax over axis 1 .* shape \(3,\)"):
        Tensor(np.ones(3)).softmax(axis=1)


# -- the graph: what is recorded, gradients that accumulate, no_grad ----------------------


def test_only_what_needs_a_gradient_is_recorded():
    x = Tensor(np.ones((2, 3)))
    w = Tensor(np.ones((3, 1)), requires_grad=True)
    plain = x * 2
    assert not plain.requires_grad and plain._op == "" and plain._prev == ()
    y = x @ w
    assert y.requires_grad and y._op == "@" and y._prev == (w,)
    y.sum().backward()
    assert x.grad is None  # the input never got a gradient computed
    np.testing.assert_array_equal(w.grad, [[2.0], [2.0], [2.0]])


def test_no_grad_records_nothing_for_tensors_and_values():
    w = Tensor([1.0, 2.0], requires_grad=True)
    v = Value(3.0)
    with no_grad():
        y = w * 3
        u = v * 2
    assert not y.requires_grad and y._prev == () and u._prev == ()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()
    z = w * 3  # recording again after the block
    assert z.requires_grad


def test_leaf_gradients_accumulate_and_own_their_arrays():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    c = a + b  # both get the very same gradient array from `+`
    c.backward(np.ones(2))
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 100  # must not leak into b
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    c.backward(np.ones(2))  # a second pass accumulates into the leaves
    np.testing.assert_array_equal(a.grad, [102.0, 102.0])
    np.testing.assert_array_equal(b.grad, [2.0, 2.0])


def test_explicit_gradient_is_not_aliased_by_a_leaf():
    a = Tensor([1.0, 2.0], requires_grad=True)
    g = np.array([1.0, 1.0])
    a.backward(g)
    a.backward(g)
    np.testing.assert_array_equal(g, [1.0, 1.0])
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])


def test_sum_gradient_in_a_leaf_is_writable():
    a = Tensor(np.ones((2, 2)), requires_grad=True)
    a.sum().backward()
    a.mean().backward()
    np.testing.assert_array_equal(a.grad, np.full((2, 2), 1.25))


def test_a_tensor_used_twice_gets_both_contributions():
    x = Tensor([2.0, 3.0], requires_grad=True)
    h = x * 1.0  # an intermediate used by two consumers
    y = (h + h) * h + x * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)  # d(3x^2)/dx
    np.testing.assert_allclose(h.grad, 4 * x.data)  # d(2h^2)/dh, its own gradient kept


def test_intermediate_gradients_show_the_last_backward_only():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (h * 3).sum().backward()
    (h * 5).sum().backward()
    np.testing.assert_array_equal(h.grad, [5.0, 5.0])
    np.testing.assert_array_equal(x.grad, [16.0, 16.0])


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0])


def test_backward_needs_a_scalar_or_a_matching_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"one-element output.*shape \(2,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\) does not match"):
        y.backward(np.ones(3))


def test_zero_grad_clears_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    y.zero_grad()
    assert x.grad is None and y.grad is None


# -- data types and conversions -----------------------------------------------------------


def test_dtype_policy():
    assert Tensor([1, 2]).dtype == np.float32  # Python data: float32
    assert Tensor(3.0).dtype == np.float32 and Tensor(3.0).shape == ()
    assert Tensor(np.zeros(2)).dtype == np.float64  # numpy keeps its dtype
    assert Tensor(np.arange(3)).dtype == np.int64
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert (x * 0.5).dtype == np.float32
    assert (x * np.float64(0.5)).dtype == np.float32  # numpy scalars adapt like Python ones
    assert (np.float64(2.0) - x).dtype == np.float32
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match="must be numeric"):
        Tensor(["a", "b"])


def test_mixed_precision_gradients_take_the_parameters_dtype():
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    x = Tensor(np.ones((4, 3), np.float64))
    (x @ w).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.full((3, 2), 4.0))


def test_conversions():
    x = Tensor([[1.5, 2.0]], requires_grad=True, label="x")
    assert x.shape == (1, 2) and x.ndim == 2 and x.size == 2
    assert x.numpy() is x.data
    assert Tensor(2.5).item() == 2.5 and float(Tensor([[4.0]])) == 4.0
    with pytest.raises(ValueError, match="exactly one element"):
        x.item()
    d = x.detach()
    assert d.data is x.data and not d.requires_grad
    np.testing.assert_array_equal(np.asarray(x), x.data)
    assert "requires_grad=True" in repr(x) and "label='x'" in repr(x)
    assert np.asarray(x.argmax(axis=1).data).tolist() == [1]
    with pytest.raises(TypeError, match="takes array data, got a Tensor"):
        Tensor(x)
    rows = list(Tensor(np.arange(6.0).reshape(3, 2)))
    assert len(rows) == 3 and rows[2].data.tolist() == [4.0, 5.0]
    with pytest.raises(TypeError, match="0-d"):
        list(Tensor(1.0))
