"""Run the notebooks top to bottom and save them with their outputs: `make notebooks`.

The notebooks are committed executed, pictures and all, so that they read on GitHub without
running anything. This script is how they get that way:

    python notebooks/execute.py                      # every notebook in this folder
    python notebooks/execute.py notebooks/01_*.ipynb # some of them

Each one runs on a fresh kernel that is this very interpreter (a kernelspec pointing at
`sys.executable` is written to a temporary folder and put first on JUPYTER_PATH), so the
notebooks see the chainrule of this checkout and nothing a machine's own kernels may hold; its
cells run in a temporary folder, so a file a cell writes leaves no trace, and with the settings
of SAME_NUMBERS, so that a re-run on any x86-64 machine prints the same numbers. The notebook
is saved with its outputs, no timing metadata, and a digest of its code cells as they were run
(`metadata.chainrule.executed_code`): tests/test_notebooks.py compares that digest with the code
now in the file, so a notebook whose code changed after its outputs were made fails until it is
run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KERNEL = "chainrule-notebooks"
# The same numbers on every run and every x86-64 machine. The libraries pick their code by the
# CPU, and code with and without fused multiply-add or wider vectors rounds differently (an FMA
# CPU ended notebook 05 at 97.2%, its committed copy says 97.4%): each is held to code that any
# x86-64 CPU of the last ten years runs, OpenBLAS to its AVX kernels, numpy to its baseline
# loops, PyTorch (notebook 06) to its plain kernels and MKL's compatible mode. A threaded BLAS
# may split a sum by its count of threads: one thread. Python orders a set of strings by a hash
# seeded afresh in each process: a fixed seed.
SAME_NUMBERS = {
    "OPENBLAS_CORETYPE": "Sandybridge",
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_CBWR": "COMPATIBLE",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}


def code_digest(nb: Any) -> str:
    """sha256 of the code cells' sources, in order: what the saved outputs were made from."""
    digest = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode("utf-8") + b"\0")
    return digest.hexdigest()


@contextmanager
def this_interpreter(base: Path) -> Iterator[str]:
    """A kernel named KERNEL that runs `sys.executable`, findable while the block runs, with
    this checkout first on the kernel's path; yields the kernel's name."""
    spec = base / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "chainrule", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    saved = dict(os.environ)
    os.environ["JUPYTER_PATH"] = str(base)
    os.environ["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")
    os.environ["JUPYTER_PLATFORM_DIRS"] = "1"
    os.environ["IPYTHONDIR"] = str(base / "ipython")  # no personal start-up scripts
    os.environ.update(SAME_NUMBERS)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [saved.get("PYTHONPATH")])]
    )
    try:
        yield KERNEL
    finally:
        os.environ.clear()
        os.environ.update(saved)


def execute(nb: Any, kernel: str, folder: Path, timeout: int = 600) -> Any:
    """Run every cell of `nb` in place on `kernel`, with `folder` as the working directory, each
    printed text in one piece; raises CellExecutionError (the cell and its traceback) at the
    first error."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        record_timing=False,  # no timestamps: a re-run changes only what really changed
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = joined_streams(cell.outputs)
    return nb


def joined_streams(outputs: list[Any]) -> list[Any]:
    """The outputs with each run of pieces of one stream joined into one output: where the
    kernel cuts a printed text depends on timing, and a re-run should save the same file."""
    joined: list[Any] = []
    for out in outputs:
        last = joined[-1] if joined else None
        if out.output_type == "stream" and last and last.get("name") == out.name:
            last.text += out.text
        else:
            joined.append(out)
    return joined


def run(path: Path, kernel: str) -> None:
    """Execute the notebook at `path` and save it with its outputs and its code digest."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    kernelspec = nb.metadata.get("kernelspec")
    with tempfile.TemporaryDirectory() as folder:
        execute(nb, kernel, Path(folder))
    if kernelspec is not None:  # the reader's own "Python 3", not this machine's kernel
        nb.metadata["kernelspec"] = kernelspec
    nb.metadata["chainrule"] = {"executed_code": code_digest(nb)}
    nbformat.validate(nb)
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted(HERE.glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as base, this_interpreter(Path(base)) as kernel:
        for path in paths:
            print(f"running {path.name} ...", flush=True)
            run(path, kernel)
    print(f"saved {len(paths)} notebook(s) with their outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
