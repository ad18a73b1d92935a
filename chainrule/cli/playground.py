"""`chainrule playground`: serve the browser playground (web/dist) on this machine, or export it.

    chainrule playground                  # serve on http://127.0.0.1:8765/ and open the browser
    chainrule playground --port 0         # any free port; the URL is printed
    chainrule playground --no-browser     # serve only (print the URL)
    chainrule playground --export site/   # a self-contained static folder for any static host

The playground is a static folder: chainrule's own Python runs in the browser (Pyodide, in a
Web Worker), so the server only hands out files. It listens on 127.0.0.1 alone, never on the
network, and sends `.wasm` as `application/wasm` and `.mjs`/`.js` as JavaScript, which browsers
require for WebAssembly streaming and module workers. The folder is built from a clone of the
repository with `make web` (npm ci, then web/build.mjs).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
import urllib.parse
import webbrowser
from pathlib import Path
from typing import Any

from .common import UsageError, add_flags, check_folder, path, port

DEFAULT_PORT = 8765

# What the playground serves, by extension; browsers insist on the first three.
MIME_TYPES = {
    ".wasm": "application/wasm", ".mjs": "text/javascript", ".js": "text/javascript",
    ".json": "application/json", ".zip": "application/zip", ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
    ".py": "text/x-python; charset=utf-8", ".map": "application/json",
}  # fmt: skip

BUILD_HINT = (
    "build it from a clone of the chainrule repository with 'make web' "
    "(needs Node.js 18+ and npm: it runs 'npm ci' and 'npm run build' in web/)"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `chainrule playground` to the command line (called from `chainrule.cli.main`)."""
    command = subparsers.add_parser(
        "playground",
        help="open the browser playground: expressions, the neuron, training, all in the page",
        description=(
            "Serve the browser playground on 127.0.0.1 and open it. chainrule's own Python "
            "runs in the page (Pyodide, in a Web Worker) with Graphviz in WebAssembly: nothing "
            "is computed by the server and nothing is loaded from the network."
        ),
    )
    add_flags(command, [
        ("--port N", port,
         f"the port to listen on, on 127.0.0.1 (default: {DEFAULT_PORT}; 0 picks a free one)"),
        ("--no-browser", "store_true", "only serve and print the URL; do not open it"),
        ("--export DIR", path, "write the playground as a self-contained static folder to DIR "
         "(new or empty) and exit; any static web host can serve it"),
        ("--dist DIR", path, "serve or export this built folder instead of the repository's "
         "web/dist"),
    ])  # fmt: skip
    command.set_defaults(func=run, port=DEFAULT_PORT)


def default_dist() -> Path:
    """web/dist of the repository this chainrule was installed from (an editable install)."""
    return Path(__file__).resolve().parents[2] / "web" / "dist"


def _checked_dist(folder: Path | None) -> Path:
    dist = folder or default_dist()
    if not (dist / "index.html").is_file() or not (dist / "chainrule.zip").is_file():
        where = f"{dist} has no built playground" if dist.exists() else f"{dist} does not exist"
        raise UsageError(f"the playground is not built: {where}; {BUILD_HINT}")
    return dist


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet: only errors are said
        pass

    def log_error(self, format: str, *args: object) -> None:
        said = f"{self.requestline!r}: {format % args}"  # a request line may be 64 KB long
        sys.stderr.write(f"playground: {said if len(said) <= 200 else said[:197] + '...'}\n")

    def send_head(self) -> Any:
        """Serve only the regular files of dist: a path with a NUL is a bad request (400); a
        folder without index.html, or a link that leads out of dist, is not found (404)."""
        if "\0" in urllib.parse.unquote(self.path):
            self.send_error(400, "NUL in the path")
            return None
        local = os.path.realpath(self.translate_path(self.path))
        if os.path.isdir(local):
            local = os.path.join(local, "index.html")
        root = os.path.realpath(self.directory)
        inside = os.path.commonpath([root, local]) == root and os.path.isfile(local)
        if not inside:
            self.send_error(404, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path: Any) -> None:
        """No listings: a folder is served by its index.html or not at all."""
        self.send_error(404, "File not found")


def make_server(dist: Path, port: int = 0) -> http.server.ThreadingHTTPServer:
    """A server of `dist` on 127.0.0.1:`port` (0: a free port); call serve_forever() on it."""
    handler = functools.partial(_Handler, directory=str(dist))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def export(dist: Path, target: Path) -> Path:
    """Copy the built playground to `target` (new or empty), all at once: a folder that any
    static host serves as it is."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"--export {target}: the folder exists and is not empty; name a new one")
    parent = target.resolve().parent
    check_folder("--export", target, parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        shutil.copytree(dist, staging, dirs_exist_ok=True)
        (staging / ".nojekyll").touch()  # GitHub Pages: serve the files as they are
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except shutil.Error as err:  # copytree's list of (source, copy, why), one per file
        source, _, why = err.args[0][0]
        if os.path.islink(source) and not os.path.exists(source):
            why = f"a link to {os.readlink(source)}, which does not exist"
        raise UsageError(f"--export {target}: cannot copy {source} ({why})") from None
    except OSError as err:
        raise UsageError(f"--export {target}: {err.strerror or err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def run(args: argparse.Namespace) -> int:
    dist = _checked_dist(args.dist)
    if args.export:
        target = export(dist, args.export)
        files = sum(1 for p in target.rglob("*") if p.is_file())
        print(
            f"wrote {target} ({files} files): upload the folder to any static web host, "
            f"or try it here with: chainrule playground --dist {target}"
        )
        return 0
    try:
        server = make_server(dist, args.port)
    except OSError as err:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{args.port}: {err.strerror or err}; "
            "pick another port with --port N (0 picks a free one)"
        ) from None
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"chainrule playground: serving {dist} at {url} (Ctrl+C to stop)", flush=True)
    if not args.no_browser:
        threading.Timer(0.3, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
