"""The op table: every elementwise op of both engines, defined once.

`table.py` holds the lecture's rows; `functions.py` the other functions and `define_op`.
"""

from .functions import ABS, COS, GELU, SIGN, SILU, SIN, SOFTPLUS, SQRT, define_op
from .table import (
    ADD,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    POW,
    RELU,
    SIGMOID,
    STEP,
    SUB,
    TABLE,
    TANH,
    Op,
    functions,
    numbers,
)

# The rows defined here: the catalogue test checks that each one has its PyTorch twin.
BUILTINS = tuple(TABLE)

__all__ = [
    "ABS", "ADD", "BUILTINS", "COS", "DIV", "EXP", "GELU", "LOG", "MUL", "NEG", "Op", "POW",
    "RELU", "SIGMOID", "SIGN", "SILU", "SIN", "SOFTPLUS", "SQRT", "STEP", "SUB", "TABLE", "TANH",
    "define_op", "functions", "numbers",
]  # fmt: skip
