"""Hostile numbers on the command line: each is refused with exit 2 and one line naming the flag
and its limit, before anything is allocated (no traceback, no MemoryError, no silent nan)."""

import subprocess
import sys

import pytest

# (argv, expected exit code, a phrase of the message)
ROWS = [
    (
        ["train", "--data", "mnist"],
        2,
        "did you mean 'cnn-mnist5k'? (a preset: chainrule preset cnn-mnist5k)",
    ),
    (
        ["train", "--samples", "100000000"],
        2,
        "--samples: must be a whole number from 1 to 1,000,000",
    ),
    (["train", "--test-samples", "100000000"], 2, "--test-samples: must be a whole number from 0"),
    (["train", "--classes", "1000000000000"], 2, "--classes: must be a whole number from 2"),
    (["train", "--noise", "1e308"], 2, "--noise: must be a number from 0 to 1e+12"),
    (["train", "--noise", "nan"], 2, "--noise: must be a number"),
    (["train", "--lr", "inf"], 2, "--lr: must be a number > 0"),
    (["train", "--l2", "nan"], 2, "--l2: must be a number"),
    (["train", "--steps", "10000000000000"], 2, "--steps: must be a whole number from 1"),
    (["train", "--model", "2,1000000000,1"], 2, "--model: must be layer sizes"),
    (["eval", "m.json", "--samples", "100000000"], 2, "--samples: must be a whole number"),
    (["predict", "m.json", "nan", "0.3"], 2, "argument X: must be a number"),
    (["predict", "m.json", "1e400", "0"], 2, "argument X: must be a number"),
    (["preset", "names-mlp", "--lr", "1e308"], 2, "--lr: must be a number > 0"),
]


@pytest.mark.parametrize(("argv", "code", "phrase"), ROWS, ids=[" ".join(r[0]) for r in ROWS])
def test_a_hostile_flag_is_one_line_and_exit_2(argv: list[str], code: int, phrase: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "chainrule", *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == code
    assert "Traceback" not in done.stderr
    assert phrase in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
