"""The output folder of a `chainrule train` run: refused before any work if it cannot take the
run, and then written whole or not at all.

Nothing already on disk is changed unless `--force` says so, and then only the files of the
run, each replaced whole.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import UsageError

__all__ = ["RUN_FILES", "check_out", "write_run"]

RUN_FILES = ("model.json", "loss.png", "boundary.png", "confusion.png", "samples.png")


def check_out(out: Path, force: bool) -> None:
    """Refuse, before any work, an --out that is a file or that already holds a run."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if out.is_dir() and not force:
        taken = [name for name in RUN_FILES if (out / name).exists()]
        if taken:
            raise UsageError(
                f"--out {out} already holds a run ({', '.join(taken)}); "
                "pass --force to replace it, or choose another --out"
            )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"--out {out}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK) and not out.exists():
                raise UsageError(f"--out {out}: cannot create folders in {parent}")
            break


def write_run(out: Path, writers: dict[str, Callable[[Path], Any]], force: bool) -> None:
    """Write every file of the run, or none of them.

    The files are first written into a temporary folder: next to `out` when `out` is new
    (the folder is then renamed into place in one step), inside `out` when it exists (allowed
    when it holds no earlier run, or with --force; the new files then replace the old ones by
    rename, only once all of them were written). A failure leaves `out` as it was.
    """
    check_out(out, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fresh = not out.exists()
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent if fresh else out))
        try:
            for name, write in writers.items():
                write(stage / name)
            if fresh:
                os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes it private (0700)
                os.rename(stage, out)
            else:
                for name in writers:
                    os.replace(stage / name, out / name)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    except OSError as err:
        raise UsageError(f"cannot write the run into {out}: {err.strerror or err}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
