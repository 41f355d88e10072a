"""Audio input: a sounddevice InputStream whose callback only copies into a RingBuffer.

The callback also notes, by copying a few numbers, when each block arrived (for measuring
audio-to-screen latency) and the PortAudio status flags (input overflow: audio the driver had
to drop because the callback was late; input underflow: the callback ran with missing input).
Everything else (resampling, features, writing files) runs in the consumer's thread; see
core/live/pipeline.py. A device that stops delivering audio (unplugged, sound server gone), or
never starts, is noticed by `check()`, which raises AudioDeviceError saying so.

The watchdog counts only the silence it watched. The callback needs the GIL, and so does the
thread calling check(): while something else holds the GIL for seconds (TensorFlow's import, run
while the default model loads, does), neither runs, and the first check() afterwards used to see
a seconds-old last callback and call a working microphone dead. So each check() adds to the
silence at most WATCH_GAP seconds, however long ago the previous one ran: a starved watcher
blames nobody, while a dead device, watched every few milliseconds, is still reported after
stall_seconds (start_seconds before its first block: a sound server may take a moment to start).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from ..errors import AudioDeviceError
from .devices import DeviceInfo, find_device, sounddevice, unavailable_reason
from .ringbuffer import RingBuffer

# How many recent callbacks keep their arrival time: a few seconds' worth at small block sizes.
_ARRIVALS = 2048


class ArrivalLog:
    """When each block of frames arrived: end frame number and time.monotonic() of its callback.

    Written by the audio thread (copy only), read by the consumer to date samples.
    """

    def __init__(self, size: int = _ARRIVALS):
        self._ends = np.zeros(size, dtype=np.int64)
        self._times = np.zeros(size, dtype=np.float64)
        self._count = 0

    def note(self, end_frame: int, when: float) -> None:
        i = self._count % len(self._ends)
        self._ends[i] = end_frame
        self._times[i] = when
        self._count += 1

    def arrival_of(self, frames: np.ndarray | int) -> np.ndarray:
        """Arrival time of each absolute frame number (NaN where no longer, or not yet, known)."""
        frames = np.atleast_1d(np.asarray(frames, dtype=np.int64))
        count = self._count
        size = len(self._ends)
        k = min(count, size)
        if k == 0:
            return np.full(len(frames), np.nan)
        idx = (np.arange(count - k, count)) % size
        ends = self._ends[idx]
        times = self._times[idx]
        # The first block whose end is past the frame is the block that delivered it.
        pos = np.searchsorted(ends, frames, side="right")
        out = np.full(len(frames), np.nan)
        # The oldest remembered block's start is forgotten once the log has wrapped.
        ok = (pos < k) & ((pos > 0) | (count <= size))
        out[ok] = times[pos[ok]]
        return out

    def reset(self) -> None:
        self._count = 0


class Capture:
    """Record from an input device into `ring` at the device's own rate.

    `stream_factory(samplerate=, channels=, blocksize=, device=, callback=, finished_callback=)`
    makes the stream; by default a sounddevice.InputStream. Tests pass a fake.
    """

    blocksize = 256          # ~5 ms at 48 kHz: small blocks keep the latency low
    ring_seconds = 8.0
    stall_seconds = 1.5      # no callback for this long while running: the device is gone
    start_seconds = 5.0      # no first callback for this long after start(): the device is not delivering
    watch_gap = 0.1          # the most silence one check() may add (see the module docstring)

    def __init__(self, *, device: str | int | None = None, samplerate: float | None = None,
                 stream_factory: Callable[..., object] | None = None):
        self._device_request = device
        self._samplerate_request = samplerate
        self._factory = stream_factory or self._sounddevice_stream
        self.device: DeviceInfo | None = None
        self.samplerate = 0
        self.channels = 1
        self.ring: RingBuffer | None = None
        self.arrivals = ArrivalLog()
        self._stream = None
        self._running = False
        self._finished = threading.Event()
        self.callbacks = 0
        self.input_overflows = 0     # dropped: the driver discarded input
        self.input_underflows = 0    # late: the callback ran without full input
        self.last_callback = 0.0
        self._silent = 0.0           # watched seconds without a new callback
        self._seen = 0               # callbacks at the previous check()
        self._last_check = 0.0

    # --- control --------------------------------------------------------------------------
    def start(self) -> None:
        if self._running:
            return
        dev = find_device(self._device_request, "input") if self._factory == self._sounddevice_stream \
            else None
        self.device = dev
        rate = self._samplerate_request or (dev.default_samplerate if dev else 48000.0)
        self.samplerate = int(round(rate))
        self.arrivals.reset()
        self.callbacks = self.input_overflows = self.input_underflows = 0
        self._finished.clear()
        name = dev.name if dev else "input"
        # Mono first (sound servers mix down for us); a raw hardware device may insist on its
        # own channel count, then the consumer mixes down.
        choices = [1] + ([min(2, dev.max_input_channels)] if dev and dev.max_input_channels > 1 else [])
        for attempt, channels in enumerate(choices):
            self.channels = channels
            self.ring = RingBuffer(int(self.samplerate * self.ring_seconds), channels=channels)
            try:
                self._stream = self._factory(samplerate=self.samplerate, channels=channels,
                                             blocksize=self.blocksize, device=dev.index if dev else None,
                                             callback=self._callback,
                                             finished_callback=self._finished.set)
                self.last_callback = self._last_check = time.monotonic()
                self._silent, self._seen = 0.0, 0
                self._stream.start()
                break
            except AudioDeviceError:
                self._close_stream()
                raise
            except Exception as exc:  # PortAudioError and friends, with PortAudio's reason
                self._close_stream()
                if attempt + 1 < len(choices):
                    continue
                raise AudioDeviceError(f"cannot record from {name!r}: {exc}",
                                       hint="choose another input device or check it is connected") from exc
        self._running = True

    def stop(self) -> None:
        self._running = False
        self._close_stream()

    close = stop

    @property
    def running(self) -> bool:
        return self._running

    @property
    def device_name(self) -> str:
        return self.device.name if self.device else "input"

    def check(self) -> None:
        """Raise AudioDeviceError if the device stopped delivering audio while running."""
        if not self._running:
            return
        if self._finished.is_set():
            self._running = False
            raise AudioDeviceError(f"the input device {self.device_name!r} stopped",
                                   hint="was it unplugged? Reconnect it and start again")
        now, seen = time.monotonic(), self.callbacks
        if seen != self._seen:
            self._seen, self._silent = seen, 0.0
        else:
            self._silent += min(max(0.0, now - self._last_check), self.watch_gap)
        self._last_check = now
        if seen == 0 and self._silent > self.start_seconds:
            self._running = False
            self._close_stream()
            raise AudioDeviceError(f"the input device {self.device_name!r} has delivered no audio since it "
                                   f"was started ({self._silent:.1f} s)",
                                   hint="check that it is connected and not held by another program, "
                                        "or choose another input device")
        if seen and self._silent > self.stall_seconds:
            self._running = False
            self._close_stream()
            raise AudioDeviceError(f"the input device {self.device_name!r} has delivered no audio "
                                   f"for {self._silent:.1f} s",
                                   hint="was it unplugged? Reconnect it and start again")

    # --- audio thread ---------------------------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info, status) -> None:
        self.ring.write(indata)
        self.arrivals.note(self.ring.written, time.monotonic())
        self.callbacks += 1
        if status:
            if status.input_overflow:
                self.input_overflows += 1
            if status.input_underflow:
                self.input_underflows += 1
        self.last_callback = time.monotonic()

    # --- internals ------------------------------------------------------------------------
    def _sounddevice_stream(self, *, samplerate, channels, blocksize, device, callback, finished_callback):
        sd = sounddevice()
        return sd.InputStream(samplerate=samplerate, channels=channels, dtype="float32",
                              blocksize=blocksize, device=device, latency="low",
                              callback=callback, finished_callback=finished_callback)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.stop()
        except Exception:  # a vanished device cannot be stopped; it is stopped
            pass
        try:
            stream.close()
        except Exception:
            pass


def input_unavailable_reason() -> str | None:
    """None if some input device exists; otherwise why not, in words the panel can show."""
    return unavailable_reason("input")


def rescan_input_devices():
    """Make PortAudio look for devices again, then list the inputs.

    PortAudio enumerates devices once, when initialised; a microphone plugged in later (without
    a sound server) appears only after this. Every stream must be closed first.
    """
    from .devices import input_devices, rescan

    rescan()
    return input_devices()
