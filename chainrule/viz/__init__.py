"""Seeing the computation: graph pictures (`dot.py`), the narrated backward pass
(`narration.py`), training plots (`plots.py`) and calculus plots (`calculus.py`).

graphviz and matplotlib are imported only when a picture is actually made.
"""

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

__all__ = [
    "SAVE_FORMATS",
    "Explanation",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "Step",
    "draw_dot",
    "explain",
    "graph_size",
    "op_label",
    "save_graph",
]
