"""The coach (`chainrule.exercises.check`): right engines pass, each known mistake is named.

The engines under test are learners' engines written the lecture's way: micrograd's own, the
lecture engine in tests/coach/lecture_engine.py, and a mutant of it for each mistake
(tests/coach/mutants.py). The reference numbers themselves are checked against PyTorch.
"""

import itertools
import json
import math
import re
import sys
from pathlib import Path

import pytest
import torch

import chainrule
from chainrule.exercises import Report, check
from chainrule.exercises.mistakes import CATALOGUE, ORDERS, same, simulate
from chainrule.exercises.probes import BATTERY, OPS, UPSTREAM, build, op_names
from chainrule.exercises.reference import reference

sys.path.insert(0, str(Path(__file__).resolve().parent / "coach"))
import mutants  # noqa: E402

CASES = [(check.id, i, case) for check in BATTERY for i, case in enumerate(check.cases)]


def rows(report):
    """{title: (status, message)} from the report's table, as printed."""
    table = {}
    for f in report.findings:
        match = re.search(rf"^  {re.escape(f.title)} +(\S+) +(.*)$", report.format(), re.M)
        assert match, f.title
        table[f.title] = (match.group(1), match.group(2))
    return table


# -- the reference, and the simulated engine, agree with PyTorch -----------------------------


def torch_grads(case, via):
    """The case in PyTorch float64: every value, and the gradients `via` leaves on the leaves."""
    leaves = {}

    def leaf(name, x):
        leaves[name] = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        return leaves[name]

    env = build(case, leaf)
    out = env[case.output]
    scale = {"local": UPSTREAM, "backward": 1.0, "twice": 2.0, "zero_grad": 1.0}[via]
    (out * scale).backward()
    return {k: v.item() for k, v in env.items()}, {k: t.grad.item() for k, t in leaves.items()}


@pytest.mark.parametrize("check_id,i,case", CASES, ids=[f"{c}-{i}" for c, i, _ in CASES])
def test_reference_numbers_are_pytorchs(check_id, i, case):
    data, grads = torch_grads(case, case.mode)
    ours = reference(case, case.mode)
    assert math.isclose(ours.data[case.output], data[case.output], rel_tol=1e-12)
    for name, g in grads.items():
        assert math.isclose(ours.grad[name], g, rel_tol=1e-9, abs_tol=1e-12), name


@pytest.mark.parametrize("check_id,i,case", CASES, ids=[f"{c}-{i}" for c, i, _ in CASES])
def test_the_simulated_engine_without_a_mistake_is_the_reference(check_id, i, case):
    for order in ORDERS:
        assert same(case, simulate(case, case.mode, None, None, order), reference(case, case.mode))


def test_every_mistake_shows_and_no_two_mistakes_look_alike():
    """The claim of probes.py: over the battery, each way of making each mistake changes some
    number, whatever order the children are walked in, and any two ways of making two
    different mistakes differ on some case in every order."""

    def outcomes(mistake, variant, case):
        orders = mistake.orders if mistake else ORDERS
        return [simulate(case, case.mode, mistake, variant, o) for o in orders]

    cases = [case for _, _, case in CASES]
    ways = [(m, v) for m in CATALOGUE for v in m.variants]
    truth = [reference(case, case.mode) for case in cases]
    table = {(m.id, v): [outcomes(m, v, c) for c in cases] for m, v in ways}
    for (m, v), per_case in zip(ways, table.values()):
        assert any(
            not any(same(c, o, t) for o in outs) for c, outs, t in zip(cases, per_case, truth)
        ), f"{m.id} ({v}) changes nothing the battery measures"
    for (k1, a), (k2, b) in itertools.combinations(table.items(), 2):
        if k1[0] == k2[0]:
            continue  # two ways of the same mistake may agree
        assert any(
            not any(same(c, x, y) for x in xs for y in ys) for c, xs, ys in zip(cases, a, b)
        ), f"{k1} and {k2} give the same numbers on every case"


# -- right engines pass ---------------------------------------------------------------------


