"""The examples of README.md and docs/*.md are tests: Sybil runs every ```python block in them
and checks what each says it prints (how: tests/docs_examples.py)."""

from sybil import Sybil

from tests.docs_examples import (
    CheckedPythonParser,
    enter_scratch_directory,
    leave_scratch_directory,
)

pytest_collect_file = Sybil(
    parsers=[CheckedPythonParser()],
    patterns=["README.md", "docs/*.md"],
    setup=enter_scratch_directory,
    teardown=leave_scratch_directory,
).pytest()
