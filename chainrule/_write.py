"""Write a file all at once: either the old file stays, or the complete new one replaces it.

Pictures and graph sources are written to a temporary file in the target's own folder and then
renamed over the target (`os.replace`, atomic within a folder), so a crash, a Ctrl-C or a full
disk never leaves a half-written picture where the user's file was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` through a temporary file next to it; return the path written.

    Raises FileNotFoundError naming the folder when it does not exist (rather than the
    temporary file's name, which would puzzle the user).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {target}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _mode_for(target: Path) -> int:
    """The permissions a plain `open()` would give (mkstemp's 0600 is too private for a plot)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0o022)  # reading the umask portably means setting it
        os.umask(mask)
        return 0o666 & ~mask
