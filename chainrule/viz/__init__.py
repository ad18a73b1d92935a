"""Seeing the computation: graph pictures (`dot.py`), the narrated backward pass
(`narration.py` for Values, `tensor_narration.py` for Tensors), training plots (`plots.py`) and
calculus plots (`calculus.py`). `adapters.py` is all that viz knows of each engine.

graphviz, matplotlib and numpy are imported only when a picture is made or a Tensor is met.
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
from .tensor_narration import TensorExplanation, TensorStep

__all__ = [
    "SAVE_FORMATS",
    "Explanation",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "Step",
    "TensorExplanation",
    "TensorStep",
    "draw_dot",
    "explain",
    "graph_size",
    "op_label",
    "save_graph",
]
