"""The tensor engine: numpy arrays in a computation graph.

`tensor.py` holds the `Tensor` class and the ops it records, made into graph nodes by
`nodes.py`; `rules.py` their backward rules, over the array helpers of `grads.py`, and
`recorded.py` the steps written in Tensor ops (`backward(create_graph=True)`); `functional.py`
the fused ops of `torch.nn.functional` (`linear`, `cross_entropy`, ...), with `conv.py`
(`conv2d`, `max_pool2d`), `norm.py` (`batch_norm`, `layer_norm`) and `embedding.py`
(`embedding`, `dropout`) beside it; `layers.py` the PyTorch-named layers (`conv_layers.py` and
`mlp_layers.py` hold the newer ones) and `recipes.py` the lectures' two models built from
them. Importing this package imports
numpy; the scalar engine never does.
"""

try:
    import numpy  # noqa: F401  (the tensor engine's one dependency)
except ImportError:  # say which extra brings it, not just "No module named 'numpy'"
    from ..extras import require

    require("numpy", "tensor", "chainrule.Tensor (the tensor engine)")

from .conv import conv2d, max_pool2d
from .embedding import dropout, embedding
from .functional import binary_cross_entropy_with_logits, cross_entropy, linear
from .norm import batch_norm, layer_norm
from .tensor import Tensor, no_grad

__all__ = [
    "Tensor",
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "layer_norm",
    "linear",
    "max_pool2d",
    "no_grad",
]
