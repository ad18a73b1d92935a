"""Graphviz and Pillow for animations: the SVG the player shows, and the frames of a GIF.

The SVG is laid out once by `dot`. A GIF needs one picture per frame, and the boxes must not
move between frames while their numbers change, so the graph is laid out once (`dot -Tjson`)
and every frame is then drawn at those positions (`neato -n2`, which keeps the positions it is
given); all frames go through one Graphviz run. Pillow writes the narration under each picture
and assembles the GIF.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .dot import INSTALL_HINT
from .dot_text import drawing_from_data, source

__all__ = ["COLOURS", "frame_states", "render_gif", "render_svg"]

# forward (blue), backward (red), a gradient receiving a further contribution (amber), waiting
COLOURS = {
    "forward": ("#2563eb", "#dbeafe"),
    "backward": ("#dc2626", "#fee2e2"),
    "accumulate": ("#d97706", "#fef3c7"),
    "pending": ("#9ca3af", "#ffffff"),
}


def run_graphviz(program: str, args: list[str], text: str) -> bytes:
    """Run a Graphviz program on DOT text; say how to install Graphviz when it is missing."""
    exe = shutil.which(program)
    if exe is None:
        raise RuntimeError(
            f"animating a graph needs the Graphviz '{program}' program: {INSTALL_HINT}"
        )
    done = subprocess.run([exe, *args], input=text.encode("utf-8"), capture_output=True)
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = detail[-1] if detail else f"exit status {done.returncode}"
        raise RuntimeError(f"Graphviz '{program}' failed: {why}")
    return done.stdout


def render_svg(dot: str) -> str:
    """The picture as an inline SVG element: no XML prolog, comments or namespace declarations
    (an `<svg>` inside HTML needs none), so the page names no URL at all."""
    svg = run_graphviz("dot", ["-Tsvg"], dot).decode("utf-8")
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
    return re.sub(r'(<g id="graph0" class="graph"[^>]*>)\s*<title>[^<]*</title>', r"\1", svg)


def frame_states(data: Mapping[str, Any]) -> list[dict[str, list[str]]]:
    """What every box shows at each frame: `initial` with the frames' `set`s applied in turn."""
    state = {k: list(v) for k, v in data["initial"].items()}
    states = []
    for frame in data["frames"]:
        for box_id, i, text in frame["set"]:
            state[box_id][i] = text
        states.append({k: list(v) for k, v in state.items()})
    return states


def render_gif(data: Mapping[str, Any], *, duration: float = 1.2, dpi: int = 96) -> bytes:
    """The animation as a GIF: one picture per frame with its narration underneath."""
    Image = _import_pillow()
    drawing = drawing_from_data(data)
    fixed = _layout(source(drawing, ids=True))
    graphs = []
    for i, (frame, fields) in enumerate(zip(data["frames"], frame_states(data))):
        attrs = _highlight(data, frame, i)
        for key, extra in fixed["attrs"].items():
            attrs.setdefault(key, {}).update(extra)
        graph = {"bb": fixed["bb"], "dpi": str(dpi), "pad": "0.15"}
        graphs.append(source(drawing, fields, attrs=attrs, graph_attrs=graph))
    pictures = _split_png(run_graphviz("neato", ["-n2", "-Tpng"], "".join(graphs)))
    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pictures]
    frames = _with_narration(images, data["frames"], dpi)
    buffer = io.BytesIO()
    ms = int(round(duration * 1000))
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[ms] * (len(frames) - 1) + [3 * ms],
        loop=0,
    )
    return buffer.getvalue()


# -- the frames' pictures ------------------------------------------------------------------------


def _layout(dot: str) -> dict[str, Any]:
    """Positions and sizes from one `dot` layout, as attributes to pin every frame to it."""
    laid = json.loads(run_graphviz("dot", ["-Tjson"], dot))
    attrs: dict[str, dict[str, str]] = {}
    for node in laid.get("objects", []):
        if "pos" in node:
            attrs[node["name"]] = {k: node[k] for k in ("pos", "width", "height")}
    for edge in laid.get("edges", []):
        attrs[edge["id"]] = {k: edge[k] for k in ("pos", "lp") if k in edge}
    return {"bb": laid["bb"], "attrs": attrs}


