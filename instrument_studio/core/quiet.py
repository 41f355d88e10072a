"""Keeping C libraries' notices off the terminal: a command's error is one line."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved_stderr: int | None = None


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 around C libraries that print past Python: libsndfile's MP3 decoder
    (mpg123: "Illegal Audio-MPEG-Header ... Trying to resync") and TensorFlow's start-up (absl,
    oneDNN and CPU-feature notices). A command's one-line error must not drown in them.
    Re-entrant and shared between threads (fd 2 is one per process): it is restored when the
    last user leaves. Python exceptions are unaffected; they are printed later, if at all."""
    global _quiet_depth, _saved_stderr
    with _quiet_lock:
        if _quiet_depth == 0:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
                devnull = os.open(os.devnull, os.O_WRONLY)
            except (OSError, ValueError, AttributeError):  # no fd 2 to silence: nothing to do
                saved = None
            else:
                os.dup2(devnull, 2)
                os.close(devnull)
            _saved_stderr = saved
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _saved_stderr is not None:
                os.dup2(_saved_stderr, 2)
                os.close(_saved_stderr)
                _saved_stderr = None
