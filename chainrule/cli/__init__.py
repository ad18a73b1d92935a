"""The `chainrule` command: `main.py` dispatches, one module per command does the work."""

from .main import main

__all__ = ["main"]
