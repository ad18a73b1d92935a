"""explain(): one step per edge, the lecture's numbers, sums for reuse, totals == backward()."""

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lecture import lecture_L, lecture_neuron

import chainrule
from chainrule import Value, dot, ops
from chainrule.autograd import topological_order
from chainrule.value import _children, _closure
from chainrule.viz.narrate import Explanation, Step, explain


def test_lecture_L_six_steps_with_the_lecture_numbers():
    L, v = lecture_L()
    ex = explain(L)
    assert isinstance(ex, Explanation) and len(ex) == 6
    assert all(isinstance(s, Step) for s in ex)
    # The lecture's hand-derived gradients: dL/dd = f, dL/df = d, dL/dc = dL/de = f, ...
    got = {s.child: s.total for s in ex}
    assert got == {"d": -2.0, "f": 4.0, "c": -2.0, "e": -2.0, "a": 6.0, "b": -4.0}
    # Reverse topological order: L's edges first, then d's, then e's.
    assert [s.parent for s in ex] == ["L", "L", "d", "d", "e", "e"]
    step_a = next(s for s in ex if s.child == "a")
    assert (step_a.upstream, step_a.local, step_a.contribution) == (-2.0, -3.0, 6.0)
    assert step_a.rule == "d(a*b)/da = b"
    text = str(ex)
    assert "dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0" in text
    assert "dL/db = dL/de · de/db = -2.0 · 2.0 = -4.0" in text
    assert "dL/dc = dL/dd · dd/dc = -2.0 · 1.0 = -2.0" in text
    # the output's own steps are its local derivatives, not the circular dL/dL · dL/dd
    assert "dL/dd = f = -2.0" in text and "dL/df = d = 4.0" in text
    assert "dL/dL ·" not in text and "dL/dd = dL/dL" not in text
    # backward=True leaves the same numbers in .grad, for draw_dot to show
    assert (v["a"].grad, v["b"].grad, v["c"].grad, v["f"].grad, L.grad) == (6, -4, -2, 4, 1)


def test_backward_false_touches_no_grad():
    L, v = lecture_L()
    ex = explain(L, backward=False)
    assert ex.grad(v["a"]) == 6.0
    assert all(node.grad == 0.0 for node in (L, *v.values()))


def test_explain_keeps_the_gradients_the_user_has():
    L, v = lecture_L()
    L.backward()
    L.backward()  # leaves accumulate: a.grad == 12
    assert v["a"].grad == 12.0
    ex = explain(L)
    assert v["a"].grad == 12.0 and ex.grad("a") == 6.0  # this pass's 6, the user's 12 kept
    text = str(ex)
    assert "a.grad is 12.0, not 6.0" in text and "zero_grad() clears them" in text
    assert "d.grad" not in text.split("\n")[-1]  # intermediates hold this pass's already


def test_explain_fills_a_fresh_graph_and_says_nothing_when_the_grads_agree():
    L, v = lecture_L()
    explain(L)  # no backward yet: filled in, as backward() would
    assert (v["a"].grad, v["d"].grad, L.grad) == (6.0, -2.0, 1.0)
    again = explain(L)  # now they are there, and they agree: left alone, no note
    assert v["a"].grad == 6.0 and "explain left" not in str(again)
    v["e"].grad = 99.0  # a gradient set by hand, wrongly: named, not overwritten
    assert "e.grad is 99.0, not -2.0" in str(explain(L)) and v["e"].grad == 99.0


def test_reuse_is_a_sum_of_contributions():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    ex = explain(b)
    assert len(ex) == 2
    assert ex.contributions("a") == [1.0, 1.0]
    assert [s.index for s in ex] == [1, 2] and all(s.count == 2 for s in ex)
    assert ex.grad(a) == 2.0 == a.grad
    text = str(ex)
    assert [s.formula() for s in ex] == ["db/da = 1.0", "db/da += 1.0"]
    assert "db/da += 1.0    d(a + a)/da = 1 (operand 2 of 2)" in text
    assert "db/da = 1.0 + 1.0 = 2.0" in text


