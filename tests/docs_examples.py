"""How the Python examples of README.md and docs/ are run as tests (the top-level conftest.py
hands every Markdown page to Sybil with the parser defined here).

Each page's blocks run in order in one namespace (a page reads as one session), in a fresh
temporary directory, so that an example may write `model.json` or `loss.png` and read it back.

What a block says it prints is checked. A `print(...)` or a bare expression states its output
in a comment at the end of its line, or, for a long or multi-line output, in the comment lines
right below it (no blank line between):

    print(x.grad)               # 12.0
    grad(f)(0.4)                # 1.4000969111923793
    print(err)
    # ValueError: log of x = -1.0 is undefined (log needs a positive number)

For a `print(...)` the comment is what it prints; for any other bare expression it is the
`repr`, as the Python prompt shows it (a call that returns None shows nothing at the prompt, so
a comment after it says what the call does). Whitespace is compared loosely (any run of spaces
or line breaks counts as one space), so numpy's column alignment need not be copied exactly.
Comments after any other statement (an assignment, an import, a call inside a loop) are
ordinary comments. A block whose first line is `>>>` is a doctest.

Blocks that are not Python are not run: they are commands for a terminal, with the title
"terminal" on the site (```bash title="terminal"); tests/test_docs_examples.py checks that every
block is one or the other.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import os
import shutil
import tempfile
import tokenize
from typing import Any

from sybil import Example
from sybil.parsers.abstract.codeblock import PythonDocTestOrCodeBlockParser
from sybil.parsers.markdown import CodeBlockParser

from chainrule.ops import TABLE


class OutputMismatch(AssertionError):
    """A block printed something other than what its comment says."""


def _comments(source: str) -> tuple[dict[int, str], dict[int, str]]:
    """Two maps, line number -> comment text: comments that end a line of code, and comments
    alone on their line."""
    trailing, alone = {}, {}
    code_on_line: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string[1:].strip()
            (trailing if token.start[0] in code_on_line else alone)[token.start[0]] = text
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_on_line.add(token.start[0])
    return trailing, alone


def _stated_output(line: int, trailing: dict[int, str], alone: dict[int, str]) -> str | None:
    """The output a statement ending on `line` states: its trailing comment, or the comment
    lines right below it."""
    if line in trailing:
        return trailing[line]
    below = []
    while line + 1 + len(below) in alone:
        below.append(alone[line + 1 + len(below)])
    return "\n".join(below) if below else None


def _same(got: str, expected: str) -> bool:
    return got.split() == expected.split()


def evaluate_checked(example: Example) -> None:
    """Run one code block statement by statement, checking each stated output."""
    __tracebackhide__ = True
    source = str(example.parsed)
    first_line = example.line + example.parsed.line_offset
    trailing, alone = _comments(source)
    tree = ast.parse(source)
    namespace = example.namespace
    for statement in tree.body:
        expected = _stated_output(statement.end_lineno or statement.lineno, trailing, alone)
        ast.increment_lineno(statement, first_line)
        if not isinstance(statement, ast.Expr) or expected is None:
            code = compile(ast.Module([statement], []), example.path, "exec")
            exec(code, namespace)
            continue
        call = statement.value
        function = call.func if isinstance(call, ast.Call) else None
        is_print = isinstance(function, ast.Name) and function.id == "print"
        if is_print:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(ast.Module([statement], []), example.path, "exec"), namespace)
            got = buffer.getvalue()
            print(got, end="")
        else:
            value = eval(compile(ast.Expression(call), example.path, "eval"), namespace)
            if value is None:  # the prompt shows nothing: the comment says what the call does
                continue
            got = repr(value)
        if not _same(got, expected):
            line = statement.lineno
            raise OutputMismatch(
                f"{example.path}, line {line}: the page says {expected!r}, "
                f"the code {'prints' if is_print else 'gives'} {got.strip()!r}"
            )
    namespace.pop("__builtins__", None)


class CheckedPythonParser(PythonDocTestOrCodeBlockParser):
    """```python blocks: doctests when they start with >>>, else run with their outputs checked."""

    codeblock_parser_class = CodeBlockParser

    def __init__(self) -> None:
        super().__init__(doctest_optionflags=doctest.NORMALIZE_WHITESPACE)
        self.codeblock_parser = CodeBlockParser("python", evaluate_checked)


def enter_scratch_directory(namespace: dict[str, Any]) -> None:
    """Sybil's set-up for a page: run its examples in a new empty directory, with matplotlib
    drawing into files only (never a window)."""
    namespace["__saved__"] = os.getcwd(), os.environ.get("MPLBACKEND")
    namespace["__ops__"] = dict(TABLE)  # a page may define_op: the next page must not see it
    namespace["__scratch__"] = tempfile.mkdtemp(prefix="chainrule-docs-")
    os.chdir(namespace["__scratch__"])
    os.environ["MPLBACKEND"] = "Agg"


def leave_scratch_directory(namespace: dict[str, Any]) -> None:
    """Sybil's tear-down for a page: back where we were, as we were, the directory removed."""
    cwd, backend = namespace["__saved__"]
    os.chdir(cwd)
    if backend is None:
        os.environ.pop("MPLBACKEND", None)
    else:
        os.environ["MPLBACKEND"] = backend
    shutil.rmtree(namespace["__scratch__"], ignore_errors=True)
    TABLE.clear()
    TABLE.update(namespace["__ops__"])
