"""draw_dot and save_graph on Tensor graphs: one box per tensor, op ovals, the size limit."""

import subprocess
import sys

import numpy as np
import pytest
from test_viz import parse, svg_texts

from chainrule import Tensor, ops
from chainrule.tensor import linear
from chainrule.viz import GraphTooLargeError, draw_dot, graph_size, op_label, save_graph


def small_net():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(4, 3)), label="x")  # data: needs no gradient
    W = Tensor(rng.normal(size=(2, 3)), requires_grad=True, label="W")
    b = Tensor([0.5, -0.5], requires_grad=True, label="b", dtype=np.float64)
    h = linear(x, W, b).tanh()
    h.label = "h"
    loss = (h * h).mean()
    loss.label = "loss"
    return loss, x, W, b, h


def test_one_box_per_tensor_with_shape_dtype_values_and_grad():
    loss, x, W, b, h = small_net()
    loss.backward()
    records, op_names, edges = parse(draw_dot(loss))
    assert len(records) == 7  # x, W, b, the linear output, h, h*h, loss
    by_label = {r.split("|")[0].strip(" {"): r for r in records.values()}
    # small tensors (<= 6 elements) show every number, data and grad
    assert "{ b | (2,) float64 | data [0.5000, -0.5000] | grad [" in by_label["b"]
    grad_b = ", ".join(f"{v:.4f}" for v in b.grad)
    assert f"grad [{grad_b}] }}" in by_label["b"]
    assert "{ W | (2, 3) float64 | data [[" in by_label["W"]
    # larger ones a summary: 12 numbers of x become mean, min and max
    assert (
        f"data mean {x.data.mean():.4f} min {x.data.min():.4f} max {x.data.max():.4f}"
        in (by_label["x"])
    )
    assert "needs no grad" in by_label["x"]  # the input batch gets no gradient
    assert f"grad mean {h.grad.mean():.4f}" in by_label["h"]
    assert "{ loss | () float64 | data " in by_label["loss"]
    assert sorted(op_names.values()) == ["*", "mean", "tanh", "x·Wᵀ + b"]
    assert sorted(e[2] for e in edges if e[2]) == ["bias", "input", "weight"]


def test_before_backward_grads_read_none():
    loss = small_net()[0]
    records, _, _ = parse(draw_dot(loss))
    assert sum("grad None" in r for r in records.values()) == 6  # all but the data x


def test_constants_and_reuse_are_drawn():
    x = Tensor([1.0, 2.0], requires_grad=True, label="x")
    y = x * 2.0 + x
    records, op_names, edges = parse(draw_dot(y))
    assert len(records) == 4  # x, the constant 2.0, x*2, the sum
    assert any("{  | () float32 | data 2.0000 | needs no grad }" == r for r in records.values())
    assert sorted(op_names.values()) == ["*", "+"]
    (x_id,) = [k for k, v in records.items() if "{ x |" in v]
    assert sum(1 for e in edges if e[0] == x_id) == 2


def test_op_labels_for_the_tensor_engine_and_the_table():
    cube = ops.define_op("cube_viz_t", lambda x: x**3, lambda x, out: 3 * x**2, formula="3·x²")
    try:
        A = Tensor(np.ones((2, 3)), requires_grad=True, label="A")
        B = Tensor(np.ones((3, 2)), requires_grad=True, label="B")
        P = A @ B
        assert op_label(P) == "@"
        assert op_label(cube(P)) == "cube_viz_t"
        assert op_label(P.sum(axis=1)) == "sum axis=1"
        assert op_label(P.T) == "ᵀ"
        assert op_label(P.softmax()) == "softmax axis=-1"
        assert op_label(P.sin()) == "sin"
        assert op_label(P - 1) == "-"
        _, _, edges = parse(draw_dot(A @ B))
        assert sorted(e[2] for e in edges if e[2]) == ["left", "right"]
    finally:
        del ops.TABLE["cube_viz_t"]


def test_large_tensor_graph_is_refused_like_a_value_graph():
    x = Tensor(np.ones(3), requires_grad=True, label="x")
    y = x
    for _ in range(200):
        y = y * 1.5  # the product and a constant: 2 new tensors each
    assert graph_size(y) == 401
    with pytest.raises(GraphTooLargeError, match="401 tensors") as info:
        draw_dot(y)
    assert "force=True" in str(info.value)
    assert len(parse(draw_dot(y, force=True))[0]) == 401


def test_save_graph_renders_a_tensor_graph(tmp_path):
    loss, *_ = small_net()
    loss.backward()
    texts = svg_texts(save_graph(loss, tmp_path / "net.svg"))
    assert "(2,) float64" in texts and "data [0.5000, -0.5000]" in texts
    assert "x·Wᵀ + b" in texts and "loss" in texts
    assert save_graph(loss, tmp_path / "net.dot").read_text().startswith("digraph {")


def test_viz_imports_without_numpy():
    code = (
        "import sys, chainrule.viz, chainrule.viz.narrate; "
        "from chainrule import Value, draw_dot, explain; "
        "v = Value(2.0) * 3; explain(v); draw_dot(v); "
        "assert 'numpy' not in sys.modules, 'numpy imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
