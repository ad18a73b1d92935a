"""Notebook 00 (build it yourself) runs both ways: with its blanks as shipped, every check cell
lists what is still to write and nothing crashes; with the reference solution (kept here, in
tests/coach/notebook_solution.py, not in the notebook) filled in, every check passes."""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_build_it_yourself.ipynb"
SOLUTION = Path(__file__).resolve().parent / "coach" / "notebook_solution.py"
EXERCISES = ["add-mul", "backward", "tanh", "more-ops", "mlp"]

spec = importlib.util.spec_from_file_location("execute", ROOT / "notebooks" / "execute.py")
execute = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute)


def solutions():
    """exercise name -> the code that fills it in, from the sections of the solution file."""
    text = SOLUTION.read_text()
    parts = re.split(r"^# exercise: (\S+)\n", text, flags=re.M)[1:]
    return {name: code.strip() for name, code in zip(parts[::2], parts[1::2])}


def exercise_cells(nb):
    cells = {}
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            if tag.startswith("exercise:"):
                cells[tag.split(":", 1)[1]] = cell
    return cells


def check_outputs(nb):
    """The text of each `check(...)` / `check_mlp(...)` cell's report, in order."""
    texts = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(("check(", "check_mlp(")):
            [result] = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert "text/html" in result.data  # the coloured table, in Jupyter
            texts.append(result.data["text/plain"])
    return texts


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    with execute.this_interpreter(tmp_path_factory.mktemp("jupyter")) as name:
        yield name


def run(nb, kernel, folder):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    execute.execute(nb, kernel, folder, timeout=300)  # any error raises, with its cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in errors if o.output_type == "error"]
    return nb


def test_every_exercise_has_a_solution_and_a_blank():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = exercise_cells(nb)
    assert list(cells) == EXERCISES
    assert list(solutions()) == EXERCISES
    for name, cell in cells.items():
        assert "TODO(" in cell.source, f"exercise {name} has no blank"
        assert "TODO(" not in solutions()[name]


def test_with_the_blanks_as_shipped_the_reports_list_what_is_missing(kernel, tmp_path):
    nb = run(nbformat.read(NOTEBOOK, as_version=4), kernel, tmp_path)
    first, *_, last_value, mlp = check_outputs(nb)
    assert "22 missing" in first.splitlines()[0] and " 0 fail" in first.splitlines()[0]
    for title in ["a + b", "a * b", "a.tanh()", "k / a", "L = -8", "neuron", "diamond"]:
        assert re.search(rf"^  {re.escape(title)} +missing ", first, re.M), title
    # the blanks say what belongs in them, and nothing is judged wrong
    assert "not written yet: the sum of self.data and other.data" in last_value
    assert "not written yet: self.data to the power k" in last_value
    assert " FAIL " not in last_value and "passed" in last_value.splitlines()[0]
    assert "parameters()  missing  not written yet" in mlp
    assert "all checks passed" in "".join(o.get("text", "") for o in nb.cells[-1].outputs)


def test_with_the_solution_filled_in_every_check_passes(kernel, tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for name, cell in exercise_cells(nb).items():
        cell.source = solutions()[name]
    nb = run(nb, kernel, tmp_path)
    reports = check_outputs(nb)
    final, mlp = reports[-2], reports[-1]
    assert final.splitlines()[0] == "Value: passed (21 pass, 0 fail, 1 note)"
    assert re.search(r"^  zero_grad\(\) +note +the class has no zero_grad\(\)", final, re.M)
    assert mlp.splitlines()[0] == "MLP: passed (5 pass, 0 fail)"
    # step by step: after + and * alone, those two pass and backward() is still missing
    after_step_1 = reports[1]
    assert re.search(r"^  a \* b +pass ", after_step_1, re.M)
    assert re.search(r"^  L = -8 +missing +needs backward\(\)", after_step_1, re.M)
    assert "all checks passed" in "".join(o.get("text", "") for o in nb.cells[-1].outputs)
