"""Training: `fit` (the loop, in `loop.py`) and one small adapter per engine (`adapters.py`)."""

from .loop import (
    ENGINES,
    LOSSES,
    History,
    ScalarEngine,
    TensorEngine,
    engine_for,
    fit,
    predict,
    predict_scores,
)

__all__ = [
    "LOSSES",
    "ENGINES",
    "History",
    "ScalarEngine",
    "TensorEngine",
    "engine_for",
    "fit",
    "predict",
    "predict_scores",
]
