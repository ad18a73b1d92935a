"""animate(): the frames of the lecture's L and neuron, reuse, tensors, refusals, HTML and GIF."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lecture import lecture_L, lecture_neuron

import chainrule
from chainrule import Tensor, Value
from chainrule.viz import Animation, GraphTooLargeError, animation_data, draw_dot, explain
from chainrule.viz.animate import animate, frame_states, player_asset
from chainrule.viz.graph import picture_from_data as drawing_from_data
from chainrule.viz.graph import source
from chainrule.viz.graph import written_order as forward_order

ROOT = Path(__file__).resolve().parents[1]


def names_of(data):
    return {n["id"]: n["name"] for n in data["nodes"]}


def without_ids(dot):
    return re.sub(r" ?\bid=\w+", "", dot).replace(" []", "")


def test_lecture_L_forward_then_backward():
    L, v = lecture_L()
    data = animation_data(L)
    frames = data["frames"]
    assert data["counts"] == {"forward": 7, "backward": 7}
    assert [f["phase"] for f in frames] == ["forward"] * 7 + ["backward"] * 7
    assert [f["index"] for f in frames] == [*range(1, 8), *range(1, 8)]
    names = names_of(data)
    # values appear each after its operands, in the order the lecture builds them
    assert [names[f["focus"]] for f in frames[:7]] == ["a", "b", "e", "c", "d", "f", "L"]
    assert [f["text"] for f in frames[:7]] == [
        "a = 2.0",
        "b = -3.0",
        "e = a * b = -6.0",
        "c = 10.0",
        "d = e + c = 4.0",
        "f = -2.0",
        "L = d * f = -8.0",
    ]
    # the backward pass: dL/dL = 1, then explain's steps, one per frame, in its order
    ex = explain(L)
    assert frames[7]["text"] == "dL/dL = 1.0  (the output itself)"
    assert [f["text"] for f in frames[8:]] == [str(step) for step in ex]
    assert "dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0" in frames[12]["text"]
    assert [names[f["targets"][0]] for f in frames[8:]] == [s.child for s in ex]
    assert [names[f["focus"]] for f in frames[8:]] == [s.parent for s in ex]
    assert frames[12]["set"] == [[v_id(data, "a"), 1, "grad 6.0000"]]
    assert data["title"] == "L = d * f"
    # the last frame is draw_dot's picture after backward, node for node
    assert without_ids(data["dot"]) == draw_dot(L).source
    assert (v["a"].grad, v["b"].grad, L.grad) == (6.0, -4.0, 1.0)


def v_id(data, name):
    return next(n["id"] for n in data["nodes"] if n["name"] == name)


def test_frames_highlight_the_op_and_its_arrows():
    L, _ = lecture_L()
    data = animation_data(L)
    e, a, b = v_id(data, "e"), v_id(data, "a"), v_id(data, "b")
    edges = {x["id"]: (x["tail"], x["head"]) for x in data["edges"]}
    forward_e = data["frames"][2]
    assert forward_e["focus"] == e and forward_e["op"] == f"{e}op"
    assert sorted(edges[x] for x in forward_e["edges"]) == sorted(
        [(a, f"{e}op"), (b, f"{e}op"), (f"{e}op", e)]
    )
    assert data["frames"][0]["op"] is None and data["frames"][0]["edges"] == []
    step_a = data["frames"][12]  # dL/da: e's rule runs, its gradient goes back to a
    assert step_a["focus"] == e and step_a["op"] == f"{e}op" and step_a["targets"] == [a]
    assert sorted(edges[x] for x in step_a["edges"]) == sorted([(f"{e}op", e), (a, f"{e}op")])
    # before a value is computed its box waits; everything appears when its frame comes
    assert data["initial"][e] == ["data …", "grad …"]
    appears = {n["id"]: n["appears"] for n in data["nodes"]}
    assert appears[e] == 2 and appears[a] == 0
    assert {o["id"]: o["appears"] for o in data["ops"]}[f"{e}op"] == 2


def test_final_state_is_the_picture_and_the_dot_round_trips():
    o, _ = lecture_neuron()
    data = animation_data(o)
    assert data["counts"] == {"forward": 10, "backward": 10}
    *_, last = frame_states(data)
    assert last == {n["id"]: n["fields"] for n in data["nodes"]}
    assert source(drawing_from_data(data)) == data["dot"]
    # unlabeled values are shown with the names the narration uses for them
    total = next(n for n in data["nodes"] if n["fields"][0] == "data -6.0000")  # x1*w1 + x2*w2
    assert total["name"] and total["label"] == total["name"]
    assert f"{{ {total['label']} | data -6.0000 | grad 0.5000 }}" in data["dot"]
    json.dumps(data, allow_nan=False)  # plain JSON


def test_a_value_used_twice_visibly_accumulates():
    a = Value(3.0, label="a")
    b = a * a + a
    b.label = "b"
    data = animation_data(b)
    into_a = [f for f in data["frames"] if f["targets"] == [v_id(data, "a")]]
    assert [f["set"][0][2] for f in into_a] == ["grad 1.0000", "grad 4.0000", "grad 7.0000"]
    assert [f["accumulate"] for f in into_a] == [False, True, True]
    assert [f["text"].split(" ")[1] for f in into_a] == ["=", "+=", "+="]
    assert "a is used 3 times: db/da = 1.0 + 3.0 + 3.0 = 7.0" in into_a[-1]["detail"]
    # a*a: each of its two steps lights its own arrow
    square = [f for f in into_a if f["op"] and f["focus"] != v_id(data, "b")]
    arrows = [
        [x for x in f["edges"] if data_edge(data, x)["tail"] == v_id(data, "a")] for f in square
    ]
    assert len(square) == 2 and arrows[0] != arrows[1] and all(len(x) == 1 for x in arrows)
    assert a.grad == 7.0


def data_edge(data, edge_id):
    return next(e for e in data["edges"] if e["id"] == edge_id)


def test_forward_order_is_the_lectures_build_topo():
    L, v = lecture_L()
    order = forward_order(L, lambda n: n._prev)
    assert [n.label for n in order] == ["a", "b", "e", "c", "d", "f", "L"]


def test_tensor_graph_frames_carry_shapes_and_formulas():
    x = Tensor(np.ones((3, 4)), label="x")
    W = Tensor(np.arange(8.0).reshape(4, 2) / 10, requires_grad=True, label="W")
    h = x @ W
    h.label = "h"
    L = (h * 2.0 + h).tanh().sum()
    L.label = "L"
    data = animation_data(L)
    assert data["kind"] == "tensors"
    ex = explain(L)
    backward = [f for f in data["frames"] if f["phase"] == "backward"]
    assert backward[0]["text"] == "dL/dL = 1  (the output itself, () float64)"
    assert [f["text"] for f in backward[1:]] == [str(s) for s in ex]
    assert any("dL/dW = xᵀ · dL/dh    [(4, 2) = (3, 4)ᵀ·(3, 2)]" in f["text"] for f in backward)
    forward = [f for f in data["frames"] if f["phase"] == "forward"]
    assert any(f["text"].startswith("h = x @ W    (3, 2) float64") for f in forward)
    # boxes keep their shape from the start; data and grad fill in
    w = v_id(data, "W")
    assert data["initial"][w] == ["(4, 2) float64", "data …", "grad …"]
    records = draw_dot(L).source
    for node in data["nodes"]:
        assert " | ".join(node["fields"]) in records
    assert any(f["accumulate"] for f in backward)  # h is used twice


def test_size_limit_as_draw_dot():
    x = Value(0.0)
    for _ in range(200):
        x = x + 1.0
    with pytest.raises(GraphTooLargeError) as info:
        animate(x)
    with pytest.raises(GraphTooLargeError) as drawn:
        draw_dot(x)
    assert str(info.value) == str(drawn.value)
    assert "sub-expression" in str(info.value) and "force=True" in str(info.value)
    assert len(animate(x, force=True)) == 401 + 1 + len(explain(x))
    with pytest.raises(GraphTooLargeError):
        animation_data(lecture_L()[0], max_nodes=3)


@pytest.mark.parametrize("root", [3.0, "L", None, [Value(1.0)]])
def test_refuses_what_is_not_a_value_or_tensor(root):
    with pytest.raises(TypeError, match="Value or Tensor"):
        animate(root)


def test_refuses_a_tensor_that_is_not_one_number():
    y = Tensor(np.ones((2, 2)), requires_grad=True) * 2.0
    with pytest.raises(ValueError, match="one-element"):
        animate(y)


def test_backward_false_leaves_grads_alone():
    L, v = lecture_L()
    data = animation_data(L, backward=False)
    assert all(n.grad == 0.0 for n in v.values()) and L.grad == 0.0
    assert "grad 6.0000" in next(n for n in data["nodes"] if n["name"] == "a")["fields"]


def test_public_names():
    assert chainrule.animate is animate
    assert chainrule.viz.animate.animation_data is animation_data
    assert isinstance(chainrule.animate(lecture_L()[0]), Animation)


def test_animation_data_needs_neither_numpy_nor_graphviz():
    code = (
        "import sys\n"
        "for name in ('numpy', 'graphviz', 'PIL'): sys.modules[name] = None\n"
        "sys.path.insert(0, 'tests')\n"
        "from lecture import lecture_L\n"
        "import json\n"
        "from chainrule.viz.animate import animation_data\n"
        "data = animation_data(lecture_L()[0])\n"
        "print(json.dumps(data['counts']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == {"forward": 7, "backward": 7}


# -- HTML ---------------------------------------------------------------------------------------


def test_html_is_self_contained(tmp_path):
    anim = animate(lecture_L()[0])
    page = anim.save(tmp_path / "L.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and not re.search(r"<script[^>]*\bsrc=", page)
    assert player_asset("player.js") in page and player_asset("player.css") in page
    for testid in ("play", "prev", "next", "scrubber", "narration"):
        assert f'"{testid}"' in player_asset("player.js")
    assert "<svg" in page and 'id="v3"' in page
    script = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    assert len(script) == 2 and "ChainrulePlayer.mount" in script[1]
    assert "</script" not in player_asset("player.js").lower()


def test_repr_html_mounts_a_player_of_its_own():
    anim = animate(lecture_L()[0])
    one, two = anim._repr_html_(), anim._repr_html_()
    ids = [re.search(r'id="(chainrule-player-\w+)"', h).group(1) for h in (one, two)]
    assert ids[0] != ids[1]
    assert "<style>" in one and "window.ChainrulePlayer.mount(host," in one
    embedded = re.search(r"mount\(host, (\{.*\})\);", one).group(1)
    data = json.loads(embedded)
    assert data["frames"] == anim.frames and data["svg"] == anim.svg and "dot" not in data
    assert "dL/da" in repr(anim.frames) and repr(anim).startswith("<Animation of L = d * f")


def test_player_files_ship_with_the_package():
    player = ROOT / "chainrule" / "viz" / "player"
    assert (player / "player.js").is_file() and (player / "player.css").is_file()
    assert "window.ChainrulePlayer" in player_asset("player.js")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"chainrule.viz" = ["player/*.js", "player/*.css"]' in pyproject


def test_save_refuses_unknown_formats_and_missing_folders(tmp_path):
    anim = animate(lecture_L()[0])
    with pytest.raises(ValueError, match="'.mp4' is not one of .html, .htm, .gif"):
        anim.save(tmp_path / "L.mp4")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        anim.save(tmp_path / "nowhere" / "L.html")
    with pytest.raises(ValueError, match="duration"):
        anim.save(tmp_path / "L.gif", duration=0)


def test_save_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "L.html"
    target.write_text("the old file")
    anim = animate(lecture_L()[0])

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        anim.save(target)
    assert target.read_text() == "the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["L.html"]  # no temporary file left
    monkeypatch.undo()
    anim.save(target)
    assert target.read_text().startswith("<!DOCTYPE html>")


def test_missing_dot_program_says_how_to_install(monkeypatch, tmp_path):
    import chainrule.viz.animate as render

    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    anim = animate(lecture_L()[0])
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        anim.save(tmp_path / "L.html")
    assert not (tmp_path / "L.html").exists()


# -- GIF ----------------------------------------------------------------------------------------


def test_gif_has_one_frame_per_step(tmp_path):
    from PIL import Image

    anim = animate(lecture_L()[0])
    path = anim.save(tmp_path / "L.gif", duration=0.5, dpi=48)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == len(anim) == 14
        sizes, durations = set(), []
        for i in range(gif.n_frames):
            gif.seek(i)
            sizes.add(gif.size)
            durations.append(gif.info["duration"])
    assert len(sizes) == 1
    assert durations[:-1] == [500] * 13 and durations[-1] == 1500


def test_gif_of_a_tensor_graph(tmp_path):
    from PIL import Image

    W = Tensor(np.ones((2, 2)), requires_grad=True, label="W")
    L = (W * W).sum()
    anim = animate(L)
    data = io.BytesIO(anim.save(tmp_path / "t.gif", dpi=40).read_bytes())
    with Image.open(data) as gif:
        assert gif.n_frames == len(anim.frames)


def test_gif_narration_is_written_at_least_16_pixels_high(tmp_path):
    from PIL import Image

    from chainrule.viz.animate import _font

    anim = animate(lecture_L()[0])
    text = anim.frames[0]["text"]  # "a = 2.0"
    with Image.open(anim.save(tmp_path / "L.gif", dpi=48)) as gif:  # even drawn small
        frame = np.asarray(gif.convert("RGB")).astype(int)
    # the narration's own colour (#1f2328): dark and grey, unlike the blue phase badge
    ink = (frame.max(axis=2) < 90) & (frame.max(axis=2) - frame.min(axis=2) < 30)
    rule = next(y for y in range(frame.shape[0] - 1, 0, -1) if (frame[y] == (208, 215, 222)).all(
        axis=1).sum() > frame.shape[1] // 2)  # fmt: skip
    rows = [y for y in range(rule + 1, frame.shape[0]) if ink[y].any()]
    band = [y for y in rows if y - rows[0] == rows.index(y)]  # the first line of text
    columns = np.flatnonzero(ink[band[0] : band[-1] + 1].any(axis=0))
    left, top, right, bottom = _font(16).getbbox(text)
    assert columns[-1] - columns[0] + 1 >= 0.95 * (right - left)  # 13 px: 81% of it
    assert len(band) >= 0.9 * (bottom - top)


def test_division_is_animated_as_division():
    a, b = Value(6.0, label="a"), Value(3.0, label="b")
    c = a / b  # a * b**-1, as the lecture computes it
    c.label = "c"
    data = animation_data(c)
    texts = [f["text"] for f in data["frames"]]
    assert data["title"] == "c = a / b"
    assert "#1 = 1 / b = 0.333333" in texts and "c = a / b = 2.0" in texts
    assert "**-1" not in json.dumps(data)


def test_repr_html_is_the_same_in_a_fresh_process():
    """A notebook run again saves the same page: the player's id comes from no random source."""
    code = (
        "from chainrule import Value, animate; a = Value(2.0, label='a'); b = a * a; "
        "b.label = 'b'; m = animate(b); print(m._repr_html_(), m._repr_html_())"
    )
    pages = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert pages[0].stdout == pages[1].stdout and "chainrule-player-" in pages[0].stdout
