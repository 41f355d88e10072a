"""Keep TensorFlow's start-up notices off the command line's stderr.

TensorFlow 2.21 logs through absl before absl is initialised, and such lines go straight to file
descriptor 2 whatever TF_CPP_MIN_LOG_LEVEL says: importing it printed, twice,

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1795893146.987579  7298 port.cc:153] oneDNN custom operations are on. ...

TF_ENABLE_ONEDNN_OPTS=0 removes that notice by switching oneDNN off, which made a small CNN's
training ~3x slower on the CPU. So instead the first `import tensorflow` (wherever it happens:
directly, or through `import keras`) runs with file descriptor 2 caught; afterwards the lines are
written back, less the absl lines below TF_CPP_MIN_LOG_LEVEL (default here: 2, errors only).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
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


@contextlib.contextmanager
def native_stderr_filtered(level: int | None = None) -> Iterator[None]:
    """Catch what C/C++ code writes to file descriptor 2 meanwhile; write back what the filter keeps."""
    level = min_level() if level is None else level
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to quieten
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = filter_native_log(caught.read(), level)
            if kept:
                with contextlib.suppress(OSError):
                    os.write(2, kept)


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


def quiet_tensorflow_import() -> None:
    """From now on, the first import of TensorFlow in this process keeps its notices to itself.
    TF_CPP_MIN_LOG_LEVEL (a user's own setting wins) also quietens what TensorFlow logs later."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())