def test_lecture_second_reuse_example_matches_torch():
    a, b = Value(-2.0, label="a"), Value(3.0, label="b")
    d = a * b
    d.label = "d"
    e = a + b
    e.label = "e"
    f = d * e
    f.label = "f"
    ex = explain(f)
    ta = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    ((ta * tb) * (ta + tb)).backward()
    assert ex.grad("a") == ta.grad.item() == -3.0
    assert ex.grad("b") == tb.grad.item() == -8.0
    assert len(ex.contributions("a")) == 2 and len(ex.contributions("b")) == 2
    assert "df/da = " in str(ex) and "(a is used 2 times" in str(ex)


def test_neuron_tanh_rule_as_the_lecture_writes_it():
    o, v = lecture_neuron()
    ex = explain(o)
    first = ex[0]
    assert first.rule == "d(tanh n)/dn = 1 - o**2"
    assert math.isclose(first.local, 0.5, rel_tol=1e-12)
    assert math.isclose(ex.grad("x1"), -1.5, rel_tol=1e-12)
    assert math.isclose(ex.grad("w1"), 1.0, rel_tol=1e-12)
    assert ex.grad("w2") == 0.0 and math.isclose(ex.grad("x2"), 0.5, rel_tol=1e-12)


def rule_for(root, child):
    return next(s for s in explain(root) if s.child == child)


@pytest.mark.parametrize(
    "build, child, rule, local",
    [
        (lambda x: x.exp(), "x", "d(exp x)/dx = L", math.exp(0.5)),  # the row: d(e^x)/dx = out
        (lambda x: x.log(), "x", "d(log x)/dx = 1/x", 2.0),
        (lambda x: x**3, "x", "d(x**3)/dx = 3 * x**2", 0.75),
        (lambda x: x**-1, "x", "d(1/x)/dx = -1/x**2", -4.0),  # 1/x, as division makes it
        (lambda x: x.relu(), "x", "d(relu x)/dx = 1 if x > 0 else 0", 1.0),
        (lambda x: (x * -1).relu(), "#1", "d(relu #1)/d#1 = 1 if #1 > 0 else 0", 0.0),
        (lambda x: x.sigmoid(), "x", "d(sigmoid x)/dx = L * (1 - L)", None),
    ],
)
def test_local_rules(build, child, rule, local):
    x = Value(0.5, label="x")
    step = rule_for(build(x), child)
    assert step.rule == rule
    if local is not None:
        assert math.isclose(step.local, local, rel_tol=1e-12)


def test_sigmoid_and_value_exponent_rules():
    x = Value(0.5, label="x")
    s = x.sigmoid()
    s.label = "s"
    step = rule_for(s, "x")
    assert step.rule == "d(sigmoid x)/dx = s * (1 - s)"
    assert math.isclose(step.local, s.data * (1 - s.data))
    a, k = Value(2.0, label="a"), Value(3.0, label="k")
    p = a**k
    p.label = "p"
    ex = explain(p)
    assert ex[0].rule == "d(a**k)/da = k * a**(k - 1)" and ex[0].local == 12.0
    assert ex[1].rule == "d(a**k)/dk = a**k * log(a)"
    assert math.isclose(ex[1].local, 8 * math.log(2))


def test_dot_rule_and_order_match_the_engine():
    w = [Value(0.5, label="w1"), Value(-1.0, label="w2")]
    x = [Value(1.5, label="x1"), Value(2.0, label="x2")]
    out = dot(w, x, Value(0.1, label="b"))
    out.label = "y"
    ex = explain(out)
    assert [s.child for s in ex] == ["b", "w1", "x1", "w2", "x2"]
    assert [s.rule for s in ex][:3] == [
        "d(Σ w·x + b)/db = 1 (the bias)",
        "d(Σ w·x + b)/dw1 = x1",
        "d(Σ w·x + b)/dx1 = w1",
    ]
    assert [ex.grad(n) for n in ("w1", "x1", "w2", "x2", "b")] == [1.5, 0.5, 2.0, -1.0, 1.0]
    assert "y = b + w1·x1 + w2·x2" in str(ex)


def lecture_style_cube(a):
    """A custom op written the lecture's way: a fresh Value and a closure for its backward."""
    out = Value(a.data**3, (a,), "cube")

    def _backward():
        a.grad += 3 * a.data**2 * out.grad

    out._backward = _backward
    return out


def lecture_style_mul(a, b):
    out = Value(a.data * b.data, (a, b), "cmul")

    def _backward():
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    out._backward = _backward
    return out


