"""The examples of README.md and docs/*.md are tests: Sybil runs every ```python block in them
and checks what each says it prints (how: tests/docs_examples.py).

So are the examples of the docstrings: every `>>>` line of the public modules' docstrings runs,
and its output is checked, as the API reference shows it.
"""

import doctest

from sybil import Sybil
from sybil.document import PythonDocStringDocument
from sybil.parsers.rest import DocTestParser

from tests.docs_examples import (
    CheckedPythonParser,
    enter_scratch_directory,
    leave_scratch_directory,
)

pages = Sybil(
    parsers=[CheckedPythonParser()],
    patterns=["README.md", "docs/*.md"],
    setup=enter_scratch_directory,
    teardown=leave_scratch_directory,
)

# The modules whose docstrings are held to ruff's pydocstyle rules (pyproject.toml).
docstrings = Sybil(
    parsers=[DocTestParser(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)],
    patterns=[
        "chainrule/*.py",
        "chainrule/ops/*.py",
        "chainrule/calculus/*.py",
        "chainrule/learn/*.py",
        "chainrule/viz/*.py",
        "chainrule/tensor/*.py",
        "chainrule/interop/torch.py",
    ],
    excludes=["chainrule/__main__.py"],
    document_types={".py": PythonDocStringDocument},
    setup=enter_scratch_directory,
    teardown=leave_scratch_directory,
)

pytest_collect_file = (pages + docstrings).pytest()
