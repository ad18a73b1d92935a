"""Chainrule and PyTorch: models converted both ways, weights and all, and trained in parallel.

The training is data-parallel, by PyTorch's DistributedDataParallel (`fit_distributed`).
"""

from .distributed import fit_distributed
from .torch import from_torch, to_torch

__all__ = ["fit_distributed", "from_torch", "to_torch"]
