"""Atomic file writes: a temporary file in the same folder, fsync, then rename.

The temporary file (mkstemp: 0600) and folder (mkdtemp: 0700) are private while written; before
they take their final name they get the mode any new file gets under the umask, or a replaced
file's own mode (chmod_to_umask)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from .errors import StudioError

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it (Linux: /proc/self/status; elsewhere set and
    restored under a lock, the only way the standard library offers)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def umask_file_mode() -> int:
    """The mode a new file gets from open(): 0o666 less the umask."""
    return 0o666 & ~current_umask()


def umask_dir_mode() -> int:
    """The mode a new folder gets from mkdir(): 0o777 less the umask."""
    return 0o777 & ~current_umask()


def chmod_to_umask(tmp: str | Path, *, directory: bool = False, like: str | Path | None = None) -> None:
    """Give a private temporary file or folder (mkstemp: 0600, mkdtemp: 0700) the mode a new one
    gets under the umask, before it takes its final name; or, with `like` naming a file it is about
    to replace, that file's mode (a replaced file keeps its mode, as other programs' saves do).
    Best effort: a file system without modes keeps what it has."""
    mode = umask_dir_mode() if directory else umask_file_mode()
    if like is not None:
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.stat(like).st_mode)
    with contextlib.suppress(OSError):
        os.chmod(tmp, mode)


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
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        chmod_to_umask(tmp_path, like=path)   # private while written; then the replaced file's mode or the umask's
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StudioError(f"cannot write: {exc.strerror}", path=path) from exc
