"""Keras callbacks of a training run, and the plain rules behind them.

The rules (AccuracyTarget, BestTracker) are plain Python, tested without TensorFlow. The Keras
classes (TrainToAccuracy, KeepBest, KerasBridge) are defined on first access through the module's
`__getattr__`, so importing this module does not import Keras.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from functools import cache

from ..events import BatchEnd, EpochEnd


class AccuracyTarget:
    """The course assignment's TrainToAccuracy rule: stop once validation accuracy has been above
    `threshold` for `patience` epochs in a row. "Above" is strict; an epoch at or below the
    threshold resets the count."""

    def __init__(self, threshold: float, patience: int = 1):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"target accuracy must be in (0, 1], got {threshold}")
        if patience < 1:
            raise ValueError(f"patience must be at least 1 epoch, got {patience}")
        self.threshold = float(threshold)
        self.patience = int(patience)
        self.in_a_row = 0

    def update(self, val_accuracy: float) -> bool:
        """Feed one epoch's validation accuracy; True when training should stop."""
        if val_accuracy is not None and not math.isnan(val_accuracy) and val_accuracy > self.threshold:
            self.in_a_row += 1
        else:
            self.in_a_row = 0
        return self.in_a_row >= self.patience


class BestTracker:
    """Which epoch is best by validation accuracy (ties: lower validation loss, then the earlier)."""

    def __init__(self) -> None:
        self.best_epoch: int | None = None     # 1-based
        self.best_accuracy = -math.inf
        self.best_loss = math.inf

    def update(self, epoch: int, val_accuracy: float, val_loss: float) -> bool:
        """True when `epoch` (1-based) is the new best."""
        if val_accuracy is None or math.isnan(val_accuracy):
            return False
        loss = math.inf if val_loss is None or math.isnan(val_loss) else val_loss
        if val_accuracy > self.best_accuracy or (val_accuracy == self.best_accuracy and loss < self.best_loss):
            self.best_epoch, self.best_accuracy, self.best_loss = epoch, val_accuracy, loss
            return True
        return False


class UserStop(Exception):
    """Raised from a batch end when should_stop() says so: leaves model.fit at once, without the
    validation pass Keras would otherwise run after `stop_training` (which can take seconds)."""


def _f(logs: dict, key: str) -> float:
    value = logs.get(key) if logs else None
    return float("nan") if value is None else float(value)


