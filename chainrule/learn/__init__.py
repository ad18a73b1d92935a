"""Training: `fit`, `evaluate` and `predict`, the losses, optimizers, data sets and model files.

`fit`, `evaluate` and `predict` are the loop (`loop.py`); then come the losses and what each
makes of the labels (`losses.py`), the optimizers and schedules (`optim.py`), the data sets and
each one's settings for `chainrule train` (`data.py`), what a failed run says (`advice.py`),
model files (`io.py`) and the inputs a playground run recorded (`inputs.py`); `Module`, which every
model builds on, is `chainrule.nn`'s. What depends on the engine lives one layer
down, in `chainrule.engines`, and everything here asks it.

The tables that the command line, `fit`'s strings, the playground and the docs all read:
`losses.LOSSES`, `optim.OPTIMIZERS` and `optim.SCHEDULES`, `data.DATASETS`,
`chainrule.nn.ACTIVATIONS` and `io.MODELS`.
"""

from ..engines import ENGINES, ScalarEngine, TensorEngine, engine_for
from . import data, io, losses, optim
from .advice import Advice, TrainingDiverged, TrainingWarning
from .loop import LOSSES, History, evaluate, fit, predict, predict_scores

__all__ = [
    "data", "io", "losses", "optim", "Advice", "ENGINES", "LOSSES", "History", "ScalarEngine",
    "TensorEngine", "TrainingDiverged", "TrainingWarning", "engine_for", "evaluate", "fit",
    "predict", "predict_scores",
]  # fmt: skip
