"""Watch backprop happen: the graph of `draw_dot`, filled in frame by frame.

    anim = chainrule.animate(L)     # shows inline in Jupyter: a player with its controls
    anim.save("backprop.html")      # the same player in one self-contained file
    anim.save("backprop.gif")       # one picture per frame, the narration under each

The forward frames show the values appearing one by one, each after its operands in the order
the code wrote them, with the op computing it highlighted. The backward frames set the root's
gradient to 1 and then run the chain rule one step per frame, exactly the steps of
`explain(root)`: the node whose local rule runs is highlighted with the arrows that carry its
gradient to an operand, the operand's gradient fills in (a value used twice visibly gets a
second contribution, marked `+=`), and the step's line of narration is shown under the
picture. Like `explain`, `animate` (with its default `backward=True`) leaves the graph's
gradients as `zero_grad()` and `root.backward()` would.

Read `animation_data` top to bottom: it walks the graph once and writes its boxes
(`graph.describe`), narrates that same walk (`narrate.narrate`), then turns the walk and the
narration into frames (`_frames`, below). Nothing is walked twice. The bottom of this module
lays the picture out with Graphviz (an SVG for the player; a GIF's frames, which Pillow puts
together).

The player is one small script and style sheet (`chainrule/viz/player/player.js` and
`player.css`), inlined into the HTML, so nothing loads from the network; the browser playground
mounts the same player: `ChainrulePlayer.mount(element, data)`, where `data` is
`animation_data(root)` plus the SVG that Graphviz lays out from its `dot` text.

The data (`animation_data(root)`, plain JSON; computed in pure Python for a Value graph)::

    {
      "version": 1,
      "title": "L = d * f",                  # the root and how it was computed
      "kind": "values" | "tensors",
      "rankdir": "LR",
      "dot": "digraph { ... }",              # the picture; every node and edge has an id
      "counts": {"forward": 7, "backward": 7},
      "nodes": [                             # one per value, ids as in the DOT: "v0", "v1", ...
        {"id": "v3", "name": "a",            # the narration's name for it
         "label": "a",                       # what its box shows as label (the name when the
                                             # value has no label of its own)
         "op": "v4op" | null,                # the oval of the op that made it
         "fields": ["data 2.0000", "grad 6.0000"],  # the box after the last frame
         "appears": 0}                       # the forward frame at which its value appears
      ],
      "ops": [{"id": "v4op", "result": "v4", "text": "*", "appears": 2}],
      "edges": [{"id": "e1", "tail": "v3", "head": "v4op", "label": "", "appears": 2}],
      "initial": {"v3": ["data …", "grad …"], ...},   # every box before frame 0
      "frames": [
        {"phase": "forward" | "backward",
         "index": 1,                         # 1, 2, ... within its phase
         "text": "e = a * b = -6.0",         # the narration line (backward: str(explain step))
         "detail": "",                       # a second line: the op and what arrives at it
         "focus": "v4",                      # the node computed, or whose local rule runs
         "op": "v4op" | null,                # its op's oval, highlighted
         "edges": ["e1", "e2", "e0"],        # the arrows highlighted
         "targets": ["v3"],                  # the boxes whose gradient this frame changes
         "accumulate": false,                # true when a gradient receives a 2nd, 3rd... part
         "set": [["v4", 0, "data -6.0000"]]} # [node id, field index, text]: what changes
      ]
    }

A box's fields are what `draw_dot` shows after the label: `data`, `grad` for a Value;
`shape dtype`, `data`, `grad` for a Tensor. The boxes at frame `i` are `initial` with the `set`s
of frames `0..i` applied. In the SVG Graphviz draws from `dot`, a box is `<g id="v3">`, its
fields its last `<text>` elements in order; an edge is `<g id="e1">`. The player needs only
`svg` and `frames`: what `initial`, `appears` and `counts` say can be read off the frames.
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import IO, Any

from ..extras import require
from ..files import atomic_write, write_bytes
from . import graph
from .narrate import Explanation, expression, narrate, show

__all__ = ["Animation", "animate", "animation_data", "SAVE_FORMATS"]

SAVE_FORMATS = (".html", ".htm", ".gif")
PENDING = "…"  # what a box shows before its value is computed


def animation_data(
    root: Any,
    *,
    rankdir: str = "LR",
    max_nodes: int = 300,
    force: bool = False,
    backward: bool = True,
    title: str | None = None,
) -> dict[str, Any]:
    """Make the frames and the DOT source of `root`'s animation, as JSON-ready data.

    See the module docstring for what the data hold; the browser playground plays them.

    Args:
        root: The output: a Value, or a one-element Tensor.
        rankdir: The direction the graph flows, as in `draw_dot`.
        max_nodes: Refuse a graph of more nodes than this.
        force: Animate a graph of any size.
        backward: `explain`'s: fill in the gradients of a graph not backpropagated yet.
        title: The animation's title (by default, how the output was computed).

    Returns:
        A dict of plain lists, strings and numbers, ready for `json.dumps`.

    Raises:
        GraphTooLargeError: The graph has more than `max_nodes` nodes.
        TypeError: `root` is not a Value or a Tensor.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.viz import animation_data
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> c = a * b
        >>> c.label = "c"
        >>> data = animation_data(c)
        >>> data["counts"], data["title"]
        ({'forward': 3, 'backward': 3}, 'c = a * b')
        >>> for frame in data["frames"]:
        ...     print(frame["phase"], frame["text"])
        forward a = 2.0
        forward b = -3.0
        forward c = a * b = -6.0
        backward dc/dc = 1.0  (the output itself)
        backward dc/da = b = -3.0    [d(a*b)/da = b]
        backward dc/db = a = 2.0    [d(a*b)/db = a]
    """
    picture = graph.describe(root, rankdir=rankdir, max_nodes=max_nodes, force=force)
    assert picture.walk is not None
    ex = narrate(picture.walk, backward)
    frames, initial, final, appears = _frames(picture, ex)
    names = {f"v{i}": ex.name(node) for i, node in enumerate(picture.walk.order)}
    unlabeled = {k: name for k, name in names.items() if not picture.boxes[k].label}
    forward = sum(f["phase"] == "forward" for f in frames)
    return {
        "version": 1,
        "title": ex.headers.get(ex.root, ex.root) if title is None else title,
        "kind": f"{picture.walk.engine.kind.lower()}s",
        "rankdir": rankdir,
        "dot": graph.source(picture, final, labels=unlabeled),
        "counts": {"forward": forward, "backward": len(frames) - forward},
        "nodes": [
            dict(id=k, name=names[k], label=str(picture.walk.order[int(k[1:])].label) or names[k])
            | dict(op=b.op, fields=final[k], appears=appears[k])
            for k, b in picture.boxes.items()
        ],
        "ops": [{**vars(o), "appears": appears[o.result]} for o in picture.ovals.values()],
        "edges": [{**vars(e), "appears": appears[picture.owner(e)]} for e in picture.edges],
        "initial": initial,
        "frames": frames,
    }


def _frames(picture: graph.Picture, ex: Explanation) -> tuple[list[dict[str, Any]], Any, Any, Any]:
    """Make the frames of `picture`'s graph narrated by `ex`.

    Also the boxes' first and last texts, and the forward frame at which each box appears.
    """
    walk = picture.walk
    assert walk is not None
    box = {id(node): picture.boxes[f"v{i}"] for i, node in enumerate(walk.order)}
    out_edge = {e.tail: e.id for e in picture.edges if e.tail in picture.ovals}
    state = {b.id: _pending(b) for b in picture.boxes.values()}
    initial = {k: list(v) for k, v in state.items()}
    frames: list[dict[str, Any]] = []
    appears: dict[str, int] = {}

    def frame(
        phase: str, text: str, box: Any, op: str | None, sets: list[Any], **more: Any
    ) -> None:
        for box_id, i, value in sets:
            state[box_id][i] = value
        index = sum(f["phase"] == phase for f in frames) + 1
        made = dict(phase=phase, index=index, text=text, detail="", focus=box.id, op=op)
        frames.append(made | dict(edges=[], targets=[], accumulate=False) | more | {"set": sets})

    # -- forward: each value appears, in the order it was written
    for node in walk.written:
        b, n = box[id(node)], len(box[id(node)].fields)
        appears[b.id] = len(frames)
        edges = [*b.inputs, *([out_edge[b.op]] if b.op else [])]
        sets = [[b.id, n - 2, f"data {graph.summary(node.data)}"], [b.id, n - 1, _fresh_grad(node)]]
        frame("forward", _forward_text(node, ex, walk.operands(node)), b, b.op, sets, edges=edges)

    # -- backward: the root's gradient is 1, then one frame per chain-rule step
    top = box[id(walk.root)]
    sets = [[top.id, len(top.fields) - 1, f"grad {graph.summary(ex.grad(ex.root))}"]]
    frame("backward", ex.output_line(), top, None, sets, targets=[top.id])
    by_name = {ex.name(node): box[id(node)] for node in walk.order}
    per_pair, seen = Counter((s.parent, s.child) for s in ex.steps), Counter[Any]()
    for step in ex.steps:
        parent, child, pair = by_name[step.parent], by_name[step.child], (step.parent, step.child)
        seen[pair] += 1
        carrying = [e for e in parent.inputs if picture.edge[e].tail == child.id]
        if len(carrying) == per_pair[pair]:  # one step per operand slot: its own arrow
            carrying = [carrying[seen[pair] - 1]]
        detail = ex.header(step)
        if step.count > 1 and step.index == step.count:
            detail += f"    ({step.child} is used {step.count} times: {ex.reuse(step)})"
        sets = [[child.id, len(child.fields) - 1, f"grad {graph.summary(step.total)}"]]
        edges = [*([out_edge[parent.op]] if parent.op else []), *carrying]
        more = dict(detail=detail, edges=edges, targets=[child.id], accumulate=step.index > 1)
        frame("backward", str(step), parent, parent.op, sets, **more)
    return frames, initial, state, appears


def _pending(box: graph.Box) -> list[str]:
    """Show a box before its value is computed: every field but a tensor's shape waits."""
    return [*box.fields[:-2], f"data {PENDING}", f"grad {PENDING}"]