def _highlight(data: Mapping[str, Any], frame: Mapping[str, Any], i: int) -> dict[str, dict]:
    """Colours for one frame: grey for what is not computed yet, the frame's phase colour for
    its node, op and arrows, amber for a gradient that receives a further contribution."""
    attrs: dict[str, dict[str, str]] = {}
    grey = COLOURS["pending"][0]
    waiting = {"color": grey, "fontcolor": grey}
    for item in (*data["nodes"], *data["ops"]):
        if item["appears"] > i:
            attrs[item["id"]] = dict(waiting)
    for edge in data["edges"]:
        if edge["appears"] > i:
            attrs[edge["id"]] = dict(waiting)
    line, fill = COLOURS[frame["phase"]]
    for node in filter(None, (frame["focus"], frame["op"])):
        attrs[node] = {"color": line, "penwidth": "2", "style": "filled", "fillcolor": fill}
    for edge in frame["edges"]:
        attrs[edge] = {"color": line, "penwidth": "2.2", "fontcolor": line}
    if frame["phase"] == "backward":
        line, fill = COLOURS["accumulate" if frame["accumulate"] else "backward"]
        for node in frame["targets"]:
            attrs[node] = {"color": line, "penwidth": "2", "style": "filled", "fillcolor": fill}
    return attrs


def _split_png(stream: bytes) -> list[bytes]:
    """The PNG files of one Graphviz run over several graphs, written one after another."""
    signature = b"\x89PNG\r\n\x1a\n"
    pictures, at = [], 0
    while at < len(stream):
        if stream[at : at + 8] != signature:
            raise RuntimeError("Graphviz wrote something other than PNG pictures")
        end = at + 8
        while True:
            length = int.from_bytes(stream[end : end + 4], "big")
            kind = stream[end + 4 : end + 8]
            end += 12 + length
            if kind == b"IEND":
                break
        pictures.append(stream[at:end])
        at = end
    return pictures


# -- the narration under each picture ------------------------------------------------------------


def _with_narration(images: list[Any], frames: list[Mapping[str, Any]], dpi: int) -> list[Any]:
    from PIL import Image, ImageDraw

    scale = dpi / 96
    size = max(11, round(13 * scale))
    font, small = _font(size), _font(max(10, round(11 * scale)))
    margin = round(12 * scale)
    width = max(max(im.width for im in images), round(560 * scale))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    totals: dict[str, int] = {}
    for frame in frames:
        totals[frame["phase"]] = totals.get(frame["phase"], 0) + 1
    blocks = []
    for frame in frames:
        badge = f"{frame['phase']} {frame['index']} / {totals[frame['phase']]}"
        lines = [(badge, small, "badge")]
        lines += [(t, font, "text") for t in _wrap(probe, frame["text"], font, width - 2 * margin)]
        if frame["detail"]:
            wrapped = _wrap(probe, frame["detail"], small, width - 2 * margin)
            lines += [(t, small, "detail") for t in wrapped]
        blocks.append(lines)
    step = round(size * 1.45)
    strip = margin * 2 + max(len(b) for b in blocks) * step
    height = max(im.height for im in images) + strip
    out = []
    for image, frame, lines in zip(images, frames, blocks):
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(image, ((width - image.width) // 2, 0))
        draw = ImageDraw.Draw(canvas)
        top = height - strip
        draw.line([(margin, top), (width - margin, top)], fill="#d0d7de", width=1)
        y = top + margin
        for text, face, role in lines:
            colour = {"badge": COLOURS[frame["phase"]][0], "text": "#1f2328"}.get(role, "#57606a")
            draw.text(
                (margin, y), text.upper() if role == "badge" else text, font=face, fill=colour
            )
            y += step
        out.append(canvas)
    return out


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    """Lines of at most `width` pixels, broken at spaces (a word longer than a line is cut)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = word if not current else f"{current} {word}"
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return lines


_FONT_FILES = (
    "DejaVuSansMono.ttf",  # has the narration's ·, ᵀ, ⊙, Σ, → and ≈
    "dejavu/DejaVuSansMono.ttf",
    "truetype/dejavu/DejaVuSansMono.ttf",
)
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    str(Path.home() / "Library" / "Fonts"),
    "C:/Windows/Fonts",
)


def _font(size: int) -> Any:
    """DejaVu Sans Mono where it can be found (the system's fonts, or the copy matplotlib
    ships), else Pillow's own font."""
    from PIL import ImageFont

    for path in _font_paths():
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _font_paths() -> list[Path]:
    paths = [Path(d) / f for d in _FONT_DIRS for f in _FONT_FILES]
    for entry in sys.path:  # matplotlib's copy, found without importing matplotlib
        paths.append(Path(entry) / "matplotlib" / "mpl-data" / "fonts" / "ttf" / _FONT_FILES[0])
    return [p for p in paths if p.is_file()]


def _import_pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "saving an animation as GIF needs Pillow: pip install 'chainrule[viz]' "
            "(or pip install pillow)"
        ) from None
    return Image