def test_chainrules_own_value_passes_everything_required():
    report = check(chainrule.Value, require="all")
    assert report.passed
    assert report.counts() == {"pass": len(BATTERY), "fail": 0, "missing": 0, "note": 0}


def test_the_lecture_engine_passes():
    report = check(mutants.load())
    assert report.passed and not report.missing and not report.notes
    assert report.mistakes == []


def test_micrograds_own_engine_passes_with_its_missing_ops_listed():
    from micrograd.engine import Value

    report = check(Value)
    assert report.passed
    table = rows(report)
    assert table["a.tanh()"] == ("missing", "the class has no a.tanh() (tanh)")
    assert table["a.exp()"][0] == "missing"
    assert table["neuron"] == ("missing", "needs a.tanh(), which the class does not have")
    # its recursive topological sort meets Python's recursion limit: a note, not a failure
    assert table["a chain 5,000 deep"] == (
        "note",
        "backward() hit Python's recursion limit (not a mistake)",
    )
    assert table["zero_grad()"] == ("note", "the class has no zero_grad(); not checked")
    others = {t for t, (status, _) in table.items() if status == "pass"}
    assert len(others) == len(BATTERY) - 5
    assert re.search(r"\(at engine\.py, line \d+, in build_topo\)", report.findings[-1].explanation)


def test_require_makes_a_missing_op_fail():
    from micrograd.engine import Value

    report = check(Value, require="tanh")
    assert not report.passed
    assert {f.title for f in report.failures} == {"a.tanh()", "neuron"}
    assert rows(report)["a.tanh()"] == ("FAIL", "the class has no a.tanh() (tanh) (required)")
    assert check(Value, require=["relu", "*"]).passed
    with pytest.raises(ValueError, match="unknown op 'sin'"):
        check(Value, require="tanh,sin")


def test_op_names_take_names_symbols_and_all():
    assert op_names("+, *,**") == {"add", "mul", "pow"}
    assert op_names("all") == {*OPS, "backward"}
    assert op_names(["tanh", "__rtruediv__"]) == {"tanh", "rdiv"}


# -- each mistake is named ------------------------------------------------------------------


@pytest.mark.parametrize("mutant", list(mutants.MUTANTS))
def test_each_mutant_is_named_for_its_mistake(mutant):
    report = check(mutants.load(mutant))
    named = mutants.NAMED.get(mutant, mutant)
    assert not report.passed
    assert {f.mistake_id for f in report.failures} == {named}  # every failure explained by it
    assert report.mistakes == [next(m.name for m in CATALOGUE if m.id == named)]


# The examples, with the numbers: (mutant, check, node, expected, actual).
EXAMPLES = [
    ("assign:add", "a + a", "a", 2.0, 1.0),  # a reused node gets 1 instead of 2
    ("operand:mul", "a * b", "a", UPSTREAM * -3.0, UPSTREAM * 2.0),  # d(a*b)/da is b, not a
    ("minus_one:pow", "a ** k", "a", UPSTREAM * 2 * 3.0, UPSTREAM * 2 * 9.0),
    ("one_minus_t:tanh", "a.tanh()", "a", UPSTREAM * (1 - math.tanh(0.5) ** 2), None),
    ("relu_pass:relu", "a.relu()", "a", 0.0, UPSTREAM),  # at a = -2
    ("exp_input:exp", "a.exp()", "a", UPSTREAM * math.exp(0.5), UPSTREAM * 0.5),
    ("no_upstream:mul", "a * b", "a", UPSTREAM * -3.0, -3.0),
    ("forward_order", "L = -8", "e", -2.0, 0.0),
    ("recursive-tuple", "b = a + a; c = b + b", "a", 4.0, 8.0),
    ("no_seed", "L = -8", "L", 1.0, 0.0),
]


@pytest.mark.parametrize("mutant,title,node,expected,actual", EXAMPLES)
def test_a_failure_names_the_node_and_both_gradients(mutant, title, node, expected, actual):
    report = check(mutants.load(mutant))
    [finding] = [f for f in report.findings if f.title == title]
    assert finding.status == "fail"
    assert finding.node == node
    assert math.isclose(finding.expected, expected, rel_tol=1e-12)
    if actual is not None:
        assert math.isclose(finding.actual, actual, rel_tol=1e-12, abs_tol=1e-15)
    assert finding.message.startswith(f"{node}.grad = ")


