"""Hostile and careless input, one row each: the command, its exit status, a phrase of its message.

Every row runs `chainrule ARGV` in a subprocess, in a fresh folder (after its `setup`, if any),
as a user would. An error must be one line on stderr with exit status 2 and no traceback; a
run that must succeed exits 0 with the phrase on stdout. The next hostile input is one more row
(`Row` and `run_row` are imported by the other tables of hostile input).
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = str(Path(__file__).resolve().parents[1])  # this checkout, not an installed copy


class Row(NamedTuple):
    """One hostile input: `chainrule ARGV`, the exit status it must give, a phrase of its
    message (stderr for an error, stdout for a success); `setup(folder)` prepares files and
    `check(folder)` looks at what is left (it asserts, or returns False)."""

    argv: list[str]
    code: int
    phrase: str
    setup: Callable[[Path], object] | None = None
    check: Callable[[Path], object] | None = None


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
    if row.check is not None:
        assert row.check(folder) is not False, f"check of {row.argv} failed"
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
QUICK = ["--samples", "20", "--test-samples", "10", "--steps", "2"]
OLD_RUN = ("model.json", "loss.png", "boundary.png", "confusion.png")


def old_run(folder: Path) -> None:
    (folder / "run").mkdir()
    for name in OLD_RUN:
        (folder / "run" / name).write_text("old")


def only_the_new_run(folder: Path) -> None:
    # no temporary folder and no old run set aside: only the run, with no old confusion.png
    assert [p.name for p in folder.iterdir()] == ["run"]
    files = {p.name: p.read_bytes() for p in (folder / "run").iterdir()}
    assert sorted(files) == ["boundary.png", "loss.png", "model.json"]
    assert b"old" not in files.values()


def old_run_and_notes(folder: Path) -> None:
    old_run(folder)
    (folder / "run" / "notes.txt").write_text("mine")


def new_run_and_notes(folder: Path) -> bool:
    names = sorted(p.name for p in (folder / "run").iterdir())
    return names == ["boundary.png", "loss.png", "model.json", "notes.txt"]


def dist(folder: Path) -> None:
    (folder / "dist").mkdir()
    for name in ("index.html", "chainrule.zip"):
        (folder / "dist" / name).write_text(name)
    (folder / "dist" / "gone.js").symlink_to(folder / "nowhere.js")


def preset_model(name: str) -> Callable[[Path], Path]:
    """An untrained model of the preset `name`, saved as the preset saves its model."""

    def setup(folder: Path) -> Path:
        from chainrule.learn import io
        from chainrule.tensor.layers import digits_cnn, names_mlp

        model = names_mlp(seed=0) if name == "names-mlp" else digits_cnn(seed=0)
        return io.save(model, folder / "m.json", metadata={"preset": name, "seed": 0})

    return setup


def the_old_run(folder: Path) -> None:
    # nothing written, nothing moved: the earlier run is all there is
    assert [p.name for p in folder.iterdir()] == ["run"]
    assert sorted(p.name for p in (folder / "run").iterdir()) == sorted(OLD_RUN)
    assert all(p.read_text() == "old" for p in (folder / "run").iterdir())


def nothing_written(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == ["model.json"]


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
    # 9. where files go: checked before the work; a run replaced as a whole
    Row(
        ["eval", "model.json", "--boundary", "x.txt"],
        2,
        "--boundary x.txt: '.txt' is not a format chainrule can write",
        model_file,
        nothing_written,
    ),
    Row(
        ["eval", "model.json", "--boundary", "no/b.png"],
        2,
        "--boundary no/b.png: folder no does not exist",
        model_file,
        nothing_written,
    ),
    Row(
        ["eval", "model.json", "--confusion", "/proc/c.png"],
        2,
        "--confusion /proc/c.png: cannot write in folder /proc",
        model_file,
    ),
    Row(["eval", "model.json", "--boundary", "."], 2, "--boundary . is a folder", model_file),
    Row(["graph", "x", "--set", "x=1", "--animate", "no/x.gif"], 2, "folder no does not exist"),
    Row(
        ["train", *QUICK, "--out", "run", "--force"],
        0,
        "wrote  run/model.json",
        old_run,
        only_the_new_run,
    ),
    Row(
        ["train", *QUICK, "--out", "run", "--force"],
        0,
        "wrote  run/model.json",
        old_run_and_notes,
        new_run_and_notes,
    ),
    Row(
        ["playground", "--dist", "dist", "--export", "/proc/site"],
        2,
        "--export /proc/site: cannot write in folder /proc",
        dist,
    ),
    Row(
        ["playground", "--dist", "dist", "--export", "site"],
        2,
        "--export site: cannot copy dist/gone.js (a link to",
        dist,
        lambda folder: not (folder / "site").exists(),
    ),
    # 8. a confusion matrix of 1,000 classes is drawn in groups, and the run is kept
    Row(
        [
            "train",
            "--data",
            "blobs",
            "--classes",
            "1000",
            "--samples",
            "1000",
            "--test-samples",
            "1000",
            "--steps",
            "2",
            "--engine",
            "tensor",
            "--out",
            "run",
        ],
        0,
        "run/confusion.png",
    ),
    # 11. small ones
    Row(["train", "--out", ""], 2, "argument --out: must name a file or folder, got ''"),
    Row(["preset", "names-mlp", "--out", ""], 2, "argument --out: must name a file or folder"),
    Row(["demo", "--out", ""], 2, "argument --out: must name a file or folder"),
    Row(["graph", "x", "--set", "x=1", "--out", ""], 2, "argument --out: must name a file"),
    Row(["eval", "model.json", "--confusion", ""], 2, "argument --confusion: must name a file"),
    Row(["playground", "--export", ""], 2, "argument --export: must name a file or folder"),
    Row(
        ["train", *QUICK, "--data-seed", "4294967295", "--out", "run"],
        0,
        "10 held-out points (seed 0)",
    ),
    # 7. expressions: one rule for numbers that are not finite, every error named
    Row(["graph", "(-1)**0.5"], 2, "cannot compute (-1)**0.5 with **: a negative base"),
    Row(["graph", "# note"], 2, "the expression is only a comment"),
    Row(["graph", "1" * 400], 2, "(400 digits) is not a finite number"),
    Row(["graph", "1e999"], 2, "at column 1: 1e999 is not a finite number"),
    Row(["graph", "x + 1e999", "--set", "x=1"], 2, "at column 5: 1e999 is not a finite number"),
    Row(["graph", "x", "--set", "x=inf"], 2, "--set x=inf: give a finite number"),
    Row(["graph", "x * (1e308 * 10)", "--set", "x=1"], 2, "the result (inf) is not a finite"),
    # 11. a \r line end ends a line: the comment stays out of the labels
    Row(
        ["graph", "(x\r# secret\r+1)*2", "--set", "x=1", "--out", "g.dot"],
        0,
        "out = 4.0000",
        check=lambda folder: "secret" not in (folder / "g.dot").read_text(),
    ),
    # 8. numbers on the command line: capped before anything is allocated, no silent nan
    Row(
        ["train", "--data", "mnist"],
        2,
        "did you mean 'cnn-mnist5k'? (a preset: chainrule preset cnn-mnist5k)",
    ),
    Row(
        ["train", "--samples", "100000000"],
        2,
        "--samples: must be a whole number from 1 to 1,000,000",
    ),
    Row(
        ["train", "--test-samples", "100000000"], 2, "--test-samples: must be a whole number from 0"
    ),
    Row(["train", "--classes", "1000000000000"], 2, "--classes: must be a whole number from 2"),
    Row(["train", "--noise", "1e308"], 2, "--noise: must be a number from 0 to 1e+12"),
    Row(["train", "--noise", "nan"], 2, "--noise: must be a number"),
    Row(["train", "--lr", "inf"], 2, "--lr: must be a number > 0"),
    Row(["train", "--l2", "nan"], 2, "--l2: must be a number"),
    Row(["train", "--steps", "10000000000000"], 2, "--steps: must be a whole number from 1"),
    Row(["train", "--model", "2,1000000000,1"], 2, "--model: must be layer sizes"),
    Row(["eval", "m.json", "--samples", "100000000"], 2, "--samples: must be a whole number"),
    Row(["predict", "model.json", "nan", "0.3"], 2, "argument X: must be a number", model_file),
    Row(["predict", "model.json", "1e400", "0"], 2, "argument X: must be a number", model_file),
    Row(["preset", "names-mlp", "--lr", "1e308"], 2, "--lr: must be a number > 0"),
    # 12. a preset's model: its held-out rows, a picture, the letters that start a name
    Row(
        ["predict", "m.json", "1000"],
        2,
        "row 1000 is not one of cnn-mnist5k's held-out rows: give 0 to 999",
        preset_model("cnn-mnist5k"),
    ),
    Row(
        ["predict", "m.json", "notes.txt"],
        2,
        "notes.txt: cannot read it as an image (cannot identify image file",
        lambda folder: [preset_model("cnn-mnist5k")(folder), written("notes.txt", "hi")(folder)],
    ),
    Row(
        ["predict", "m.json", "em1"],
        2,
        "the prefix must be letters a..z, got 'em1'",
        preset_model("names-mlp"),
    ),
    Row(
        ["predict", "m.json", "e" * 31],
        2,
        "the prefix has 31 letters; names are 30 at most",
        preset_model("names-mlp"),
    ),
    Row(
        ["eval", "model.json"],
        2,
        "model.json: metadata 'preset' must be one of names-mlp, cnn-mnist5k",
        tampered(preset="nope"),
    ),
    # 12. a run that diverges writes nothing, and the earlier run stays
    Row(
        ["preset", "names-mlp", "--lr", "1e12", "--out", "run", "--force", "--quiet"],
        2,
        "running_var became inf or nan at step 1 (the loss started at 3.346); --lr 1e+12 made "
        "the loss grow; try a smaller --lr (names-mlp's own is 0.1)",
        old_run,
        the_old_run,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.argv[0]}: {r.phrase[:50]}" for r in ROWS])
def test_hostile_input(row: Row, tmp_path: Path) -> None:
    run_row(row, tmp_path)


# -- 10. the playground's static server, on 127.0.0.1 and a free port ----------------------------

LONG = "/" + "a" * 60_000

# (the path requested, the status it gets)
SERVED = [
    ("/", 200),
    ("/inner.html", 200),  # a link that stays inside dist
    ("/index.html%00.png", 400),
    ("/pyodide/", 404),  # no listing of a folder
    ("/zero", 404),  # a link to /dev/zero
    ("/secret.txt", 404),  # a link out of dist
    (LONG, 404),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from chainrule.cli.playground import make_server

    top = tmp_path_factory.mktemp("served")
    dist = top / "dist"
    (dist / "pyodide").mkdir(parents=True)
    (dist / "index.html").write_text("<h1>playground</h1>")
    (dist / "pyodide" / "pyodide.js").write_text("// js")
    (top / "secret.txt").write_text("secret")
    (dist / "secret.txt").symlink_to(top / "secret.txt")
    (dist / "zero").symlink_to("/dev/zero")
    (dist / "inner.html").symlink_to(dist / "index.html")
    served = make_server(dist, 0)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    yield served.server_address[1]
    served.shutdown()
    served.server_close()


@pytest.mark.parametrize(("path", "status"), SERVED, ids=[p[:30] for p, _ in SERVED])
def test_served_path(server, path, status, capfd):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == status
    assert (b"playground" in body) == (status == 200)
    logged = capfd.readouterr().err
    assert "Traceback" not in logged
    assert all(len(line) <= 220 for line in logged.splitlines())


# -- 5. an animation costs memory in proportion to its graph, not to its square ---------------

TANH_40 = "tanh(" * 40 + "x" + ")" * 40


def test_a_gif_of_a_long_chain_fits_in_a_small_memory(tmp_path):
    """41 values: 82 frames, each as wide as the chain (18,265 pixels); all of them held at
    once took 1.7 GB, a frame at a time takes about 140 MB."""
    peak = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "sys.exit(done.returncode)"
    )
    argv = ["graph", TANH_40, "--set", "x=0.5", "--animate", "t.gif"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    command = [sys.executable, "-c", peak, sys.executable, "-m", "chainrule", *argv]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    wrote, kilobytes = done.stdout.strip().splitlines()
    assert wrote == "wrote t.gif (82 frames: 41 forward, 41 backward)"
    assert int(kilobytes) < 500_000