def _fresh_grad(node: Any) -> str:
    """Show the gradient a node has before any backward pass: a Value's 0, a tensor's none.

    A tensor that needs no gradient never gets one.
    """
    if not node.requires_grad:
        return "needs no grad"
    return "grad None" if graph.shape_text(node) else f"grad {graph.number(0.0)}"


def _forward_text(node: Any, ex: Explanation, kids: tuple[Any, ...]) -> str:
    """Write a forward frame: `e = a * b = -6.0`; an array's `h = x @ W  (3, 2) float32  → ...`."""
    name, value, shape = ex.name(node), show(node.data), graph.shape_text(node)
    shape, sep = (f"    {shape}", "    → ") if shape else ("", " = ")
    if kids:
        return f"{name} = {expression(node, kids, ex.names)}{shape}{sep}{value}"
    if name == value:  # a constant, which the narration names by its number
        return f"{name}{shape}    (a constant)"
    return f"{name}{shape}{sep}{value}" + ("" if node.requires_grad else "    (needs no grad)")


_SHOWN = itertools.count(1)  # players shown in this process, for their element ids


class Animation:
    """A backward pass to watch: shows itself in Jupyter, `save`s as HTML or GIF.

    `frames` (the list described in `chainrule.viz.animate`), `counts` (forward and backward
    frames), `dot` (the picture's DOT source), `svg` (laid out by Graphviz on first use),
    `html()` (a whole page), `len(animation)` (the number of frames).

    Args:
        data: What `animation_data` returned.

    Examples:
        >>> from chainrule import Value
        >>> from chainrule.viz import Animation, animation_data
        >>> x = Value(0.5, label="x")
        >>> movie = Animation(animation_data(x.tanh()))
        >>> movie.counts, movie.dot.splitlines()[0]
        ({'forward': 2, 'backward': 2}, 'digraph {')
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._svg: str | None = None

    frames = property(lambda self: self.data["frames"], doc="The frames (`animation_data`'s).")
    counts = property(lambda self: dict(self.data["counts"]), doc="Frames in each phase.")
    dot = property(lambda self: self.data["dot"], doc="The picture's DOT source.")

    @property
    def svg(self) -> str:
        """The picture as SVG (Graphviz's `dot` program lays it out once).

        Raises:
            RuntimeError: The `dot` program is missing or fails; the message says how to
                install it.
        """
        if self._svg is None:
            self._svg = render_svg(self.dot)
        return self._svg

    def __len__(self) -> int:
        """Count the frames."""
        return len(self.frames)

    def __repr__(self) -> str:
        """Show the title and the frames of each phase."""
        c = self.data["counts"]
        return (
            f"<Animation of {self.data['title']}: {c['forward']} forward and "
            f"{c['backward']} backward frames>"
        )

    def player_data(self) -> dict[str, Any]:
        """Give what `ChainrulePlayer.mount` takes: the data with the SVG, without the DOT text.

        Returns:
            The data, JSON-ready.
        """
        return {**{k: v for k, v in self.data.items() if k != "dot"}, "svg": self.svg}

    def _fragment(self, element_id: str) -> str:
        data = _script_json(self.player_data())
        return (
            f'<div class="crp-host" id="{element_id}">{self.svg}</div>\n'
            f"<script>{player_asset('player.js')}</script>\n"
            "<script>(function () {\n"
            f'  var host = document.getElementById("{element_id}");\n'
            f"  if (host && window.ChainrulePlayer) window.ChainrulePlayer.mount(host, {data});\n"
            "})();</script>"
        )

    def _repr_html_(self) -> str:
        # Its picture and a count name the player, not chance: a notebook run again saves the
        # same page, and each player on it still mounts into its own element.
        digest = hashlib.sha256(self.svg.encode()).hexdigest()[:12]
        element_id = f"chainrule-player-{digest}_{next(_SHOWN)}"
        return f"<style>{player_asset('player.css')}</style>\n{self._fragment(element_id)}"

    def html(self) -> str:
        """Write the player as one self-contained page: its CSS and JS inline, nothing to fetch.

        Returns:
            The HTML text.
        """
        title = html.escape(f"chainrule: {self.data['title']}")
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            f"<style>{player_asset('player.css')}</style>\n"
            '</head>\n<body class="crp-page">\n'
            f"{self._fragment('chainrule-player')}\n"
            "</body>\n</html>\n"
        )

    def save(self, path: str | os.PathLike[str], *, duration: float = 1.2, dpi: int = 96) -> Path:
        """Write the animation to `path`, replaced in one step; the extension picks the format.

        `.html`: the player, self-contained. `.gif`: one picture per frame (Graphviz draws it,
        Pillow assembles them), the narration under each, `duration` seconds per frame (the
        last one is held three times as long), drawn at `dpi`.

        Args:
            path: The file: `.html` or `.gif`.
            duration: Seconds per frame of a GIF.
            dpi: The resolution of a GIF's pictures.

        Returns:
            The path written.

        Raises:
            ValueError: Another extension, or a duration that is not positive.
            FileNotFoundError: The folder does not exist.
            RuntimeError: A GIF without Graphviz's `dot` program.
            chainrule.extras.MissingExtra: A GIF without Pillow (the `viz` extra).

        Examples:
            >>> from chainrule import Value, animate
            >>> x = Value(0.5, label="x")
            >>> animate(x.tanh()).save("tanh.html").name
            'tanh.html'
        """
        target = graph.checked_target(path, SAVE_FORMATS, "an animation")
        if target.suffix.lower() != ".gif":
            return write_bytes(target, self.html().encode("utf-8"))
        if not duration > 0:
            raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
        with atomic_write(target, "wb") as handle:
            write_gif(self.data, handle, duration=duration, dpi=dpi)
        return target


def animate(root: Any, **options: Any) -> Animation:
    """Animate the forward and backward pass of `root` (a Value, or a one-element Tensor).

    Shows inline in Jupyter; `.save("x.html")` or `.save("x.gif")` writes it. See the module
    docstring for what the frames show. Graphs of more than `max_nodes` nodes raise
    `GraphTooLargeError` (draw a sub-expression, or pass `force=True`). With `backward=True`
    (the default) the graph's gradients are left as `backward()` leaves them, as `explain` does.

    Args:
        root: The output: a Value, or a one-element Tensor.
        **options: `animation_data`'s, by name: `rankdir`, `max_nodes`, `force`, `backward`
            (fill in the gradients of a graph not backpropagated yet) and `title`.

    Returns:
        The `Animation`.

    Raises:
        GraphTooLargeError: The graph has more than `max_nodes` nodes.
        TypeError: `root` is not a Value or a Tensor.

    Examples:
        >>> from chainrule import Value, animate
        >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
        >>> c = a * b
        >>> c.label = "c"
        >>> movie = animate(c)
        >>> movie, len(movie)
        (<Animation of c = a * b: 3 forward and 3 backward frames>, 6)
        >>> a.grad, b.grad
        (-3.0, 2.0)
    """
    return Animation(animation_data(root, **options))


def player_asset(name: str) -> str:
    """Read `player.js` or `player.css`, shipped inside the package."""
    return (resources.files("chainrule.viz") / "player" / name).read_text(encoding="utf-8")


def _script_json(data: Any) -> str:
    """Write JSON that can sit inside a <script> element.

    No `<` (so no `</script>`), no line breaks that JavaScript reads as the end of a line.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# -- laid out by Graphviz: the player's SVG, and a GIF's frames drawn with Pillow ---------------
#
# The SVG is laid out once by `dot`. A GIF needs one picture per frame, and the boxes must not
# move between frames while their numbers change, so the graph is laid out once (`dot -Tjson`)
# and every frame is then drawn at those positions (`neato -n2`, which keeps the positions it
# is given), `_BATCH` frames to a Graphviz run. Pillow writes the narration under each picture,
# and the GIF is written a frame at a time: each frame is drawn, written (only the part that
# changed since the one before) and dropped, so memory holds a frame or two, not all of them
# (a frame of a long chain is as wide as the graph, so all of them grow as its square).

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
            f"animating a graph needs the Graphviz '{program}' program: {graph.INSTALL_HINT}"
        )
    done = subprocess.run([exe, *args], input=text.encode("utf-8"), capture_output=True)
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = detail[-1] if detail else f"exit status {done.returncode}"
        raise RuntimeError(f"Graphviz '{program}' failed: {why}")
    return done.stdout


