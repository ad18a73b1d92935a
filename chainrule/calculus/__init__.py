"""Calculus on the engines: derivatives checked, derivatives as functions, and pictures.

Derivatives are checked against their definition (`gradcheck`), made into functions (`grad`,
`hessian`), and drawn with their slopes (`plot_function`).
"""

from .check import (
    GradcheckEntry,
    GradcheckError,
    GradcheckReport,
    gradcheck,
    gradcheck_report,
    numerical_derivative,
)
from .derivatives import grad, hessian, value_and_grad
from .plots import plot_activations, plot_function, save_figure

__all__ = [
    "GradcheckEntry",
    "GradcheckError",
    "GradcheckReport",
    "grad",
    "gradcheck",
    "gradcheck_report",
    "hessian",
    "numerical_derivative",
    "plot_activations",
    "plot_function",
    "save_figure",
    "value_and_grad",
]
