"""Write files so that a crash never leaves half of one behind.

Every file chainrule writes (a saved model, a plot, a run folder) goes through `atomic_write`:
the bytes go to a temporary file in the same folder, are flushed and fsynced, and only then is
the temporary file renamed over the target with `os.replace`. A rename within one folder is
atomic, so a reader (or the user after a crash or Ctrl-C) sees either the old file, untouched,
or the complete new one; never a mixture.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_path", "write_bytes"]


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to `path`; move it onto `path` if the block succeeds.

    For writers that want a file name rather than a file object (`Figure.savefig`). If the
    block raises, the temporary file is removed and `path` is left exactly as it was.
    `fsync=False` is for callers that already synced the file themselves.

    Args:
        path: The file to write.
        fsync: Flush the file to disk before the rename.

    Yields:
        The temporary path to write to.

    Raises:
        FileNotFoundError: The folder does not exist.

    Examples:
        >>> from chainrule.files import atomic_path
        >>> with atomic_path("notes.txt") as tmp:
        ...     _ = tmp.write_text("written whole")
        >>> open("notes.txt").read()
        'written whole'
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():  # say so plainly, not with the temporary file's name
        raise FileNotFoundError(f"cannot write {target}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if fsync:
            _fsync_file(tmp_path)
        _match_permissions(tmp_path, target)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


@contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it replaces `path` in one step.

    If the block raises, nothing at `path` changes and the temporary file is deleted.

    Args:
        path: The file to write.
        mode: "w" (text, `encoding` applies) or "wb" (bytes).
        encoding: The text's encoding.

    Yields:
        The open file.

    Raises:
        ValueError: Another mode.
        FileNotFoundError: The folder does not exist.

    Examples:
        >>> from chainrule.files import atomic_write
        >>> with atomic_write("model.json") as handle:
        ...     _ = handle.write("{}")
        >>> try:
        ...     with atomic_write("model.json") as handle:
        ...         _ = handle.write("{half")
        ...         raise KeyboardInterrupt  # a crash mid-write
        ... except KeyboardInterrupt:
        ...     pass
        >>> open("model.json").read()  # the old file, untouched
        '{}'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path, fsync=False) as tmp:
        with open(tmp, mode, encoding=encoding if mode == "w" else None) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` in one step (see `atomic_write`).

    Args:
        path: The file to write.
        data: Its bytes.

    Returns:
        The path written.

    Raises:
        FileNotFoundError: The folder does not exist.

    Examples:
        >>> from chainrule.files import write_bytes
        >>> write_bytes("data.bin", b"PNG!").stat().st_size
        4
    """
    with atomic_write(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _match_permissions(tmp: Path, target: Path) -> None:
    """Give the new file the mode a plain `open()` would have given it.

    `mkstemp` creates files readable by their owner only (0600); a model file or a plot should
    get the usual permissions: the old file's mode when replacing one, else 0666 minus umask.
    """
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)


def _umask() -> int:
    mask = os.umask(0o022)  # the only portable way to read the umask is to set it
    os.umask(mask)
    return mask
