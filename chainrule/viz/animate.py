"""Watch backprop happen: the graph of `draw_dot`, filled in frame by frame.

    anim = chainrule.animate(L)     # shows inline in Jupyter: a player with its controls
    anim.save("backprop.html")      # the same player in one self-contained file
    anim.save("backprop.gif")       # one picture per frame, the narration under each

The forward frames show the values appearing one by one, each value after its operands, with
the op computing it highlighted. The backward frames set the root's gradient to 1 and then run
the chain rule one step per frame, exactly the steps of `explain(root)`: the node whose local
rule runs is highlighted with the arrows that carry its gradient to an operand, the operand's
gradient fills in (a value used twice visibly gets a second contribution, marked `+=`), and the
step's line of narration is shown under the picture. Like `explain`, `animate` (with its default
`backward=True`) leaves the graph's gradients as `zero_grad()` and `root.backward()` would.

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

import html
import json
import os
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

from ..learn.atomic import write_bytes
from .dot_text import describe, source
from .narration import explain

__all__ = ["Animation", "animate", "animation_data", "SAVE_FORMATS"]

SAVE_FORMATS = (".html", ".htm", ".gif")


def animation_data(
    root: Any,
    *,
    rankdir: str = "LR",
    max_nodes: int = 300,
    force: bool = False,
    backward: bool = True,
    title: str | None = None,
) -> dict[str, Any]:
    """The frames and the DOT source of `root`'s animation, as JSON-ready data (see the module
    docstring). Graphs of more than `max_nodes` nodes raise `GraphTooLargeError` unless
    `force=True`, as in `draw_dot`; `backward` is `explain`'s."""
    from .frames import build_frames

    picture = describe(root, rankdir=rankdir, max_nodes=max_nodes, force=force)
    ex = explain(root, backward=backward)
    built = build_frames(picture, ex)
    names, appears = built["names"], built["appears"]
    unlabeled = {box_id: name for box_id, name in names.items() if not picture.boxes[box_id].label}
    if title is None:  # how the root was computed: 'L = d * f'
        title = ex._headers.get(ex.root, ex.root)
    return {
        "version": 1,
        "title": title,
        "kind": picture.adapter.kind,
        "rankdir": rankdir,
        "dot": source(picture, built["final"], labels=unlabeled),
        "counts": built["counts"],
        "nodes": [
            {
                "id": box.id,
                "name": names[box.id],
                "label": unlabeled.get(box.id) or str(_node(picture, box.id).label),
                "op": box.op,
                "fields": built["final"][box.id],
                "appears": appears[box.id],
            }
            for box in picture.boxes.values()
        ],
        "ops": [
            {"id": o.id, "result": o.result, "text": o.text, "appears": appears[o.result]}
            for o in picture.ovals.values()
        ],
        "edges": [
            {
                "id": e.id,
                "tail": e.tail,
                "head": e.head,
                "label": e.label,
                "appears": appears[picture.owner(e)],
            }
            for e in picture.edges
        ],
        "initial": built["initial"],
        "frames": built["frames"],
    }


def _node(picture: Any, box_id: str) -> Any:
    return picture.order[int(box_id[1:])]


class Animation:
    """A backward pass to watch: shows itself in Jupyter, `save`s as HTML or GIF.

    `frames` (the list described in `chainrule.viz.animate`), `counts` (forward and backward
    frames), `dot` (the picture's DOT source), `svg` (laid out by Graphviz on first use),
    `html()` (a whole page), `len(animation)` (the number of frames).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._svg: str | None = None

    @property
    def frames(self) -> list[dict[str, Any]]:
        return self.data["frames"]

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.data["counts"])

    @property
    def dot(self) -> str:
        return self.data["dot"]

    @property
    def svg(self) -> str:
        """The picture as SVG (Graphviz's `dot` program lays it out once)."""
        if self._svg is None:
            from .render import render_svg

            self._svg = render_svg(self.dot)
        return self._svg

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        c = self.data["counts"]
        return (
            f"<Animation of {self.data['title']}: {c['forward']} forward and "
            f"{c['backward']} backward frames>"
        )

    def player_data(self) -> dict[str, Any]:
        """What `ChainrulePlayer.mount` takes: the data with the SVG, without the DOT text."""
        data = {k: v for k, v in self.data.items() if k != "dot"}
        data["svg"] = self.svg
        return data

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
        element_id = f"chainrule-player-{uuid.uuid4().hex[:12]}"
        return f"<style>{player_asset('player.css')}</style>\n{self._fragment(element_id)}"

    def html(self) -> str:
        """The player as one self-contained page: its CSS and JS inline, nothing to download."""
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
        last one is held three times as long), drawn at `dpi`. Returns the path written.
        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in SAVE_FORMATS:
            shown = f"'{target.suffix}'" if target.suffix else "no extension"
            raise ValueError(
                f"cannot save an animation as {target}: {shown} is not one of "
                f"{', '.join(SAVE_FORMATS)}"
            )
        if not target.parent.is_dir() and str(target.parent):
            raise FileNotFoundError(f"cannot write {target}: folder {target.parent} does not exist")
        if suffix == ".gif":
            if not duration > 0:
                raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
            from .render import render_gif

            return write_bytes(target, render_gif(self.data, duration=duration, dpi=dpi))
        return write_bytes(target, self.html().encode("utf-8"))


def animate(
    root: Any,
    *,
    rankdir: str = "LR",
    max_nodes: int = 300,
    force: bool = False,
    backward: bool = True,
    title: str | None = None,
) -> Animation:
    """Animate the forward and backward pass of `root` (a Value, or a one-element Tensor).

    Shows inline in Jupyter; `.save("x.html")` or `.save("x.gif")` writes it. See the module
    docstring for what the frames show. Graphs of more than `max_nodes` nodes raise
    `GraphTooLargeError` (draw a sub-expression, or pass `force=True`). With `backward=True`
    (the default) the graph's gradients are left as `backward()` leaves them, as `explain` does.
    """
    return Animation(
        animation_data(
            root, rankdir=rankdir, max_nodes=max_nodes, force=force, backward=backward, title=title
        )
    )


def player_asset(name: str) -> str:
    """The text of `player.js` or `player.css`, shipped inside the package."""
    return (resources.files("chainrule.viz") / "player" / name).read_text(encoding="utf-8")


def _script_json(data: Any) -> str:
    """JSON that can sit inside a <script> element: no `<` (so no `</script>`), no line breaks
    that JavaScript reads as the end of a line."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
