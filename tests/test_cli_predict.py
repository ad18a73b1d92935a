"""`chainrule eval` and `chainrule predict`: a saved model, used again from the terminal."""

import re

import pytest

from chainrule import cli, data, io
from chainrule.learn import predict_scores

PNG = b"\x89PNG\r\n\x1a\n"
QUICK = ["--samples", "40", "--test-samples", "30", "--steps", "15", "--quiet"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A moons run and a blobs run, trained once for the module."""
    folder = tmp_path_factory.mktemp("runs")
    assert cli.main(["train", *QUICK, "--out", str(folder / "moons")]) == 0
    blobs = ["train", "--data", "blobs", *QUICK, "--out", str(folder / "blobs")]
    assert cli.main(blobs) == 0
    return folder


def numbers(label, text):
    found = re.search(rf"^{label}\s+accuracy (\d+\.\d)%, (\w+) loss (\S+) \((\d+) points\)", text,
                      re.M)  # fmt: skip
    return float(found.group(1)), found.group(2), float(found.group(3)), int(found.group(4))


def test_eval_scores_the_points_of_the_training_run_by_default(runs, capsys):
    model = runs / "moons" / "model.json"
    meta = io.read_metadata(model)
    assert cli.main(["eval", str(model)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"model  {model}: MLP 2-16-16-1, 337 parameters, trained with hinge\n")
    assert "data   moons: 40 points (seed 1), 30 held-out points (seed 2)" in out
    train, held_out = numbers("train", out), numbers("held-out", out)
    assert train[0] == pytest.approx(100 * meta["train_accuracy"], abs=0.05)
    assert held_out[0] == pytest.approx(100 * meta["test_accuracy"], abs=0.05)
    assert train[1:] == ("hinge", pytest.approx(meta["final_loss"], rel=1e-3), 40)
    assert held_out[3] == 30


def test_eval_draws_other_points_when_a_data_flag_says_so(runs, capsys, tmp_path):
    model = runs / "moons" / "model.json"
    args = ["eval", str(model), "--data-seed", "7", "--samples", "200", "--test-samples", "0"]
    assert cli.main([*args, "--boundary", str(tmp_path / "b.png")]) == 0
    out = capsys.readouterr().out
    assert "data   moons: 200 points (seed 7)\n" in out and "held-out" not in out
    assert numbers("train", out)[3] == 200
    assert (tmp_path / "b.png").read_bytes().startswith(PNG)
    assert cli.main(["eval", str(runs / "blobs" / "model.json"), "--confusion",
                     str(tmp_path / "c.png"), "--loss", "cross_entropy"]) == 0  # fmt: skip
    assert (tmp_path / "c.png").read_bytes().startswith(PNG)
    assert numbers("held-out", capsys.readouterr().out)[1] == "cross_entropy"


@pytest.mark.parametrize(
    "args, message",
    [
        (["eval", "nope.json"], "chainrule eval: error: nope.json: no such file"),
        (["eval", "{moons}", "--data", "blobs"],
         "has one output (two classes), but blobs has 3 classes"),
        (["eval", "{moons}", "--data", "digits"], "cannot take the 64 features of digits"),
        (["eval", "{moons}", "--data", "toy", "--boundary", "x.png"],
         "cannot take the 3 features of toy"),
        (["predict", "{moons}", "1", "2", "3"], "takes 2 numbers, got 3"),
        (["predict", "{moons}", "one", "two"], "argument X: must be a number from -1e+12 to 1e+12"),
    ],
)  # fmt: skip
def test_mistakes_get_one_line_and_status_2(runs, capsys, args, message):
    args = [a.replace("{moons}", str(runs / "moons" / "model.json")) for a in args]
    try:
        status = cli.main(args)
    except SystemExit as stop:  # argparse's own errors exit
        status = stop.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_predict_prints_the_output_and_its_class(runs, capsys):
    model_file = runs / "moons" / "model.json"
    model = io.load(model_file)
    for point in ([0.5, -0.3], [-1.0, 1.0]):
        assert cli.main(["predict", str(model_file), *map(str, point)]) == 0
        score = predict_scores(model, [point])[0]
        output, klass = capsys.readouterr().out.splitlines()
        assert output == f"output  {score:.6g}"
        assert klass == f"class   {int(score > 0)} (output {'>' if score > 0 else '<='} 0)"
    blobs = runs / "blobs" / "model.json"
    X, _ = data.blobs(3, seed=1)
    assert cli.main(["predict", str(blobs), *map(str, X[0])]) == 0
    output, klass = capsys.readouterr().out.splitlines()
    scores = predict_scores(io.load(blobs), [X[0]])[0]
    assert output == "output  " + " ".join(f"{v:.6g}" for v in scores)
    assert klass == f"class   {scores.index(max(scores))} (the largest score)"
