"""Where the live pipeline's audio comes from: a microphone, or the Audio panel's player.

A source has `ring` (RingBuffer the audio thread writes), `samplerate`, `arrivals` (ArrivalLog:
when each block reached the callback), `start()`, `stop()`, `check()` (raises AudioDeviceError
when the input is gone), `kind`, `name`, and `callbacks`/`dropped`/`late` counters.
"""

from __future__ import annotations

import time

import numpy as np

from ..audio.audiofile import to_mono
from ..audio.capture import ArrivalLog, Capture
from ..audio.playback import Player
from ..audio.ringbuffer import RingBuffer


class MicSource:
    """The live pipeline's input from a microphone (core.audio.capture.Capture)."""

    kind = "microphone"

    def __init__(self, device: str | int | None = None, *, capture: Capture | None = None):
        self.capture = capture or Capture(device=device)

    def start(self) -> None:
        self.capture.start()

    def stop(self) -> None:
        self.capture.stop()

    def check(self) -> None:
        self.capture.check()

    @property
    def ring(self) -> RingBuffer:
        return self.capture.ring

    @property
    def samplerate(self) -> int:
        return self.capture.samplerate

    @property
    def arrivals(self) -> ArrivalLog:
        return self.capture.arrivals

    @property
    def name(self) -> str:
        return self.capture.device_name

    @property
    def dropped(self) -> int:
        return self.capture.input_overflows

    @property
    def late(self) -> int:
        return self.capture.input_underflows

    @property
    def callbacks(self) -> int:
        return self.capture.callbacks


class PlaybackSource:
    """The live pipeline's input from the Audio panel's Player: what is being played, as played.

    The tap runs in the player's audio thread: it copies the block into the ring (a mix-down to
    mono for multichannel files, a few microseconds) and notes the time.
    """

    kind = "playback"
    ring_seconds = 8.0

    def __init__(self, player: Player, *, name: str = "Audio panel playback"):
        self.player = player
        self.name = name
        self.samplerate = int(player.samplerate)
        self.ring = RingBuffer(int(self.samplerate * self.ring_seconds))
        self.arrivals = ArrivalLog()
        self.callbacks = 0
        self.dropped = self.late = 0

    def start(self) -> None:
        self.player.add_tap(self._tap)

    def stop(self) -> None:
        self.player.remove_tap(self._tap)

    def check(self) -> None:
        pass  # a paused player is not an error: the view just stops scrolling

    def _tap(self, block: np.ndarray, sr: int) -> None:
        if sr != self.samplerate:
            # A file at another rate began: the consumer sees the change and restarts its
            # resampler; a block or two at the boundary may be misdated, nothing more.
            self.samplerate = int(sr)
        self.ring.write(to_mono(block))
        self.arrivals.note(self.ring.written, time.monotonic())
        self.callbacks += 1
