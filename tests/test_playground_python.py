"""The playground without a browser: its Python (web/src/py, imported with this CPython), its
server and its command. The browser itself is driven in test_playground_browser.py."""

from __future__ import annotations

import hashlib
import html
import importlib.util
import json
import math
import platform
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import baselines
import pytest
import web_build

from chainrule import io, losses, nn
from chainrule.cli import playground
from chainrule.cli.expressions import ProgramError, evaluate_program
from chainrule.cli.main import main as cli
from chainrule.learn import fit, inputs, predict
from chainrule.viz.graph import draw_dot

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / "web" / "src" / "py"
LECTURE = "a = 2; b = -3; c = 10; f = -2; e = a*b; d = e + c; L = d*f"


def _load(name: str, path: Path):
    """Import a module of web/src/py by its path (the folder is never put on sys.path: its
    graphviz.py would stand in for the real graphviz package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


web = _load("chainrule_web", PY / "chainrule_web.py")


def run(source: str) -> dict:
    return json.loads(web.expression(source))


# -- the Expression tab -----------------------------------------------------------------------


def test_lecture_expression_has_the_lectures_gradients_and_steps():
    out = run(LECTURE)
    assert out["ok"], out
    assert out["output"] == {"name": "L", "data": -8.0}
    assert out["grads"] == {
        "L": 1.0,
        "d": -2.0,
        "f": 4.0,
        "e": -2.0,
        "c": -2.0,
        "a": 6.0,
        "b": -4.0,
    }
    frames = out["animation"]["frames"]
    backward = [f["text"] for f in frames if f["phase"] == "backward"]
    assert len(backward) == 7  # dL/dL = 1, then the six chain-rule steps of explain
    assert any(t.startswith("dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0") for t in backward)
    assert out["dot"] == out["animation"]["dot"] and out["dot"].startswith("digraph")


def test_gradients_are_keyed_by_the_narrations_names():
    # The constants 2, 3 and 4 are written as numbers by the narration and have no gradient
    # of their own there; they once came back here as #1, #2, #3, names the narration gives
    # to unlabeled results instead.
    out = run("a = 1; b = 1\nL = (a*2 + b*3)*(a + 4)")
    assert out["ok"], out
    assert out["grads"] == {
        "L": 1.0,
        "a*2 + b*3": 5.0,
        "a + 4": 5.0,
        "a*2": 5.0,
        "b*3": 5.0,
        "a": 15.0,
        "b": 15.0,
    }
    names = {node["name"] for node in out["animation"]["nodes"]}
    assert set(out["grads"]) == names - {"2.0", "3.0", "4.0"}


def test_leaves_may_be_given_on_lines_and_in_any_order():
    out = run("e = a*b\nd = e + c\nL = d*f\na = 2\nb = -3\nc = 10\nf = -2")
    assert out["ok"], out
    assert out["grads"]["a"] == 6.0


@pytest.mark.parametrize(
    "source, words, line, column",
    [
        (LECTURE.replace("L = d*f", "L = d*g"), "unknown name 'g'", 1, 58),
        ("a = 2\nb = -3\nL = a * (b +", "syntax error", 3, 9),
        ("a = 2; b = 3; L = a.b", "attribute access is not allowed", 1, 19),
        ("a = 2;   L = __import__('os')", "unknown function '__import__'", 1, 14),
        ("a = 1e200; L = a*a", "too large for a float", 1, 12),
        ("a = 1000; L = exp(a)", "overflows a float", 1, 15),
        ("a = 2; a = 3; L = a*2", "given a number twice", 1, 8),
        ("a = 2\nb = 3;  L = a*q", "unknown name 'q'", 2, 15),
    ],
)
def test_errors_point_at_the_column_typed(source, words, line, column):
    out = run(source)
    assert not out["ok"]
    error = out["error"]
    assert words in error["message"]
    assert (error["line"], error["column"]) == (line, column), error
    assert "--set" not in error["message"]  # the page has no --set


def test_refusals_without_a_position():
    assert "only numbers are given" in run("a = 2")["error"]["message"]
    assert "is not used" in run("a = 2; L = 5*3")["error"]["message"]
    big = run("L = " + "+".join(["a"] * 400) + "; a = 1")["error"]["message"]
    assert f"more than the {web.MAX_NODES}" in big and "smaller expression" in big
    assert "limit" in run("L = " + "1+" * 20_000 + "1")["error"]["message"]


def _example(label: str) -> str:
    """The program of the example link with this label in index.html."""
    page = (ROOT / "web" / "src" / "index.html").read_text(encoding="utf-8")
    found = re.search(rf'data-example="([^"]*)"[^>]*>{re.escape(label)}</a>', page)
    assert found, f"no example labelled {label!r}"
    return html.unescape(found.group(1))


def test_the_micrograd_readme_example_gives_the_readmes_numbers():
    """micrograd's README: g = 24.7041, dg/da = 138.8338, dg/db = 645.5773, as PyTorch
    (float64) computes the README's own program."""
    torch = pytest.importorskip("torch")
    out = run(_example("micrograd's README"))
    assert out["ok"], out
    assert out["output"]["name"] == "g"
    a = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    c = a + b
    d = a * b + b**3
    c = c + (c + 1)
    c = c + (1 + c + (-a))
    d = d + (d * 2 + (b + a).relu())
    d = d + (3 * d + (b - a).relu())
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    assert f"{out['output']['data']:.4f}" == f"{g.item():.4f}" == "24.7041"
    assert f"{out['grads']['a']:.4f}" == f"{a.grad.item():.4f}" == "138.8338"
    assert f"{out['grads']['b']:.4f}" == f"{b.grad.item():.4f}" == "645.5773"
    assert out["output"]["data"] == pytest.approx(g.item(), rel=1e-12)
    assert out["grads"]["a"] == pytest.approx(a.grad.item(), rel=1e-12)
    assert out["grads"]["b"] == pytest.approx(b.grad.item(), rel=1e-12)


