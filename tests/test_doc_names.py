"""Every dotted name the README and the docs use works both ways: as an attribute after
`import chainrule`, and with `import` / `from ... import` (a module reached as an attribute must
also be importable under that name: `chainrule.calculus.plot_function` once worked only as an
attribute, and `import chainrule.calculus` failed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOTTED = re.compile(r"\bchainrule(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
FROM_IMPORT = re.compile(r"\bfrom (chainrule(?:\.[A-Za-z_]\w*)*) import ([\w, ]+)")
FILES = re.compile(r"\.(md|zip|json|model|py|gif|png|svg|txt)$")  # file names, not Python names


def documented_names() -> list[str]:
    names: set[str] = set()
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        names.update(n for n in DOTTED.findall(text) if not FILES.search(n))
        for module, imported in FROM_IMPORT.findall(text):
            names.update(f"{module}.{n.strip()}" for n in imported.split(",") if n.strip())
    return sorted(names)


NAMES = documented_names()


def test_the_docs_use_dotted_names():
    assert len(NAMES) > 30, NAMES  # the extraction itself works


# Run in a fresh interpreter that has only done `import chainrule`: in this one, other tests have
# imported submodules already, which makes them attributes of their packages.
CHECK = """
import importlib, sys
from types import ModuleType
import chainrule

for name in sys.argv[1:]:
    obj, parts = chainrule, name.split(".")
    for i, part in enumerate(parts[1:], 1):
        if not hasattr(obj, part):
            print(f"{name}: {'.'.join(parts[:i])} has no attribute {part!r} after import chainrule")
            break
        obj = getattr(obj, part)
        dotted = ".".join(parts[: i + 1])
        if isinstance(obj, ModuleType):
            try:
                ok = importlib.import_module(dotted) is obj
            except ImportError as err:
                ok = False
            if not ok:
                print(f"{name}: chainrule has {dotted} as an attribute, but import {dotted} fails")
                break
        else:
            module = importlib.import_module(".".join(parts[:i]))
            if getattr(module, part, None) is not obj:
                print(f"{name}: from {'.'.join(parts[:i])} import {part} is another object")
            break
"""


def test_every_documented_name_works_as_an_attribute_and_as_an_import():
    out = subprocess.run(
        [sys.executable, "-c", CHECK, *NAMES], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "", out.stdout


def test_the_check_fails_for_a_module_reached_only_as_an_attribute():
    """What this test catches, shown: an attribute that is a module of another name."""
    code = (
        "import importlib, types, chainrule\n"
        "alias = types.ModuleType('chainrule.nowhere')\n"
        "chainrule.nowhere = alias\n"
        "try:\n"
        "    importlib.import_module('chainrule.nowhere')\n"
        "except ModuleNotFoundError:\n"
        "    print('not importable')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "not importable", out.stderr