def test_a_failure_narrates_the_step_that_should_have_happened():
    report = check(mutants.load("operand:mul"))
    f = next(f for f in report.findings if f.title == "L = -8")
    # the first wrong gradient from the output back is d: dL/dd = f = -2
    assert (f.node, f.expected, f.actual) == ("d", -2.0, 4.0)
    assert f.narration == ["dL/dd = f = -2.0    d(d*f)/dd = f"]
    f = next(f for f in report.findings if f.title == "a * b")
    assert f.narration == ["dL/da = dL/dout · dout/da = -1.5 · -3.0 = 4.5    d(a*b)/da = b"]
    reuse = next(f for f in check(mutants.load("assign:add")).findings if f.title == "a + a")
    assert reuse.narration[-1].startswith("db/da = 1 + 1 = 2")


def test_the_table_is_aligned_and_each_failure_is_explained_once():
    text = check(mutants.load("operand:mul")).format()
    lines = text.splitlines()
    assert lines[0] == "Value: FAILED (8 pass, 14 fail)"
    table = lines[3 : 3 + len(BATTERY)]
    starts = {re.search(r"  (pass|FAIL) ", line).start() for line in table}
    assert len(starts) == 1  # the status column lines up
    assert text.count("this is a known mistake: the wrong operand in *'s backward") == 1
    assert "(13 more failures come from a mistake explained above.)" in text
    assert "a * b                 FAIL    a.grad = -3, expected 4.5: wrong operand in *" in text


def test_the_report_never_shows_the_reference_engines_code():
    text = check(mutants.load("no_seed")).format() + check(mutants.load("recursive")).format()
    for internal in ("chainrule", "engine_rules", "_local_step", "def "):
        assert internal not in text


def test_an_error_in_the_learners_op_is_shown_with_their_line_only():
    wrong = "self.grad += other * self.data ** (other - 1) * out.grad + undefined_name"
    source = mutants.BASE.replace(
        "self.grad += other * self.data ** (other - 1) * out.grad  # pow", wrong
    )
    line = source.splitlines().index(f"            {wrong}") + 1
    namespace = {"__name__": "my_engine"}
    exec(compile(source, "my_engine.py", "exec"), namespace)
    report = check(namespace["Value"])
    [failure] = [f for f in report.failures if f.title == "a ** k"]
    assert failure.message == (
        "out = a ** 2 (its backward) raised NameError: name 'undefined_name' is not defined "
        f"(my_engine.py, line {line}, in _backward)"
    )
    assert f'File "my_engine.py", line {line}, in _backward' in failure.error
    assert "chainrule" not in failure.error


def test_a_blank_is_missing_with_its_own_words():
    source = mutants.BASE.replace(
        "self.grad += (1 - t**2) * out.grad  # tanh",
        'raise NotImplementedError("d(tanh x)/dx times out.grad")',
    )
    namespace = {"__name__": "blank"}
    exec(compile(source, "blank.py", "exec"), namespace)
    report = check(namespace["Value"])
    assert report.passed
    table = rows(report)
    assert table["a.tanh()"] == (
        "missing",
        "forward right; backward not written yet: d(tanh x)/dx times out.grad",
    )
    assert table["neuron"] == ("missing", "not written yet: d(tanh x)/dx times out.grad")
    assert not check(namespace["Value"], require="tanh").passed


def test_a_class_without_backward_yet_is_checked_op_by_op():
    namespace = {"__name__": "early"}
    exec(compile(mutants.BASE, "early.py", "exec"), namespace)
    Value = namespace["Value"]
    del Value.backward
    report = check(Value)
    table = rows(report)
    assert report.passed
    assert table["a * b"][0] == "pass"  # checked with out._backward(), as the lecture does
    assert table["a - b"] == ("missing", "needs backward(), which the class does not have yet")
    assert table["L = -8"] == ("missing", "needs backward(), which the class does not have yet")
    assert not check(Value, require="backward").passed


