"""ONE clock for everything that animates: playheads, live spectrograms, training curves.

A single-shot timer re-armed after each frame (pyqtgraph's ImageItem example): if drawing takes
longer than a frame, frames are skipped rather than queued, so the window never builds a backlog.
Subscribers are called in the GUI thread; they drain whatever their producers left in rings or
queues and redraw.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal


class FrameClock(QObject):
    ticked = Signal(float)  # monotonic time of the frame

    def __init__(self, fps: float = 60.0, parent: QObject | None = None):
        super().__init__(parent)
        self._interval = 1.0 / fps
        self._deadline = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        # A coarse timer rounds 16.7 ms to 17 or more and caps the clock near 58 fps.
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._subscribers: list[Callable[[float], None]] = []
        self._frame_times: deque[float] = deque(maxlen=240)
        self._running = False

    def subscribe(self, callback: Callable[[float], None]) -> None:
        if callback not in self._subscribers:
            self._subscribers.append(callback)
        if not self._running:
            self.start()

    def unsubscribe(self, callback: Callable[[float], None]) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def start(self) -> None:
        self._running = True
        self._deadline = time.monotonic() + self._interval
        self._timer.start(int(self._interval * 1000))

    def stop(self) -> None:
        self._running = False
        self._timer.stop()

    def fps(self) -> float:
        """Frames per second over the last few seconds."""
        if len(self._frame_times) < 2:
            return 0.0
        span = self._frame_times[-1] - self._frame_times[0]
        return (len(self._frame_times) - 1) / span if span > 0 else 0.0

    def _tick(self) -> None:
        if not self._running:
            return
        started = time.monotonic()
        self._frame_times.append(started)
        for callback in list(self._subscribers):
            callback(started)
        self.ticked.emit(started)
        # Frames are due on a fixed grid; a frame that ran long skips the slots it overran
        # instead of queueing them.
        now = time.monotonic()
        self._deadline += self._interval
        if self._deadline <= now:
            self._deadline = now + self._interval - ((now - self._deadline) % self._interval)
        self._timer.start(max(0, int((self._deadline - now) * 1000)))
