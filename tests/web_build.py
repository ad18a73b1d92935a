"""Whether web/dist was built from this checkout, and where the browser tests find a browser.

`make web` (web/build.mjs) records in dist/build.json the sha256 of every file of the repository
it read: the chainrule/ package it zipped for Pyodide, the page's sources in web/src, the build
script and npm's lock file. `stale_dist` computes the same table from the files as they are now
and names what differs, so that the browser tests never test an older build than the code
beside them. `find_chromium` looks for a Chromium or Chrome on PATH; the browser tests are
skipped only when there is none.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "dist"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NO_BROWSER = (
    f"no Chromium on PATH (looked for {', '.join(BROWSERS)}): the browser tests did not run "
    "(apt-get install chromium; make setup does it)"
)


def find_chromium() -> str | None:
    """The first of `BROWSERS` on PATH, as a full path; None if there is none."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_table(root: Path = ROOT) -> dict[str, str]:
    """{path from the repository's root: sha256} for every file web/build.mjs reads, chosen by
    the build's own rules: the package's files but __pycache__, dot-names and .pyc files; every
    file directly in web/src; web/src/py/*.py; the build script and the lock file."""
    table: dict[str, str] = {}
    package = root / "chainrule"
    for folder, dirs, files in os.walk(package):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
        for name in files:
            if name.startswith(".") or name.endswith(".pyc"):
                continue
            path = Path(folder, name)
            table[path.relative_to(root).as_posix()] = _sha256(path)
    page = root / "web" / "src"
    for path in page.iterdir():
        if path.is_file():
            table[f"web/src/{path.name}"] = _sha256(path)
    for path in (page / "py").glob("*.py"):
        table[f"web/src/py/{path.name}"] = _sha256(path)
    for name in ("build.mjs", "package-lock.json"):
        table[f"web/{name}"] = _sha256(root / "web" / name)
    return table


def stale_dist(root: Path = ROOT, dist: Path | None = None) -> str | None:
    """Why `dist` is not a build of `root` as it is now (one line ending in "run make web"),
    or None when every file the build read is unchanged and the zip is the one recorded."""
    dist = root / "web" / "dist" if dist is None else dist
    info_path = dist / "build.json"
    if not info_path.is_file():
        return f"{dist} is not built: run make web"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    recorded = info.get("sources")
    if not isinstance(recorded, dict):
        return f"{info_path} records no source hashes (an older build script): run make web"
    zipped = dist / "chainrule.zip"
    if not zipped.is_file() or _sha256(zipped) != info.get("chainrule_zip_sha256"):
        return f"{zipped} is not the zip that {info_path} records: run make web"
    now = source_table(root)
    changed = sorted(k for k in recorded.keys() & now.keys() if recorded[k] != now[k])
    added = sorted(now.keys() - recorded.keys())
    removed = sorted(recorded.keys() - now.keys())
    if not (changed or added or removed):
        return None
    parts = [
        f"{what}: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"
        for what, names in (("changed", changed), ("new", added), ("gone", removed))
        if names
    ]
    differences = "; ".join(parts)
    return f"web/dist was built from other sources than this checkout ({differences}): run make web"
