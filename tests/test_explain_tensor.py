"""explain() on Tensor graphs: formulas with shapes, broadcasting, totals equal to backward()."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule import Tensor, explain, ops
from chainrule.autograd import topological_order
from chainrule.tensor import cross_entropy, linear
from chainrule.viz.narrate import Explanation, TensorStep


def tensor(shape, seed, label, grad=True):
    data = np.random.default_rng(seed).normal(size=shape)
    return Tensor(data, requires_grad=grad, label=label)


def steps_into(ex, child):
    return [s for s in ex if s.child == child]


def assert_totals_match(ex, root):
    for node in topological_order(root, lambda t: t._prev):
        np.testing.assert_allclose(ex.grad(node), node.grad, rtol=1e-12, atol=1e-12)


def test_matmul_says_which_transpose_with_the_shapes():
    x, W = tensor((3, 4), 0, "x"), tensor((4, 2), 1, "W")
    y = x @ W
    y.label = "y"
    L = y.sum()
    ex = explain(L)
    assert isinstance(ex, Explanation) and all(isinstance(s, TensorStep) for s in ex)
    (dW,) = steps_into(ex, "W")
    assert dW.rule == "dL/dW = xᵀ · dL/dy" and dW.shapes == "(4, 2) = (3, 4)ᵀ·(3, 2)"
    (dx,) = steps_into(ex, "x")
    assert dx.rule == "dL/dx = dL/dy · Wᵀ" and dx.shapes == "(3, 4) = (3, 2)·(4, 2)ᵀ"
    (dy,) = steps_into(ex, "y")
    # the output's own step: 1, not the circular dL/dL
    assert dy.rule == "dL/dy = 1, copied to every element of y" and dy.shapes == "(3, 2) ← ()"
    text = str(ex)
    assert "y = x @ W    (3, 2) float64" in text
    assert "dL/dW = xᵀ · dL/dy    [(4, 2) = (3, 4)ᵀ·(3, 2)]" in text
    np.testing.assert_allclose(ex.grad("W"), x.data.T @ np.ones((3, 2)))
    assert_totals_match(ex, L)


def test_linear_weight_bias_and_input():
    x, W, b = tensor((5, 3), 0, "x"), tensor((2, 3), 1, "W"), tensor((2,), 2, "b")
    z = linear(x, W, b)
    z.label = "z"
    L = z.tanh().mean()
    ex = explain(L)
    rules = {s.child: (s.rule, s.shapes) for s in ex}
    assert rules["W"] == ("dL/dW = (dL/dz)ᵀ · x", "(2, 3) = (5, 2)ᵀ·(5, 3)")
    assert rules["x"] == ("dL/dx = dL/dz · W", "(5, 3) = (5, 2)·(2, 3)")
    assert rules["b"] == ("dL/db = dL/dz summed over the batch", "(2,) ← (5, 2)")
    assert "z = x · Wᵀ + b" in str(ex)
    assert_totals_match(ex, L)


def test_elementwise_rows_read_the_table_with_the_shape():
    h = tensor((3, 2), 0, "h")
    t = h.tanh()
    t.label = "t"
    s = t.sigmoid()
    s.label = "s"
    L = s.sum()
    ex = explain(L)
    (into_h,) = steps_into(ex, "h")
    assert into_h.rule == "dL/dh = dL/dt ⊙ (1 - t**2)" and into_h.shapes == "(3, 2)"
    (into_t,) = steps_into(ex, "t")
    assert into_t.rule == "dL/dt = dL/ds ⊙ (s * (1 - s))"
    np.testing.assert_allclose(into_h.local, 1 - t.data**2)  # the row's partial, elementwise
    np.testing.assert_allclose(into_h.contribution, into_h.upstream * into_h.local)
    assert_totals_match(ex, L)


def test_broadcast_gradient_is_summed_back_to_the_operand_shape():
    x, b, c = tensor((4, 3), 0, "x"), tensor((3,), 1, "b"), tensor((4, 1), 2, "c")
    y = (x + b) * c
    y.label = "y"
    L = y.sum()
    ex = explain(L)
    (into_b,) = steps_into(ex, "b")
    assert into_b.shapes == "(3,) ← (4, 3)" and into_b.contribution.shape == (3,)
    assert "b was broadcast: its gradient is summed over axis 0 back to its shape (3,)" in (
        into_b.note
    )
    (into_c,) = steps_into(ex, "c")
    assert "summed over axis 1 back to its shape (4, 1)" in into_c.note
    assert "b was broadcast" in str(ex)
    assert_totals_match(ex, L)


def test_reuse_adds_contributions_and_scalar_constants_read_as_numbers():
    x = tensor((2,), 0, "x")
    y = x * 2.0 + x
    y.label = "y"
    L = y.sum()
    ex = explain(L)
    into_x = steps_into(ex, "x")
    assert [(s.index, s.count) for s in into_x] == [(1, 2), (2, 2)]
    assert into_x[0].rule == "dL/dx = dL/dy" and into_x[1].rule == "dL/dx += dL/d#1 ⊙ 2.0"
    assert "#1 = x * 2.0" in str(ex) and "(x is used 2 times)" in str(ex)
    np.testing.assert_allclose(ex.grad(x), [3.0, 3.0])
    assert_totals_match(ex, L)


@pytest.fixture
def cube():
    op = ops.define_op("cube_tx", lambda x: x**3, lambda x, out: 3 * x**2, formula="3·x²")
    yield op
    del ops.TABLE["cube_tx"]


def test_define_op_on_a_tensor_is_narrated_with_its_formula(cube):
    x = tensor((2, 2), 0, "x")
    c = cube(x)
    c.label = "c"
    L = c.sum()
    ex = explain(L)
    (step,) = steps_into(ex, "x")
    assert step.op == "cube_tx" and step.rule == "dL/dx = dL/dc ⊙ (3·x²)"
    assert "c = cube_tx(x)" in str(ex)
    np.testing.assert_allclose(ex.grad(x), 3 * x.data**2)
    assert_totals_match(ex, L)


def test_reductions_shapes_and_losses_match_backward():
    logits = tensor((4, 3), 0, "logits")
    labels = np.array([0, 2, 1, 2])
    m = tensor((2, 6), 1, "m")
    r = m.reshape(3, 4).T[1:, :2]
    L = cross_entropy(logits, labels) + r.max(axis=1).sum() + m.log_softmax().mean()
    ex = explain(L)
    ops_seen = {s.op for s in ex}
    assert {"cross_entropy", "reshape", "permute", "index", "max", "log_softmax"} <= ops_seen
    ce = next(s for s in ex if s.op == "cross_entropy")
    assert ce.rule == "dL/dlogits = (softmax(logits) - onehot(labels)) · dL/d#1 / 4"
    index = next(s for s in ex if s.op == "index")
    assert index.note == ""  # a slice picks each element once: nothing adds up
    assert_totals_match(ex, L)


def test_backward_true_fills_a_fresh_graph_keeps_grads_and_false_touches_none():
    x, W = tensor((3, 4), 0, "x", grad=False), tensor((4, 2), 1, "W")
    L = (x @ W).tanh().sum()
    ex = explain(L, backward=False)
    assert W.grad is None and L.grad is None
    explain(L)  # a fresh graph: filled in as backward() would
    np.testing.assert_array_equal(ex.grad(W), W.grad)
    L.backward()  # leaves accumulate: twice the gradient, which explain leaves alone
    ex = explain(L)
    np.testing.assert_array_equal(2 * ex.grad(W), W.grad)
    assert "W.grad is mean" in str(ex) and "zero_grad() clears them" in str(ex)
    assert [s.child for s in ex] == ["#2", "#1", "W"]  # x needs no gradient: no step
    assert "operands that need no gradient: x (3, 4) float64" in str(ex)
    assert "the gradients of the inputs:" in str(ex) and "dL/dW = mean" in str(ex)


def test_bad_roots():
    with pytest.raises(ValueError, match="one-element"):
        explain(tensor((2, 2), 0, "y"))
    leaf = Tensor(np.array(2.0), requires_grad=True, label="w")
    ex = explain(leaf)
    assert len(ex) == 0 and "nothing to pass back" in str(ex)
    assert ex.grad(leaf) == 1.0 and leaf.grad == 1.0


def test_markdown_table():
    L = (tensor((2,), 0, "a") * tensor((2,), 1, "b")).sum()
    md = explain(L)._repr_markdown_()
    assert md.count("\n| ") == 4  # the header and one row per step
    assert "`dL/da = dL/d#1 ⊙ b`" in md


# -- totals equal backward() on random graphs ----------------------------------------------------

UNARY = ["tanh", "exp", "sigmoid", "relu", "sin", "neg", "sum0", "mean1", "T"]
BINARY = ["+", "-", "*", "/", "@"]


@st.composite
def programs(draw):
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 99), st.integers(0, 99)),
            min_size=1,
            max_size=12,
        )
    )
    return draw(st.integers(0, 2**31)), steps


def run_program(seed, steps):
    rng = np.random.default_rng(seed)
    pool = [
        Tensor(rng.normal(size=(3, 3)), requires_grad=True, label="A"),
        Tensor(rng.normal(size=(3,)), requires_grad=True, label="v"),
        Tensor(rng.normal(size=(3, 1)), requires_grad=True, label="c"),
        Tensor(rng.normal(size=(3, 3)), label="X"),  # data: needs no gradient
    ]
    for op, i, j in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if op in ("+", "-", "*"):
            out = {"+": a + b, "-": a - b, "*": a * b}[op]
        elif op == "/":
            out = a / (b * b + 1.0)
        elif op == "@":
            out = a @ b if a.ndim >= 1 and b.ndim >= 1 and a.shape[-1] == b.shape[0] else a.exp()
        elif op == "sum0":
            out = a.sum(axis=0) if a.ndim else a
        elif op == "mean1":
            out = a.mean(axis=-1, keepdims=True) if a.ndim else a
        elif op == "T":
            out = a.T
        elif op == "neg":
            out = -a
        else:
            out = getattr(a.tanh(), op)()  # tanh first keeps exp small
        pool.append(out)
    return sum((t.sum() * (k + 1.0) for k, t in enumerate(pool[4:])), pool[0].sum())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_totals_equal_backward(program):
    root = run_program(*program)
    ex = explain(root, backward=False)
    root.backward()
    assert_totals_match(ex, root)
    for s in ex:
        child = next(t for t in topological_order(root, lambda t: t._prev) if ex.name(t) == s.child)
        assert s.contribution.shape == child.shape


def test_a_small_conv_net_with_every_fused_op_is_explained_and_its_totals_are_backwards():
    """conv2d, max_pool2d, batch_norm, layer_norm, embedding and dropout have their steps on
    arrays only: explain runs them there (the engine's `step`), not as recorded Tensors."""
    from chainrule.tensor import batch_norm, conv2d, dropout, embedding, layer_norm, max_pool2d

    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, 1, 6, 6)), label="x")
    K, table = tensor((3, 1, 3, 3), 1, "K"), tensor((5, 4), 2, "E")
    h = max_pool2d(conv2d(x, K, padding=1), 2).relu().reshape(2, -1)  # (2, 27)
    h = batch_norm(h, None, None, training=True)
    h = dropout(layer_norm(h, 27), 0.5, generator=np.random.default_rng(1))
    L = (h.sum(axis=1) * embedding(np.array([1, 3]), table).sum(axis=1)).sum()
    ex = explain(L)
    ops_seen = {s.op for s in ex}
    assert {"conv2d", "max_pool2d", "batch_norm", "layer_norm", "embedding", "dropout"} <= ops_seen
    assert_totals_match(ex, L)
