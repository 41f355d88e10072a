"""Atomic file writes: a temporary file in the same folder, fsync, then rename."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import StudioError


@contextlib.contextmanager
def atomic_path(path: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename.

    On any error the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or (path.suffix + ".part"), dir=folder)
    except OSError as exc:
        raise StudioError(f"cannot write here: {exc.strerror}", path=path) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        # mkstemp makes the file 0600 (private); the saved file gets the mode of the one it
        # replaces, or what the user's umask gives any new file, as other programs' files do.
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            mode = 0o666 & ~current_umask()
        os.chmod(tmp_path, mode)
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def current_umask() -> int:
    """The process's umask, read without changing it (os.umask sets it, racing other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def make_temp_dir(*, prefix: str, suffix: str = "", dir: Path) -> Path:  # noqa: A002 - tempfile's name
    """A new temporary folder in `dir`, to be renamed into place when complete. Unlike
    tempfile.mkdtemp (0700), it gets the mode the user's umask gives any new folder."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=dir))
    os.chmod(tmp, 0o777 & ~current_umask())
    return tmp


def atomic_write_text(path: str | Path, text: str) -> None:
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StudioError(f"cannot write: {exc.strerror}", path=path) from exc
