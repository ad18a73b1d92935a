"""`chainrule check FILE`: a learner's file is checked in a child process; exit 0 / 1 / 2;
their errors shown as theirs; loops stopped; JSON and Gradescope's results.json."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.exercises.isolate import check_file
from chainrule.exercises.probes import BATTERY

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent / "coach"))
import mutants  # noqa: E402


def run(args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "chainrule", "check", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def write(folder, name, text):
    (folder / name).write_text(text)
    return name


def test_a_right_engine_exits_0_with_the_table(tmp_path):
    name = write(tmp_path, "my_engine.py", mutants.BASE)
    out = run([name], tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"Value from my_engine.py: passed ({len(BATTERY)} pass, 0 fail)"
    assert re.search(r"^  L = -8 +pass +every gradient as in the lecture", out.stdout, re.M)
    assert out.stderr == ""
    assert not (tmp_path / "__pycache__").exists()  # nothing left next to the learner's file


def test_a_mistake_exits_1_and_is_named(tmp_path):
    name = write(tmp_path, "my_engine.py", mutants.source("one_minus_t:tanh"))
    out = run([name], tmp_path)
    assert out.returncode == 1
    assert "Value from my_engine.py: FAILED (20 pass, 2 fail)" in out.stdout
    assert "this is a known mistake: 1 - t where tanh's derivative is 1 - t**2" in out.stdout
    step = "dL/da = dL/dout · dout/da = -1.5 · 0.786448 = -1.17967    d(tanh a)/da = 1 - out**2"
    assert step in out.stdout  # the chain-rule step that should have happened


def test_micrograds_engine_passes_and_require_fails_it(tmp_path):
    from micrograd import engine

    name = write(tmp_path, "engine.py", Path(engine.__file__).read_text())
    out = run([name], tmp_path)
    assert out.returncode == 0, out.stdout
    assert re.search(r"^  a\.tanh\(\) +missing ", out.stdout, re.M)
    required = run([name, "--require", "tanh,exp"], tmp_path)
    assert required.returncode == 1
    assert re.search(r"^  a\.exp\(\) +FAIL +the class has no a.exp\(\)", required.stdout, re.M)


def test_a_syntax_error_shows_the_learners_file_and_line(tmp_path):
    source = "class Value:\n    def __init__(self, data)\n        self.data = data\n"
    name = write(tmp_path, "broken.py", source)
    out = run([name], tmp_path)
    assert out.returncode == 1
    assert "import broken.py  FAIL    SyntaxError: expected ':' (broken.py, line 2)" in out.stdout
    assert "def __init__(self, data)" in out.stdout  # the line itself, with its caret
    assert "chainrule" not in out.stdout.replace("chainrule check", "") and out.stderr == ""


def test_an_exception_at_import_shows_only_the_learners_frames(tmp_path):
    source = "def helper():\n    return 1 / 0\n\n\nx = helper()\n"
    name = write(tmp_path, "crashes.py", source)
    out = run([name], tmp_path)
    assert out.returncode == 1
    assert "ZeroDivisionError: division by zero at crashes.py, line 2, in helper" in out.stdout
    frames = re.findall(r'File "([^"]+)", line (\d+)', out.stdout)
    assert [(Path(f).name, int(n)) for f, n in frames] == [("crashes.py", 5), ("crashes.py", 2)]


def test_usage_problems_exit_2_in_one_line(tmp_path):
    write(tmp_path, "my_engine.py", mutants.BASE)
    cases = [
        (["nope.py"], "chainrule check: error: no such file: nope.py"),
        (["my_engine.py", "--require", "tanh,sin"], "unknown op 'sin'"),
        (["my_engine.py", "--class", "3d"], "--class 3d: not a Python class name"),
        (["my_engine.py", "--gradescope", "no/such/results.json"], "folder no/such does not"),
    ]
    for args, message in cases:
        out = run(args, tmp_path)
        assert out.returncode == 2, args
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
        assert "Traceback" not in out.stderr and out.stdout == ""


def test_class_finds_the_class_named(tmp_path):
    name = write(tmp_path, "scalar.py", mutants.BASE.replace("class Value", "class Scalar"))
    source = mutants.BASE.replace("Value", "Scalar")
    name = write(tmp_path, "scalar.py", source)
    out = run([name, "--class", "Scalar"], tmp_path)
    assert out.returncode == 0, out.stdout
    assert out.stdout.startswith("Scalar from scalar.py: passed")
    missing = run([name], tmp_path)
    assert missing.returncode == 1
    assert "scalar.py has no class named Value (it defines: Scalar)" in missing.stdout


def test_json_is_clean_even_when_the_learner_prints(tmp_path):
    source = 'print("hello from my engine")\n' + mutants.source("assign:add")
    source = source.replace(
        "        out._backward = _backward  # add-assign",
        '        print("adding")\n        out._backward = _backward',
    )
    name = write(tmp_path, "noisy.py", source)
    out = run([name, "--json"], tmp_path)
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["passed"] is False and report["source"] == "noisy.py"
    assert {f["mistake_id"] for f in report["findings"] if f["status"] == "fail"} == {"assign:add"}


def test_gradescope_results_json(tmp_path):
    name = write(tmp_path, "my_engine.py", mutants.source("minus_one:pow"))
    out = run([name, "--gradescope", "results.json"], tmp_path)
    assert out.returncode == 1
    results = json.loads((tmp_path / "results.json").read_text())
    tests = {t["name"]: t for t in results["tests"]}
    ops = tests["each op: forward value and gradients"]
    assert (ops["score"], ops["max_score"]) == (10, 13)  # **, and a / b, k / a built on it
    assert "the power rule is missing its - 1" in ops["output"]
    assert results["score"] == sum(t["score"] for t in results["tests"])
    assert all(isinstance(t["output"], str) for t in results["tests"])
    assert out.stdout.startswith("Value from my_engine.py: FAILED")  # the table still prints


def test_a_learner_cannot_change_the_reference(tmp_path):
    """The learner's code runs in the child: breaking chainrule's engine there changes
    nothing in the judging, which happens in the parent."""
    sabotage = (
        "import chainrule\n"
        "chainrule.Value.__mul__ = lambda self, other: chainrule.Value(0.0)\n"
        "chainrule.Value.backward = lambda self: None\n"
    )
    name = write(tmp_path, "sneaky.py", sabotage + mutants.BASE)
    out = run([name], tmp_path)
    assert out.returncode == 0, out.stdout


def test_a_backward_that_never_ends_is_stopped_after_10_s(tmp_path):
    source = mutants.BASE.replace(
        "self.grad = 1.0  # seed", "self.grad = 1.0\n        while True:\n            pass"
    )
    name = write(tmp_path, "loops.py", source)
    out = run([name], tmp_path)
    assert out.returncode == 1
    first = next(c.title for c in BATTERY if c.needs_backward)
    assert re.search(rf"^  {re.escape(first)} +FAIL +stopped after 10 s", out.stdout, re.M)
    assert re.search(r"^  a \* b +pass ", out.stdout, re.M)  # the ops' own steps still ran
    assert f"not run: backward() never finished in {first} above" in out.stdout


def test_a_loop_that_swallows_the_timer_is_stopped_from_outside(tmp_path):
    source = mutants.BASE.replace(
        "self.grad = 1.0  # seed",
        "self.grad = 1.0\n        while True:\n            try:\n                pass\n"
        "            except BaseException:\n                pass",
    )
    path = tmp_path / "stubborn.py"
    path.write_text(source)
    report = check_file(str(path), limit=0.5)
    first = next(c for c in BATTERY if c.needs_backward)
    [stopped] = [f for f in report.findings if f.check == first.id]
    assert stopped.status == "fail" and stopped.message.startswith("stopped after 0.5 s")
    assert report.findings[0].status == "pass"  # a + b, before it
    later = [f for f in report.findings if f.check != first.id and f.status == "fail"]
    assert later and all(f.message.startswith("not run: backward()") for f in later)


def test_a_learner_exiting_the_process_costs_one_check(tmp_path):
    source = mutants.BASE.replace(
        "    def relu(self):\n", "    def relu(self):\n        import os\n        os._exit(3)\n"
    )
    path = tmp_path / "exits.py"
    path.write_text(source)
    report = check_file(str(path))
    relu = next(f for f in report.findings if f.check == "op:relu")
    assert relu.status == "fail"
    assert relu.message == (
        "the learner's code ended the process: the process exited with status 3 "
        "(sys.exit or a crash?)"
    )
    assert sum(f.status == "pass" for f in report.findings) == len(BATTERY) - 1


@pytest.mark.parametrize("module", ["chainrule", "chainrule.cli.main", "chainrule.nn"])
def test_nothing_but_the_check_command_imports_the_coach(module):
    code = f"import sys, {module}; print('chainrule.exercises' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    expected = "True" if module == "chainrule.cli.main" else "False"
    assert out.stdout.strip() == expected, out.stderr
    importers = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "chainrule").rglob("*.py")
        if "exercises" not in p.parts
        and re.search(r"^\s*(from|import)\s+\S*exercises", p.read_text(), re.M)
    ]
    assert importers == ["chainrule/cli/check.py"]  # (chainrule/__init__ names it, lazily)
