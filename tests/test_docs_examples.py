"""The README is a front page, every code block of the README and the docs is run or visibly
marked as not run, and the checker of stated outputs (docs_examples.py) fails when it should.

The examples themselves run as tests of their own: pytest collects README.md and docs/*.md
through the top-level conftest.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from docs_examples import (
    CheckedPythonParser,
    OutputMismatch,
    enter_scratch_directory,
    leave_scratch_directory,
)
from sybil import Sybil

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S
)


def _fences(page: Path) -> list[re.Match[str]]:
    return list(FENCE.finditer(page.read_text(encoding="utf-8")))


def _examples(page: Path) -> list:
    sybil = Sybil([CheckedPythonParser()])
    return list(sybil.parse(page))


# -- the README ------------------------------------------------------------------------------


def test_the_readme_is_one_screen_with_the_animation_at_the_top():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150
    gif = next(i for i, line in enumerate(lines) if "docs/neuron-backprop.gif" in line)
    assert gif <= 3 and lines[0] == "# chainrule"
    assert (ROOT / "docs" / "neuron-backprop.gif").is_file()
    text = "\n".join(lines)
    assert "make demo" in text and "make test" in text


def test_the_readme_links_into_the_docs_for_each_part():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("## What is inside") :]
    table = table[: table.index("\n## ")]
    parts = re.findall(r"^\| \[\*\*(.+?)\*\*\]\((docs/[^)#]+)\)", table, re.M)
    assert [name for name, _ in parts] == [
        "The engine",
        "Pictures and animation",
        "The playground",
        "Training",
        "Tensors and the ladder",
        "Scaling out",
        "The coach",
    ]
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / target).exists(), f"the README links to {target}, which does not exist"


def test_the_readme_example_is_ten_lines_that_state_their_numbers():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    python = [m for m in FENCE.finditer(text) if m["info"].strip() == "python"]
    assert len(python) == 1
    code = python[0]["body"].strip().splitlines()
    assert len(code) <= 10
    assert "# -8.0 6.0 -4.0 -2.0 4.0" in python[0]["body"]


# -- every block runs, or says it does not ---------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_block_is_run_or_marked_as_a_terminal_command(page):
    examples = _examples(page)
    text = page.read_text(encoding="utf-8")
    for fence in _fences(page):
        info = fence["info"].strip()
        line = text[: fence.start()].count("\n") + 1
        if info == "python":  # run: Sybil found an example inside this block
            inside = [e for e in examples if fence.start() <= e.region.start < fence.end()]
            assert inside, f"{page.name}, line {line}: a python block the tests do not run"
        else:  # not run: it must say what it is
            assert re.fullmatch(r'(bash|console|sh) title="terminal"|text title="[^"]+"', info), (
                f"{page.name}, line {line}: a ```{info} block is not run; mark it ```bash "
                f'title="terminal" if it is a shell command, ```text title="what it is" if it '
                "is a listing, or make it a python block"
            )


def test_the_docs_run_many_examples():
    counted = {
        page.name: sum(1 for f in _fences(page) if f["info"].strip() == "python") for page in PAGES
    }
    assert sum(counted.values()) >= 30, counted
    assert all(counted[name] for name in ("engine.md", "ops.md", "seeing.md", "tensors.md"))


# -- the checker fails when it should --------------------------------------------------------


def _run(tmp_path: Path, markdown: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(markdown, encoding="utf-8")
    sybil = Sybil(
        [CheckedPythonParser()], setup=enter_scratch_directory, teardown=leave_scratch_directory
    )
    document = sybil.parse(page)
    enter_scratch_directory(document.namespace)
    try:
        for example in document:
            example.evaluate()
    finally:
        leave_scratch_directory(document.namespace)


def test_stated_outputs_that_hold_pass(tmp_path):
    _run(
        tmp_path,
        "```python\n"
        "from chainrule import Value\n"
        "x = Value(2.0)  # an assignment's comment is a comment\n"
        "y = x * x\n"
        "y.backward()  # a call that returns None: its comment says what it does\n"
        "print(x.grad)  # 4.0\n"
        "x.data * 3  # 6.0\n"
        "print('a  long', 'line')\n"
        "# a long line\n"
        "```\n"
        "\n"
        "```python\n"
        ">>> print(y.data)\n"
        "4.0\n"
        "```\n",
    )


@pytest.mark.parametrize(
    "block, message",
    [
        ("print(1 + 1)  # 3", "the page says '3', the code prints '2'"),
        ("1 + 1  # 3", "the page says '3', the code gives '2'"),
        ("print('one')\n# two", "the page says 'two', the code prints 'one'"),
    ],
)
def test_a_wrong_stated_output_fails_naming_the_line(tmp_path, block, message):
    with pytest.raises(OutputMismatch, match=re.escape(message)) as caught:
        _run(tmp_path, f"Some text.\n\n```python\nx = 1\n{block}\n```\n")
    assert "page.md, line 5:" in str(caught.value)


def test_a_wrong_doctest_fails(tmp_path):
    with pytest.raises(Exception, match="Expected:\n    5\nGot:\n    4"):
        _run(tmp_path, "```python\n>>> print(2 + 2)\n5\n```\n")


def test_examples_run_in_a_scratch_directory(tmp_path):
    _run(
        tmp_path,
        "```python\nimport os\nopen('model.json', 'w').write('{}')\n"
        "print(sorted(os.listdir('.')))  # ['model.json']\n```\n",
    )
    assert not (tmp_path / "model.json").exists()


def test_a_page_leaves_the_environment_as_it_found_it(tmp_path, monkeypatch):
    # the notebooks' kernels inherit the environment: a backend left behind would stop their
    # inline pictures
    monkeypatch.delenv("MPLBACKEND", raising=False)
    cwd = Path.cwd()
    _run(tmp_path, "```python\nimport os\nprint(os.environ['MPLBACKEND'])  # Agg\n```\n")
    assert "MPLBACKEND" not in os.environ and Path.cwd() == cwd
