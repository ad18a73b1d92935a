"""The tensor engine: numpy arrays in a computation graph.

`arrays.py` holds the numpy helpers (broadcast gradients summed back, error messages);
`tensor.py` the `Tensor` class, the ops it records and their vector-Jacobian products;
`functional.py` the fused ops of `torch.nn.functional` (`linear`, `cross_entropy`, `conv2d`,
`batch_norm`, `embedding`, ...); `layers.py` the PyTorch-named layers, their table `KINDS`, and
the lectures' two models built from them. Each module imports only those before it. Importing
this package imports numpy; the scalar engine never does.
"""

try:
    import numpy  # noqa: F401  (the tensor engine's one dependency)
except ImportError:  # say which extra brings it, not just "No module named 'numpy'"
    from ..extras import require

    require("numpy", "tensor", "chainrule.Tensor (the tensor engine)")

from .functional import (
    batch_norm,
    binary_cross_entropy_with_logits,
    conv2d,
    cross_entropy,
    dropout,
    embedding,
    layer_norm,
    linear,
    max_pool2d,
)
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
