"""Seeing the computation, for both engines: graph pictures, narration, animation and plots.

Graph pictures (`graph.py`), the chain rule narrated (`narrate.py`), the backward pass animated
(`animate.py`, its player in `player/`, shared with the web playground) and training plots
(`plots.py`). Each module reads a node only through the engine seam (`chainrule.engines`): its
protocol and its engine.

graphviz, matplotlib, Pillow and numpy are imported only when a picture needs them.
"""

# `animate` the function lives in `chainrule.animate`; here `animate` stays the module, so that
# `chainrule.viz.animate.animation_data` (what the browser playground calls) resolves.
from .animate import Animation, animation_data
from .graph import SAVE_FORMATS, GraphTooLargeError, GraphvizNotFoundError, draw_dot, graph_size
from .graph import op_label as op_label
from .graph import save_graph as save_graph
from .narrate import Explanation, Step, TensorExplanation, TensorStep, explain

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
