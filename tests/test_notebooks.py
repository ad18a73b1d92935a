"""The notebooks are committed executed, so they read on GitHub, and they still run afresh.

Two promises, two kinds of test:

* What is committed reads as a finished lesson: every code cell ran, once, top to bottom, with
  no error and with its pictures; and the outputs are fresh: the digest of the code cells that
  `make notebooks` (notebooks/execute.py) recorded when it ran them is the digest of the code now
  in the file, so an edited cell whose outputs were not remade fails here.
* Executed again on a real Jupyter kernel (this very interpreter, see execute.py), each notebook
  runs without an error and its last cell, the one quiet cell of checks, verifies the numbers
  the lesson quotes. The other cells read as a lesson: no `assert` in them. And it prints what
  the committed copy shows, numbers included: every input is seeded and no output carries a
  timing, a process id or a memory address, so a re-run reproduces the lesson exactly.
"""

import copy
import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RERUN = "run `make notebooks` (python notebooks/execute.py) and commit the outputs"

spec = importlib.util.spec_from_file_location("execute", ROOT / "notebooks" / "execute.py")
execute = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def printed(cell):
    """What a cell printed, its stream outputs joined: a kernel may send one line in pieces."""
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def text_outputs(cell):
    """A code cell's outputs as text, in order: what it printed, each stream in one piece
    wherever the kernel cut it, and the text forms of what it displayed. HTML and pictures are
    left out: they embed drawings whose coordinates depend on the Graphviz and matplotlib
    versions."""
    texts = []
    for o in execute.joined_streams(copy.deepcopy(cell.outputs)):
        if o.output_type == "stream":
            texts.append((o.name, o.text))
        elif o.output_type == "error":
            texts.append(("error", f"{o.ename}: {o.evalue}"))
        else:
            data = o.get("data", {})
            texts += [
                (k, data[k]) for k in sorted(data) if k.startswith("text/") and k != "text/html"
            ]
    return texts


def show(texts):
    return "\n".join(f"[{kind}]\n{text}" for kind, text in texts)


def output_kinds(nb):
    return {k for c in code_cells(nb) for o in c.outputs for k in o.get("data", {})}


def test_the_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "00_build_it_yourself.ipynb",
        "01_backprop_from_scratch.ipynb",
        "02_moons_demo.ipynb",
        "03_derivatives_of_derivatives.ipynb",
        "04_makemore_names.ipynb",
        "05_cnn_digits.ipynb",
        "06_scaling_out.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_is_executed_and_fresh(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = code_cells(nb)
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: the code cells were not run once each, top to bottom "
        f"(execution counts {counts}); {RERUN}"
    )
    errors = [i for i, c in enumerate(cells) if any(o.output_type == "error" for o in c.outputs)]
    assert not errors, f"{path.name}: code cells {errors} end in an error; {RERUN}"
    recorded = nb.metadata.get("chainrule", {}).get("executed_code")
    assert recorded == execute.code_digest(nb), (
        f"{path.name}: its code changed after its outputs were made; {RERUN}"
    )
    assert "image/png" in output_kinds(nb) or "image/svg+xml" in output_kinds(nb)
    assert "all checks passed" in printed(cells[-1])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_checks_are_in_one_quiet_cell_at_the_end(path):
    nb = nbformat.read(path, as_version=4)
    *lesson, checks = code_cells(nb)
    asserting = [i for i, c in enumerate(lesson) if re.search(r"^\s*assert\b", c.source, re.M)]
    assert not asserting, f"{path.name}: code cells {asserting} check numbers: move to the end"
    assert re.search(r"^assert\b", checks.source, re.M), f"{path.name}: no checks cell at the end"
    assert checks.source.rstrip().endswith('print("all checks passed")')


def test_a_printed_text_is_saved_in_one_piece_wherever_the_kernel_cut_it():
    new = nbformat.v4.new_output
    pieces = [
        new("stream", name="stdout", text="epoch 1\nep"),
        new("stream", name="stdout", text="och 2\n"),
    ]
    picture = new("display_data", data={"text/plain": "<Figure>"})
    outputs = [
        *pieces,
        new("stream", name="stderr", text="!"),
        picture,
        new("stream", name="stdout", text="x"),
    ]
    joined = execute.joined_streams(outputs)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in joined] == [
        ("stream", "stdout", "epoch 1\nepoch 2\n"),
        ("stream", "stderr", "!"),
        ("display_data", None, None),
        ("stream", "stdout", "x"),
    ]


def test_the_kernel_computes_the_same_numbers_on_any_machine(tmp_path, monkeypatch):
    """The code that numpy, OpenBLAS and PyTorch pick for the CPU, the thread count and the hash
    seed are fixed, whatever the machine or the caller's environment says (an FMA CPU ended
    notebook 05 at 97.2% where the committed copy says 97.4%)."""
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx512")
    with execute.this_interpreter(tmp_path):
        pinned = {name: os.environ.get(name) for name in execute.SAME_NUMBERS}
    assert pinned == execute.SAME_NUMBERS
    assert pinned["OPENBLAS_CORETYPE"] == "Sandybridge" and pinned["PYTHONHASHSEED"] == "0"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel for this interpreter, findable (and chainrule importable) while the tests run."""
    with execute.this_interpreter(tmp_path_factory.mktemp("jupyter")) as name:
        yield name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_afresh_and_its_checks_pass(path, kernel, tmp_path):
    nb = nbformat.read(path, as_version=4)
    committed = [text_outputs(c) for c in code_cells(nb)]
    for cell in code_cells(nb):
        cell.outputs, cell.execution_count = [], None
    execute.execute(nb, kernel, tmp_path, timeout=300)  # any error raises, with its cell
    cells = code_cells(nb)
    for i, (cell, before) in enumerate(zip(cells, committed)):
        now = text_outputs(cell)
        assert now == before, (
            f"{path.name}: code cell {i} (cell {nb.cells.index(cell)}) printed other text than "
            f"the committed copy\n--- committed:\n{show(before)}\n--- now:\n{show(now)}\n"
            "an input is not seeded, an output shows a timing or an address, or the numbers "
            f"depend on the machine (see SAME_NUMBERS in execute.py); else {RERUN}"
        )
    assert all(c.execution_count for c in cells)
    assert not [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert "all checks passed" in printed(cells[-1])  # the key numbers, verified
    # the pictures really were produced (a silent failure to draw would not raise)
    kinds = output_kinds(nb)
    assert "image/png" in kinds or path.name.startswith("00")  # 00 draws graphs only
    if path.name.startswith(("00", "01", "03")):
        assert "image/svg+xml" in kinds  # draw_dot graphs rendered inline
