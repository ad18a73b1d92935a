"""`chainrule train` and `chainrule demo`, run as a user runs them."""

import os
import re
import subprocess
import sys
from pathlib import Path

import baselines
import pytest

from chainrule import cli, data, io, plots
from chainrule.learn import predict

RUN = ["model.json", "loss.png", "boundary.png"]
ROOT = str(Path(__file__).resolve().parents[1])  # this checkout, not an installed copy
PNG = b"\x89PNG\r\n\x1a\n"
QUICK = ["--samples", "40", "--test-samples", "30", "--steps", "15", "--quiet"]


def chainrule(*args, cwd):
    env = dict(os.environ, PYTHONPATH=ROOT)
    cmd = [sys.executable, "-m", "chainrule", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def percent(label, text):
    return float(re.search(rf"{label} accuracy (\d+\.\d)%", text).group(1))


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- success ---------------------------------------------------------------------------------------


def test_train_writes_the_model_and_both_pictures(tmp_path):
    out = tmp_path / "runs" / "moons"
    args = ["train", "--data", "moons", "--model", "2,8,1", "--activation", "relu"]
    result = chainrule(*args, *QUICK, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == sorted(RUN)
    for name in ("loss.png", "boundary.png"):
        assert (out / name).read_bytes().startswith(PNG)
    assert "Traceback" not in result.stderr and result.stderr == ""  # --quiet: no bar
    train, test = percent("train", result.stdout), percent("test", result.stdout)
    assert "ms/step" in result.stdout and "30 held-out points" in result.stdout
    # the saved model is the trained one: its accuracy on the same draw is the one printed
    model = io.load(out / "model.json")
    X, y = data.moons(40, noise=0.1, seed=1)
    hits = sum(p == c for p, c in zip(predict(model, X), y))
    assert 100 * hits / 40 == pytest.approx(train, abs=0.05)
    meta = io.read_metadata(out / "model.json")
    assert meta["train_accuracy"] * 100 == pytest.approx(train, abs=0.05)
    assert meta["test_accuracy"] * 100 == pytest.approx(test, abs=0.05)
    # the time per step is the training steps' own: 15 of them fit in the training time, and
    # it is the figure printed
    assert meta["steps"] == 15 and 0 < 15 * meta["seconds_per_step"] <= meta["train_seconds"]
    printed = re.search(r"training (\d+\.\d\d) s \(15 steps, (\d+\.\d\d) ms/step\)", result.stdout)
    assert printed, result.stdout
    assert float(printed.group(1)) == pytest.approx(meta["train_seconds"], abs=0.005)
    assert float(printed.group(2)) == pytest.approx(1e3 * meta["seconds_per_step"], abs=0.005)


def test_demo_reaches_the_targets_and_prints_its_time(tmp_path):
    out = tmp_path / "runs" / "demo"
    out.mkdir(parents=True)
    for name in RUN:  # an earlier demo: the demo replaces its own default folder
        (out / name).write_text("old")
    result = chainrule("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == sorted(RUN)
    assert all((out / name).read_bytes() != b"old" for name in RUN)
    assert percent("train", result.stdout) == 100.0
    assert percent("test", result.stdout) >= 97.0
    # out of a straight line's reach: about 88% on the same held-out draw (always one class: 50%)
    X, y = data.moons(100, noise=0.1, seed=1)
    assert baselines.linear_accuracy(X, y, *data.moons(100, noise=0.1, seed=2)) < 0.92
    assert "100 held-out points" in result.stdout
    assert re.search(r"training \d+\.\d\d s \(100 steps, \d+\.\d\d ms/step\)", result.stdout)
    assert "100/100" in result.stderr  # the progress bar
    assert "chainrule train --data moons --samples 100 --noise 0.1" in result.stdout
    meta = io.read_metadata(out / "model.json")
    assert meta["train_accuracy"] == 1.0 and meta["test_accuracy"] >= 0.97


def test_toy_data_has_no_boundary_picture(tmp_path):
    args = ["train", "--data", "toy", "--loss", "mse", "--activation", "tanh", "--lr", "0.4"]
    result = chainrule(*args, "--schedule", "constant", "--out", "toy", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "toy")) == ["loss.png", "model.json"]
    assert "no held-out points" in result.stdout


def test_help_documents_every_flag(tmp_path):
    result = chainrule("train", "--help", cwd=tmp_path)
    assert result.returncode == 0
    flags = ["--data", "--samples", "--noise", "--classes", "--test-samples", "--test-fraction",
             "--data-seed", "--model", "--activation", "--output-activation", "--seed", "--loss",
             "--l2", "--optimizer", "--lr", "--momentum", "--schedule", "--steps", "--epochs",
             "--batch-size", "--eval-every", "--out", "--force", "--quiet"]  # fmt: skip
    for flag in flags:
        assert re.search(rf"^\s+{flag}\b.*\S", result.stdout, re.M), flag
    assert "demo" in chainrule("--help", cwd=tmp_path).stdout


# -- existing output -------------------------------------------------------------------------------


def test_an_existing_run_needs_force_and_is_then_replaced(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "run"
    assert cli.main(["train", *QUICK, "--out", "run"]) == 0
    before = snapshot(out)
    refused = chainrule("train", *QUICK, "--seed", "5", "--out", "run", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "chainrule train: error: --out run already holds a run (model.json, loss.png, "
        "boundary.png); pass --force to replace it, or choose another --out"
    )
    assert snapshot(out) == before
    assert cli.main(["train", *QUICK, "--seed", "5", "--out", "run", "--force"]) == 0
    after = snapshot(out)
    assert sorted(after) == sorted(RUN) and after["model.json"] != before["model.json"]


def test_an_out_that_is_a_file_is_refused_and_kept(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for command in (["train", "--out", "notes.txt"], ["demo", "--out", "notes.txt"]):
        result = chainrule(*command, cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr == "chainrule " + command[0] + (
            ": error: --out notes.txt is a file, not a folder\n"
        )
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_failure_while_writing_changes_nothing(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plots, "plot_decision_boundary", broken)
    args = ["train", "--samples", "20", "--steps", "2", "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path / "new")]) == 2
    assert "cannot write the run into" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []  # no half-made folder, no temporary folder

    old = tmp_path / "old"
    old.mkdir()
    for name in RUN:
        (old / name).write_text(f"old {name}")
    (old / "notes.txt").write_text("mine")
    assert cli.main([*args, "--out", str(old), "--force"]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == f"chainrule train: error: cannot write the run into {old}: No space left on device"
    )
    assert snapshot(old) == {n: f"old {n}".encode() for n in RUN} | {"notes.txt": b"mine"}


def test_force_keeps_files_that_are_not_part_of_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert cli.main(["train", "--samples", "20", "--steps", "2", "--quiet", "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == sorted([*RUN, "notes.txt"])
    assert (out / "notes.txt").read_text() == "mine"


# -- bad requests: one line on stderr, exit status 2, nothing written ----------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "moon"], "invalid choice: 'moon' (choose from 'moons', 'circles', 'blobs'"),
        (["--model", "3,4,1"], "--model starts with 3 inputs, but moons has 2 features"),
        (["--model", "2,4,2"], "--model ends with 2 outputs, but --loss hinge on moons needs 1"),
        (
            ["--data", "blobs", "--model", "2,8,2"],
            "ends with 2 outputs, but --loss cross_entropy on blobs needs 3 (one per class)",
        ),
        (
            ["--data", "blobs", "--loss", "hinge"],
            "--loss hinge is for two classes, but blobs has 3",
        ),
        (["--data", "blobs", "--noise", "0.2"], "--noise does not apply to --data blobs"),
        (["--data", "toy", "--test-samples", "5"], "--test-samples needs a generated data set"),
        (["--model", "2,x,1"], "argument --model: must be layer sizes like 2,16,16,1"),
        (["--model", "2"], "argument --model: must be layer sizes"),
        (["--lr", "-1"], "argument --lr: must be a number > 0 and <= 1e+12, got '-1'"),
        (["--lr", "fast"], "argument --lr: must be a number > 0 and <= 1e+12, got 'fast'"),
        (["--steps", "0"], "argument --steps: must be a whole number from 1 to"),
        (["--steps", "5", "--epochs", "2"], "argument --epochs: not allowed with argument --steps"),
        (["--port", "0"], "argument --port: must be a port number from 1 to 65535, got '0'"),
        (
            ["--test-fraction", "1.5"],
            "argument --test-fraction: must be a fraction between 0 and 1",
        ),
        (
            ["--classes", "1", "--data", "spirals"],
            "argument --classes: must be a whole number from 2 to 1,000,000",
        ),
        (
            ["--optimizer", "adam", "--momentum", "0.9"],
            "--momentum applies to --optimizer sgd only",
        ),
        (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice: 'rmsprop'"),
        (
            ["--data", "moon"],
            "(choose from 'moons', 'circles', 'blobs', 'xor', 'spirals', 'toy', "
            "'digits'); did you mean 'moons'?",
        ),  # fmt: skip
    ],
)
def test_bad_requests_get_one_line_and_status_2(tmp_path, args, message):
    result = chainrule("train", *args, "--out", "run", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "error: " in lines[0]
    assert message in lines[0], lines[0]
    assert os.listdir(tmp_path) == []


# -- typos: the nearest flag and its usage, never a silent prefix ---------------------------------


@pytest.mark.parametrize(
    "args, error, usage",
    [
        (
            ["train", "--dataset", "moons"],
            "chainrule train: error: unrecognized arguments: --dataset moons; did you mean --data?",
            "usage: chainrule train --data NAME",
        ),
        (  # a prefix of --epochs is not taken for it
            ["train", "--epoch", "5"],
            "chainrule train: error: unrecognized arguments: --epoch 5; did you mean --epochs?",
            "usage: chainrule train --epochs N",
        ),
        (
            ["train", "--optimiser", "adam"],
            "unrecognized arguments: --optimiser adam; did you mean --optimizer?",
            "usage: chainrule train --optimizer {sgd,adam}",
        ),
        (
            ["train", "--dataset=moons"],
            "unrecognized arguments: --dataset=moons; did you mean --data?",
            "usage: chainrule train --data NAME",
        ),
        (
            ["demo", "--seeds", "3"],
            "chainrule demo: error: unrecognized arguments: --seeds 3; did you mean --seed?",
            "usage: chainrule demo --seed S",
        ),
        (
            ["graph", "--explan"],
            "chainrule graph: error: unrecognized arguments: --explan; did you mean --explain?",
            "usage: chainrule graph --explain",
        ),
        (
            ["eval", "m.json", "--boundry", "b.png"],
            "chainrule eval: error: unrecognized arguments: --boundry b.png; did you mean "
            "--boundary?",
            "usage: chainrule eval --boundary FILE.png",
        ),
        (
            ["playground", "--prot", "8000"],
            "unrecognized arguments: --prot 8000; did you mean --port?",
            "usage: chainrule playground --port",
        ),
        (
            ["train", "--wings", "2"],
            "chainrule train: error: unrecognized arguments: --wings 2",
            "usage: chainrule train [options]",
        ),
    ],
)
def test_a_mistyped_flag_gets_the_nearest_one_and_the_usage_line(tmp_path, args, error, usage):
    result = chainrule(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    first, second = result.stderr.strip().splitlines()
    assert error in first
    assert second.startswith(usage)
    assert second.endswith(f"(chainrule {args[0]} --help lists every flag)")
    assert os.listdir(tmp_path) == []  # nothing ran


def test_a_mistyped_command_gets_the_nearest_one(tmp_path):
    result = chainrule("trian", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("; did you mean 'train'?")


# -- what a run says and writes -------------------------------------------------------------------


def test_the_final_loss_says_whose_it_is_and_whether_it_holds_l2(tmp_path, capsys):
    assert cli.main(["train", *QUICK, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"final loss \d\S* \(hinge on all 40 training points, without the L2 term\)",
                     out)  # fmt: skip
    meta = io.read_metadata(tmp_path / "a" / "model.json")
    assert f"final loss {meta['final_loss']:.4g} (" in out
    assert meta["data_flags"] == {
        "data": "moons",
        "samples": 40,
        "noise": None,
        "classes": None,
        "test_samples": 30,
        "test_fraction": None,
        "data_seed": 1,
    }
    args = ["train", *QUICK, "--l2", "0", "--batch-size", "8", "--out", str(tmp_path / "b")]
    assert cli.main(args) == 0
    assert "(hinge on all 40 training points)" in capsys.readouterr().out


def test_a_diverging_run_says_so_with_the_flags_to_try(tmp_path, capsys):
    args = ["train", "--lr", "1000", "--samples", "30", "--steps", "30", "--test-samples", "0"]
    assert cli.main([*args, "--quiet", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    warning = out.strip().splitlines()[-1]
    assert warning.startswith("warning: the run diverged: the loss grew from 1.184 to ")
    assert warning.endswith(
        "lr=1000 made the loss grow; try --lr 0.1, or --optimizer adam --lr 0.01"
    )
    assert io.read_metadata(tmp_path / "run" / "model.json")["warnings"] == [warning[9:]]
    # a loss that reaches inf stops the run: nothing is written
    assert cli.main(["train", "--lr", "1e6", *QUICK, "--out", str(tmp_path / "inf")]) == 2
    err = capsys.readouterr().err
    assert "error: the run diverged: the loss became inf at step" in err
    assert err.strip().endswith("try --lr 0.1, or --optimizer adam --lr 0.01")
    assert not (tmp_path / "inf").exists()


def test_a_run_that_learned_nothing_says_so_with_the_flags_to_try(tmp_path, capsys):
    # micrograd's full-batch settings on the digits: where `--data digits` stood before
    args = [
        "train",
        "--data",
        "digits",
        "--model",
        "64,16,16,10",
        "--batch-size",
        "1347",
        "--steps",
        "100",
        "--momentum",
        "0",
        "--quiet",
        "--out",
        str(tmp_path / "d"),
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "test accuracy 11.3%" in out
    warning = out.strip().splitlines()[-1]
    assert warning.startswith(
        "warning: the model learned nothing: train accuracy 12.2% is chance level (always "
        "answering the most common class scores 10.5%), and the loss stayed at 2.296 from step"
    )
    assert warning.endswith(
        "; try --batch-size 32 --epochs 10, or --activation tanh, or --optimizer adam --lr 0.01"
    )


@pytest.mark.parametrize(
    "flags, lines",
    [
        (
            ["--data", "digits"],
            ["model  MLP 64-64-10, relu hidden, linear output",
             "train  cross_entropy + 0.0001 L2, sgd lr 0.1 momentum 0.9 (linear), 10 epochs, "
             "batches of 32"],
        ),
        (  # Adam gets its own rate, and no momentum: the digits' pair is SGD's
            ["--data", "digits", "--optimizer", "adam"],
            ["train  cross_entropy + 0.0001 L2, adam lr 0.01 (linear), 10 epochs, batches of 32"],
        ),
        (  # a length flag replaces the data set's epochs; the rest stays
            ["--data", "digits", "--steps", "20", "--lr", "0.05"],
            ["train  cross_entropy + 0.0001 L2, sgd lr 0.05 momentum 0.9 (linear), 20 steps, "
             "batches of 32"],
        ),
        (
            ["--data", "toy"],
            ["model  MLP 3-4-4-1, tanh hidden, tanh output, 41 parameters",
             "train  mse, sgd lr 0.1 (constant), 100 steps, full batch"],
        ),
        (  # another loss: micrograd's rate for it, and its own output
            ["--data", "toy", "--loss", "hinge"],
            ["model  MLP 3-4-4-1, tanh hidden, linear output",
             "train  hinge, sgd lr 1 (constant), 100 steps, full batch"],
        ),
    ],
)  # fmt: skip
def test_a_flag_overrides_its_own_setting_and_what_goes_with_it(flags, lines, capsys, tmp_path):
    assert cli.main(["train", *flags, "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    for line in lines:
        assert line in out, out


def test_help_lists_each_data_sets_settings(tmp_path):
    text = chainrule("train", "--help", cwd=tmp_path).stdout
    assert "settings of each data set (a flag given overrides its own):" in text
    assert "  moons, circles, blobs, xor, spirals: micrograd's demo:" in text
    assert "  toy: hidden layers 4,4, --activation tanh" in text
    assert "  digits: --test-fraction 0.25, hidden layers 64, --loss cross_entropy" in text
