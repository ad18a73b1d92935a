"""MkDocs build hook: the pages that are made from the code rather than written by hand.

- `api/*.md`: the API reference. Each page lists the public names of one or more public modules
  (their `__all__`, read at build time) and renders each with mkdocstrings. A name is rendered
  where it is defined, found from the object itself, so the reference follows the code when a
  module moves: nothing here names a private module. A name exported by several modules (`fit` is
  `chainrule.fit` and `chainrule.learn.fit`) is rendered once and linked from the others.
- `api/cli.md`: the `--help` of `chainrule` and of each of its commands, from the real parser.
- `notebooks/*.ipynb`: the executed notebooks of notebooks/, shown by mkdocs-jupyter with the
  outputs they were committed with.
- The notebooks' formulas (`$...$`, `$$...$$`) become MathML when the page is built, which
  browsers draw natively, so no MathJax (and no CDN) is needed.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import importlib
import inspect
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


@dataclass
class ApiPage:
    """One page of the API reference: the public modules it covers, in order."""

    path: str
    title: str
    intro: str
    modules: list[str] = field(default_factory=list)


API_PAGES = [
    ApiPage(
        "api/chainrule.md",
        "chainrule",
        "What `import chainrule` gives you. The scalar engine is imported at once; everything "
        "heavier (tensors, pictures, training) is imported the first time you use its name.",
        ["chainrule"],
    ),
    ApiPage(
        "api/nn.md",
        "chainrule.nn",
        "The lecture's `Neuron`, `Layer` and `MLP` on the scalar engine, and `ACTIVATIONS`, "
        "the functions of the op table a layer may use. The tensor layers (`Linear`, `Conv2d`, "
        "`BatchNorm1d`, ...; `import chainrule.tensor.layers as nn`) are documented with "
        "[chainrule.tensor](tensor.md).",
        ["chainrule.nn"],
    ),
    ApiPage(
        "api/ops.md",
        "chainrule.ops",
        "The op table: one row per elementwise op, read by both engines, the narrator, the "
        "pictures and the command line; `define_op` adds your own row.",
        ["chainrule.ops"],
    ),
    ApiPage(
        "api/tensor.md",
        "chainrule.tensor",
        "The tensor engine (`Tensor`, numpy arrays in a graph), its fused functional ops and "
        "the PyTorch-named layers of `chainrule.tensor.layers`.",
        ["chainrule.tensor", "chainrule.tensor.layers"],
    ),
    ApiPage(
        "api/learn.md",
        "chainrule.learn",
        "Training: `fit` and friends, the losses, the optimizers and schedules, the data sets "
        "and the model files.",
        [
            "chainrule.learn",
            "chainrule.learn.losses",
            "chainrule.learn.optim",
            "chainrule.learn.data",
            "chainrule.learn.io",
        ],
    ),
    ApiPage(
        "api/calculus.md",
        "chainrule.calculus",
        "Derivatives as functions (`grad`, `value_and_grad`, `hessian`), checked against "
        "their definition (`gradcheck`), and plotted.",
        ["chainrule.calculus"],
    ),
    ApiPage(
        "api/viz.md",
        "chainrule.viz",
        "Seeing the computation: graph pictures, the narrated backward pass, the animation "
        "and the training plots of `chainrule.viz.plots`.",
        ["chainrule.viz", "chainrule.viz.plots"],
    ),
    ApiPage(
        "api/interop.md",
        "chainrule.interop",
        "Models converted to PyTorch and back, weights and all.",
        ["chainrule.interop"],
    ),
]


# -- the API reference ---------------------------------------------------------------------


@dataclass
class Entry:
    """One public name: `module.name`, the object, and where it is defined."""

    module: str
    name: str
    obj: Any
    home: str | None  # "package.module.qualname" for a class or function; None for data

    @property
    def public(self) -> str:
        return f"{self.module}.{self.name}"


def _home(obj: Any) -> str | None:
    """Where a class or function is defined, if it can be found again by that path."""
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return None
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or not module.startswith("chainrule"):
        return None
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{module}.{qualname}" if found is obj else None


def _entries(module_name: str) -> list[Entry]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        raise RuntimeError(f"{module_name} has no __all__: its public names are not declared")
    return [Entry(module_name, name, obj := getattr(module, name), _home(obj)) for name in names]


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a.split("."), b.split("."), strict=False):
        if x != y:
            break
        count += 1
    return count


def _owners(pages: list[ApiPage]) -> dict[int, Entry]:
    """For each object exported more than once, the entry that renders it.

    Keyed by id(object). A class or function is rendered by the exporting module closest to
    where it is defined (the first such module on a tie); data by the longest module name,
    which is where a table such as `LOSSES` is defined. Numbers and strings are never shared:
    two modules' `VERSION = 1` are different names.
    """
    exporters: dict[int, list[Entry]] = {}
    for page in pages:
        for module_name in page.modules:
            for entry in _entries(module_name):
                if isinstance(entry.obj, (int, float, str, bytes)) or inspect.ismodule(entry.obj):
                    continue
                exporters.setdefault(id(entry.obj), []).append(entry)
    owners = {}
    for key, entries in exporters.items():
        if entries[0].home is not None:
            home = entries[0].home
            closeness = [_common_prefix(e.module, home) for e in entries]
        else:
            closeness = [len(e.module.split(".")) for e in entries]
        owners[key] = entries[closeness.index(max(closeness))]  # the first of the closest
    return owners


def _identifier(entry: Entry) -> str:
    """The path mkdocstrings renders the entry at (and autorefs links to)."""
    return entry.home or entry.public


def _summary(obj: Any) -> str:
    """The first sentence of a docstring, on one line, fit for a table cell."""
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        return f"a `{type(obj).__name__}`"
    doc = inspect.getdoc(obj)
    if not doc:
        return ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    sentence = re.split(r"(?<=\.)\s+(?=[A-Z`(])", paragraph, maxsplit=1)[0]
    return sentence.replace("|", "\\|")


def api_page(page: ApiPage, owners: dict[int, Entry], page_of: dict[str, str]) -> str:
    """A page: per module, a table of its public names, then each name rendered (unless it is
    rendered where another module exports it, which the table links to)."""
    lines = [f"# {page.title}", "", page.intro, ""]
    several = len(page.modules) > 1
    for module_name in page.modules:
        entries = _entries(module_name)
        if several:
            lines += [f"## `{module_name}`", ""]
        table = ["| name | what it is |", "| --- | --- |"]
        rendered = []
        for entry in entries:
            if inspect.ismodule(entry.obj):
                target = page_of.get(entry.obj.__name__)
                name = entry.obj.__name__
                where = f"[`{name}`]({target})" if target else f"`{name}`"
                table.append(f"| `{entry.name}` | the module {where} |")
                continue
            owner = owners.get(id(entry.obj))
            if owner is not None and owner.public != entry.public:
                table.append(
                    f"| [`{entry.name}`][{_identifier(owner)}] | {_summary(entry.obj)} "
                    f"(documented as `{owner.public}`) |"
                )
                continue
            table.append(f"| [`{entry.name}`][{_identifier(entry)}] | {_summary(entry.obj)} |")
            rendered += [
                f"::: {_identifier(entry)}",
                "    options:",
                f"      heading_level: {3 if several else 2}",
                f'      toc_label: "{entry.name}"',
                "",
            ]
        lines += [*table, "", *rendered]
    return "\n".join(lines)


def api_index(pages: list[ApiPage]) -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings of the public modules. Each page lists the names in its "
        "modules' `__all__`; a name that several modules export is shown once and linked from "
        "the others.",
        "",
        "| page | modules | public names | what they hold |",
        "| --- | --- | ---: | --- |",
    ]
    for page in pages:
        modules = ", ".join(f"`{m}`" for m in page.modules)
        count = sum(not inspect.ismodule(e.obj) for m in page.modules for e in _entries(m))
        what = page.intro.split(". ")[0].rstrip(".")
        lines.append(f"| [{page.title}]({Path(page.path).name}) | {modules} | {count} | {what}. |")
    lines += ["", "The command line is on [its own page](cli.md).", ""]
    return "\n".join(lines)


# -- the command line ----------------------------------------------------------------------


def cli_page() -> str:
    from chainrule.cli.main import build_parser

    with _columns(80):
        parser = build_parser()
        commands = next(
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        ).choices
        parts = [
            "# The command line",
            "",
            "`chainrule COMMAND --help` prints each of these; this page is made from the same "
            "parser when the site is built. A mistyped flag gets the nearest one and the "
            "command's usage, and every usage error exits with status 2.",
            "",
            "```text",
            parser.format_help().rstrip(),
            "```",
            "",
        ]
        for name, sub in commands.items():
            help_text = sub.format_help().rstrip()
            parts += [f"## `chainrule {name}`", "", "```text", help_text, "```", ""]
    return "\n".join(parts)


@contextlib.contextmanager
def _columns(width: int):
    """argparse wraps help to the terminal's width: make it the same on every machine."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


