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

# Module -> the names it defines, loaded on first access (PEP 562).
_EXPORTS = {
    "tensor": ["Tensor"],
    "viz": ["draw_dot", "save_graph", "explain"],
    "viz.animate": ["animate"],
    "calculus.check": ["gradcheck", "gradcheck_report", "GradcheckError", "numerical_derivative"],
    "calculus.derivatives": ["grad", "value_and_grad", "hessian"],
    "learn": ["fit"],
}
# Subpackages, reachable as attributes once first used: `chainrule.nn`.
_SUBMODULES = ["nn", "learn", "viz", "calculus", "interop", "exercises", "tensor", "autograd"]
_LAZY: dict[str, str | None] = {
    **{name: module for module, names in _EXPORTS.items() for name in names},
    **dict.fromkeys(_SUBMODULES),
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
