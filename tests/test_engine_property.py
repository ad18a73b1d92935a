"""Random expression graphs: data and every gradient must match PyTorch (float64).

Each example is a little program over a few inputs. Every instruction combines earlier results
(so subexpressions are shared, sometimes with themselves), uses every op, puts constants on either
side, and falls back to `tanh` whenever an op would leave its real domain or blow up, so every
graph is valid. Intermediate gradients are compared too (PyTorch's `retain_grad`).
"""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import Value

UNARY = ["exp", "log", "tanh", "relu", "sigmoid", "neg", "pow_const"]
BINARY = ["add", "sub", "mul", "div", "pow"]
CONST_SIDE = ["radd", "rsub", "rmul", "rdiv", "add_c", "mul_c", "sub_c", "div_c"]
EXPONENTS = [2, 3, -1, 0.5, -2, 1.5]
CONSTANTS = [-2.0, -0.5, 0.25, 1.0, 3.0]

instruction = st.tuples(
    st.sampled_from(UNARY + BINARY + CONST_SIDE),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(EXPONENTS),
    st.sampled_from(CONSTANTS),
)


def _valid(op, x, y, k):
    """Whether the op is defined and tame at these inputs (otherwise the program uses tanh)."""
    if op == "exp":
        return x < 20
    if op == "log":
        return x > 1e-3
    if op == "pow_const":
        return (k == int(k) or x > 1e-3) and (k > 0 or abs(x) > 1e-2)
    if op == "pow":
        return x > 1e-2 and abs(y) < 4 and abs(y * math.log(x)) < 20
    if op in ("div", "rdiv"):
        return abs(y if op == "div" else x) > 1e-2
    return True


def apply(op, a, b, k, c, tanh):
    return {
        "exp": lambda: a.exp(),
        "log": lambda: a.log(),
        "tanh": lambda: tanh(a),
        "relu": lambda: a.relu(),
        "sigmoid": lambda: a.sigmoid(),
        "neg": lambda: -a,
        "pow_const": lambda: a**k,
        "add": lambda: a + b,
        "sub": lambda: a - b,
        "mul": lambda: a * b,
        "div": lambda: a / b,
        "pow": lambda: a**b,
        "radd": lambda: c + a,
        "rsub": lambda: c - a,
        "rmul": lambda: c * a,
        "rdiv": lambda: c / a,
        "add_c": lambda: a + c,
        "mul_c": lambda: a * c,
        "sub_c": lambda: a - c,
        "div_c": lambda: a / c,
    }[op]()


def run_program(inputs, program):
    """Build the graph in both engines side by side; return (values, tensors, root, troot)."""
    vals = [Value(x) for x in inputs]
    tens = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    for op, i, j, k, c in program:
        i, j = i % len(vals), j % len(vals)
        x, y = vals[i].data, vals[j].data
        if not _valid(op, x, y, k):
            op = "tanh"
        if op == "div_c" and c == 0:
            op = "mul_c"
        v = apply(op, vals[i], vals[j], k, c, lambda v: v.tanh())
        t = apply(op, tens[i], tens[j], k, c, torch.tanh)
        if not math.isfinite(v.data) or abs(v.data) > 1e6:
            v, t = vals[i].tanh(), torch.tanh(tens[i])
        t.retain_grad()
        vals.append(v)
        tens.append(t)
    root, troot = vals[-1], tens[-1]
    for v, t in zip(vals[-3:-1], tens[-3:-1]):  # let the root depend on a few late results
        root, troot = root + v, troot + t
    return vals, tens, root, troot


GRAPHS = 2000


@settings(max_examples=GRAPHS)
@given(
    inputs=st.lists(
        st.floats(min_value=-3, max_value=3, allow_nan=False).filter(lambda x: abs(x) > 1e-3),
        min_size=1,
        max_size=4,
    ),
    program=st.lists(instruction, min_size=1, max_size=14),
)
def check_random_graph(inputs, program):
    checked.append(len(program))
    vals, tens, root, troot = run_program(inputs, program)
    root.backward()
    troot.backward()
    for v, t in zip(vals, tens):
        assert v.data == pytest.approx(t.item(), rel=1e-9, abs=1e-12)
        want = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(want, rel=1e-7, abs=1e-9)


checked: list[int] = []


def test_random_graphs_match_torch():
    checked.clear()
    check_random_graph()
    # hypothesis stops early when it runs out of new examples; make sure it did not
    assert len(checked) >= GRAPHS, f"only {len(checked)} graphs were checked"