# -- MkDocs events -------------------------------------------------------------------------


# Before mkdocs-jupyter's own on_files, so that it sees the notebooks added here.
@event_priority(100)
def on_files(files: Files, config: Any) -> Files:
    # A real file (not File.generated), as mkdocs-jupyter reads it from disk: the notebook in
    # notebooks/, at the same path on the site.
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    owners = _owners(API_PAGES)
    page_of = {m: Path(p.path).name for p in API_PAGES for m in p.modules}
    for page in API_PAGES:
        files.append(File.generated(config, page.path, content=api_page(page, owners, page_of)))
    files.append(File.generated(config, "api/index.md", content=api_index(API_PAGES)))
    files.append(File.generated(config, "api/cli.md", content=cli_page()))
    return files


# -- formulas in the notebooks -------------------------------------------------------------

# nbconvert leaves a markdown cell's $...$ as it was written, for MathJax to find in the page;
# and it adds a <script> that would fetch MathJax, and one that would fetch Mermaid for any
# Mermaid diagram (the notebooks have none). Here each formula is converted to MathML instead,
# and both scripts are dropped.
_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
_MERMAID = re.compile(
    r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded", async \(\) => \{'
    r'\s*const diagrams = document\.querySelectorAll\("\.jp-Mermaid.*?</script>',
    re.S,
)
_MARKDOWN_CELL = re.compile(
    r'(<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>)(.*?)(</div>)', re.S
)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)")


