"""Pause, resume, step one epoch and stop a training run from another thread (Qt-free).

`TrainingControl` is what the GUI (or a test) holds; `train(..., control=...)` adds one small Keras
callback, `PauseGate`, that waits on it. The gate only overrides `on_train_batch_begin` (which
Keras calls synchronously with empty logs, so it never forces the host to wait for the device and
never turns off Keras' asynchronous batch-end dispatch) and `on_epoch_end`. It comes last among the
run's callbacks, so an epoch's EpochEnd event is out (the curves show that epoch) before a step
pauses.

The `should_stop()` method keeps the old contract: KerasBridge still asks it after batches.
"""

from __future__ import annotations

import threading
import time
from functools import cache


class TrainingControl:
    """Thread-safe run state: running, paused, stepping (run to the end of this epoch, then pause)
    or stopped. Paused time is counted, so a run's training time leaves it out."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._stop = False
        self._paused = False
        self._step = False
        self._paused_at: float | None = None
        self._holding = False
        self.paused_seconds = 0.0

    # --- asked by the GUI ------------------------------------------------------------------------
    def pause(self) -> None:
        with self._cond:
            self._step = False
            self._set_paused(True)

    def resume(self) -> None:
        with self._cond:
            self._step = False
            self._set_paused(False)

    def step_epoch(self) -> None:
        """Run until the end of the current epoch (or, paused between epochs, the next one), then pause."""
        with self._cond:
            self._step = True
            self._set_paused(False)

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._step = False
            self._set_paused(False)

    def reset(self) -> None:
        with self._cond:
            self._stop = self._paused = self._step = False
            self._paused_at, self.paused_seconds = None, 0.0

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def holding(self) -> bool:
        """True while the training thread is actually waiting (the pause has taken effect)."""
        return self._holding

    @property
    def stepping(self) -> bool:
        return self._step

    def should_stop(self) -> bool:
        return self._stop

    # --- asked by the training thread ------------------------------------------------------------
    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; True when the run should stop. `timeout` (tests) bounds the wait."""
        with self._cond:
            self._holding = True
            try:
                self._cond.wait_for(lambda: not self._paused or self._stop, timeout)
            finally:
                self._holding = False
            return self._stop

    def epoch_ended(self, *, final: bool = False) -> bool:
        """At an epoch's end: a step pauses here and waits (not after the run's final epoch, which
        would only hold the finished run). True when the run should stop."""
        with self._cond:
            if self._step:
                self._step = False
                self._set_paused(not final)
            if final:
                return self._stop
        return self.wait_while_paused()

    def _set_paused(self, paused: bool) -> None:
        now = time.perf_counter()
        if paused and not self._paused:
            self._paused_at = now
        elif not paused and self._paused and self._paused_at is not None:
            self.paused_seconds += now - self._paused_at
            self._paused_at = None
        self._paused = paused
        self._cond.notify_all()


@cache
def pause_gate_class() -> type:
    import keras

    from .callbacks import UserStop

    class PauseGate(keras.callbacks.Callback):
        """Holds model.fit while its TrainingControl is paused; leaves it (UserStop) on a stop."""

        def __init__(self, control: TrainingControl):
            super().__init__()
            self.control = control

        def on_train_batch_begin(self, batch, logs=None):
            if self.control.paused and self.control.wait_while_paused():
                raise UserStop()

        def on_epoch_end(self, epoch, logs=None):
            final = epoch + 1 >= int(self.params.get("epochs") or 0) or bool(self.model.stop_training)
            if self.control.epoch_ended(final=final):
                raise UserStop()

    return PauseGate
