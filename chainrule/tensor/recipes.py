"""The two models of the lectures after micrograd, built in one place so that the notebooks, the
CLI presets and the benchmark train the same thing.

* `names_mlp`: makemore's MLP (Bengio et al. 2003, with the BatchNorm of makemore part 3):
  the previous `block_size` characters, each an embedding, concatenated, through a hidden
  layer with BatchNorm and tanh, to one score per next character.
* `digits_cnn`: a small convolutional net for 28x28 digits: two 3x3 convolutions, each with
  2x2 max pooling and ReLU, then one linear layer to the ten classes.

Both are plain `Sequential`s of `chainrule.nn` layers: `print(model)` shows them, and they are
saved, loaded and moved to PyTorch like any other model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conv_layers import Conv2d, Flatten, MaxPool2d
from .layers import Linear, ReLU, Sequential, Tanh
from .mlp_layers import BatchNorm1d, Embedding

__all__ = ["digits_cnn", "names_mlp"]


def names_mlp(
    vocab: int = 27,
    block_size: int = 3,
    embedding_dim: int = 10,
    hidden: int = 200,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """Embedding(vocab, dim) -> Flatten -> Linear(block*dim, hidden, no bias) -> BatchNorm1d
    -> Tanh -> Linear(hidden, vocab): makemore part 3's model. The first Linear has no bias
    because BatchNorm subtracts the mean straight after (a bias would be learned for nothing).
    Takes (N, block_size) integer contexts, returns (N, vocab) logits."""
    rng = np.random.default_rng(seed)
    return Sequential(
        Embedding(vocab, embedding_dim, seed=rng, dtype=dtype),
        Flatten(),
        Linear(block_size * embedding_dim, hidden, bias=False, seed=rng, dtype=dtype),
        BatchNorm1d(hidden, dtype=dtype),
        Tanh(),
        Linear(hidden, vocab, seed=rng, dtype=dtype),
    )


def digits_cnn(
    channels: tuple[int, int] = (6, 16),
    classes: int = 10,
    size: int = 28,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> Sequential:
    """Conv2d(1, c1, 3, padding=1) -> MaxPool2d(2) -> ReLU -> Conv2d(c1, c2, 3, padding=1) ->
    MaxPool2d(2) -> ReLU -> Flatten -> Linear(c2 * (size/4)^2, classes). Takes (N, 1, size,
    size) images, returns (N, classes) logits. The padding keeps each convolution's output
    the size of its input, so only the pools shrink the image: 28 -> 14 -> 7. The channel
    counts, 6 then 16, are LeNet-5's.

    Pooling before the ReLU, as PyTorch's MNIST example does, computes the same function as
    after it (max and ReLU commute: both keep the order of numbers), on a quarter of the
    numbers."""
    c1, c2 = channels
    rng = np.random.default_rng(seed)
    side = size // 2 // 2
    return Sequential(
        Conv2d(1, c1, 3, padding=1, seed=rng, dtype=dtype),
        MaxPool2d(2),
        ReLU(),
        Conv2d(c1, c2, 3, padding=1, seed=rng, dtype=dtype),
        MaxPool2d(2),
        ReLU(),
        Flatten(),
        Linear(c2 * side * side, classes, seed=rng, dtype=dtype),
    )
