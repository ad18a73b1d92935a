"""`chainrule graph ... --animate FILE`: the player or the GIF, from the command line."""

from pathlib import Path

import pytest
from test_cli_graph import run

ROOT = Path(__file__).resolve().parents[1]
L_PROGRAM = ["e = a*b; d = e + c; L = d*f", "--set", "a=2", "b=-3", "c=10", "f=-2"]


def test_animate_to_html_writes_only_the_player(tmp_path):
    out = run([*L_PROGRAM, "--animate", "L.html"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "wrote L.html (14 frames: 7 forward, 7 backward)"
    page = (tmp_path / "L.html").read_text(encoding="utf-8")
    assert "window.ChainrulePlayer.mount" in page
    assert "dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0" in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["L.html"]  # no graph.svg besides


def test_animate_to_gif_with_a_picture_too(tmp_path):
    from PIL import Image

    out = run(["--animate", "neuron.gif", "--out", "neuron.svg", "--explain"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "wrote neuron.gif (20 frames: 10 forward, 10 backward)" in out.stdout
    assert "wrote neuron.svg" in out.stdout and "(9 steps" in out.stdout
    with Image.open(tmp_path / "neuron.gif") as gif:
        assert gif.n_frames == 20


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--animate", "L.mp4"], "--animate L.mp4: '.mp4' is not a format"),
        (["--animate", "L"], "--animate L: no extension is not a format"),
        (["--animate", "missing/L.html"], "does not exist"),
    ],
)
def test_animate_refusals_are_one_line(tmp_path, args, fragment):
    out = run([*L_PROGRAM, *args], tmp_path)
    assert out.returncode == 2
    assert fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_animate_keeps_the_size_limit(tmp_path):
    args = ["x+x+x+x+x", "--set", "x=1", "--max-nodes", "3", "--animate", "big.html"]
    out = run(args, tmp_path)
    assert out.returncode == 2 and "more than --max-nodes 3" in out.stderr
    out = run([*args, "--force"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "wrote big.html (14 frames: 5 forward, 9 backward)" in out.stdout
