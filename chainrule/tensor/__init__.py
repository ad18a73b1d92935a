"""The tensor engine: numpy arrays in a computation graph.

`tensor.py` holds the `Tensor` class and its own operations, `layers.py` the PyTorch-named
layers (`Linear`, `Sequential`, ...), `losses.py` the tensor side of the loss table. Importing
this package imports numpy; the scalar engine never does.
"""

from .tensor import Tensor, binary_cross_entropy_with_logits, cross_entropy, linear, no_grad

__all__ = ["Tensor", "binary_cross_entropy_with_logits", "cross_entropy", "linear", "no_grad"]
