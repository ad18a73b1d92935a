"""Training: `fit`, `evaluate` and `predict` (the loop, `loop.py`), what each loss makes of
the labels (`tasks.py`), what a failed run says (`advice.py`) and each data set's settings for
`chainrule train` (`defaults.py`). The per-engine adapters the loop uses live one layer down, in
`chainrule.engines`, beside the models, optimizers and losses that use them too."""

from ..engines import ENGINES, ScalarEngine, TensorEngine, engine_for
from . import data, io, losses, optim  # chainrule.learn.io works after `import chainrule`
from .advice import Advice, TrainingDiverged, TrainingWarning
from .loop import LOSSES, History, evaluate, fit, predict, predict_scores

__all__ = [
    "data",
    "io",
    "losses",
    "optim",
    "Advice",
    "ENGINES",
    "LOSSES",
    "History",
    "ScalarEngine",
    "TensorEngine",
    "TrainingDiverged",
    "TrainingWarning",
    "engine_for",
    "evaluate",
    "fit",
    "predict",
    "predict_scores",
]
