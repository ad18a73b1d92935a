"""chainrule: backpropagation you can read, see and trust.

`Value` is the scalar engine of the micrograd lecture; everything heavier (tensors, plots,
graph pictures, PyTorch interop) is imported only when first used, so `import chainrule`
stays fast and needs nothing beyond Python.
"""

from __future__ import annotations

import importlib
from typing import Any

from .engine import Value, dot, zero_grad
from .graph import enable_grad, is_grad_enabled, no_grad

__version__ = "0.1.0"

# name -> module that defines it; loaded on first access (PEP 562).
_LAZY = {
    "Tensor": "tensor",
    "draw_dot": "viz",
    "save_graph": "viz",
    "explain": "narration",
    "gradcheck": "check",
    "numerical_derivative": "check",
    "nn": None,
    "losses": None,
    "optim": None,
    "data": None,
    "train": None,
    "fit": "train",
    "io": None,
    "plots": None,
    "viz": None,
    "check": None,
    "calculus": None,
    "interop": None,
    "tensor": None,
    "layers": None,
}

__all__ = [
    "Value",
    "dot",
    "zero_grad",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    module_name = _LAZY[name]
    if module_name is None:  # a submodule itself
        return importlib.import_module(f".{name}", __name__)
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
