"""Hostile and careless input, one row each: the command, its exit status, a phrase of its message.

Every row runs `chainrule ARGV` in a subprocess, in a fresh folder (after its `setup`, if any),
as a user would. An error must be one line on stderr with exit status 2 and no traceback; a
run that must succeed exits 0 with the phrase on stdout. The next hostile input is one more row
(`Row` and `run_row` are imported by the other tables of hostile input).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = str(Path(__file__).resolve().parents[1])  # this checkout, not an installed copy


class Row(NamedTuple):
    """One hostile input: `chainrule ARGV`, the exit status it must give, a phrase of its
    message (stderr for an error, stdout for a success); `setup(folder)` prepares files."""

    argv: list[str]
    code: int
    phrase: str
    setup: Callable[[Path], object] | None = None


def run_row(row: Row | tuple, folder: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run one row in `folder` and check it: the exit status, one line, no traceback."""
    row = Row(*row)
    if row.setup is not None:
        row.setup(folder)
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "chainrule", *row.argv],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=timeout,
    )
    said = done.stdout + done.stderr
    assert done.returncode == row.code, said
    assert "Traceback" not in done.stderr, done.stderr
    if row.code == 2:
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert row.phrase in done.stderr, done.stderr
    else:
        assert row.phrase in done.stdout, said
    return done


# -- setups ---------------------------------------------------------------------------------------


def model_file(folder: Path, name: str = "model.json", **metadata: object) -> Path:
    """A small saved moons model whose metadata is a training run's, with `metadata` changed
    (None removes a key)."""
    from chainrule import nn
    from chainrule.learn import io

    meta: dict[str, object] = {
        "loss": "hinge",
        "threshold": 0.0,
        "steps": 5,
        "train_accuracy": 0.5,
        "test_accuracy": 0.5,
        "data_flags": {"data": "moons", "samples": 20, "test_samples": 10, "data_seed": 1},
    }
    meta.update(metadata)
    path = io.save(nn.MLP(2, [4, 1], seed=0), folder / name)
    document = json.loads(path.read_text())
    document["metadata"] = {k: v for k, v in meta.items() if v is not None}
    path.write_text(json.dumps(document))
    return path


def tampered(**metadata: object) -> Callable[[Path], Path]:
    return lambda folder: model_file(folder, **metadata)


def written(name: str, text: str | bytes) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        data = text.encode() if isinstance(text, str) else text
        (folder / name).write_bytes(data)

    return setup


def linked(name: str, target: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).symlink_to(target)


TANH_40 = "tanh(" * 40 + "x" + ")" * 40

ROWS = [
    # 7. expressions: one rule for numbers that are not finite, every error named
    Row(["graph", "(-1)**0.5"], 2, "cannot compute (-1)**0.5 with **: a negative base"),
    Row(["graph", "# note"], 2, "the expression is only a comment"),
    Row(["graph", "1" * 400], 2, "(400 digits) is not a finite number"),
    Row(["graph", "1e999"], 2, "at column 1: 1e999 is not a finite number"),
    Row(["graph", "x + 1e999", "--set", "x=1"], 2, "at column 5: 1e999 is not a finite number"),
    Row(["graph", "x", "--set", "x=inf"], 2, "--set x=inf: give a finite number"),
    Row(["graph", "x * 1e308 * 10", "--set", "x=1"], 2, "the result (inf) is not a finite"),
    # 11. a \r line end ends a line: the comment stays out of the labels
    Row(["graph", "(x\r# secret\r+1)*2", "--set", "x=1", "--out", "g.dot"], 0, "out = 4.0000"),
]


@pytest.mark.parametrize("row", ROWS, ids=[" ".join(r.argv)[:60] for r in ROWS])
def test_hostile_input(row: Row, tmp_path: Path) -> None:
    run_row(row, tmp_path)
    if row.argv[0] == "graph" and "--out" in row.argv:
        assert "secret" not in (tmp_path / row.argv[row.argv.index("--out") + 1]).read_text()
