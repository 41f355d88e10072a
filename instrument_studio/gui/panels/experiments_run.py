"""What the Experiments panel's sweep worker shares with the GUI thread: the run in progress
(LiveRun, filled from the sweep's thread and read on the frame clock), and the real trainer and
test-split evaluation, each sent to the process's one TensorFlow thread (core.tfthread)."""

from __future__ import annotations

import threading

from ...core.events import Progress, SweepRunStarted
from ...core.experiments.sweep import evaluate_test_accuracy
from ...core.learn.tfthread import run_in_tf_thread


class LiveRun:
    """The run in progress: epoch scores pushed from the sweep's thread, read on the frame clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._history: dict[str, list[float]] = {}
        self._progress: Progress | None = None
        self._run: SweepRunStarted | None = None
        self._version = 0

    def reset(self) -> None:
        with self._lock:
            self._history = {}
            self._progress = None
            self._run = None
            self._version += 1

    def push(self, event: object) -> None:
        if isinstance(event, SweepRunStarted):  # from the sweep's thread, before the run's epochs
            self.reset()
            with self._lock:
                self._run = event
            return
        if isinstance(event, Progress):
            with self._lock:
                self._progress = event
                self._version += 1
            return
        if type(event).__name__ != "EpochEnd":
            return
        with self._lock:
            for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
                value = getattr(event, key, None)
                if value is not None:
                    self._history.setdefault(key, []).append(float(value))
            self._version += 1

    def snapshot(self) -> tuple[int, dict[str, list[float]], Progress | None, SweepRunStarted | None]:
        with self._lock:
            return self._version, {k: list(v) for k, v in self._history.items()}, self._progress, self._run


def real_train(cfg, data, **kwargs):
    from ...core.learn.training import train

    return train(cfg, data, **kwargs)


def on_tf_thread(fn):
    def call(*args, **kwargs):
        return run_in_tf_thread(fn, *args, **kwargs)

    return call


def default_train_fn():
    return on_tf_thread(real_train)


def default_evaluate_fn():
    return on_tf_thread(evaluate_test_accuracy)
