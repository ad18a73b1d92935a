"""`chainrule graph`: pictures with labels, data and grads; one-line errors; a safe parser."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from chainrule.cli.expressions import ProgramError, evaluate_program

ROOT = Path(__file__).resolve().parents[1]
NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_SET = ["--set", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]


def run(args, cwd, path=None):
    """`chainrule graph ARGS` in a subprocess on this checkout (also used by test_animate_cli)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "chainrule", "graph", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def svg_texts(path):
    root = ET.parse(path).getroot()
    return [t.text.strip() for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]


def assert_neuron_picture(texts):
    # the lecture's numbers after backward: o = 0.7071, do/dn = 0.5, dx1 = -1.5, dw1 = 1 ...
    for label, data, grad in [
        ("x1", 2, -1.5),
        ("w1", -3, 1),
        ("x2", 0, 0.5),
        ("w2", 1, 0),
        ("b", 6.8814, 0.5),
        ("x1*w1", -6, 0.5),
        ("x2*w2", 0, 0.5),
    ]:
        assert label in texts
        assert f"data {data:.4f}" in texts
        assert f"grad {grad:.4f}" in texts
    assert "data 0.8814" in texts and "data 0.7071" in texts and "grad 1.0000" in texts
    assert "tanh" in texts


def test_expression_to_svg(tmp_path):
    out = run([NEURON, *NEURON_SET, "--out", "neuron.svg"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "wrote neuron.svg" in out.stdout
    texts = svg_texts(tmp_path / "neuron.svg")
    assert_neuron_picture(texts)
    assert NEURON in texts  # the output is labelled with its own text


def test_default_is_the_lecture_neuron(tmp_path):
    out = run([], tmp_path)
    assert out.returncode == 0, out.stderr
    texts = svg_texts(tmp_path / "graph.svg")
    assert_neuron_picture(texts)
    assert {"n", "o", "x1*w1 + x2*w2"} <= set(texts)


def test_named_statements_and_explain(tmp_path):
    program = "e = a*b; d = e + c; L = d*f"
    out = run(
        [program, "--set", "a=2", "b=-3", "c=10", "f=-2", "--explain", "--out", "L.svg"], tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0" in out.stdout
    assert "(6 steps" in out.stdout
    texts = svg_texts(tmp_path / "L.svg")
    assert {"a", "b", "c", "d", "e", "f", "L"} <= set(texts)
    assert "grad 6.0000" in texts and "data -8.0000" in texts


@pytest.mark.parametrize(
    "name, magic", [("g.png", b"\x89PNG"), ("g.pdf", b"%PDF"), ("g.dot", b"digraph")]
)
def test_other_formats(tmp_path, name, magic):
    out = run(["x**2 + exp(x)", "--set", "x=1", "--out", name, "--rankdir", "TB"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / name).read_bytes().startswith(magic)


BAD = [
    # (arguments, a fragment the one-line message must contain)
    (["x +", "--set", "x=1"], "syntax error at column"),
    (["y * 2", "--set", "x=1"], "unknown name 'y'"),
    (["x * y", "--set", "x=1"], "--set y=NUMBER"),
    (["foo(x)", "--set", "x=1"], "unknown function 'foo'"),
    (["__import__('os')"], "unknown function '__import__'"),
    (["x.exp()", "--set", "x=1"], "not x.tanh()"),
    (["(lambda: 1)()"], "only the functions"),
    (["lambda: 1"], "a lambda"),
    (["x[0]", "--set", "x=1"], "indexing"),
    (["x > 0", "--set", "x=1"], "comparison"),
    (["x // 2", "--set", "x=1"], "the operator //"),
    (["'text'"], "not a number"),
    (["import os"], "import"),
    (["x", "--set", "x=abc"], "'abc' is not a number"),
    (["x", "--set", "x"], "NAME=VALUE"),
    (["x", "--set", "x=1", "z=2"], "z=2 is not used"),
    (["x", "--set", "x=1", "--out", "g.jpg"], "'.jpg'"),
    (["x", "--set", "x=1", "--out", "no/such/folder/g.svg"], "does not exist"),
    (["x/0", "--set", "x=1"], "division by zero"),
    (["log(x)", "--set", "x=-1"], "log"),
    (["--set", "x=1"], "no expression"),
    (["tanh(x, x)", "--set", "x=1"], "exactly one argument"),
    (["x+x+x+x+x", "--set", "x=1", "--max-nodes", "3"], "the graph has 5 values"),
    (["x", "--set", "x=1", "--max-nodes", "0"], "--max-nodes"),
    (["x", "--rankdir", "UP", "--set", "x=1"], "--rankdir"),
]


@pytest.mark.parametrize("args, fragment", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2(tmp_path, args, fragment):
    out = run(args, tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert fragment in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_too_large_can_be_forced(tmp_path):
    out = run(["x+x+x+x+x", "--set", "x=1", "--max-nodes", "3", "--force"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("wrote graph.svg (5 values; x+x+x+x+x = 5.0000")
    # the whole graph is drawn, past the limit: all five values, and x's grad is the sum of
    # the four uses the chain rule adds up
    drawn = Counter(svg_texts(tmp_path / "graph.svg"))
    assert drawn == Counter(
        ["x", "data 1.0000", "grad 5.0000", *["+"] * 4]
        + [
            text
            for k in range(2, 6)
            for text in ("+".join("x" * k), f"data {k}.0000", "grad 1.0000")
        ]
    )


def test_missing_dot_binary(tmp_path):
    (tmp_path / "g.svg").write_text("old")
    out = run(["x*2", "--set", "x=1", "--out", "g.svg"], tmp_path, path=str(tmp_path / "nothing"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert "apt-get install graphviz" in lines[0] and "brew install graphviz" in lines[0]
    assert (tmp_path / "g.svg").read_text() == "old"
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


# -- the parser itself: nothing outside the whitelist is ever evaluated -------------------


HOSTILE = [
    "__import__('os').system('touch pwned')",
    "open('pwned', 'w')",
    "x.__class__",
    "(lambda: 0)()",
    "[c for c in ()]",
    "exec('1')",
    "eval('1')",
    "globals()",
    "x if x else x",
    "x and x",
    "f'{x}'",
    "x := 1",
    "(y := x)",
    "del x",
    "def f(): pass",
    "x[0]",
    "{1: 2}",
    "*x",
    "x; import os",
    "x = x",
    "exp = x",
    "a = b = x",
    "x += 1",
    "tanh(x=x)",
    "tanh(*x)",
    "True + x",
    "1j * x",
    "b'x'",
    "...",
    "None",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_parser_refuses(source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProgramError):
        evaluate_program(source, {"x": 1.0})
    assert not (tmp_path / "pwned").exists()


def test_parser_builds_labelled_graph():
    out = evaluate_program("n = x1*w1 + b\no = tanh(n)", {"x1": 2.0, "w1": -3.0, "b": 6.5})
    assert out.label == "o" and out._op == "tanh"
    (n,) = out._prev
    assert n.label == "n" and n.data == 0.5
    assert {c.label for c in n._prev} == {"x1*w1", "b"}
    sq = evaluate_program("x**2", {"x": 3.0})
    assert sq._op == "**2" and sq.data == 9.0  # a constant exponent, as in the lecture
    vp = evaluate_program("2**x", {"x": 3.0})
    assert vp._op == "**" and vp.data == 8.0
    assert evaluate_program("-x", {"x": 3.0}).data == -3.0


def test_parser_positions_and_limits():
    with pytest.raises(ProgramError, match="column 5"):
        evaluate_program("x + y", {"x": 1.0})
    with pytest.raises(ProgramError, match="line 2"):
        evaluate_program("a = x\nb = q", {"x": 1.0})
    with pytest.raises(ProgramError, match="too large"):
        evaluate_program("9.0**9**9", {})
    with pytest.raises(ProgramError, match="characters long"):
        evaluate_program("x+" * 20000 + "x", {"x": 1.0})


def test_long_chains():
    # the evaluator walks the tree with its own stack; only Python's parser limits the depth
    assert evaluate_program("+".join(["x"] * 400), {"x": 1.0}).data == 400.0
    try:  # where the parser gives up depends on the Python version: a clear error, no crash
        assert evaluate_program("+".join(["x"] * 9000), {"x": 1.0}).data == 9000.0
    except ProgramError as err:
        assert "nested too deeply" in str(err)


def test_nul_character_is_a_clean_error():
    with pytest.raises(ProgramError):
        evaluate_program("x\0", {"x": 1.0})


def test_dot_text_needs_no_graphviz_package(tmp_path, monkeypatch, capsys):
    from chainrule.cli.main import main

    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if the package were not installed
    assert main(["graph", "--out", str(tmp_path / "g.dot")]) == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph {")
    assert "wrote" in capsys.readouterr().out