def render_svg(dot: str) -> str:
    """Lay the picture out as an inline SVG element.

    No XML prolog, comments or namespace declarations (an `<svg>` inside HTML needs none), so
    the page names no URL at all.
    """
    svg = run_graphviz("dot", ["-Tsvg"], dot).decode("utf-8")
    svg = re.sub(r"<!--.*?-->\n?", "", svg[svg.index("<svg") :], flags=re.DOTALL)
    svg = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", svg)
    return re.sub(r'(<g id="graph0" class="graph"[^>]*>)\s*<title>[^<]*</title>', r"\1", svg)


def frame_states(data: Mapping[str, Any]) -> Iterator[dict[str, list[str]]]:
    """Give what every box shows, a frame at a time: `initial` with the frames' `set`s applied."""
    state = {k: list(v) for k, v in data["initial"].items()}
    for frame in data["frames"]:
        for box_id, i, text in frame["set"]:
            state[box_id][i] = text
        yield {k: list(v) for k, v in state.items()}


def write_gif(
    data: Mapping[str, Any], handle: IO[bytes], *, duration: float = 1.2, dpi: int = 96
) -> None:
    """Draw the animation as a GIF into `handle`: a picture per frame, its narration under it."""
    Image = require("PIL.Image", "viz", "saving an animation as GIF")
    picture = graph.picture_from_data(data)
    laid = json.loads(run_graphviz("dot", ["-Tjson"], graph.source(picture)))  # one layout for all
    items = [*laid.get("objects", []), *laid.get("edges", [])]  # each with its id, as written
    keep = ("pos", "width", "height", "lp")
    fixed = {o["id"]: {k: o[k] for k in keep if k in o} for o in items if "id" in o}
    whole = {"bb": laid["bb"], "dpi": str(dpi), "pad": "0.15"}

    def sources() -> Iterator[str]:
        for i, (frame, fields) in enumerate(zip(data["frames"], frame_states(data))):
            attrs = _highlight(data, frame, i)
            for key, extra in fixed.items():
                attrs.setdefault(key, {}).update(extra)
            yield graph.source(picture, fields, attrs=attrs, graph_attrs=whole)

    pictures = (Image.open(io.BytesIO(p)).convert("RGB") for p in _pngs(sources()))
    ms = int(round(duration * 1000))
    times = [ms] * (len(data["frames"]) - 1) + [3 * ms]  # the last frame is held longer
    _write_frames(_with_narration(pictures, data["frames"], dpi), times, handle)


