"""The handwritten-digits set, as numpy arrays for the tensor engine.

1,797 images of 8x8 pixels, ten classes, shipped with scikit-learn (no download). Pixel
intensities run 0..16; they are divided by 16 so the inputs lie in [0, 1], the scale the
default layer initialisation expects.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["digits"]


def digits(
    test_fraction: float = 0.25, seed: int | None = 0, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`(X_train, y_train, X_test, y_test)`: X of shape (n, 64) in [0, 1], y class indices.

    The split is stratified (every digit in the same proportion on both sides) and seeded,
    so the same `seed` always gives the same split.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"digits: test_fraction must be between 0 and 1, got {test_fraction!r}")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(dtype)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return X_train, y_train.astype(np.int64), X_test, y_test.astype(np.int64)
