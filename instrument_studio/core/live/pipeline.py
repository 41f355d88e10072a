"""The live pipeline (Qt-free): input ring -> resampling -> StreamingMel, levels, takes.

    source (microphone or player tap) --ring--> LivePipeline thread --events--> GUI frame clock
                                                        |--> listeners (e.g. a live predictor)
                                                        |--> take being recorded (WAV on disk)

A source's audio callback only copies into a RingBuffer. The pipeline's own thread wakes every
few milliseconds, drains the ring, resamples from the source's rate to the analysis rate with a
streaming soxr resampler, runs `features.StreamingMel` (the very code that makes the training
features), measures the level, appends to the take being recorded, and queues small events
(core.events: LiveFrames, Level, TakeStarted/TakeSaved/TakeFailed, LiveStopped). The GUI takes
them with `poll()` on its frame clock; nothing here knows about Qt.

Subscribing to the live audio (for live prediction and other consumers):

- ``pipeline.add_listener(fn)``: ``fn(block, sr, first)`` is called in the pipeline's thread for
  every new piece of analysis-rate audio (resampled exactly as training files are) (mono float32 ``block``, ``sr`` = analysis rate,
  ``first`` = index of its first sample since Start). Keep it quick (copy, hand over to your
  own worker); if it raises, it is removed and a ``LiveError`` event says so.
- ``pipeline.latest_audio(seconds)``: a copy of the newest ``seconds`` of analysis-rate audio
  (mono float32), callable from any thread at any time (for example from a predictor's worker
  every half second). Up to ``history_seconds`` are kept.
- ``pipeline.add_frames_listener(fn)``: ``fn(LiveFrames)`` for each batch of new mel columns,
  in the pipeline's thread (same dB values as the display).
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from ..audio.audiofile import to_mono
from ..audio.levels import LevelMeter
from ..audio.ringbuffer import RingBuffer
from ..config import MelConfig
from ..errors import AudioDeviceError, StudioError
from ..events import (
    LiveError,
    LiveFrames,
    LiveStarted,
    LiveStopped,
    TakeFailed,
    TakeSaved,
    TakeStarted,
)
from ..features.mel import StreamingMel
from .sources import MicSource, PlaybackSource
from .takes import TakeWriter

__all__ = ["LivePipeline", "MicSource", "PlaybackSource"]

# Quality of the streaming resampler feeding the live DISPLAY. "LQ" delays by ~11 ms where "HQ"
# delays ~21 ms; both are flat far beyond the mel filterbank's fmax (8 kHz) and differ below the
# display floor, so the picture keeps the lower latency.
RESAMPLE_QUALITY = "LQ"
# What listeners and latest_audio() get (the audio a live predictor turns into model input) is
# resampled exactly as core.audio.audiofile.load resamples files for training: soxr "HQ" (its streaming
# form gives the same samples as the one-shot call), so live features cannot drift from training.
MODEL_RESAMPLE_QUALITY = "HQ"

Listener = Callable[[np.ndarray, int, int], None]


class LivePipeline:
    """Live analysis of a source's audio in a thread of its own (see the module docstring)."""

    # Seconds between drains: below a 16.7 ms frame. 5 ms (about the audio callback rate) cost the
    # pipeline thread 11.4 % of a core against 8.7 % at 10 ms, for 1 ms of median latency
    # (bench/live.py, 60 s each, back to back).
    period = 0.010
    level_interval = 1 / 60  # one Level event per this much audio

    def __init__(self, *, mel: MelConfig | None = None, history_seconds: float = 30.0,
                 max_events: int = 2048, spectrogram: bool = True):
        self.mel = mel or MelConfig()
        # False: levels and takes only (the `record` command): no resampling, no mel, no listeners.
        self.spectrogram = spectrogram
        self.sr = self.mel.sr
        self.history = RingBuffer(int(self.sr * history_seconds))
        self._source = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        # Display events (frames, levels) may be dropped when nobody polls; the others never.
        self._display: deque = deque(maxlen=max_events)
        self._control: deque = deque()
        self._listeners: list[Listener] = []
        self._frame_listeners: list[Callable[[LiveFrames], None]] = []
        self._take: TakeWriter | None = None
        self.frames_out = 0
        self.overruns = 0

    # --- control (any thread; normally the GUI's) --------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def source(self):
        return self._source

    def warm_up(self) -> None:
        """Build the mel filterbank and load the resampler (seconds on first use: librosa's import).

        start() does it too; calling it early from a worker keeps Start instant in the GUI.
        """
        if not self.spectrogram:
            return
        from ..features.mel import full_scale_ref, mel_basis

        mel_basis(self.mel)
        full_scale_ref(self.mel)
        import soxr  # noqa: F401

    def start(self, source) -> None:
        """Start analysing `source` (MicSource / PlaybackSource); raises AudioDeviceError."""
        self.stop()
        self.warm_up()
        source.start()
        self._source = source
        self._reset_analysis(source.samplerate)
        self.history.reset()
        self._stop.clear()
        self._push_control(LiveStarted(source=source.kind, device=source.name,
                                       samplerate=source.samplerate, analysis_sr=self.sr))
        self._thread = threading.Thread(target=self._run, name="live-pipeline", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and the source; a take being recorded is finalised (kept)."""
        thread, self._thread = self._thread, None
        was_running = thread is not None and thread.is_alive()
        if thread is not None:
            self._stop.set()
            thread.join(timeout=5)
        if was_running:
            self._step()  # what arrived between the last drain and now belongs in the take
        if self._source is not None:
            self._source.stop()
        self._finish_take(note="stopped with the live input")
        # Release the C resamplers now rather than at interpreter exit.
        self._resampler = self._model_resampler = None
        if was_running:
            self._push_control(LiveStopped())

    def start_take(self, *, dataset, label: str, seconds: float | None = None) -> None:
        """Begin recording a take (opened in the pipeline's thread; TakeStarted or TakeFailed)."""
        self._commands.put(("take", dict(dataset=dataset, label=label, seconds=seconds)))

    def stop_take(self) -> None:
        self._commands.put(("stop_take", None))

    @property
    def recording(self) -> bool:
        return self._take is not None

    def take_seconds(self) -> float:
        take = self._take
        return take.seconds if take is not None else 0.0

    def poll(self) -> list:
        """Events since the last poll, oldest first (control events before display ones)."""
        out = []
        while self._control:
            out.append(self._control.popleft())
        while self._display:
            out.append(self._display.popleft())
        return out

    # --- subscribers ----------------------------------------------------------------------------
    def add_listener(self, fn: Listener) -> None:
        """fn(block, sr, first) for each new analysis-rate block, in the pipeline's thread."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def add_frames_listener(self, fn: Callable[[LiveFrames], None]) -> None:
        self._frame_listeners.append(fn)

    def remove_frames_listener(self, fn: Callable[[LiveFrames], None]) -> None:
        if fn in self._frame_listeners:
            self._frame_listeners.remove(fn)

    def latest_audio(self, seconds: float) -> np.ndarray:
        """The newest `seconds` of analysis-rate mono audio (a copy; shorter just after Start)."""
        return self.history.copy_latest(int(round(seconds * self.sr)))[:, 0].copy()

    # --- statistics ----------------------------------------------------------------------------
    def stats(self) -> dict:
        src = self._source
        return {
            "callbacks": getattr(src, "callbacks", 0),
            "dropped": getattr(src, "dropped", 0),
            "late": getattr(src, "late", 0),
            "overruns": self.overruns + (src.ring.overruns if src is not None and src.ring else 0),
            "frames": self.frames_out,
        }

    # --- the pipeline thread -----------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self._source.check()
                self._step()
            except AudioDeviceError as exc:
                try:
                    self._step()  # the blocks that arrived before the device went belong in the take
                except Exception:  # noqa: BLE001 - a take is kept with what could be drained
                    pass
                self._source.stop()
                self._finish_take(note=f"the input stopped ({exc.reason})")
                self._push_control(LiveStopped(error=str(exc)))
                return
            except Exception as exc:  # a bug must not kill the take silently
                self._finish_take(note="kept after an internal error")
                self._push_control(LiveStopped(error=f"live analysis failed ({type(exc).__name__}: {exc})"))
                return

    def _reset_analysis(self, rate: int) -> None:
        self._in_rate = int(rate)
        self._resampler = self._model_resampler = None
        if self._in_rate != self.sr and self.spectrogram:
            import soxr

            self._resampler = soxr.ResampleStream(self._in_rate, self.sr, 1, dtype="float32",
                                                  quality=RESAMPLE_QUALITY)
            self._model_resampler = soxr.ResampleStream(self._in_rate, self.sr, 1, dtype="float32",
                                                        quality=MODEL_RESAMPLE_QUALITY)
        self._model_total = 0      # model-path samples handed to listeners since Start
        self._mel = StreamingMel(self.mel)
        self._out_total = 0        # analysis samples produced since Start
        self._in_offset = 0        # device frames skipped (overruns, rate changes)
        self._in_expected = None
        self._meter = LevelMeter(int(self.level_interval * self._in_rate))

    def _step(self) -> None:
        self._run_commands()
        src = self._source
        if src is None or src.ring is None:
            return
        if src.samplerate != self._in_rate:
            self._finish_take(note="the sample rate changed")
            self._reset_analysis(src.samplerate)
        chunk = src.ring.read()
        if len(chunk.data) == 0:
            return
        if self._in_expected is not None and chunk.start != self._in_expected:
            self._in_offset += chunk.start - self._in_expected
        self._in_expected = chunk.end
        data = chunk.data
        mono = np.ascontiguousarray(to_mono(data))
        self._record(mono)
        if (level := self._meter.add(mono)) is not None:
            self._display.append(level)
        if not self.spectrogram:
            return
        self._feed_listeners(mono)
        y = self._resampler.resample_chunk(mono) if self._resampler is not None else mono
        if len(y) == 0:
            return
        self._out_total += len(y)
        db = self._mel.push(y)
        if db.shape[1]:
            f0 = self._mel.frames_out - db.shape[1]
            event = LiveFrames(first=f0, db=db, arrival=self._arrival(f0, db.shape[1]))
            self.frames_out += db.shape[1]
            self._display.append(event)
            for fn in list(self._frame_listeners):
                fn(event)

    def _feed_listeners(self, mono: np.ndarray) -> None:
        y = self._model_resampler.resample_chunk(mono) if self._model_resampler is not None else mono
        if len(y) == 0:
            return
        first = self._model_total
        self._model_total += len(y)
        self.history.write(y)
        for fn in list(self._listeners):
            try:
                fn(y, self.sr, first)
            except Exception as exc:
                self.remove_listener(fn)
                self._push_control(LiveError(message=f"a live listener failed and was removed: {exc}"))

    def _arrival(self, first: int, n: int) -> np.ndarray:
        """When the newest sample of each column reached the audio callback."""
        cfg = self.mel
        cols = np.arange(first, first + n)
        last = cols * cfg.hop_length + cfg.n_fft // 2 - 1    # newest analysis sample of each window
        device_frame = np.floor((last + 1) * self._in_rate / self.sr).astype(np.int64) - 1
        return self._source.arrivals.arrival_of(device_frame + self._in_offset)

    # --- takes (pipeline thread, or the caller's after the thread stopped) ------------------
    def _run_commands(self) -> None:
        while True:
            try:
                cmd, arg = self._commands.get_nowait()
            except queue.Empty:
                return
            if cmd == "take":
                self._finish_take(note="a new take began")
                try:
                    self._take = TakeWriter(dataset=arg["dataset"], label=arg["label"],
                                            samplerate=self._in_rate, max_seconds=arg["seconds"])
                except StudioError as exc:
                    self._push_control(TakeFailed(message=str(exc)))
                    continue
                self._push_control(TakeStarted(path=str(self._take.path), label=self._take.label,
                                               max_seconds=arg["seconds"]))
            elif cmd == "stop_take":
                self._finish_take()

    def _record(self, mono: np.ndarray) -> None:
        take = self._take
        if take is None:
            return
        try:
            more = take.write(mono)
        except StudioError as exc:
            self._push_control(TakeFailed(message=str(exc)))
            self._finish_take(note="kept after a write error")
            return
        if not more:
            self._finish_take()

    def _finish_take(self, note: str = "") -> None:
        take, self._take = self._take, None
        if take is None:
            return
        try:
            saved = take.close()
        except StudioError as exc:
            self._push_control(TakeFailed(message=str(exc)))
            return
        if saved is None:
            self._push_control(TakeFailed(message=f"the take for {take.label!r} recorded no audio"))
            return
        self._push_control(TakeSaved(path=str(saved.path), label=saved.label, seconds=saved.seconds,
                                     note=note))

    def _push_control(self, event) -> None:
        self._control.append(event)
