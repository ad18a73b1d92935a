"""The notebooks run from top to bottom on a real Jupyter kernel, and are committed without outputs.

Each notebook asserts its key numbers inline, so executing it checks them. The kernel is this
very interpreter: a kernelspec pointing at `sys.executable` is written to a temporary folder and
put first on JUPYTER_PATH, so whatever kernels the machine has installed (or lacks) cannot
change which Python, and which chainrule, the notebooks run on.
"""

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "chainrule-tests"


def test_the_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_backprop_from_scratch.ipynb",
        "02_moons_demo.ipynb",
        "03_derivatives_of_derivatives.ipynb",
        "04_makemore_names.ipynb",
        "05_cnn_digits.ipynb",
    ]


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A kernelspec for this interpreter, and an environment in which the kernel finds chainrule."""
    base = tmp_path_factory.mktemp("jupyter")
    spec = base / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "chainrule tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    saved = dict(os.environ)
    os.environ["JUPYTER_PATH"] = str(base)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")
    os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
    os.environ["IPYTHONDIR"] = str(base / "ipython")  # no personal start-up scripts
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [saved.get("PYTHONPATH")])]
    )
    yield base
    os.environ.clear()
    os.environ.update(saved)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel_env, tmp_path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},  # any file a cell writes lands here
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert ran and all(c.execution_count for c in ran)
    errors = [o for c in ran for o in c.outputs if o.output_type == "error"]
    assert not errors
    # the pictures really were produced (a silent failure to draw would not raise)
    kinds = {k for c in ran for o in c.outputs for k in o.get("data", {})}
    assert "image/png" in kinds
    if path.name.startswith(("01", "03")):
        assert "image/svg+xml" in kinds  # draw_dot graphs rendered inline


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs; clear them before committing "
        f"(jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)})"
    )
