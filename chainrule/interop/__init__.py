"""chainrule and PyTorch: models converted both ways, weights and all."""

from .torch import from_torch, to_torch

__all__ = ["from_torch", "to_torch"]
