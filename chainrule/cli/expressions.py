"""The expression language of `chainrule graph`: a small, safe subset of Python, evaluated to a
graph of `Value`s.

    evaluate_program("e = a*b; d = e + c; L = d*f", {"a": 2, "b": -3, "c": 10, "f": -2})

Numbers, names given a value, `+ - * / **`, unary minus, and calls to the functions of the op
table (`chainrule.ops`: exp, log, tanh, relu, sigmoid, sin, cos, sqrt, abs, ..., and any op made
with `define_op`). Statements `name = expression`, separated by `;` or new lines, name
intermediate values (their names become labels in the picture and in the narration); the last
statement is the output. The text is parsed with `ast` and only that whitelist of node types is
evaluated; nothing is ever passed to `eval`, so `__import__('os')`, attribute access, lambdas
and the like are refused with a `ProgramError` that says where and why.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .. import ops
from ..value import Value

__all__ = [
    "FUNCTIONS", "HELP_LANGUAGE", "MAX_PROGRAM_CHARS", "NEURON", "ProgramError",
    "evaluate_program", "lecture_neuron",
]  # fmt: skip


class _FunctionTable(Mapping[str, ops.Op]):
    """The functions an expression may call: every row of the op table that reads as a
    function, `sin(x)` (not an infix operator), looked up live, so an op added with
    `chainrule.define_op` can be called by name at once."""

    def __getitem__(self, name: str) -> ops.Op:
        return {**ops.functions(1), **ops.functions(2)}[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**ops.functions(1), **ops.functions(2)})

    def __len__(self) -> int:
        return len(ops.functions(1)) + len(ops.functions(2))


FUNCTIONS = _FunctionTable()

MAX_PROGRAM_CHARS = 20_000
_LABEL_CHARS = 24  # sub-expressions up to this long are labelled with their own text

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}

# What people might type that is not allowed, said in words (an operator not named here is
# said by its base class's row).
_REFUSED: dict[type, str] = {
    getattr(ast, name): words
    for name, words in (
        ("Attribute", "attribute access"), ("Subscript", "indexing"), ("Lambda", "a lambda"),
        ("Compare", "a comparison"), ("BoolOp", "and/or"), ("IfExp", "an if/else expression"),
        ("List", "a list"), ("Tuple", "a tuple"), ("Dict", "a dict"), ("Set", "a set"),
        ("ListComp", "a comprehension"), ("GeneratorExp", "a generator"),
        ("JoinedStr", "an f-string"), ("Starred", "a starred argument"),
        ("NamedExpr", "the := operator"), ("Await", "await"), ("Yield", "yield"),
        ("Import", "import"), ("ImportFrom", "import"), ("FunctionDef", "a function definition"),
        ("AugAssign", "augmented assignment (+= and the like)"), ("Not", "the operator not"),
        ("Invert", "the operator ~"), ("FloorDiv", "the operator //"), ("Mod", "the operator %"),
        ("MatMult", "the operator @"), ("LShift", "the operator <<"),
        ("RShift", "the operator >>"), ("BitOr", "the operator |"), ("BitXor", "the operator ^"),
        ("BitAnd", "the operator &"), ("operator", "that operator"),
        ("unaryop", "that unary operator"),
    )
}  # fmt: skip

_ALLOWED = (
    ast.Module, ast.Expr, ast.Assign, ast.Name, ast.Load, ast.Store, ast.Constant, ast.BinOp,
    ast.UnaryOp, ast.Call, ast.USub, ast.UAdd, *_BINARY,
)  # fmt: skip

HELP_LANGUAGE = (
    "use numbers, names given with --set, + - * / **, unary -, "
    f"and the functions {', '.join(FUNCTIONS)}"
)


# What an expression evaluates to: a Value (a node of the graph) or a plain number (a constant
# of the text, or arithmetic on constants alone, folded in floats).
Operand = Any


class ProgramError(ValueError):
    """The expression cannot be drawn: bad syntax, an unknown name, a disallowed construct."""


# -- the built-in example -----------------------------------------------------------------


NEURON = "n = x1*w1 + x2*w2 + b; o = tanh(n)"


def lecture_neuron() -> Value:
    """The lecture's neuron, o = tanh(x1*w1 + x2*w2 + b), with its labels (o.data = 0.7071...):
    x1*w1, x2*w2, x1*w1 + x2*w2, n and o, as the lecture names them."""
    values = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    return evaluate_program(NEURON, values)


# -- the safe expression evaluator --------------------------------------------------------


def evaluate_program(source: str, values: dict[str, float]) -> Value:
    """Evaluate `source` over the named inputs in `values`; return the output as a Value.

    Inputs become Values labelled with their names; assigned names and short sub-expressions
    label the intermediate nodes. Raises `ProgramError` with the position of the problem.
    """
    if len(source) > MAX_PROGRAM_CHARS:
        raise ProgramError(
            f"the expression is {len(source)} characters long; the limit is {MAX_PROGRAM_CHARS}"
        )
    source = source.replace("\r\n", "\n").replace("\r", "\n")  # one kind of line end
    if not source.strip():
        raise ProgramError("the expression is empty")
    tree = _parse(source)
    if not tree.body:
        raise ProgramError("the expression is only a comment; write an expression before the #")
    _check_whitelist(tree, source)

    env: dict[str, Operand] = {name: Value(float(v), label=name) for name, v in values.items()}
    used: set[str] = set()
    named = {id(v) for v in env.values()}  # Values that already carry a name of their own
    result: Operand = None
    result_name = "out"
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
                raise ProgramError(
                    f"{_where(statement, source)}: assign one name at a time (name = expression)"
                )
            name = statement.targets[0].id
            _check_assignable(name, statement, source, values)
            value = _evaluate(statement.value, source, env, used)
            if not _is_number(value) and id(value) not in named:
                value.label = name  # an assigned name beats the text of the sub-expression
                named.add(id(value))
            env[name] = value
            result, result_name = value, name
        else:  # ast.Expr, guaranteed by the whitelist
            expression = statement.value  # type: ignore[attr-defined]
            result, result_name = _evaluate(expression, source, env, used), "out"
    unused = sorted(set(values) - used)
    if unused:
        raise ProgramError(
            f"--set {unused[0]}={values[unused[0]]:g} is not used by the expression "
            "(a typo in the name?)"
        )
    out = Value(float(result)) if _is_number(result) else result
    if not out.label:
        out.label = result_name
    return out


def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source, mode="exec")
    except SyntaxError as err:
        where = _position(err.lineno, err.offset, source)
        raise ProgramError(f"syntax error {where}: {err.msg}") from None
    except ValueError as err:  # e.g. a NUL character (a SyntaxError on newer Pythons)
        raise ProgramError(f"cannot parse the expression: {err}") from None
    except (RecursionError, MemoryError):
        raise ProgramError("the expression is nested too deeply to parse") from None


def _check_whitelist(tree: ast.Module, source: str) -> None:
    """Refuse the whole program, before evaluating anything, if any node is not allowed."""
    for node in ast.walk(tree):  # breadth-first with a queue: no recursion
        if isinstance(node, _ALLOWED):
            if isinstance(node, ast.Constant):
                _check_constant(node, source)
            elif isinstance(node, ast.Call):
                _check_call(node, source)
            continue
        said = (_REFUSED[kind] for kind in type(node).__mro__ if kind in _REFUSED)
        what = next(said, f"Python's {type(node).__name__}")
        anchor = node if hasattr(node, "col_offset") else _parent_with_position(tree, node)
        raise ProgramError(f"{_where(anchor, source)}: {what} is not allowed; {HELP_LANGUAGE}")


def _parent_with_position(tree: ast.AST, target: ast.AST) -> ast.AST:
    """Operators carry no position; report the expression that uses them."""
    for node in ast.walk(tree):
        if getattr(node, "op", None) is target and hasattr(node, "col_offset"):
            return node
    return tree


def _check_constant(node: ast.Constant, source: str) -> None:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "True/False" if isinstance(value, bool) else type(value).__name__
        raise ProgramError(f"{_where(node, source)}: {kind} is not a number; {HELP_LANGUAGE}")
    if not _finite(value):  # the rule of --set too: only finite numbers go in
        text = ast.get_source_segment(source, node) or repr(value)
        shown = text if len(text) <= 24 else f"{text[:10]}...{text[-6:]} ({len(text)} digits)"
        raise ProgramError(
            f"{_where(node, source)}: {shown} is not a finite number (too large for a float)"
        )


def _check_call(node: ast.Call, source: str) -> None:
    if not isinstance(node.func, ast.Name):
        raise ProgramError(
            f"{_where(node, source)}: only the functions {', '.join(FUNCTIONS)} can be called, "
            "by name (write tanh(x), not x.tanh())"
        )
    name = node.func.id
    if name not in FUNCTIONS:
        raise ProgramError(
            f"{_where(node, source)}: unknown function {name!r}; "
            f"the functions are {', '.join(FUNCTIONS)}"
        )
    arity = FUNCTIONS[name].arity
    if node.keywords or len(node.args) != arity:
        wanted = "exactly one argument" if arity == 1 else f"{arity} arguments"
        raise ProgramError(f"{_where(node, source)}: {name}() takes {wanted}")


def _check_assignable(name: str, node: ast.AST, source: str, values: dict[str, float]) -> None:
    if name in FUNCTIONS:
        raise ProgramError(f"{_where(node, source)}: {name!r} is a function, not a name to assign")
    if name in values:
        raise ProgramError(
            f"{_where(node, source)}: {name!r} is given by --set and assigned in the expression; "
            "use one or the other"
        )


def _evaluate(expr: ast.expr, source: str, env: dict[str, Operand], used: set[str]) -> Operand:
    """Evaluate one whitelisted expression tree, iteratively (post-order with an explicit stack).

    Plain numbers stay numbers (so `x**2` keeps a constant exponent, shown as `**2`); any
    operation on two numbers is done in float arithmetic, so `9**9**9` overflows at once
    instead of computing a huge integer.
    """
    results: dict[int, Operand] = {}
    stack: list[tuple[ast.expr, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if isinstance(node, ast.Constant):
            results[id(node)] = node.value
            continue
        if isinstance(node, ast.Name):
            results[id(node)] = _lookup(node, source, env, used)
            continue
        operands = node.args if isinstance(node, ast.Call) else _children(node)
        if not ready:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(operands))
            continue
        args = [results.pop(id(child)) for child in operands]
        value = _apply(node, args, source)
        if not _is_number(value) and not value.label and all(a is not value for a in args):
            text = ast.get_source_segment(source, node) or ""
            if len(text) <= _LABEL_CHARS and "\n" not in text:
                value.label = text
        results[id(node)] = value
    return results[id(expr)]


def _children(node: ast.AST) -> list[ast.expr]:
    """The expressions under `node`, in order (not its operator, nor a call's function)."""
    return [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr)]