def test_custom_op_is_measured_not_narrated():
    x = Value(2.0, label="x")
    y = lecture_style_cube(x) * x  # x**4: dy/dx = 32 at 2
    ex = explain(y, backward=False)
    assert ex.grad("x") == 32.0
    assert x.grad == 0.0  # the closure ran on the side and everything was put back
    custom = next(s for s in ex if s.op == "cube")
    assert custom.local is None and custom.contribution == 24.0
    assert "cannot read the local rule of op 'cube'" in custom.rule
    y.backward()
    assert x.grad == ex.grad("x")


def test_op_without_rule_passes_nothing():
    a = Value(2.0, label="a")
    weird = Value(5.0, (a,), "mystery")
    out = weird * 3
    ex = explain(out)
    step = next(s for s in ex if s.op == "mystery")
    assert step.contribution == 0.0 and "no backward rule" in step.rule
    assert ex.grad("a") == 0.0 == a.grad


def test_names_are_stable_and_distinct():
    x = Value(1.0)
    y = Value(2.0, label="x")
    z = Value(3.0, label="x")
    out = (x * y + z).tanh()
    ex = explain(out)
    # unlabeled results are #1, #2 (in the order written); the unlabeled leaf is a constant
    assert set(ex.grads) == {"x", "x#2", "#1", "#2", "L"}
    assert ex.name(out) == "L" and ex.name(x) == "1.0"
    assert "#1 = 1.0 * x" in str(ex) and "#2 = #1 + x#2" in str(ex)
    assert explain(out).grads == ex.grads  # same graph, same names
    assert "constants, written as numbers: 1.0 " in str(ex)


def test_unlabeled_names_cannot_be_taken_for_the_users():
    n = Value(0.5, label="n")
    o = (n * 2 + 1).tanh()  # the lecture's n beside two unnamed results
    o.label = "o"
    ex = explain(o)
    assert [s.child for s in ex] == ["#2", "#1", "n"]
    assert not any(name.startswith("n") and name != "n" for name in ex.grads)
    taken = Value(1.0, label="#1")
    out = taken * n * 3
    assert "#1#2" not in explain(out).grads and set(explain(out).grads) >= {"#1", "#2"}


def test_constants_are_numbers_with_no_narrated_gradient():
    x = Value(3.0, label="x")
    e = (2 * x).exp()
    y = (e - 1) / (e + 1)  # the lecture's tanh from exp: 2, -1, 1 and -1 (the power)
    y.label = "y"
    ex = explain(y, backward=False)
    text = str(ex)
    assert "#1 = x * 2.0" in text and "d(x*2.0)/dx = 2.0" in text
    assert "#2 + (-1.0)" in text and "#2 + 1.0" in text
    assert all(not s.child[0].isdigit() and not s.child.startswith("-") for s in ex)
    assert "constants, written as numbers: 2.0, -1.0, 1.0" in text
    # every gradient still equals backward()'s, the constants' included (by Value)
    y.backward()
    for node in topological_order(y, _children):
        assert ex.grad(node) == node.grad
    assert "2.0" not in ex.grads and ex.contributions(x) != []


def test_root_steps_read_as_their_local_derivative():
    o, _ = lecture_neuron()
    assert explain(o)[0].formula() == "do/dn = 1 - o**2 = 0.5"
    a = Value(2.0, label="a")
    b = a + 3.0
    b.label = "b"
    assert explain(b)[0].formula() == "db/da = 1.0"  # a derivative of 1 is not said twice
    c = lecture_style_cube(a)
    c.label = "c"
    assert explain(c)[0].formula() == "dc/da = 12.0"  # a closure's rule cannot be read


def test_leaf_root_and_bad_input():
    x = Value(4.0, label="x")
    ex = explain(x)
    assert len(ex) == 0 and ex.grad("x") == 1.0
    assert "nothing to pass back" in str(ex)
    with pytest.raises(TypeError):
        explain(4.0)


def test_deep_graph_needs_no_recursion():
    x = Value(0.1, label="x")
    y = x
    for _ in range(20000):
        y = y * 1.0
    ex = explain(y)
    # one step per multiplication into the chain; the 20000 constants 1.0 get none
    assert len(ex) == 20000 and ex.grad("x") == x.grad == 1.0


