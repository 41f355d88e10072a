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
Work that needs no TensorFlow (feature extraction above all) stays on the pool thread and hands only
its TensorFlow steps over (`training_run(run_tf=run_in_tf_thread)`): a long extraction must not hold
the one thread that model loading and summaries wait for.

The rule, precisely: TensorFlow runs only on long-lived plain Python threads, never on a reused Qt
pool thread. This thread does every build, fit, load, save and summary. The live predictor
(core/predict/live_predict.py) has a long-lived thread of its own that only *calls* a model already
loaded, so live answers do not queue behind a training run; calling a built model touches none of
Keras' global state, and the two never share a model. tests/core/test_tf_threads.py runs a fit here
while another thread calls a model, and checks both.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..errors import ModelError
from ..quiet import quiet_tensorflow_import

# Imported by TensorFlow and Keras as they load, for features this app never uses: TensorFlow
# Lite's JAX converter imports jax (1.0 s here, when JAX is installed: the [jax] extra), Keras'
# image-gallery plots import matplotlib.pyplot (1.1 s; the app draws with matplotlib's object API
# only). Both imports are guarded by `except ImportError` in those libraries. Together they were a
# third of TensorFlow's import and, in a cold classroom start, CPU taken from rendering the starter set.
UNUSED_AT_IMPORT = ("jax", "matplotlib.pyplot")


@contextlib.contextmanager
def skipped_imports(names=UNUSED_AT_IMPORT):
    """Meanwhile, `import NAME` of the modules not yet loaded raises ImportError (Python's
    sys.modules None entry); afterwards they import normally, e.g. jax for the JAX backend."""
    blocked = [n for n in names if n not in sys.modules]
    for n in blocked:
        sys.modules[n] = None
    try:
        yield
    finally:
        for n in blocked:
            if n in sys.modules and sys.modules[n] is None:
                del sys.modules[n]


def import_tensorflow():
    """Import TensorFlow with its C++ run-time log silenced (e.g. tf.data's "NodeDef mentions attribute"
    lines at every fit); real failures still arrive as Python exceptions. The start-up notices (absl,
    oneDNN, CPU features) ignore a level set from inside the process: fd 2 is caught while TensorFlow
    loads and only lines at TF_CPP_MIN_LOG_LEVEL or above are written back (core/quiet.py; a shell's
    0 or 1 shows them)."""
    quiet_tensorflow_import("3")  # the start-up notices, unless the shell asked for them
    try:
        with skipped_imports():
            import tensorflow as tf
    except ImportError as exc:
        raise tensorflow_missing(exc) from exc
    return tf


def tensorflow_missing(exc: ImportError) -> ModelError:
    """The one-line error for a TensorFlow that is not installed (or has no wheel for this platform)
    or does not import: names the extra that installs it and the other Keras backends."""
    from .backend import backend_missing

    return backend_missing("tensorflow", exc)


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
