"""Training: `fit`, `evaluate` and `predict` (the loop, `loop.py`), the losses and what each
makes of the labels (`losses.py`), the optimizers and schedules (`optim.py`), the data sets and
each one's settings for `chainrule train` (`data.py`), what a failed run says (`advice.py`),
`Module` (`module.py`) and model files (`io.py`). What depends on the engine lives one layer
down, in `chainrule.engines`, and everything here asks it.

The tables that the command line, `fit`'s strings, the playground and the docs all read:
`losses.LOSSES`, `optim.OPTIMIZERS` and `optim.SCHEDULES`, `data.DATASETS`,
`module.ACTIVATIONS` (also `chainrule.nn.ACTIVATIONS`) and `io.MODELS`."""

from ..engines import ENGINES, ScalarEngine, TensorEngine, engine_for

# io (model files of both engines) imports the tensor engine where numpy is installed, so it is
# not imported here: `import chainrule.nn` and `import chainrule.viz` need no numpy. chainrule's
# lazy attributes import it when `chainrule.learn` is reached from `import chainrule`.
from . import data, losses, optim
from .advice import Advice, TrainingDiverged, TrainingWarning
from .loop import LOSSES, History, evaluate, fit, predict, predict_scores

__all__ = [
    "data", "losses", "optim", "Advice", "ENGINES", "LOSSES", "History", "ScalarEngine",
    "TensorEngine", "TrainingDiverged", "TrainingWarning", "engine_for", "evaluate", "fit",
    "predict", "predict_scores",
]  # fmt: skip