def test_package_level_explain_is_callable_every_time():
    L, _ = lecture_L()
    assert len(chainrule.explain(L)) == 6
    assert len(chainrule.explain(L)) == 6  # also once the module itself has been imported


def test_markdown_for_notebooks():
    L, _ = lecture_L()
    md = explain(L)._repr_markdown_()
    assert md.count("\n| ") == 7  # the header and six steps
    assert "`d(a*b)/da = b`" in md


# -- the op table speaks for every op it has -------------------------------------------------


@pytest.fixture
def cube():
    op = ops.define_op("cube_explain", lambda x: x**3, lambda x, out: 3 * x**2, formula="3·x²")
    yield op
    del ops.TABLE["cube_explain"]


def test_define_op_is_narrated_with_its_formula(cube):
    x = Value(2.0, label="x")
    y = cube(x)
    y.label = "y"
    ex = explain(y)
    (step,) = ex
    assert step.op == "cube_explain" and step.rule == "d(cube_explain x)/dx = 3·x²"
    assert step.local == 12.0 and step.contribution == 12.0 == x.grad
    assert "y = cube_explain(x)\n  dy/dx = 3·x² = 12.0" in str(ex)
    assert "(1 step, from the output" in str(ex)


def test_two_operand_table_ops_read_their_rows():
    a, b = Value(2.0, label="a"), Value(4.0, label="b")
    q = ops.TABLE["/"](a, b)
    q.label = "q"
    ex = explain(q)
    assert [s.rule for s in ex] == ["d(a/b)/da = 1/b", "d(a/b)/db = -q/b"]
    assert [s.local for s in ex] == [0.25, -0.125]
    assert "q = a / b" in str(ex)
    s = ops.TABLE["sin"](a * b)
    assert explain(s)[0].rule == "d(sin #1)/d#1 = cos(#1)"


def table_point(name):
    """Operands inside every row's domain, away from kinks."""
    return {"log": 0.7, "sqrt": 0.7, "**": 1.3}.get(name, 0.6), -0.4 if name != "**" else 0.8


@pytest.mark.parametrize("name", sorted(ops.TABLE))
def test_every_table_row_totals_equal_backward_exactly(name):
    row = ops.TABLE[name]
    first, second = table_point(name)
    x = Value(first, label="x")
    y = Value(second, label="y")
    out = row(x, y) if row.arity == 2 else row(x * y if name not in ("log", "sqrt") else x)
    out.label = "o"
    root = (out * out).tanh()  # reuse and a chain on top
    ex = explain(root, backward=False)
    root.backward()
    for node in topological_order(root, _children):
        assert ex.grad(node) == node.grad, name
    rules = [s.rule for s in ex if s.parent == "o"]
    assert len(rules) == row.arity and all(r.startswith("d(") for r in rules)


def test_power_of_a_zero_base_fails_as_the_engine_does():
    a, k = Value(0.0, label="a"), Value(0.5, label="k")
    with pytest.raises(ZeroDivisionError, match="zero"):
        explain(a**k, backward=False)
    with pytest.raises(ZeroDivisionError, match="zero"):
        explain(a**0.5, backward=False)
    flat = explain(a ** Value(2.0, label="k"), backward=False)
    assert flat[1].rule.endswith("= 0 (at a = 0)") and flat.grad("k") == 0.0


# -- totals equal backward() on many graphs ----------------------------------------------------

OPS = [
    "add",
    "mul",
    "sub",
    "div",
    "pow_k",
    "pow_v",
    "neg",
    "exp",
    "log",
    "tanh",
    "relu",
    "sigmoid",
    "dot",
    "const_mul",
    "rsub",
    "custom_mul",
]


@st.composite
def programs(draw):
    n_leaves = draw(st.integers(1, 4))
    leaves = draw(
        st.lists(
            st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
            min_size=n_leaves,
            max_size=n_leaves,
        )
    )
    steps = draw(
        st.lists(
            st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6)),
            min_size=1,
            max_size=25,
        )
    )
    return leaves, steps