_BATCH = 16  # graphs drawn by one Graphviz run
_UNCHANGED = [255] + [0] * 255  # a pixel that differs by 0 from the frame before: in the mask


def _pngs(sources: Iterator[str]) -> Iterator[bytes]:
    """Draw DOT graphs as PNG pictures, `_BATCH` graphs to a run of `neato -n2`."""
    while batch := list(itertools.islice(sources, _BATCH)):
        yield from _split_png(run_graphviz("neato", ["-n2", "-Tpng"], "".join(batch)))


def _write_frames(frames: Iterable[Any], times: list[int], handle: IO[bytes]) -> None:
    """Write RGB pictures of one size as the frames of a looping GIF, each as it comes.

    The first is whole; each next one is the rectangle that changed since the one before, at
    its place, with its own palette, where a pixel that did not change is transparent (as
    Pillow's `save_all` writes them, without holding every frame until the end).
    """
    from PIL import GifImagePlugin, Image, ImageChops

    previous = None
    for canvas, ms in zip(frames, times):
        if previous is None:
            whole = canvas.convert("P", palette=Image.Palette.ADAPTIVE)
            header, _ = GifImagePlugin.getheader(whole, info={"loop": 0, "duration": ms})
            handle.writelines([*header, *GifImagePlugin.getdata(whole, duration=ms)])
        else:  # the rectangle that changed, its unchanged pixels transparent (index 255)
            box = ImageChops.difference(canvas, previous).getbbox() or (0, 0, 1, 1)
            part = canvas.crop(box)
            same = ImageChops.difference(part, previous.crop(box)).convert("L").point(_UNCHANGED)
            part = part.convert("P", palette=Image.Palette.ADAPTIVE, colors=255)
            part.paste(255, mask=same)
            more = dict(duration=ms, include_color_table=True, transparency=255)
            handle.writelines(GifImagePlugin.getdata(part, offset=box[:2], **more))
        previous = canvas
    handle.write(b";")  # the end of the GIF


