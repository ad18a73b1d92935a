"""The documentation site: it builds strictly, shows every public name, and loads nothing from
the network.

The site is built once for this module with the command `make docs` runs
(`mkdocs build --strict`), into a temporary folder.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


hooks = _load_hooks()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return out


def _page(site: Path, url: str) -> str:
    return (site / url / "index.html").read_text(encoding="utf-8")


# -- every page is there ---------------------------------------------------------------------


def _nav_pages() -> list[str]:
    """The source paths mkdocs.yml's nav names, in order."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") :]
    return re.findall(r"^\s+- (?:[^:\n]+: )?(\S+\.(?:md|ipynb))$", nav, re.M)


def test_every_page_of_the_nav_is_built(site):
    pages = _nav_pages()
    assert len(pages) >= 25, pages
    for source in pages:
        stem = source.rsplit(".", 1)[0]
        built = site / (stem[: -len("index")] if stem.endswith("index") else stem) / "index.html"
        if stem == "index":
            built = site / "index.html"
        assert built.is_file(), f"{source} was not built ({built})"


def test_the_guide_follows_the_lectures_order():
    guide = [p for p in _nav_pages() if "/" not in p]
    assert guide == [
        "index.md",
        "getting-started.md",
        "engine.md",
        "ops.md",
        "seeing.md",
        "animation.md",
        "playground.md",
        "training.md",
        "higher-order.md",
        "tensors.md",
        "scaling-out.md",
        "coach.md",
        "ARCHITECTURE.md",
    ]
    api = [p for p in _nav_pages() if p.startswith("api/")]
    assert api[-1] == "api/cli.md" and _nav_pages().index("ARCHITECTURE.md") < _nav_pages().index(
        api[0]
    )


# -- the API reference -----------------------------------------------------------------------


def test_the_api_reference_renders_every_public_name(site):
    owners = hooks._owners(hooks.API_PAGES)
    rendered = 0
    for page in hooks.API_PAGES:
        html = _page(site, page.path.removesuffix(".md"))
        for module_name in page.modules:
            for entry in hooks._entries(module_name):
                if inspect.ismodule(entry.obj):
                    continue
                owner = owners.get(id(entry.obj), entry)
                if owner.public == entry.public:  # rendered on this page, under its own heading
                    anchor = f'id="{hooks._identifier(entry)}"'
                    assert anchor in html, f"{entry.public} is not rendered on {page.path}"
                    rendered += 1
                else:  # a link to where it is rendered
                    assert f"#{hooks._identifier(owner)}" in html, entry.public
    assert rendered >= len(hooks.API_PAGES)  # each page renders its own names, not only links


def test_a_name_is_found_at_its_public_path_and_linked_from_the_others(site):
    import chainrule.learn
    import chainrule.tensor.layers

    # fit is chainrule.fit and chainrule.learn.fit: rendered once, on the learn page
    fit = hooks._home(chainrule.learn.fit)
    learn, top = _page(site, "api/learn"), _page(site, "api/chainrule")
    assert f'id="{fit}"' in learn and f'id="{fit}"' not in top
    assert f'href="../learn/#{fit}"' in top
    # Conv2d, which chainrule.tensor.layers loads only when first used, is rendered with its
    # signature
    conv = hooks._home(chainrule.tensor.layers.Conv2d)
    tensor = _page(site, "api/tensor")
    assert f'id="{conv}"' in tensor
    assert "in_channels" in tensor and "kernel_size" in tensor


def test_the_cli_page_shows_every_commands_help(site):
    from chainrule.cli.main import build_parser

    html = _page(site, "api/cli")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(commands.choices) == {
        "train",
        "demo",
        "preset",
        "eval",
        "predict",
        "graph",
        "playground",
        "check",
    }
    for name, sub in commands.choices.items():
        assert f"chainrule {name}" in html
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in html, f"chainrule {name} {flag} is missing from the CLI page"


# -- the notebooks ---------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")))
def test_each_notebook_is_a_page_with_its_outputs_and_its_formulas(site, notebook):
    html = _page(site, f"notebooks/{notebook}")
    assert "jp-OutputArea" in html and "data:image/png;base64," in html
    assert "mathjax" not in html.lower() and "mermaid.esm" not in html
    source = (ROOT / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8")
    if "$" in source:  # formulas became MathML, with no $ left in the text
        assert html.count("<math ") >= 1
    # the table of contents links to the headings as the page has them
    toc = html[html.index('aria-label="Table of contents"') :]
    toc = toc[: toc.index("</nav>")]
    anchors = re.findall(r'href="#([^"]+)"', toc)
    assert anchors, "no table of contents"
    for anchor in anchors:
        assert f'id="{anchor}"' in html, f"the table of contents links to a missing #{anchor}"


# -- nothing from the network ----------------------------------------------------------------


class _Loads(HTMLParser):
    """Every URL a page loads: scripts, style sheets, fonts, images, frames, media; and the text
    of its inline scripts and styles."""

    ATTRIBUTES = {"src", "href", "srcset", "data", "poster"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.inline: list[str] = []
        self._tag: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag if tag in ("script", "style") else None
        if tag == "a":  # a link is followed only when clicked; it loads nothing
            return
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                urls = [u.split()[0] for u in value.split(",")] if name == "srcset" else [value]
                self.urls += [(f"<{tag} {name}>", url.strip()) for url in urls]

    def handle_endtag(self, tag: str) -> None:
        self._tag = None

    def handle_data(self, data: str) -> None:
        if self._tag:
            self.inline.append(data)


def _external(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme in ("http", "https", "ftp", "ws", "wss")


# XML namespaces name a vocabulary; nothing is fetched from them.
NAMESPACES = re.compile(r"https?://www\.w3\.org/(?:2000/svg|1999/xlink|1998/Math/MathML)")
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")


def test_the_site_loads_nothing_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 25
    found = []
    for page in pages:
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        where = page.relative_to(site)
        found += [f"{where}: {tag} {url}" for tag, url in parser.urls if _external(url)]
        for text in parser.inline:
            text = NAMESPACES.sub("", text)
            found += [f"{where}: inline {m}" for m in re.findall(r"https?://[^\s'\"`)]+", text)]
    for sheet in site.rglob("*.css"):
        text = NAMESPACES.sub("", sheet.read_text(encoding="utf-8"))
        found += [f"{sheet.relative_to(site)}: {u}" for u in CSS_URL.findall(text) if _external(u)]
    assert found == []


def test_the_url_check_finds_what_it_looks_for():
    # the check itself: each kind of external load is caught, links and namespaces are not
    parser = _Loads()
    parser.feed(
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
        '<script src="//cdn.example.org/x.js"></script><img src="pic.png">'
        '<a href="https://example.org/">a link</a>'
        '<script>import("https://cdnjs.cloudflare.com/m.mjs")</script>'
    )
    assert [url for _, url in parser.urls if _external(url)] == [
        "https://fonts.googleapis.com/css?family=Roboto",
        "//cdn.example.org/x.js",
    ]
    assert re.findall(r"https?://[^\s'\"`)]+", "".join(parser.inline)) == [
        "https://cdnjs.cloudflare.com/m.mjs"
    ]
    assert CSS_URL.findall("@import 'https://x.org/a.css'; b{src:url(fonts/a.woff2)}") == [
        "https://x.org/a.css",
        "fonts/a.woff2",
    ]