@cache
def _classes() -> dict[str, type]:
    import keras

    class TrainToAccuracy(keras.callbacks.Callback):
        """Stop once val_accuracy has been above `threshold` for `patience` epochs in a row."""

        def __init__(self, threshold: float, patience: int = 1):
            super().__init__()
            self.rule = AccuracyTarget(threshold, patience)
            self.stopped_epoch: int | None = None

        def on_train_begin(self, logs=None):
            self.rule.in_a_row = 0
            self.stopped_epoch = None

        def on_epoch_end(self, epoch, logs=None):
            if self.rule.update(_f(logs, "val_accuracy")):
                self.stopped_epoch = epoch + 1
                self.model.stop_training = True

    class KeepBest(keras.callbacks.Callback):
        """Record the history and keep a copy of the weights of the best epoch by val_accuracy."""

        def __init__(self):
            super().__init__()
            self.tracker = BestTracker()
            self.best_weights = None
            self.history: dict[str, list[float]] = {k: [] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}

        def on_epoch_end(self, epoch, logs=None):
            for key in self.history:
                self.history[key].append(_f(logs, key))
            if self.tracker.update(epoch + 1, _f(logs, "val_accuracy"), _f(logs, "val_loss")):
                self.best_weights = self.model.get_weights()

        def restore(self) -> bool:
            if self.best_weights is None:
                return False
            self.model.set_weights(self.best_weights)
            return True

    class KerasBridge(keras.callbacks.Callback):
        """Turns Keras' batch and epoch logs into core.events dataclasses, and nothing else; asks
        should_stop() at every batch end it sees and leaves fit() (UserStop) when it says yes.

        Async-safe: Keras turns off async dispatch for a callback that overrides a batch-end method
        unless it says `async_safe`, and then converts the logs to Python on the training thread after
        every batch (a device-to-host sync that cost a third of an H200's throughput). This one is
        safe: on JAX and PyTorch Keras calls it from its callback pool, possibly several batches at
        once and out of order, so points are re-ordered here under a lock; on TensorFlow (not
        thread-safe in Keras' sense) it is called in order on the training thread. With
        steps_per_execution > 1 Keras reports one batch end per block of steps.

        BatchEnd events are throttled to `min_interval` (the frame rate): each carries every batch
        point since the previous one (block_x, block_loss), so the curves keep batch resolution.
        """

        async_safe = True

        def __init__(self, *, on_event: Callable | None, should_stop: Callable[[], bool] | None,
                     n_train: int, batch_size: int, best: BestTracker | None = None,
                     steps_per_execution: int = 1, min_interval: float = 1 / 60):
            super().__init__()
            self.on_event = on_event or (lambda event: None)
            self.should_stop = should_stop or (lambda: False)
            self.n_train = int(n_train)
            self.batch_size = int(batch_size)
            self.batches = max(1, math.ceil(self.n_train / self.batch_size))
            self.spe = max(1, int(steps_per_execution))
            self.best = best
            self.min_interval = float(min_interval)
            self.epoch = 0
            self.t0 = self.t_epoch = time.perf_counter()
            self._lock = threading.Lock()
            self._pending: dict[int, tuple] = {}
            self._block: list[tuple] = []
            self._next = 0
            self._last_emit = -math.inf
            self._stopped = False

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()
            self._stopped = False

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.t_epoch = time.perf_counter()
            with self._lock:
                self._pending.clear()
                self._block.clear()
                self._next = min(self.spe - 1, self.batches - 1)

        def on_train_batch_end(self, batch, logs=None):
            if self._stopped:
                return
            now = time.perf_counter()
            batch = min(int(batch), self.batches - 1)
            point = (batch, _f(logs, "loss"), _f(logs, "accuracy"), now - self.t0)
            with self._lock:
                if self._stopped:
                    return
                self._pending[batch] = point
                while self._next in self._pending:
                    b = self._next
                    self._block.append(self._pending.pop(b))
                    self._next = self.batches if b == self.batches - 1 else min(b + self.spe, self.batches - 1)
                last = bool(self._block) and self._block[-1][0] == self.batches - 1
                if self._block and (last or now - self._last_emit >= self.min_interval):
                    self._emit(now)
                # Asked after the event, as a user decides on what the curves show.
                self._stopped = bool(self.should_stop())
                if self._stopped and self._block:
                    self._emit(now)
            if self._stopped:
                raise UserStop()

        def _emit(self, now: float) -> None:
            block, self._block = self._block, []
            self._last_emit = now
            batch, loss, accuracy, elapsed = block[-1]
            seen = min(self.n_train, (batch + 1) * self.batch_size)
            xs = tuple(self.epoch + min(self.n_train, (b + 1) * self.batch_size) / self.n_train for b, *_ in block)
            self.on_event(BatchEnd(
                step=self.epoch * self.batches + batch, epoch=self.epoch, batch=batch, epoch_float=xs[-1],
                loss=loss, accuracy=accuracy, samples_seen=self.epoch * self.n_train + seen, elapsed=elapsed,
                block_x=xs, block_loss=tuple(p[1] for p in block)))

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            with self._lock:  # Keras has run every batch end of the epoch by now
                if self._block:
                    self._emit(now)
            best = self.best.best_epoch if self.best is not None else None
            self.on_event(EpochEnd(
                epoch=epoch + 1, loss=_f(logs, "loss"), accuracy=_f(logs, "accuracy"),
                val_loss=_f(logs, "val_loss"), val_accuracy=_f(logs, "val_accuracy"),
                seconds=now - self.t_epoch, elapsed=now - self.t0, best_epoch=best or 0))
            if self.should_stop():
                raise UserStop()

    return {"TrainToAccuracy": TrainToAccuracy, "KeepBest": KeepBest, "KerasBridge": KerasBridge}


def __getattr__(name: str):
    if name in ("TrainToAccuracy", "KeepBest", "KerasBridge"):
        return _classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