def build(leaves, steps):
    """Run a random program; ops whose inputs are out of their domain are skipped."""
    pool = [Value(v, label=f"x{i}") for i, v in enumerate(leaves)]
    for op, i, j in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]  # reuse happens often
        if op == "add":
            out = a + b
        elif op == "mul":
            out = a * b
        elif op == "sub":
            out = a - b
        elif op == "div" and abs(b.data) > 1e-2:
            out = a / b
        elif op == "pow_k" and abs(a.data) > 1e-2:
            out = a ** (j % 4 - 1)
        elif op == "pow_v" and 1e-2 < a.data < 10 and abs(b.data) < 3:
            out = a**b
        elif op == "neg":
            out = -a
        elif op == "exp" and a.data < 5:
            out = a.exp()
        elif op == "log" and a.data > 1e-2:
            out = a.log()
        elif op == "tanh":
            out = a.tanh()
        elif op == "relu":
            out = a.relu()
        elif op == "sigmoid":
            out = a.sigmoid()
        elif op == "dot":
            k = 1 + j % 3
            ws = [pool[(i + t) % len(pool)] for t in range(k)]
            xs = [pool[(j + t) % len(pool)] for t in range(k)]
            out = dot(ws, xs, b)
        elif op == "const_mul":
            out = 0.5 * a
        elif op == "rsub":
            out = 2.0 - a
        elif op == "custom_mul":  # written the lecture's way; a and b may be the same Value
            out = lecture_style_mul(a, b)
        else:
            continue
        if abs(out.data) > 1e6:
            continue
        pool.append(out)
    return pool[-1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_totals_equal_backward_exactly(program):
    leaves, steps = program
    root = build(leaves, steps)
    ex = explain(root, backward=False)
    root.backward()
    for node in topological_order(root, _children):
        assert ex.grad(node) == node.grad or (math.isnan(node.grad) and math.isnan(ex.grad(node)))
    # every step's total is the running sum of that child's contributions
    running = {}
    for s in ex:
        running[s.child] = running.get(s.child, 0.0) + s.contribution
        assert math.isclose(running[s.child], s.total, rel_tol=1e-9, abs_tol=1e-9)

    # one step per edge into a named value (a constant's gradient is not narrated); a custom
    # closure is measured once per distinct operand
    def named(kids):
        return [k for k in kids if k.label or _children(k)]

    assert len(ex) == sum(
        len({id(k) for k in named(_children(n))})
        if _closure(n) is not None
        else len(named(_children(n)))
        for n in topological_order(root, _children)
    )


def test_the_narration_wraps_its_lines_at_100_characters(capsys, tmp_path, monkeypatch):
    from chainrule import cli

    monkeypatch.chdir(tmp_path)
    values = {"x1": 2.0, "w1": -3.0, "x2": 0.0, "w2": 1.0, "b": 6.88}
    x1, w1, x2, w2, b = (Value(v, label=k) for k, v in values.items())
    total = x1 * w1 + x2 * w2
    total.label = "x1*w1 + x2*w2"  # as `chainrule graph` labels a value by its expression
    ex = explain((total + b) * (x1 - w2))
    long = [s for s in ex.steps if len(f"  {s.formula()}    {s.rule}") > 100]
    program = "L = (x1*w1 + x2*w2 + b) * (x1 - w2)"
    args = ["graph", program, "--set", "x1=2", "w1=-3", "x2=0", "w2=1", "b=6.88", "--explain"]
    assert cli.main([*args, "--out", "g.dot"]) == 0
    for text in (str(ex), capsys.readouterr().out):
        lines = text.splitlines()
        assert max(map(len, lines)) <= 100  # 108 and 160 characters before
        assert len(lines) > 12
    assert long and all(s.rule in str(ex) for s in ex.steps)  # a long step goes on two lines


def test_division_is_narrated_as_division():
    a, b = Value(6.0, label="a"), Value(3.0, label="b")
    c = a / b  # computed as the lecture does: a * b**-1
    c.label = "c"
    ex = explain(c, backward=False)
    text = str(ex)
    assert "c = a / b" in text and "#1 = 1 / b" in text and "**-1" not in text
    assert [s.rule for s in ex] == ["d(a/b)/da = 1/b", "d(a*#1)/d#1 = a", "d(1/b)/db = -1/b**2"]
    assert ex[0].formula() == "dc/da = 1/b = 0.333333"
    c.backward()
    assert (ex.grad(a), ex.grad(b)) == (a.grad, b.grad)
    assert explain(1 / b).headers["L"] == "L = 1.0 / b"  # computed as b**-1 * 1
