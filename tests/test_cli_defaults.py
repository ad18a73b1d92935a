"""`chainrule train --data X` with no other flag trains every shipped data set well.

Each data set runs as a user runs it (a fresh process, only `--data`, plus `--out` and
`--quiet` to keep the test's folder and output tidy), the runs side by side, and the test
prints the accuracies it got beside two baselines computed on the same points: always
answering the most common class, and a straight line (logistic regression). Each target must
clear the baselines of a model that did not learn what the data set asks for.
"""

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import baselines

from chainrule.cli.common import load_data
from chainrule.cli.main import build_parser
from chainrule.learn.data import DATASETS

ROOT = str(Path(__file__).resolve().parents[1])  # this checkout, not an installed copy

# The accuracy each data set must reach with its defaults: held-out where it has held-out
# points, else on its training points (toy: the lecture's four samples).
TARGETS = {
    "moons": ("test", 95.0),
    "circles": ("test", 95.0),
    "blobs": ("test", 95.0),
    "xor": ("test", 85.0),  # noise carries about 8% of the points across an axis
    "spirals": ("test", 90.0),
    "toy": ("train", 100.0),
    "digits": ("test", 95.0),
}
# The sets drawn to need a curve: their target must also be out of a straight line's reach.
# (Blobs and digits a straight line separates well: for them, learning nothing means always
# answering the most common class.)
CURVED = {"moons", "circles", "xor", "spirals"}
MARGIN = 5.0  # points of accuracy a target must clear its baselines by


def baseline_scores(name):
    """(always the most common class, a straight line) in percent, on the points a default run
    of `name` trains and scores on."""
    args = build_parser().parse_args(["train", "--data", name])
    X, y, X_test, y_test, _ = load_data(args)
    which, _ = TARGETS[name]
    fit_on, score_on = (X, y), ((X_test, y_test) if which == "test" else (X, y))
    majority = baselines.majority_accuracy(y, score_on[1])
    linear = baselines.linear_accuracy(*fit_on, *score_on)
    return 100 * majority, 100 * linear


def train(name, folder):
    env = dict(os.environ, PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "chainrule", "train", "--data", name, "--out", name, "--quiet"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=folder, env=env, timeout=600)


def accuracy(which, text):
    found = re.search(rf"{which} accuracy (\d+\.\d)%", text)
    return float(found.group(1)) if found else None


def test_every_shipped_data_set_trains_well_with_its_defaults(tmp_path, capsys):
    assert set(TARGETS) == set(DATASETS), "a new data set needs its target here"
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        runs = dict(zip(TARGETS, pool.map(lambda name: train(name, tmp_path), TARGETS)))
    lines, failures = [], []
    for name, result in runs.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
        train_acc, test_acc = accuracy("train", result.stdout), accuracy("test", result.stdout)
        which, target = TARGETS[name]
        got = test_acc if which == "test" else train_acc
        majority, linear = baseline_scores(name)
        lines.append(
            f"  {name:8} train {train_acc:5.1f}%   held-out "
            + (f"{test_acc:5.1f}%" if test_acc is not None else "  n/a ")
            + f"   (needs {which} >= {target:g}%; one class {majority:5.1f}%, "
            + f"a straight line {linear:5.1f}%)"
        )
        if got is None or got < target or "warning:" in result.stdout:
            failures.append(f"{name}: {result.stdout}")
        if target < majority + MARGIN or (name in CURVED and target < linear + MARGIN):
            failures.append(f"{name}: the target {target:g}% is within reach of a baseline")
    with capsys.disabled():
        print("\nchainrule train --data X, no other flag:\n" + "\n".join(lines))
    assert not failures, "\n".join(failures)
    assert sorted(os.listdir(tmp_path / "digits")) == [
        "confusion.png", "loss.png", "model.json", "samples.png"
    ]  # fmt: skip
    assert "confusion.png" in os.listdir(tmp_path / "blobs")
    assert "confusion.png" not in os.listdir(tmp_path / "moons")
