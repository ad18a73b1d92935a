"""chainrule: backpropagation you can read, see and trust.

`Value` is the scalar engine of the micrograd lecture; everything heavier (tensors, plots,
graph pictures, PyTorch interop) is imported only when first used, so `import chainrule`
stays fast and needs nothing beyond Python.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import ops
from .autograd import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .ops import define_op
from .value import Value, dot, zero_grad

__version__ = "0.1.0"

# name -> module that defines it; loaded on first access (PEP 562).
_LAZY = {
    "Tensor": "tensor",
    "draw_dot": "viz",
    "save_graph": "viz",
    "explain": "viz",
    "animate": "viz.animate",
    "gradcheck": "calculus",
    "gradcheck_report": "calculus",
    "GradcheckError": "calculus",
    "numerical_derivative": "calculus",
    "fit": "learn",
    "grad": "calculus",
    "value_and_grad": "calculus",
    "hessian": "calculus",
    "nn": None,
    "learn": None,
    "viz": None,
    "calculus": None,
    "interop": None,
    "exercises": None,
    "tensor": None,
    "autograd": None,
}

# Modules reachable under a short name: `chainrule.calculus.plot_function(...)`.
_ALIASES = {
    "plots": "viz.plots",
    "layers": "tensor.layers",
    "losses": "learn.losses",
    "optim": "learn.optim",
    "data": "learn.data",
    "io": "learn.io",
}

__all__ = [
    "Value",
    "define_op",
    "ops",
    "dot",
    "zero_grad",
    "no_grad",
    "detect_anomaly",
    "enable_grad",
    "is_grad_enabled",
    *_LAZY,
    *_ALIASES,
]


def __getattr__(name: str) -> Any:
    if name in _ALIASES:
        return importlib.import_module(f".{_ALIASES[name]}", __name__)
    if name not in _LAZY:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    module_name = _LAZY[name]
    if module_name is None:  # a submodule itself
        return importlib.import_module(f".{name}", __name__)
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_ALIASES))