def _highlight(
    data: Mapping[str, Any], frame: Mapping[str, Any], i: int
) -> dict[str, dict[str, str]]:
    """Colour one frame.

    Grey for what is not computed yet, the frame's phase colour for its node, op and arrows,
    amber for a gradient that receives a further contribution.
    """
    grey = COLOURS["pending"][0]
    attrs = {
        item["id"]: {"color": grey, "fontcolor": grey}
        for item in (*data["nodes"], *data["ops"], *data["edges"])
        if item["appears"] > i
    }
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
    """Split the PNG files of one Graphviz run over several graphs, written one after another.

    Each ends with its IEND chunk (a chunk is its length, its kind, its data and a checksum).
    """
    signature = b"\x89PNG\r\n\x1a\n"
    pictures, at = [], 0
    while at < len(stream):
        if stream[at : at + 8] != signature:
            raise RuntimeError("Graphviz wrote something other than PNG pictures")
        end, kind = at + 8, b""
        while kind != b"IEND":
            length, kind = int.from_bytes(stream[end : end + 4], "big"), stream[end + 4 : end + 8]
            end += 12 + length
        pictures.append(stream[at:end])
        at = end
    return pictures


def _with_narration(
    images: Iterator[Any], frames: list[Mapping[str, Any]], dpi: int
) -> Iterator[Any]:
    """Put each picture on a canvas of one size, its phase, narration and detail below.

    All in one font of `NARRATION_PX` pixels or more, told apart by colour.

    Wrapped to the canvas (the font is monospaced: a line holds a fixed number of letters).
    The pictures come one at a time, all of the first one's size (one layout for all).
    """
    from PIL import Image, ImageDraw

    scale = max(1.0, dpi / 96)  # (a picture drawn small keeps its text readable)
    size = round(NARRATION_PX * scale)
    font, margin = _font(size), round(12 * scale)
    first = next(images)
    width = max(first.width, round(640 * scale))
    room = max(1, int((width - 2 * margin) // font.getlength("m")))
    totals = {phase: sum(f["phase"] == phase for f in frames) for phase in ("forward", "backward")}
    blocks = []
    for frame in frames:
        badge = f"{frame['phase']} {frame['index']} / {totals[frame['phase']]}".upper()
        lines = [(badge, COLOURS[frame["phase"]][0])]
        lines += [(t, "#1f2328") for t in textwrap.wrap(frame["text"], room)]
        lines += [(t, "#57606a") for t in textwrap.wrap(frame["detail"], room)]
        blocks.append(lines)
    step = round(size * 1.45)
    strip = margin * 2 + max(len(b) for b in blocks) * step
    height = first.height + strip
    for image, lines in zip(itertools.chain([first], images), blocks):
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(image, ((width - image.width) // 2, 0))
        draw = ImageDraw.Draw(canvas)
        top = height - strip
        draw.line([(margin, top), (width - margin, top)], fill="#d0d7de", width=1)
        for k, (text, colour) in enumerate(lines):
            draw.text((margin, top + margin + k * step), text, font=font, fill=colour)
        yield canvas


NARRATION_PX = 16  # the narration's font size at 96 dpi, and at least
_FONT = "DejaVuSansMono.ttf"  # has the narration's ·, ᵀ, ⊙, Σ, → and ≈


def _font(size: int) -> Any:
    """Find DejaVu Sans Mono, else use Pillow's own font.

    Pillow looks for it among the system's fonts itself; else the copy matplotlib ships is
    used (found without importing matplotlib).
    """
    from PIL import ImageFont

    places = [Path(p) / "matplotlib" / "mpl-data" / "fonts" / "ttf" / _FONT for p in sys.path]
    for path in [_FONT, *map(str, places)]:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)
