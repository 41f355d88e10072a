"""Stand-ins for hardware: an output stream that consumes audio at real-time pace."""

from __future__ import annotations

import threading
import time

import numpy as np


class FakeStream:
    """Calls the player's callback at real-time pace from its own thread, like PortAudio."""

    latency = 0.0

    def __init__(self, *, samplerate, channels, callback, device):
        self.sr, self.channels, self.callback = samplerate, channels, callback
        self.blocks: list[np.ndarray] = []
        self._run = threading.Event()
        self._thread = None

    def start(self):
        self._run.set()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        frames = 256
        while self._run.is_set():
            out = np.zeros((frames, self.channels), dtype=np.float32)
            try:
                self.callback(out, frames, None, None)
            except Exception:  # CallbackStop: PortAudio still plays this last block
                self.blocks.append(out.copy())
                self._run.clear()
                return
            self.blocks.append(out.copy())
            time.sleep(frames / self.sr)

    def stop(self):
        self._run.clear()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(1)

    def close(self):
        self.stop()


def slow_model(live, seconds: float) -> list[int]:
    """A LivePredictor's model made to take `seconds` an answer (a musicnn-like cost); returns the
    list the lengths of the windows it was asked about are appended to."""
    calls = []
    real = live.predictor.predict_window

    def slow(y):
        calls.append(len(y))
        time.sleep(seconds)
        return real(y)

    live.predictor.predict_window = slow
    return calls
