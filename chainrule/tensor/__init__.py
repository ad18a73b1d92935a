"""The tensor engine: numpy arrays in a computation graph.

`tensor.py` holds the `Tensor` class and the ops it records; `rules.py` their backward rules,
over the array helpers of `grads.py`; `functional.py` the fused ops of `torch.nn.functional`
(`linear`, `cross_entropy`, ...); `layers.py` the PyTorch-named layers and `losses.py` the
tensor side of the loss table. Importing this package imports numpy; the scalar engine never
does.
"""

from .functional import binary_cross_entropy_with_logits, cross_entropy, linear
from .tensor import Tensor, no_grad

__all__ = ["Tensor", "binary_cross_entropy_with_logits", "cross_entropy", "linear", "no_grad"]
