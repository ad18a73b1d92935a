"""Seeing the computation: graph pictures (`dot.py`), the narrated backward pass
(`narration.py` for Values, `tensor_narration.py` for Tensors), the backward pass animated
(`animate.py`, its player in `player/`), training plots (`plots.py`) and calculus plots
(`calculus.py`). `adapters.py` is all that viz knows of each engine.

graphviz, matplotlib and numpy are imported only when a picture is made or a Tensor is met.
"""

# `animate` the function lives in `chainrule.animate`; here `animate` stays the module, so that
# `chainrule.viz.animate.animation_data` (what the browser playground calls) resolves.
from .animate import Animation, animation_data
from .dot import (
    SAVE_FORMATS,
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    graph_size,
    op_label,
    save_graph,
)
from .narration import Explanation, Step, explain
from .tensor_narration import TensorExplanation, TensorStep

__all__ = [
    "Animation",
    "SAVE_FORMATS",
    "Explanation",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "Step",
    "TensorExplanation",
    "TensorStep",
    "animation_data",
    "draw_dot",
    "explain",
    "graph_size",
    "op_label",
    "save_graph",
]