def test_something_that_is_not_a_value_class_fails_in_one_line():
    class Broken:
        def __init__(self, data):
            self.data = [data]
            self.grad = 0

    report = check(Broken)
    assert [f.message for f in report.findings] == ["Broken(2.0).data should be 2.0, got [2.0]"]
    assert not report.passed
    assert not check(42).passed


def test_a_backward_that_never_ends_is_stopped():
    source = mutants.BASE.replace(
        "self.grad = 1.0  # seed", "self.grad = 1.0\n        while True:\n            pass"
    )
    namespace = {"__name__": "loop"}
    exec(compile(source, "loop.py", "exec"), namespace)
    report = check(namespace["Value"], time_limit=0.3)
    table = rows(report)
    first = next(c.title for c in BATTERY if c.needs_backward)
    assert table[first][0] == "FAIL" and table[first][1].startswith("stopped after 0.3 s")
    assert table["a * b"][0] == "pass"  # no backward() there: the ops' own steps
    assert table["L = -8"] == ("FAIL", f"not run: backward() never finished in {first} above")


# -- JSON, Gradescope, HTML -------------------------------------------------------------------


def test_json_holds_every_finding():
    report = check(mutants.load("operand:mul"))
    data = json.loads(report.to_json())
    assert data["passed"] is False
    assert data["counts"] == {"pass": 8, "fail": 14, "missing": 0, "note": 0}
    assert data["mistakes"] == ["the wrong operand in *'s backward: d(a*b)/da is b, not a"]
    assert len(data["findings"]) == len(BATTERY)
    [mul] = [f for f in data["findings"] if f["check"] == "op:mul"]
    assert (mul["status"], mul["node"], mul["expected"], mul["actual"]) == ("fail", "a", 4.5, -3.0)
    assert mul["mistake_id"] == "operand:mul"
    assert mul["narration"] == ["dL/da = dL/dout · dout/da = -1.5 · -3.0 = 4.5    d(a*b)/da = b"]


def test_gradescope_gives_a_point_per_op_and_a_test_per_check():
    from micrograd.engine import Value

    results = check(mutants.load("one_minus_t:tanh")).gradescope()
    tests = {t["name"]: t for t in results["tests"]}
    ops = tests["each op: forward value and gradients"]
    assert (ops["score"], ops["max_score"], ops["status"]) == (12, 13, "failed")
    assert "a.tanh(): FAIL" in ops["output"] and "1 - t where tanh's" in ops["output"]
    assert tests["neuron"]["score"] == 0 and tests["neuron"]["max_score"] == 1
    assert tests["L = -8"]["score"] == 1
    assert results["score"] == sum(t["score"] for t in results["tests"])
    for t in results["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output"}
    # micrograd: its missing ops count for nothing, its recursion note is not a failure
    micrograd = {t["name"]: t for t in check(Value).gradescope()["tests"]}
    assert micrograd["each op: forward value and gradients"]["max_score"] == 11
    assert micrograd["neuron"]["max_score"] == 0
    deep = micrograd["a chain 5,000 deep"]
    assert (deep["score"], deep["max_score"]) == (1, 1)
    required = {t["name"]: t for t in check(Value, require="tanh").gradescope()["tests"]}
    assert required["each op: forward value and gradients"]["max_score"] == 12


def test_html_colours_each_row_and_draws_the_failing_expression():
    report = check(mutants.load("operand:mul"))
    html = report._repr_html_()
    assert html.count("<tr") == len(BATTERY) + 1
    assert html.count("background:#fce8e6") == 14  # red rows
    assert html.count("background:#e6f4ea") == 8  # green rows
    assert "<svg" in html and "a · yours &#45;3" in html  # the box whose gradient is wrong


def test_html_without_graphviz_has_no_picture(monkeypatch):
    monkeypatch.setenv("PATH", "")  # no `dot` program
    html = check(mutants.load("operand:mul"))._repr_html_()
    assert "<svg" not in html and "wrong operand in *" in html


def test_report_is_exported():
    assert isinstance(check(chainrule.Value), Report)