def _lookup(node: ast.Name, source: str, env: dict[str, Operand], used: set[str]):
    name = node.id
    if name in env:
        used.add(name)
        return env[name]
    if name in FUNCTIONS:
        raise ProgramError(f"{_where(node, source)}: {name} is a function; call it as {name}(...)")
    raise ProgramError(
        f"{_where(node, source)}: unknown name {name!r}; give it a value with --set {name}=NUMBER"
    )


def _apply(node: ast.expr, args: list[Operand], source: str) -> Operand:
    """Compute one operation; constants folded into a number that is not finite are refused,
    named by their text, as a literal or a `--set` value that is not finite is."""
    text = ast.get_source_segment(source, node) or "the expression"
    try:
        value = _compute(node, args)
    except (ArithmeticError, ValueError) as err:
        if isinstance(err, ZeroDivisionError) and isinstance(getattr(node, "op", None), ast.Div):
            why = "division by zero"
        elif isinstance(err, OverflowError) and err.args and isinstance(err.args[0], int):
            why = "the result is too large for a float"  # math's errno-style OverflowError
        else:
            why = str(err)
        raise ProgramError(f"{_where(node, source)}: cannot compute {text}: {why}") from None
    if isinstance(value, complex):  # two constants folded: (-1)**0.5
        why = f"a negative base ({args[0]:g}) to a fractional power ({args[1]:g}) is not real"
        raise ProgramError(f"{_where(node, source)}: cannot compute {text} with **: {why}")
    if _is_number(value) and not _finite(value):  # constants folded: a literal, in effect
        raise ProgramError(
            f"{_where(node, source)}: cannot compute {text}: the result ({value}) is not a "
            "finite number"
        )
    return value


