"""Calculus on the engines: derivatives checked against their definition, derivatives as
functions, and pictures of functions with their slopes."""

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
