"""TensorFlow in this process: imported quietly, and run on one long-lived thread when there is a GUI.

models, training and bundle all import TensorFlow through import_tensorflow() here, so none of them
needs another for it (models and training used to import each other for this one function).

Why: TensorFlow keeps per-thread state both in C++ (thread_local) and in Python (threading.local).
Qt's thread-pool threads outlive the Python thread state PySide attaches to each job, so a second
Keras fit() on a reused pool thread finds its Python-side graph state gone while the C++ side still
points at it, and the process segfaults (reproduced here: two fits in a row through superqt workers).
A plain Python thread that never ends keeps both sides together; it also runs TF jobs one at a time,
which Keras' global state (seeds, name scopes) wants anyway.

GUI code wraps TF jobs: `start_worker(run_in_tf_thread, fn, *args, ...)`; the pool thread only waits.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import sys
import threading
from collections.abc import Callable
from typing import Any


def import_tensorflow():
    """Import TensorFlow with its C++ run-time log silenced (e.g. tf.data's "NodeDef mentions attribute"
    lines at every fit); real failures still arrive as Python exceptions. The start-up notices (absl,
    oneDNN, CPU features) ignore a level set from inside the process: fd 2 is silenced while TensorFlow
    loads, unless the shell set TF_CPP_MIN_LOG_LEVEL to 0 or 1 to see them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] in ("0", "1"):
        import tensorflow as tf  # already loaded, or the user asked to see the notices
    else:
        from ..quiet import quiet_stderr

        with quiet_stderr():  # absl's "All log messages before absl::InitializeLog()", oneDNN, CPU flags
            import tensorflow as tf
    return tf


_lock = threading.Lock()
_executor: cf.ThreadPoolExecutor | None = None
_thread_ident: int | None = None


def _mark() -> None:
    global _thread_ident
    _thread_ident = threading.get_ident()


def run_in_tf_thread(fn: Callable[..., Any], /, *args, **kwargs) -> Any:
    """Run fn(*args, **kwargs) on the TensorFlow thread and return its result (or raise its error)."""
    global _executor
    if threading.get_ident() == _thread_ident:
        return fn(*args, **kwargs)
    with _lock:
        if _executor is None:
            _executor = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tensorflow", initializer=_mark)
    return _executor.submit(fn, *args, **kwargs).result()