def _mathml(tex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    return convert(html.unescape(tex), display="block" if display else "inline")


def _formulas(cell: str) -> str:
    """Each $...$ or $$...$$ outside <code> and <pre> in a rendered markdown cell, as MathML."""
    pieces = re.split(r"(<(?:code|pre)\b.*?</(?:code|pre)>)", cell, flags=re.S)
    for i in range(0, len(pieces), 2):  # even pieces are outside code
        text = _DISPLAY.sub(lambda m: _mathml(m.group(1), True), pieces[i])
        pieces[i] = _INLINE.sub(lambda m: _mathml(m.group(1), False), text)
    return "".join(pieces)


_HEADING = re.compile(r'<h[1-6] id="([^"]+)">(.*?)<a class="anchor-link"', re.S)


def _retitle_toc(toc: Any, html_text: str) -> None:
    """mkdocs-jupyter's table of contents drops a heading's `code` from its title and its link
    ("3. : a number ...", #3-a-number-...): give each entry its heading's text and id, as the
    page has them. The entries and the headings are in the same order, one for one."""
    headings = [
        (anchor, " ".join(html.unescape(re.sub(r"<[^>]+>", "", inner)).split()))
        for anchor, inner in _HEADING.findall(html_text)
    ]
    entries, stack = [], list(reversed(list(toc)))
    while stack:  # depth first, in document order
        entry = stack.pop()
        entries.append(entry)
        stack.extend(reversed(entry.children))
    if len(entries) != len(headings):
        raise PluginError(
            f"the table of contents has {len(entries)} entries for {len(headings)} headings"
        )
    for entry, (anchor, title) in zip(entries, headings, strict=True):
        entry.id, entry.title = anchor, title


def on_page_content(html_text: str, page: Any, config: Any, files: Files) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return html_text
    _retitle_toc(page.toc, html_text)
    html_text, mathjax = _MATHJAX.subn("", html_text)
    html_text, mermaid = _MERMAID.subn("", html_text)
    if (mathjax, mermaid) != (1, 1):  # nbconvert's template changed: look again
        raise PluginError(
            f"{page.file.src_uri}: expected nbconvert's MathJax and Mermaid scripts once each, "
            f"found {mathjax} and {mermaid}"
        )
    return _MARKDOWN_CELL.sub(lambda m: m.group(1) + _formulas(m.group(2)) + m.group(3), html_text)
