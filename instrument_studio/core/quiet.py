"""Keeping C libraries' notices off the terminal: a command's error is one line.

Two libraries print past Python, straight to file descriptor 2:

* libsndfile's MP3 decoder (mpg123: "Illegal Audio-MPEG-Header ... Trying to resync"), as it opens
  and as it reads: `quiet_stderr()` drops everything written meanwhile.
* TensorFlow 2.21 logs through absl before absl is initialised, whatever TF_CPP_MIN_LOG_LEVEL says;
  importing it printed, twice,

      WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
      I0000 00:00:1795893146.987579  7298 port.cc:153] oneDNN custom operations are on. ...

  TF_ENABLE_ONEDNN_OPTS=0 removes that notice by switching oneDNN off, which made a small CNN's
  training ~3x slower on the CPU. So instead the first `import tensorflow` (wherever it happens:
  import_tensorflow(), or `import keras`) runs with fd 2 caught once `quiet_tensorflow_import()`
  has been called; afterwards the lines are written back, less the absl lines below
  TF_CPP_MIN_LOG_LEVEL (a real error, or a shell's TF_CPP_MIN_LOG_LEVEL=0, still shows).

Both go through one capture of fd 2, re-entrant and shared between threads (fd 2 is one per
process): it is restored when the last user leaves. While anyone in it asked for silence, nothing
is written back. Python exceptions are unaffected; they are printed later, if at all.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

# absl's prefix: severity letter, mmdd, time, thread, file:line]
_ABSL_LINE = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^\]]*\] ")
_PREINIT_WARNING = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_LEVELS = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}


def min_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def filter_native_log(data: bytes, level: int) -> bytes:
    """`data` less absl log lines below `level` (0 info, 1 warning, 2 error, 3 fatal) and, when
    anything is hidden, absl's notice that it is not initialised. Everything else is kept."""
    if level <= 0:
        return data
    kept = []
    for line in data.splitlines(keepends=True):
        m = _ABSL_LINE.match(line)
        if m and _LEVELS[m.group(1)] < level:
            continue
        if line.rstrip(b"\r\n") == _PREINIT_WARNING:
            continue
        kept.append(line)
    return b"".join(kept)


class _Capture:
    """fd 2 redirected while at least one user is inside; what to write back decided at the end."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0
        self.saved: int | None = None
        self.caught = None             # a temporary file, or None when writing to /dev/null
        self.levels: list[int | None] = []

    def enter(self, level: int | None) -> None:
        with self.lock:
            if self.depth == 0:
                self.levels = []
                try:
                    sys.stderr.flush()
                    saved = os.dup(2)
                except (OSError, ValueError, AttributeError):  # no usable fd 2: nothing to quieten
                    saved = None
                if saved is not None:
                    try:
                        if level is None:  # silence only: no need to keep anything
                            target = os.open(os.devnull, os.O_WRONLY)
                            os.dup2(target, 2)
                            os.close(target)
                        else:
                            self.caught = tempfile.TemporaryFile()
                            os.dup2(self.caught.fileno(), 2)
                    except OSError:
                        os.close(saved)
                        saved = None
                self.saved = saved
            self.depth += 1
            self.levels.append(level)

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth or self.saved is None:
                return
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(self.saved, 2)
            os.close(self.saved)
            self.saved = None
            caught, self.caught = self.caught, None
            if caught is None:
                return
            with caught:
                caught.seek(0)
                data = caught.read()
            if None in self.levels:
                return
            kept = filter_native_log(data, min(self.levels))  # type: ignore[type-var]
            if kept:
                with contextlib.suppress(OSError):
                    os.write(2, kept)


_capture = _Capture()


@contextlib.contextmanager
def _captured(level: int | None) -> Iterator[None]:
    _capture.enter(level)
    try:
        yield
    finally:
        _capture.leave()


def quiet_stderr() -> contextlib.AbstractContextManager[None]:
    """Drop what C code writes to fd 2 meanwhile (mpg123's resync chatter around MP3 reads)."""
    return _captured(None)


def native_stderr_filtered(level: int | None = None) -> contextlib.AbstractContextManager[None]:
    """Catch what C/C++ code writes to fd 2 meanwhile; write back what filter_native_log keeps at
    `level` (default: TF_CPP_MIN_LOG_LEVEL)."""
    return _captured(min_level() if level is None else level)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):  # is_package, get_resource_reader, ...: the real loader's
        return getattr(self.inner, name)

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module) -> None:
        with native_stderr_filtered():
            self.inner.exec_module(module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of the first `import tensorflow`; gone from sys.meta_path after that."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow_import(level: str = "2") -> None:
    """From now on, the first import of TensorFlow in this process keeps its notices to itself.
    TF_CPP_MIN_LOG_LEVEL (default `level`; a user's own setting wins) also quietens what TensorFlow
    logs later."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", level)
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())