def _compute(node: ast.expr, args: list[Operand]) -> Operand:
    if isinstance(node, ast.BinOp):
        left, right = args
        op = _BINARY[type(node.op)]
        if _is_number(left) and _is_number(right):
            return op(float(left), float(right))  # both plain numbers: fold in floats
        if isinstance(node.op, ast.Pow) and _is_number(right):
            return left**right  # a constant exponent: the op reads **2, as in the lecture
        return op(left, float(right) if _is_number(right) else right)
    if isinstance(node, ast.UnaryOp):
        (x,) = args
        return -x if isinstance(node.op, ast.USub) else x
    # a whitelisted call: a function of FUNCTIONS, called by name
    fn = FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
    return fn(*(Value(float(x)) if _is_number(x) else x for x in args))


def _is_number(x: object) -> bool:
    """A plain number (a constant of the text, or a sum of constants), not a graph node."""
    return isinstance(x, (int, float))


def _finite(x: float) -> bool:
    """A real number a float holds: not inf or nan, nor an integer past the float range."""
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def _position(lineno: int | None, offset: int | None, source: str) -> str:
    column = f"column {offset}" if offset else "the end"
    if "\n" in source.strip() and lineno:
        return f"at line {lineno}, {column}"
    return f"at {column}"


def _where(node: ast.AST, source: str) -> str:
    lineno = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    return _position(lineno, None if col is None else col + 1, source)
