"""Training: `fit` and `predict` (the loop, `loop.py`), what each loss makes of the labels
(`tasks.py`), and one small adapter per engine (`adapters.py`).

The names below are loaded on first use (PEP 562). The engine adapters sit under the models,
optimizers and losses, which import `chainrule.train.adapters`; importing that module must not
load the training loop, which imports them in turn.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module of this package that defines it
_NAMES = {
    "LOSSES": "loop",
    "History": "loop",
    "fit": "loop",
    "predict": "loop",
    "predict_scores": "loop",
    "ENGINES": "adapters",
    "ScalarEngine": "adapters",
    "TensorEngine": "adapters",
    "engine_for": "adapters",
}

__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
