"""Every public function and class of the documented modules says what it takes and shows how.

ruff's pydocstyle rules (pyproject.toml; `make test` runs ruff) hold the docstrings' form: a
one-line summary, Google's sections, every argument of an `Args:` section named. What they
cannot ask is here: each public name has an `Examples:` with `>>>` lines (which the top-level
conftest.py runs), a function that takes arguments has `Args:`, one that gives something back
has `Returns:` (or `Yields:`), and a class that is built from arguments documents them (`Args:`
or, for a record, `Attributes:`).
"""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

# The modules under the docstring rules (pyproject.toml's per-file-ignores name the others).
MODULES = [
    "chainrule.value", "chainrule.autograd", "chainrule.engines", "chainrule.extras",
    "chainrule.files", "chainrule.nn", "chainrule.ops.table", "chainrule.ops.functions",
    "chainrule.calculus.check", "chainrule.calculus.derivatives", "chainrule.calculus.plots",
    "chainrule.learn.advice", "chainrule.learn.data", "chainrule.learn.inputs",
    "chainrule.learn.io", "chainrule.learn.loop", "chainrule.learn.losses",
    "chainrule.learn.optim", "chainrule.viz.animate", "chainrule.viz.graph",
    "chainrule.viz.narrate", "chainrule.viz.plots", "chainrule.tensor.tensor",
    "chainrule.tensor.functional", "chainrule.tensor.layers", "chainrule.interop.torch",
]  # fmt: skip


def public_names() -> list[tuple[str, str, object]]:
    """(module, name, object) for each function and class a module exports and defines."""
    found: list[tuple[str, str, object]] = []
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name:
                found.append((name, attr, obj))
    return found


NAMES = public_names()


def _takes_arguments(obj: object) -> bool:
    try:
        parameters = list(inspect.signature(obj).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    if inspect.isclass(obj):  # an engine, all static methods, is never built: (*args, **kwargs)
        parameters = [p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return any(p.name not in ("self", "cls") for p in parameters)


@pytest.mark.parametrize("module, name, obj", NAMES, ids=[f"{m}.{n}" for m, n, _ in NAMES])
def test_every_public_name_documents_its_arguments_and_shows_an_example(module, name, obj):
    doc = inspect.getdoc(obj) or ""
    assert re.search(r"^Examples:\n(    .*\n|\n)*    >>> ", doc + "\n", re.M), (
        f"{module}.{name}: no Examples: section with >>> lines"
    )
    if inspect.isfunction(obj):
        if _takes_arguments(obj):
            assert "\nArgs:\n" in doc, f"{module}.{name}: no Args: section"
        returns = inspect.signature(obj).return_annotation
        if returns not in ("None", None, inspect.Signature.empty):
            assert "\nReturns:\n" in doc or "\nYields:\n" in doc, f"{module}.{name}: no Returns:"
    elif _takes_arguments(obj):
        assert "\nArgs:\n" in doc or "\nAttributes:\n" in doc, f"{module}.{name}: no Args:"


def test_the_documented_modules_are_many():
    assert len(NAMES) >= 140