def test_the_shim_writes_the_dot_source_of_the_graphviz_package(monkeypatch):
    """In the browser, draw_dot runs on web/src/py/graphviz.py: the same graph, node for node."""
    root = evaluate_program("L = tanh(x)**2 + x/3 - 1/x", {"x": 0.5})
    root.backward()
    real = draw_dot(root).source
    shim = _load("playground_graphviz_shim", PY / "graphviz.py")
    monkeypatch.setitem(sys.modules, "graphviz", shim)
    ours = draw_dot(root).source

    def statements(text: str) -> list[str]:
        return [line.strip().replace('"', "") for line in text.strip().splitlines()]

    assert statements(ours) == statements(real)


# -- the Neuron tab ---------------------------------------------------------------------------


def test_neuron_gives_the_lectures_numbers():
    out = json.loads(web.neuron(2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
    nodes = out["nodes"]
    assert math.isclose(out["output"], 0.7071, abs_tol=1e-4)
    assert math.isclose(nodes["n"]["grad"], 0.5, abs_tol=1e-6)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}
    for name, grad in expected.items():
        assert math.isclose(nodes[name]["grad"], grad, abs_tol=1e-6), name


# -- the Train tab ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", web.DATASETS)
def test_datasets_fill_the_plane_with_every_class(name):
    X, y = web.make_dataset(name, 60, 0.1, 3)
    X = inputs.scale(X, inputs.fit_scaling(X))
    assert len(X) == len(y) == 60
    assert max(max(abs(a), abs(b)) for a, b in X) == pytest.approx(1.0)
    assert set(y) == ({0, 1, 2} if name == "blobs" else {0, 1})


# The moons run of the browser test (test_playground_browser.MOONS): 2-16-16-1, ReLU, hinge.
MOONS = {"dataset": "moons", "layers": [16, 16], "activation": "relu", "lr": 0.5,
         "loss": "hinge", "batch": 0, "seed": 1}  # fmt: skip


def test_training_moons_learns_a_curve_and_reports_curves():
    state = json.loads(web.train_new(json.dumps(MOONS)))
    assert state["steps"] == 0 and len(state["picture"]["scores"]) == web.GRID**2
    X, y = state["train"]["X"], state["train"]["y"]
    state = json.loads(web.train_step(100, False))
    assert state["steps"] == 100 and "picture" not in state
    assert state["curves"]["step"] == [0]  # the curves are measured with the pictures
    curves = json.loads(web.train_step(0, True))["curves"]
    assert curves["step"] == [0, 100]
    assert curves["train_loss"][-1] < 0.2 * curves["train_loss"][0]
    # 95% is out of reach of a model that learned no curve: a straight line through these
    # 150 points gets about 89%, always answering one class about 51%
    linear, majority = baselines.linear_accuracy(X, y), baselines.majority_accuracy(y, y)
    assert 0.95 > linear + 0.05 and linear > majority
    assert curves["train_accuracy"][-1] >= 0.95, (curves, linear)
    widths = state["config"]["layers"]
    maps = json.loads(web.train_step(1, True))["picture"]["neurons"]
    assert json.loads(web.train_step(0, False))["curves"]["step"] == [0, 100, 101]
    assert [len(layer) for layer in maps] == widths
    assert all(len(m) == web.NEURON_GRID**2 for layer in maps for m in layer)


def test_settings_are_checked_and_blobs_use_cross_entropy():
    state = json.loads(web.train_new(json.dumps({"dataset": "blobs", "loss": "hinge"})))
    assert state["config"]["loss"] == "cross_entropy" and state["config"]["classes"] == 3
    odd = {"dataset": "nope", "layers": [0, 99], "lr": -1, "activation": "x"}
    config = json.loads(web.train_new(json.dumps(odd)))["config"]
    assert config["dataset"] == "moons" and config["layers"] == [1, web.MAX_WIDTH]
    assert config["lr"] == 1e-5 and config["activation"] == "tanh"  # the smallest rate allowed


def _new(**config) -> dict:
    """A new run with these settings, as the page starts one."""
    return json.loads(web.train_new(json.dumps(config)))


def _steps(count: int, chunk: int = 55) -> dict:
    """Train `count` steps in the page's way, chunk by chunk (each chunk one fit() call)."""
    state: dict = {}
    for _ in range(count // chunk):
        state = json.loads(web.train_step(chunk, True))
    return state


def _page_options(name: str) -> list[str]:
    """The choices of one of the Train tab's selects, as index.html lists them."""
    page = (ROOT / "web" / "src" / "index.html").read_text(encoding="utf-8")
    select = re.search(rf'<select[^>]*name="{name}">(.*?)</select>', page, re.S).group(1)
    return [
        value if value is not None else text
        for value, text in (
            (m.group(1), m.group(2))
            for m in re.finditer(r'<option(?: value="([^"]*)")?>([^<]*)<', select)
        )
    ]


def test_the_learned_nothing_advice_judges_the_whole_run_and_clears_once_it_learns():
    """xor at learning rate 0.3 is at chance for its first ~200 steps, then learns: the advice
    must say so early, in the page's words, and be gone once the network has learned."""
    state = _new(dataset="xor", lr=0.3)
    assert state["advice"] is None  # nothing to judge at step 0
    advice = json.loads(web.train_step(55, True))["advice"]
    assert advice["kind"] == "learned_nothing"
    assert advice["text"].startswith("After 55 steps the network has learned nothing")
    assert "chance level" in advice["text"]
    tries = {t["text"]: t["set"] for t in advice["tries"]}
    assert tries["raise the learning rate to 3"] == {"lr": "3"}  # the page's control, its value
    assert "keep training, to step 275" in tries
    words = advice["text"] + " ".join(tries)
    assert "lr=" not in words and "optimizer" not in words and "steps=" not in words
    state = _steps(11 * 55)
    assert state["steps"] == 660 and state["curves"]["train_accuracy"][-1] > 0.9
    assert state["advice"] is None  # it no longer holds: gone


def test_the_advice_is_the_same_whatever_the_chunks():
    """The whole run is judged, not the last fit() call: the page plays in chunks sized to the
    browser's speed, and the verdict after n steps must not depend on them."""
    for steps, expected in ((110, "learned_nothing"), (220, None)):
        verdicts = []
        for chunk in (steps, 55, 22):
            _new(dataset="xor", lr=0.3)
            verdicts.append(_steps(steps, chunk)["advice"])
        assert verdicts[0] == verdicts[1] == verdicts[2], steps
        assert (verdicts[0] and verdicts[0]["kind"]) == expected


def test_the_advice_names_only_the_pages_own_choices():
    assert [f"{lr:g}" for lr in web.LEARNING_RATES] == _page_options("lr")
    assert [str(b) for b in web.BATCH_SIZES] == _page_options("batch")[1:]  # after "all"
    for lr in web.LEARNING_RATES:
        for wanted in (lr / 10, lr * 10):
            found = web._lr_try(lr, wanted)
            assert found is None or found["set"]["lr"] in _page_options("lr")


def test_a_diverging_run_says_so_and_offers_a_lower_learning_rate():
    """The loss becomes inf within the first chunk (no hidden nonlinearity, steps of 3)."""
    _new(lr=3, activation="linear")
    text = web.train_step(55, True)

    def no_nan(name: str) -> float:
        raise AssertionError(f"the page was sent {name}")

    state = json.loads(text, parse_constant=no_nan)
    assert state["ok"]
    advice = state["advice"]
    assert advice["kind"] == "diverged"
    assert re.match(r"Training diverged at step \d+: the loss became infinite", advice["text"])
    assert "The learning rate 3 makes each step too large" in advice["text"]
    assert advice["tries"] == [{"text": "lower the learning rate to 0.3", "set": {"lr": "0.3"}}]
    steps = state["steps"]
    assert 0 < steps < 55  # where it blew up, not the end of the chunk
    assert json.loads(web.train_step(10, True))["steps"] == steps  # no more steps on lost weights
    assert "diverged" in json.loads(web.train_export())["error"]["message"]
    # Huge but finite: the loss grew a hundredfold and more; called divergence too.
    _new(lr=3, loss="mse")
    advice = json.loads(web.train_step(55, True))["advice"]
    assert advice["kind"] == "diverged" and "the loss grew from" in advice["text"]
    # ... and the learning rate it offers trains.
    _new(lr=0.3, loss="mse")
    assert _steps(110)["advice"] is None


def test_an_added_point_joins_the_training_set():
    state = json.loads(web.train_new(json.dumps({"seed": 4})))
    n = len(state["train"]["y"])
    state = json.loads(web.train_add_point(0.25, -0.5, 1))
    assert len(state["train"]["y"]) == n + 1 and state["train"]["X"][-1] == [0.25, -0.5]
    assert {len(v) for v in state["curves"].values()} == {1}  # step 0, measured again
    assert not json.loads(web.train_add_point(0, 0, 5))["ok"]


@pytest.mark.parametrize(
    "config", [{"loss": "hinge"}, {"loss": "bce"}, {"loss": "mse"}, {"dataset": "blobs"}]
)
def test_a_points_program_computes_the_networks_loss_for_it(config):
    """The point-to-graph link: the program's L is the model's loss on that point alone."""
    json.loads(web.train_new(json.dumps({**config, "layers": [3, 2], "seed": 5})))
    json.loads(web.train_step(5, False))
    session = web._session
    program = json.loads(web.train_point_program("test", 2))["program"]
    out = run(program)
    assert out["ok"], out
    x, label = session.X_test[2], session.y_test[2]
    task = web.Task(session.config["loss"], session.y, session.outputs)
    expected = losses.LOSSES[session.config["loss"]]([session.model(x)], task.targets([label]))
    assert out["output"]["data"] == pytest.approx(expected.data, rel=1e-9, abs=1e-12)
    assert {"x1", "x2", "w1_1_1", "b1_1"} <= set(out["grads"])


def test_the_state_carries_every_weight_and_its_gradient():
    """The Train tab draws a line per weight: the state holds each weight, and the gradient of
    the training loss (with its L2 term) at those weights, checked by central differences."""
    _new(layers=[3, 2], l2=0.01, seed=6)
    state = json.loads(web.train_step(7, True))
    session = web._session
    weights, grads = state["network"]["weights"], state["network"]["grads"]
    assert state["network"]["grads_step"] == 7
    assert [len(layer) for layer in weights] == [3, 2, 1]
    assert [len(unit["w"]) for layer in weights for unit in layer] == [2, 2, 2, 3, 3, 2]
    for layer, units in zip(session.model.layers, weights):
        for unit, shown in zip(layer.neurons, units):
            assert shown["w"] == [w.data for w in unit.w] and shown["b"] == unit.b.data

    def training_loss() -> float:
        loss = losses.LOSSES["hinge"](
            [session.model(row) for row in session.F],
            web.Task("hinge", session.y, 1).targets(session.y),
        )
        params = session.model.parameters()
        return loss.data + 0.01 * sum(p.data * p.data for p in params)

    h = 1e-6
    for k, m, i in [(0, 0, 0), (0, 2, 1), (1, 1, 2), (2, 0, 1)]:
        w = session.model.layers[k].neurons[m].w[i]
        w.data += h
        up = training_loss()
        w.data -= 2 * h
        down = training_loss()
        w.data += h
        assert grads[k][m]["w"][i] == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-7)
    assert all(p.grad == 0 for p in session.model.parameters())  # nothing left for fit


@pytest.mark.parametrize("layer, index, name", [(1, 2, "h1_2"), (2, 1, "h2_1"), (3, 1, "out")])
def test_a_neurons_program_computes_that_neuron_at_the_point(layer, index, name):
    """Clicking a neuron opens its forward and backward pass: the program's output is the
    neuron's own output for the point last opened, computed through the neurons feeding it."""
    _new(layers=[3, 2], seed=5, features=["x1", "x2", "x1_x2"])
    json.loads(web.train_step(5, False))
    session = web._session
    json.loads(web.train_point_program("test", 4))  # the point last opened
    program = json.loads(web.train_neuron_program(layer, index))["program"]
    assert program.startswith(f"# {name}: layer {layer}, neuron {index}, at test point 5")
    out = run(program)
    assert out["ok"], out
    assert out["output"]["name"] == name
    x = inputs.features([session.X_test[4]], ["x1", "x2", "x1_x2"])[0]
    for k in range(layer):
        x = session.model.layers[k](x)
        x = x if isinstance(x, list) else [x]
    assert out["output"]["data"] == pytest.approx(x[index - 1].data, rel=1e-12)
    assert f"w{layer}_{index}_1" in out["grads"]
    assert not any(key.startswith(f"w{layer}_{index + 1}_") for key in out["grads"])
    assert "x1*x2" in program
    assert not json.loads(web.train_neuron_program(4, 1))["ok"]


def test_input_features_feed_the_network():
    """TensorFlow Playground's features: the network takes the chosen ones, in their order,
    and the pictures show every feature over the plane."""
    chosen = ["x1", "x2", "x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"]
    state = _new(dataset="circles", features=chosen[::-1])
    assert state["config"]["features"] == chosen  # in the page's order, whatever was sent
    session = web._session
    assert len(state["network"]["weights"][0][0]["w"]) == 7
    a, b = session.X[3]
    assert session.F[3] == [a, b, a * a, b * b, a * b, math.sin(a), math.sin(b)]
    maps = state["picture"]["features"]
    assert set(maps) == set(chosen) and all(len(m) == web.NEURON_GRID**2 for m in maps.values())
    assert _new(features=["nope"])["config"]["features"] == ["x1", "x2"]
    # x1² and x2² make the circles linearly separable: one neuron's worth of learning
    _new(dataset="circles", layers=[], features=["x1_sq", "x2_sq"], lr=0.3)
    assert _steps(110)["curves"]["train_accuracy"][-1] > 0.95
    _new(dataset="circles", layers=[], lr=0.3)
    assert _steps(110)["curves"]["train_accuracy"][-1] < 0.75


def test_a_point_program_with_features_computes_the_loss():
    _new(layers=[2], seed=5, features=["x2", "sin_x1"])
    json.loads(web.train_step(5, False))
    session = web._session
    program = json.loads(web.train_point_program("train", 3))["program"]
    assert "sin_x1 = sin(x1)" in program
    out = run(program)
    assert out["ok"], out
    task = web.Task("hinge", session.y, 1)
    expected = losses.LOSSES["hinge"]([session.model(session.F[3])], task.targets([session.y[3]]))
    assert out["output"]["data"] == pytest.approx(expected.data, rel=1e-9, abs=1e-12)


def test_export_writes_a_model_file_and_a_script_that_predicts(tmp_path):
    json.loads(web.train_new(json.dumps({"seed": 1})))
    json.loads(web.train_step(20, False))
    out = json.loads(web.train_export())
    (tmp_path / "model.json").write_text(out["model"], encoding="utf-8")
    (tmp_path / "predict.py").write_text(out["script"], encoding="utf-8")
    model = io.load(tmp_path / "model.json")
    points = [[0.1, 0.2], [-0.7, 0.4]]
    assert predict(model, points) == predict(web._session.model, points)
    done = subprocess.run(
        [sys.executable, "predict.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "-> class" in done.stdout


def test_benchmark_times_the_moons_run_it_names():
    started = time.perf_counter()
    out = json.loads(web.benchmark(3))
    wall = time.perf_counter() - started
    assert out["steps"] == 3 and out["python"] == platform.python_version()
    assert 0 < out["seconds"] <= wall  # the timed part lies inside the call
    assert out["steps_per_s"] == pytest.approx(3 / out["seconds"], rel=1e-12)
    # what it timed is the run its docstring names, really trained: micrograd's moons loop
    # from the same seed reaches the same accuracy
    X, y = web.make_dataset("moons", 100, 0.1, 1)
    model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation=None, seed=1)
    history = fit(model, X, y, loss="hinge", lr=0.1, steps=3, progress=False)
    assert out["accuracy"] == history.final_train_accuracy


# -- the server and the command ----------------------------------------------------------------


@pytest.fixture
def fake_dist(tmp_path):
    dist = tmp_path / "dist"
    (dist / "pyodide").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    (dist / "chainrule.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (dist / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0")
    (dist / "pyodide" / "pyodide.mjs").write_text("export {};", encoding="utf-8")
    return dist


def test_server_listens_on_loopback_with_the_types_browsers_need(fake_dist):
    server = playground.make_server(fake_dist, 0)
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        base = f"http://127.0.0.1:{port}"
        for path, kind in [
            ("/pyodide/pyodide.asm.wasm", "application/wasm"),
            ("/pyodide/pyodide.mjs", "text/javascript"),
            ("/chainrule.zip", "application/zip"),
            ("/", "text/html"),
        ]:
            with urllib.request.urlopen(base + path, timeout=10) as response:
                assert response.headers["Content-Type"].startswith(kind), path
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(base + "/missing.js", timeout=10)
    finally:
        server.shutdown()
        server.server_close()


def test_command_says_how_to_build_when_the_build_is_missing(tmp_path, capsys):
    assert cli(["playground", "--no-browser", "--dist", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "not built" in err and "make web" in err


def test_export_writes_a_static_folder_and_refuses_a_full_one(fake_dist, tmp_path, capsys):
    target = tmp_path / "site"
    assert cli(["playground", "--dist", str(fake_dist), "--export", str(target)]) == 0
    assert (target / "index.html").is_file() and (target / ".nojekyll").is_file()
    assert (target / "pyodide" / "pyodide.asm.wasm").read_bytes() == b"\0asm\1\0\0\0"
    assert "static web host" in capsys.readouterr().out
    assert cli(["playground", "--dist", str(fake_dist), "--export", str(target)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_port_is_checked(capsys):
    with pytest.raises(SystemExit):
        cli(["playground", "--port", "70000"])
    assert "port number" in capsys.readouterr().err


def test_the_expression_language_is_the_graph_commands(monkeypatch):
    """The page's parser is chainrule graph's: the same ProgramError class, no other evaluator."""
    assert web.evaluate_program is evaluate_program
    with pytest.raises(ProgramError):
        evaluate_program("__import__('os').system('true')", {})


def test_a_build_of_other_sources_is_named_stale(tmp_path):
    """web_build.stale_dist, which the browser tests' server waits on, against builds made up
    here: a faithful one passes; a changed, new or gone file, a zip that is not the
    recorded one, an older build.json and no build at all are each named, with "run make web"."""
    dist = tmp_path / "dist"
    dist.mkdir()
    assert web_build.stale_dist(ROOT, dist) == f"{dist} is not built: run make web"
    (dist / "chainrule.zip").write_bytes(b"PK zip")
    sources = web_build.source_table(ROOT)
    assert "chainrule/__init__.py" in sources and "web/src/py/chainrule_web.py" in sources

    def build(table: dict | None, zip_sha: str = hashlib.sha256(b"PK zip").hexdigest()) -> None:
        info = {"chainrule_zip_sha256": zip_sha, **({"sources": table} if table else {})}
        (dist / "build.json").write_text(json.dumps(info), encoding="utf-8")

    build(sources)
    assert web_build.stale_dist(ROOT, dist) is None
    build({**sources, "chainrule/value.py": "0" * 64})
    assert web_build.stale_dist(ROOT, dist) == (
        "web/dist was built from other sources than this checkout (changed: chainrule/value.py)"
        ": run make web"
    )
    old = {k: v for k, v in sources.items() if k != "web/src/app.js"}
    build({**old, "chainrule/gone.py": "0" * 64})
    why = web_build.stale_dist(ROOT, dist)
    assert why.endswith("(new: web/src/app.js; gone: chainrule/gone.py): run make web")
    build(sources, zip_sha="0" * 64)
    why = web_build.stale_dist(ROOT, dist)
    zipped, info = dist / "chainrule.zip", dist / "build.json"
    assert why == f"{zipped} is not the zip that {info} records: run make web"
    build(None)
    assert "records no source hashes" in web_build.stale_dist(ROOT, dist)


def test_division_reads_as_division_in_the_playground():
    out = run("a = 6; b = 3; L = a / b")
    assert out["ok"], out
    assert out["title"] == "L = a / b" and out["output"]["data"] == 2.0
    texts = [f["text"] for f in out["animation"]["frames"]]
    assert "L = a / b = 2.0" in texts and any("1 / b" in t for t in texts)
    assert "**-1" not in json.dumps(out)
