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
    """A small saved moons model whose metadata is a training run's, with `metadata` changed."""
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
    document["metadata"] = meta
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


def huge_weight(folder: Path) -> None:
    path = model_file(folder)
    document = json.loads(path.read_text())
    name = next(iter(document["parameters"]))
    path.write_text(path.read_text().replace(repr(document["parameters"][name]), "9" * 400, 1))


def sparse(name: str, size: int) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        with open(folder / name, "wb") as handle:
            handle.truncate(size)  # no disk used: a hole

    return setup


DEEP = "[" * 100_000

ROWS = [  # 6. model files: bounded before reading and parsing; every field read back is checked
    Row(
        ["eval", "model.json"],
        2,
        "model.json: not a regular file",
        linked("model.json", "/dev/zero"),
    ),
    Row(["eval", "model.json"], 2, "larger than 256 MiB", sparse("model.json", 300 * 2**20)),
    Row(["eval", "model.json"], 2, "nested more than 32 deep", written("model.json", DEEP)),
    Row(
        ["predict", "model.json", "1", "2"], 2, "is not a finite number: 999999999999", huge_weight
    ),
    Row(
        ["eval", "model.json"],
        2,
        "metadata 'threshold' must be a finite number, got 'abc'",
        tampered(threshold="abc"),
    ),
    Row(
        ["predict", "model.json", "1", "2"],
        2,
        "metadata 'threshold' must be a finite number, got None",
        tampered(threshold=None),
    ),
    Row(["eval", "model.json"], 2, "metadata 'loss' must be one of", tampered(loss="nope")),
    Row(
        ["predict", "model.json", "1", "2"],
        2,
        "metadata 'loss' must be one of",
        tampered(loss="nope"),
    ),
    Row(
        ["eval", "model.json"],
        2,
        "metadata 'data_flags.data' must be one of",
        tampered(data_flags={"data": "nope"}),
    ),
    Row(
        ["eval", "model.json"],
        2,
        "metadata 'data_flags.samples' must be a whole number",
        tampered(data_flags={"data": "moons", "samples": "many"}),
    ),
    Row(
        ["eval", "model.json"],
        2,
        "metadata 'train_accuracy' must be a fraction",
        tampered(train_accuracy=7),
    ),
    Row(
        ["eval", "model.json"],
        2,
        "metadata inputs 'noise' must be a number in [0, 1]",
        tampered(inputs={"dataset": "moons", "samples": 20, "noise": "x"}),
    ),
    Row(
        ["preset", "names-mlp", "--model-config", "deep.json"],
        2,
        "--model-config deep.json: arrays and objects are nested more than 32 deep",
        written("deep.json", DEEP),
    ),
    Row(
        ["preset", "names-mlp", "--model-config", "big.json"],
        2,
        "--model-config big.json: the config describes 4,000,000,001 parameters; the most is",
        written("big.json", '{"type": "MLP", "nin": 2, "nouts": [1000000000, 1]}'),
    ),
    Row(
        ["preset", "names-mlp", "--model-config", "f.json"],
        2,
        "nout must be a positive integer, got 1000000000.0",
        written("f.json", '{"type": "Linear", "nin": 2, "nout": 1e9}'),
    ),
    Row(
        ["preset", "names-mlp", "--model-config", "zero.json"],
        2,
        "--model-config zero.json: not a regular file",
        linked("zero.json", "/dev/zero"),
    ),
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


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.argv[0]}: {r.phrase[:50]}" for r in ROWS])
def test_hostile_input(row: Row, tmp_path: Path) -> None:
    run_row(row, tmp_path)
    if row.argv[0] == "graph" and "--out" in row.argv:
        assert "secret" not in (tmp_path / row.argv[row.argv.index("--out") + 1]).read_text()
