"""Training: `fit` and `predict` (the loop, `loop.py`) and what each loss makes of the labels
(`tasks.py`). The per-engine adapters the loop uses live one layer down, in
`chainrule.adapters`, beside the models, optimizers and losses that use them too."""

from ..adapters import ENGINES, ScalarEngine, TensorEngine, engine_for
from .loop import LOSSES, History, fit, predict, predict_scores

__all__ = [
    "ENGINES",
    "LOSSES",
    "History",
    "ScalarEngine",
    "TensorEngine",
    "engine_for",
    "fit",
    "predict",
    "predict_scores",
]
