"""The frames of an animation: what each box shows, and what is highlighted, step by step.

Pure Python for a `Value` graph (no numpy, no graphviz), so the browser playground can compute
the frames with chainrule itself inside Pyodide. The schema is described in `animate`.

The forward pass shows one value per frame, in the order the lecture's `build_topo` visits
them (each value after its operands, the operands in the order they were written). The backward
pass opens with the root's gradient set to 1 and then shows one frame per step of
`explain(root)`: the frame's narration is that step's line, `str(step)`.
"""

from __future__ import annotations

from typing import Any

from .adapters import shape_text, summary
from .dot_text import Box, Picture
from .explanation import Explanation
from .labels import d, fmt, number, written_order
from .narration import _expression as value_expression
from .tensor_narration import _as_number, show
from .tensor_narration import _expression as tensor_expression

__all__ = ["PENDING", "build_frames"]

PENDING = "…"  # what a box shows before its value is computed


class _Texts:
    """How one engine's boxes write a value and a gradient."""

    def __init__(self, picture: Picture) -> None:
        self.tensors = picture.adapter.kind == "tensors"

    def data(self, node: Any) -> str:
        return f"data {summary(node.data) if self.tensors else number(node.data)}"

    def zero_grad(self, node: Any) -> str:
        """The gradient a node has before any backward pass."""
        if not self.tensors:
            return f"grad {number(0.0)}"
        return "grad None" if node.requires_grad else "needs no grad"

    def grad(self, total: Any) -> str:
        return f"grad {summary(total) if self.tensors else number(total)}"

    def root_grad(self, root: Any) -> str:
        if not self.tensors:
            return self.grad(1.0)
        import numpy as np

        return self.grad(np.ones(root.data.shape, root.data.dtype))


def build_frames(picture: Picture, ex: Explanation) -> dict[str, Any]:
    """The frames, the boxes' first and last texts, and the names shown, for `picture`'s graph
    narrated by `ex` (made by `explain` for the same root)."""
    root, order, adapter = picture.root, picture.order, picture.adapter
    texts = _Texts(picture)
    names = _names(order, ex, texts.tensors)
    box_of = {id(node): picture.box_of(node) for node in order}
    out_edge = {e.tail: e.id for e in picture.edges if e.tail in picture.ovals}
    state = {box.id: _pending(box) for box in picture.boxes.values()}
    initial = {k: list(v) for k, v in state.items()}
    frames: list[dict[str, Any]] = []
    appears: dict[str, int] = {}

    def frame(phase: str, text: str, focus: str, **more: Any) -> None:
        made = {
            "phase": phase,
            "index": sum(f["phase"] == phase for f in frames) + 1,
            "text": text,
            "detail": more.pop("detail", ""),
            "focus": focus,
            "op": more.pop("op", None),
            "edges": more.pop("edges", []),
            "targets": more.pop("targets", []),
            "accumulate": more.pop("accumulate", False),
            "set": more.pop("set", []),
        }
        for box_id, i, value in made["set"]:
            state[box_id][i] = value
        frames.append(made)

    # -- forward: each value appears, in the order it is computed
    for node in written_order(root, adapter.children):
        box = box_of[id(node)]
        n = len(box.fields)
        appears[box.id] = len(frames)
        edges = list(box.inputs) + ([out_edge[box.op]] if box.op else [])
        sets = [[box.id, n - 2, texts.data(node)], [box.id, n - 1, texts.zero_grad(node)]]
        text = _forward_text(node, box, names, texts.tensors)
        frame("forward", text, box.id, op=box.op, edges=edges, set=sets)

    # -- backward: the root's gradient is 1, then one frame per chain-rule step
    by_name = {names[id(node)]: node for node in order}
    root_box = box_of[id(root)]
    sets = [[root_box.id, len(root_box.fields) - 1, texts.root_grad(root)]]
    frame("backward", ex._output_line(), root_box.id, targets=[root_box.id], set=sets)
    per_pair: dict[tuple[str, str], int] = {}
    for step in ex.steps:
        per_pair[(step.parent, step.child)] = per_pair.get((step.parent, step.child), 0) + 1
    seen_pair: dict[tuple[str, str], int] = {}
    for step in ex.steps:
        parent, child = box_of[id(by_name[step.parent])], box_of[id(by_name[step.child])]
        pair = (step.parent, step.child)
        seen_pair[pair] = seen_pair.get(pair, 0) + 1
        carrying = [e for e in parent.inputs if picture.edge[e].tail == child.id]
        if len(carrying) == per_pair[pair]:  # one step per operand slot: its own arrow
            carrying = [carrying[seen_pair[pair] - 1]]
        edges = ([out_edge[parent.op]] if parent.op else []) + carrying
        frame(
            "backward",
            str(step),
            parent.id,
            detail=_backward_detail(step, ex, texts.tensors),
            op=parent.op,
            edges=edges,
            targets=[child.id],
            accumulate=step.index > 1,
            set=[[child.id, len(child.fields) - 1, texts.grad(step.total)]],
        )
    forward = sum(f["phase"] == "forward" for f in frames)
    return {
        "frames": frames,
        "initial": initial,
        "final": state,
        "names": {box_of[id(node)].id: names[id(node)] for node in order},
        "appears": appears,
        "counts": {"forward": forward, "backward": len(frames) - forward},
    }


def _pending(box: Box) -> list[str]:
    """A box before its value is computed: every field but a tensor's shape waits."""
    fields = list(box.fields)
    n = len(fields)
    fields[n - 2] = f"data {PENDING}"
    fields[n - 1] = f"grad {PENDING}"
    return fields


def _names(order: list[Any], ex: Explanation, tensors: bool) -> dict[int, str]:
    """The narration's name for every node; a tensor constant it writes as a number gets that
    number."""
    names = {}
    for node in order:
        try:
            names[id(node)] = ex.name(node)
        except KeyError:
            if not tensors:
                raise
            names[id(node)] = _as_number(node) or "?"
    return names


def _forward_text(node: Any, box: Box, names: dict[int, str], tensors: bool) -> str:
    name = names[id(node)]
    if not tensors:
        value = fmt(node.data, 6)
        if not box.inputs:  # an input, or a constant that the narration names by its number
            return f"{name}    (a constant)" if name == value else f"{name} = {value}"
        return f"{name} = {value_expression(node, names)} = {value}"
    shape = f"{shape_text(node.shape)} {node.dtype}"
    if not box.inputs:
        what = "an input" if node.requires_grad else "needs no grad"
        return f"{name}    {shape}    → {show(node.data)}    ({what})"
    return f"{name} = {tensor_expression(node, names)}    {shape}    → {show(node.data)}"


def _backward_detail(step: Any, ex: Explanation, tensors: bool) -> str:
    """The line above a step: how its parent was computed and what arrives at it; after the last
    of several contributions, how they add up."""
    header = ex._headers.get(step.parent, step.parent)
    if not tensors and step.parent != step.root:  # (what arrives at the root is 1)
        header = f"{header}    with {d(step.root)}/{d(step.parent)} = {fmt(step.upstream, 6)}"
    if step.count > 1 and step.index == step.count:
        if tensors:
            added = f"the sum of {step.count} contributions"
        else:
            parts = " + ".join(fmt(c, 6) for c in ex.contributions(step.child))
            added = f"{parts} = {fmt(step.total, 6)}"
        return (
            f"{header}    ({step.child} is used {step.count} times: "
            f"{d(step.root)}/{d(step.child)} = {added})"
        )
    return header
