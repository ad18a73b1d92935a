"""A model exported from the playground's Train tab scores outside the page exactly as it did
on the page: `chainrule eval model.json` (no data flags), the exported predict.py, and
`chainrule predict`, on the points the file's recipe rebuilds (`chainrule.learn.inputs`)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from chainrule.cli.main import main as cli
from chainrule.learn import evaluate, inputs, io, predict_scores

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / "web" / "src" / "py"


def _load_web():
    spec = importlib.util.spec_from_file_location("chainrule_web_export", PY / "chainrule_web.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


web = _load_web()


def shown(x: float) -> str:
    """A fraction as the page shows it (app.js: (100 * x).toFixed(1) + "%")."""
    return f"{100 * x:.1f}%"


def _train_and_export(tmp_path: Path, config: dict, steps: int, added=()) -> dict:
    """Train on the page's Python as the page does (chunks of 55), add points, export."""
    json.loads(web.train_new(json.dumps(config)))
    for x, y, label in added:
        assert json.loads(web.train_add_point(x, y, label))["ok"]
    state: dict = {}
    for _ in range(steps // 55):
        state = json.loads(web.train_step(55, False))
    state = json.loads(web.train_step(0, True))  # the page measures when it pauses
    out = json.loads(web.train_export())
    assert out["ok"], out
    (tmp_path / "model.json").write_text(out["model"], encoding="utf-8")
    (tmp_path / "predict.py").write_text(out["script"], encoding="utf-8")
    curves = state["curves"]
    return {
        "steps": state["steps"],
        "train": curves["train_accuracy"][-1],
        "test": curves["test_accuracy"][-1],
        "train_loss": curves["train_loss"][-1],
        "test_loss": curves["test_loss"][-1],
        "export": out,
    }


CASES = {
    "moons, the defaults": ({}, 165, ()),
    "spirals, every feature": (
        {
            "dataset": "spirals",
            "noise": 0.2,
            "train": 0.6,
            "seed": 7,
            "layers": [6, 4],
            "lr": 0.3,
            "features": ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"],
        },
        330,
        (),
    ),
    "blobs, 90% training, added points": (
        {"dataset": "blobs", "train": 0.9, "seed": 4, "features": ["x1", "x2", "x1_x2"]},
        110,
        ((0.9, 0.9, 2), (-1.1, 0.2, 0)),
    ),
    "circles, x1² and x2² only, bce": (
        {"dataset": "circles", "layers": [2], "loss": "bce", "features": ["x1_sq", "x2_sq"]},
        110,
        ((0.0, 0.0, 1),),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_chainrule_eval_scores_an_exported_model_as_the_page_did(tmp_path, capsys, case):
    config, steps, added = CASES[case]
    page = _train_and_export(tmp_path, config, steps, added)
    model_file = tmp_path / "model.json"

    # The very same points, bit for bit: the same accuracy and loss as the page's.
    meta = io.read_metadata(model_file)
    points = inputs.rebuild(meta["inputs"])
    model = io.load(model_file)
    assert evaluate(model, points.X, points.y, loss=meta["loss"]) == (
        page["train_loss"],
        page["train"],
    )
    assert evaluate(model, points.X_test, points.y_test, loss=meta["loss"]) == (
        page["test_loss"],
        page["test"],
    )
    assert len(points.y) == len(web._session.y) and points.X == web._session.F

    # The command, with no data flags: the page's accuracy, as the page shows it.
    assert cli(["eval", str(model_file)]) == 0
    text = capsys.readouterr().out
    assert f"train      accuracy {shown(page['train'])}," in text, text
    assert f"held-out   accuracy {shown(page['test'])}," in text, text
    assert f"page   train {shown(page['train'])}, held-out {shown(page['test'])}" in text
    assert "as the playground draws it" in text
    assert f"features {', '.join(meta['inputs']['features'])}" in text
    assert page["export"]["train_accuracy"] == page["train"]

    # The exported script, run as a user runs it: the same numbers.
    done = subprocess.run(
        [sys.executable, "predict.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert f"train      accuracy {shown(page['train'])}," in done.stdout, done.stdout
    assert f"held-out   accuracy {shown(page['test'])}," in done.stdout, done.stdout
    assert "-> class" in done.stdout


def test_the_page_before_scaling_was_the_bug(tmp_path):
    """Why the recipe is needed: the same model on the unscaled points scores otherwise."""
    page = _train_and_export(tmp_path, {}, 220)
    meta = io.read_metadata(tmp_path / "model.json")
    model = io.load(tmp_path / "model.json")
    recipe = meta["inputs"]
    assert recipe["scaling"]["scale"] != 1.0 or recipe["scaling"]["center"] != [0.0, 0.0]
    X, y = inputs.draw(recipe["dataset"], recipe["samples"], recipe["noise"], recipe["seed"])
    X, _, y, _ = inputs.split(X, y, recipe["test_fraction"], recipe["seed"])
    unscaled = evaluate(model, X, y, loss=meta["loss"])[1]
    assert page["train"] == 1.0 and unscaled < 0.9


def test_chainrule_predict_scales_a_point_and_feeds_its_features(tmp_path, capsys):
    config = {"dataset": "moons", "features": ["x1", "x2", "sin_x2"], "seed": 3}
    _train_and_export(tmp_path, config, 110)
    session = web._session
    raw = [1.25, -0.4]  # in the moons' own units
    plane = inputs.scale([raw], session.recipe["scaling"])[0]
    expected = predict_scores(session.model, inputs.features([plane], config["features"]))[0]
    assert cli(["predict", str(tmp_path / "model.json"), *map(str, raw)]) == 0
    text = capsys.readouterr().out
    assert f"({plane[0]:.4g}, {plane[1]:.4g}) on the playground's plane" in text
    assert f"output  {expected:.6g}" in text
    assert f"class   {int(expected > 0)} " in text


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda r: r.update(noise="lots"), "inputs 'noise' must be a number in [0, 1]"),
        (lambda r: r.update(features=["x3"]), "unknown feature 'x3'"),
        (lambda r: r.pop("scaling"), "the inputs have no 'scaling'"),
        (lambda r: r.update(dataset="digits"), "inputs 'dataset' must be one of moons"),
        (lambda r: r.update(added=[[0, 0]]), "inputs 'added' must be"),
        # an integer no float holds is refused as the others are, not an OverflowError
        (lambda r: r["scaling"].update(scale=10**400), "inputs 'scaling' must be"),
    ],
)
def test_a_damaged_recipe_is_a_one_line_error(tmp_path, capsys, edit, words):
    _train_and_export(tmp_path, {}, 55)
    path = tmp_path / "model.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document["metadata"]["inputs"])
    path.write_text(json.dumps(document), encoding="utf-8")
    assert cli(["eval", str(path)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_data_flags_draw_other_points_scaled_and_featured_like_the_page(tmp_path, capsys):
    """With flags, eval draws the data set anew (chainrule.learn.data, as for any model) and
    feeds the model as the page did: the recorded scaling, then the features."""
    pytest.importorskip("sklearn")
    from chainrule.learn import data

    _train_and_export(tmp_path, {"features": ["x1", "x2", "x1_x2"]}, 165)
    path = tmp_path / "model.json"
    assert cli(["eval", str(path), "--data", "moons", "--samples", "300"]) == 0
    text = capsys.readouterr().out
    X, y = data.load("moons", n=300, seed=1)  # eval's data seed when none is given
    meta = io.read_metadata(path)
    fed = inputs.network_inputs(meta["inputs"], X)
    assert (
        fed[0]
        == inputs.features(inputs.scale(X[:1], meta["inputs"]["scaling"]), ["x1", "x2", "x1_x2"])[0]
    )
    expected = evaluate(io.load(path), fed, y, loss="hinge")[1]
    assert f"train      accuracy {shown(expected)}, hinge loss" in text and "(300 points)" in text
