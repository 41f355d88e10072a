"""Playing an array through an output device, with a playhead readable from any thread.

The PortAudio callback only copies the next block out of the array (and into any taps, such as
the Live panel's ring buffer); everything else happens in the caller's thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from ..errors import AudioDeviceError
from .devices import find_device, rescan, sounddevice, unavailable_reason

Tap = Callable[[np.ndarray, int], None]  # (block (frames, channels) float32, samplerate)


class Player:
    """Play/pause/stop/seek over float32 (frames, channels) samples.

    `stream_factory(samplerate, channels, callback, device)` makes the output stream; by default a
    sounddevice.OutputStream. Tests pass a fake that calls the callback itself.
    """

    blocksize = 512

    def __init__(self, *, device: str | int | None = None,
                 stream_factory: Callable[..., object] | None = None):
        self._device = device
        self._factory = stream_factory or self._sounddevice_stream
        self._samples = np.zeros((0, 1), dtype=np.float32)
        self._sr = 44100
        self._pos = 0
        self._playing = False
        self._stream = None
        self._lock = threading.Lock()
        self._clock_pos = 0
        self._clock_time = 0.0
        self._latency = 0.0
        self._taps: list[Tap] = []
        self.on_finished: Callable[[], None] | None = None

    # --- what is played -------------------------------------------------------------------
    def set_audio(self, samples: np.ndarray, samplerate: int) -> None:
        self.stop()
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        self._close_stream()
        with self._lock:
            self._samples = samples
            self._sr = int(samplerate)
            self._pos = 0

    def set_device(self, device: str | int | None) -> None:
        was_playing = self._playing
        self.pause()
        self._close_stream()
        self._device = device
        if was_playing:
            self.play()

    def add_tap(self, tap: Tap) -> None:
        """Also hand every played block to `tap` (called in the audio thread: copy only)."""
        self._taps.append(tap)

    def remove_tap(self, tap: Tap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    @property
    def samplerate(self) -> int:
        return self._sr

    @property
    def duration(self) -> float:
        return len(self._samples) / self._sr

    @property
    def playing(self) -> bool:
        return self._playing

    # --- transport ----------------------------------------------------------------------------
    def play(self) -> None:
        if len(self._samples) == 0:
            return
        with self._lock:
            if self._pos >= len(self._samples):
                self._pos = 0
            self._clock_pos, self._clock_time = self._pos, time.monotonic()
        if self._stream is None:
            self._stream = self._open_stream()
        self._playing = True
        try:
            self._stream.start()
        except Exception as exc:
            self._playing = False
            self._close_stream()
            raise AudioDeviceError(f"cannot start playback: {exc}") from exc

    def pause(self) -> None:
        if not self._playing:
            return
        self._playing = False
        with self._lock:
            self._pos = self._estimated_pos()
        if self._stream is not None:
            try:
                self._stream.stop()
            except Exception:  # a device that vanished cannot be stopped; it is stopped
                self._close_stream()

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def stop(self) -> None:
        self.pause()
        with self._lock:
            self._pos = 0
            self._clock_pos, self._clock_time = 0, time.monotonic()

    def seek(self, seconds: float) -> None:
        with self._lock:
            self._pos = int(np.clip(seconds * self._sr, 0, len(self._samples)))
            self._clock_pos, self._clock_time = self._pos, time.monotonic()

    def position(self) -> float:
        """Seconds of the sample being heard now, interpolated between callbacks for a smooth playhead."""
        with self._lock:
            pos = self._estimated_pos() if self._playing else self._pos
        return pos / self._sr

    def close(self) -> None:
        self.pause()
        self._close_stream()

    # --- internals ----------------------------------------------------------------------------
    def _estimated_pos(self) -> int:
        elapsed = time.monotonic() - self._clock_time - self._latency
        pos = self._clock_pos + int(max(0.0, elapsed) * self._sr)
        return min(pos, self._pos, len(self._samples))

    def _callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        with self._lock:
            start = self._pos
            block = self._samples[start:start + frames]
            n = len(block)
            outdata[:n] = block
            if n < frames:
                outdata[n:] = 0
            self._clock_pos, self._clock_time = start, time.monotonic()
            self._pos = start + n
        for tap in self._taps:
            tap(block, self._sr)
        if n < frames:
            self._playing = False
            sd = sounddevice()
            if self.on_finished is not None:
                self.on_finished()
            raise sd.CallbackStop

    def _open_stream(self):
        try:
            stream = self._factory(samplerate=self._sr, channels=self._samples.shape[1],
                                   callback=self._callback, device=self._device)
        except AudioDeviceError:
            raise
        except Exception as exc:
            raise AudioDeviceError(f"cannot open the output device: {exc}") from exc
        self._latency = float(getattr(stream, "latency", 0.0) or 0.0)
        return stream

    def _sounddevice_stream(self, *, samplerate, channels, callback, device):
        sd = sounddevice()
        dev = find_device(device, "output")
        channels = min(channels, dev.max_output_channels) or 1
        if channels < self._samples.shape[1]:
            # More channels than the device has: play the mix-down.
            with self._lock:
                self._samples = self._samples.mean(axis=1, keepdims=True)
        return sd.OutputStream(samplerate=samplerate, channels=channels, dtype="float32",
                               blocksize=self.blocksize, device=dev.index, callback=callback,
                               finished_callback=None)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass


def output_unavailable_reason() -> str | None:
    """None if audio can be played; otherwise why not, in words for a tooltip."""
    return unavailable_reason("output")


def recheck_output_reason() -> str | None:
    """Like output_unavailable_reason, after making PortAudio look for devices again (an output
    connected since start-up). Every stream must be closed first."""
    rescan()
    return unavailable_reason("output")
