"""chainrule.learn.io: models round-trip exactly; bad files fail clearly; saving never damages
a file."""

import json
import os
import stat

import pytest

from chainrule import data, io, nn
from chainrule.learn import fit, predict_scores
from chainrule.learn.io import ModelFileError


@pytest.fixture(scope="module")
def trained():
    X, y = data.moons(30, noise=0.1, seed=1)
    model = nn.MLP(2, [6, 6, 1], activation="relu", output_activation=None, seed=3)
    fit(model, X, y, lr=0.5, steps=5, progress=False)
    return model, X


@pytest.fixture()
def saved(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "model.json"
    io.save(model, path, metadata={"accuracy": 0.9, "data": "moons"})
    return path


def edit(path, change):
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


# -- round trip ----------------------------------------------------------------------------------


def test_save_then_load_gives_identical_predictions(trained, saved):
    model, X = trained
    grid = [[i / 7 - 1.5, j / 5 - 1.0] for i in range(20) for j in range(10)]
    loaded = io.load(saved)
    assert type(loaded) is nn.MLP and loaded is not model
    assert loaded.config() == model.config()
    assert loaded.state_dict() == model.state_dict()
    assert predict_scores(loaded, X + grid) == predict_scores(model, X + grid)
    assert io.read_metadata(saved) == {"accuracy": 0.9, "data": "moons"}


def test_the_file_is_the_documented_json(trained, saved):
    model, _ = trained
    document = json.loads(saved.read_text())
    assert document["format"] == "chainrule.model" and document["version"] == 1
    assert document["config"] == model.config()
    assert document["parameters"] == model.state_dict()
    assert sorted(document) == ["config", "format", "metadata", "parameters", "version"]


def test_saved_files_get_the_usual_permissions(saved):
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o666 & ~umask


def test_save_refuses_non_finite_weights_and_keeps_the_old_file(trained, saved):
    before = saved.read_bytes()
    broken = nn.MLP(2, [2, 1], seed=0)
    broken.layers[0].neurons[1].w[0].data = float("nan")
    with pytest.raises(ValueError, match=r"layers\.0\.neurons\.1\.w\.0 is not a finite number"):
        io.save(broken, saved)
    assert saved.read_bytes() == before


def test_a_failure_mid_write_leaves_the_old_file_intact(trained, saved, monkeypatch):
    model, _ = trained
    before = saved.read_bytes()

    def dump_half_then_fail(obj, handle, **kwargs):
        handle.write(json.dumps(obj)[:50])
        raise OSError("disk full")

    monkeypatch.setattr(io.json, "dump", dump_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        io.save(model, saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == ["model.json"]  # no temporary file left behind


def test_save_into_a_folder_path_is_refused(trained, tmp_path):
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        io.save(trained[0], tmp_path)


def test_save_needs_a_chainrule_model(tmp_path):
    with pytest.raises(TypeError, match="config\\(\\) and state_dict\\(\\)"):
        io.save(object(), tmp_path / "x.json")


# -- files that cannot be loaded -----------------------------------------------------------------


def check_error(path, *fragments):
    with pytest.raises(ModelFileError) as info:
        io.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert info.value.path == str(path)
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(info.value, ValueError)
    return message


def test_missing_file(tmp_path):
    check_error(tmp_path / "nope.json", "no such file")


def test_folder_instead_of_file(tmp_path):
    check_error(tmp_path, "is a folder")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_truncated_file(saved, keep):
    text = saved.read_text()
    saved.write_text(text[: int(len(text) * keep)])
    check_error(saved, "not valid JSON", "ends early (truncated?)")


def test_empty_and_binary_and_garbled_files(tmp_path):
    path = tmp_path / "m.json"
    path.write_bytes(b"")
    check_error(path, "empty")
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    check_error(path, "not UTF-8")
    path.write_text('{"format": "chainrule.model", oops}')
    check_error(path, "not valid JSON", "line 1 column")
    path.write_text("[1, 2, 3]")
    check_error(path, "top level is a list")


@pytest.mark.parametrize(
    "text, start",
    [
        ("hello, this is not a model\n", "'hello, this is not a model'"),
        ("x1,x2,label\n0.1,0.2,1\n", "'x1,x2,label'"),
        ("# my notes\n" + "words " * 20, "'# my notes'"),
        ("model: 2-16-16-1 " * 5, "'model: 2-16-16-1 model: 2-16-16-1 mod...'"),
    ],
)
def test_a_file_that_is_not_json_says_so_not_truncated(tmp_path, text, start):
    path = tmp_path / "model.json"
    path.write_text(text)
    message = check_error(path, "not a model file: it is not JSON", f"it starts with {start}")
    assert "truncated" not in message


@pytest.mark.parametrize(
    "change, fragments",
    [
        (lambda d: d.update(format="pickle"), ["not a chainrule model file", "'pickle'"]),
        (lambda d: d.pop("format"), ["not a chainrule model file", "None"]),
        (lambda d: d.update(version=2), ["version 2 is not supported", "reads 1"]),
        (lambda d: d.update(version="1"), ["version must be an integer", "'1'"]),
        (lambda d: d.update(config=[1]), ["'config' must be a JSON object", "a list"]),
        (lambda d: d.update(parameters=None), ["'parameters' must be a JSON object", "null"]),
        (lambda d: d.update(metadata=3), ["'metadata' must be a JSON object", "the number 3"]),
        (lambda d: d["config"].update(type="Conv3d"), ["bad model config", "'Conv3d'"]),
        (lambda d: d["config"].update(type="os.system"), ["unknown type 'os.system'"]),
        (lambda d: d["config"].update(activation="swish"), ["bad model config", "'swish'"]),
        (lambda d: d["config"].update(nouts=[6, 7, 1]), ["missing parameter"]),
        (lambda d: d["config"].update(nouts=[6, 5, 1]), ["unexpected parameter"]),
        (lambda d: d["config"].update(nin=3), ["missing parameter layers.0.neurons.0.w.2"]),
        (
            lambda d: d["parameters"].pop("layers.2.neurons.0.b"),
            ["missing parameter", "neurons.0.b"],
        ),
        (lambda d: d["parameters"].update(extra=1.0), ["unexpected parameter extra"]),
        (
            lambda d: d["parameters"].update({"layers.0.neurons.0.w.0": "0.5"}),
            ["layers.0.neurons.0.w.0 is not a finite number", "'0.5'"],
        ),
        (
            lambda d: d["parameters"].update({"layers.1.neurons.2.b": True}),
            ["layers.1.neurons.2.b is not a finite number", "True"],
        ),
        (
            lambda d: d["parameters"].update({"layers.1.neurons.2.b": None}),
            ["layers.1.neurons.2.b is not a finite number"],
        ),
        (
            lambda d: d["parameters"].update({"layers.1.neurons.2.b": [1.0, 2.0]}),
            ["parameter layers.1.neurons.2.b should be a number, got a list"],
        ),
    ],
)
def test_tampered_files_name_what_is_wrong(saved, change, fragments):
    check_error(edit(saved, change), *fragments)


def test_nan_and_infinity_in_the_file_are_refused(saved):
    text = saved.read_text()
    name = '"layers.0.neurons.0.b": '
    start = text.index(name) + len(name)
    end = text.index(",", start)
    for constant in ("NaN", "Infinity", "-Infinity"):
        saved.write_text(text[:start] + constant + text[end:])
        check_error(saved, f"{constant} is not a valid weight")


def test_save_into_a_missing_folder_says_which(trained, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"folder .*nowhere does not exist"):
        io.save(trained[0], tmp_path / "nowhere" / "model.json")
    assert os.listdir(tmp_path) == []


def test_a_huge_tampered_config_fails_before_anything_is_built(saved, monkeypatch):
    from chainrule.learn import io

    def no_building(config):
        raise AssertionError("the model must not be built")

    path = edit(saved, lambda d: d["config"].update(nouts=[10**9, 1]))
    monkeypatch.setattr(io, "from_config", no_building)
    # (2 + 1) * 10**9 weights and biases into the hidden layer, 10**9 + 1 into the output
    check_error(path, "describes 4,000,000,001 parameters", "the file holds 67")
