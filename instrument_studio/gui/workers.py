"""Background work: superqt thread workers, tracked so the window can cancel them on close.

A job is a plain core function. A generator job yields events (progress, partial results) that
arrive in the GUI thread through `yielded`; `returned` carries its result and `errored` the
exception. `quit()` asks a generator job to stop at its next yield.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QThreadPool
from superqt.utils import WorkerBase, create_worker

_active: set[WorkerBase] = set()


def start_worker(fn: Callable, *args, on_yield: Callable | None = None, on_return: Callable | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 on_finish: Callable[[], None] | None = None, **kwargs) -> WorkerBase:
    """Run fn(*args, **kwargs) in the thread pool; callbacks run in the GUI thread."""
    # With on_error given, the error is handled; superqt would otherwise re-raise it in this thread.
    worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=on_error is not None, **kwargs)
    if on_yield is not None and hasattr(worker, "yielded"):
        worker.yielded.connect(on_yield)
    if on_return is not None:
        worker.returned.connect(on_return)
    if on_error is not None:
        worker.errored.connect(on_error)
    _active.add(worker)

    def _done() -> None:
        _active.discard(worker)
        if on_finish is not None:
            on_finish()

    worker.finished.connect(_done)
    worker.start()
    return worker


def active_workers() -> set[WorkerBase]:
    return set(_active)


def stop_all(timeout_ms: int = 5000) -> bool:
    """Ask every running job to stop and wait for them; True if all stopped in time."""
    for worker in list(_active):
        worker.quit()
    done = QThreadPool.globalInstance().waitForDone(timeout_ms)
    # Their `finished` signals are queued to this thread: deliver them so the set empties.
    QCoreApplication.processEvents()
    return done


def finish_before_exit(timeout_ms: int = 30000) -> bool:
    """After the event loop has ended: wait for jobs that outlived the window's stop_all (a model
    still loading, say) before the interpreter tears their workers down; one that finishes after
    that emits from a deleted object ("RuntimeError: Signal source has been deleted" at quit)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)

