"""Capture with a fake PortAudio stream: the callback copies, counts flags, dates blocks; lost devices."""

from __future__ import annotations

import time

import numpy as np
import pytest

from instrument_studio.core.audio.capture import ArrivalLog, Capture
from instrument_studio.core.errors import AudioDeviceError


class FakeInputStream:
    """Delivers blocks when the test says so (the test thread plays PortAudio's audio thread)."""

    def __init__(self, *, samplerate, channels, blocksize, device, callback, finished_callback,
                 fail_channels=()):
        if channels in fail_channels:
            raise RuntimeError(f"Invalid number of channels [PaErrorCode -9998] ({channels})")
        self.sr, self.channels, self.block = samplerate, channels, blocksize
        self.callback, self.finished = callback, finished_callback
        self.started = self.closed = False

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True

    def deliver(self, data: np.ndarray, *, overflow=False, underflow=False):
        status = _Status(overflow, underflow)
        self.callback(data.reshape(len(data), -1).astype(np.float32), len(data), None, status)


class _Status:
    def __init__(self, overflow, underflow):
        self.input_overflow, self.input_underflow = overflow, underflow

    def __bool__(self):
        return self.input_overflow or self.input_underflow


def make_capture(**kw):
    streams = []

    def factory(**args):
        streams.append(FakeInputStream(**args, **kw))
        return streams[-1]

    return Capture(samplerate=48000, stream_factory=factory), streams


def test_blocks_go_into_the_ring_and_flags_are_counted():
    cap, streams = make_capture()
    cap.start()
    s = streams[0]
    assert s.started and s.sr == 48000 and s.channels == 1
    y = np.arange(1024, dtype=np.float32)
    s.deliver(y[:512])
    s.deliver(y[512:], overflow=True)
    s.deliver(np.zeros(256), underflow=True)
    chunk = cap.ring.read()
    assert np.array_equal(chunk.data[:1024, 0], y)
    assert cap.callbacks == 3 and cap.input_overflows == 1 and cap.input_underflows == 1
    cap.stop()
    assert s.closed


def test_every_frame_is_dated_by_the_callback_that_brought_it():
    cap, streams = make_capture()
    cap.start()
    s = streams[0]
    s.deliver(np.zeros(256))
    t_mid = time.monotonic()
    time.sleep(0.01)
    s.deliver(np.zeros(256))
    when = cap.arrivals.arrival_of(np.array([0, 255, 256, 511, 512]))
    assert when[0] == when[1] < t_mid < when[2] == when[3]
    assert np.isnan(when[4])  # not arrived yet


def test_arrival_log_forgets_old_blocks():
    log = ArrivalLog(size=4)
    for i in range(10):
        log.note((i + 1) * 100, float(i))
    assert np.isnan(log.arrival_of(0)[0])          # from a block no longer remembered
    assert log.arrival_of(950)[0] == 9.0
    assert log.arrival_of(750)[0] == 7.0
    assert np.isnan(log.arrival_of(650)[0])        # oldest remembered block: its start is forgotten


def test_a_stream_that_finishes_by_itself_means_the_device_is_gone():
    cap, streams = make_capture()
    cap.start()
    streams[0].finished()  # PortAudio's finished_callback: the stream ended without stop()
    with pytest.raises(AudioDeviceError, match="stopped"):
        cap.check()
    assert not cap.running


def watch(cap, seconds, period=0.005):
    """check() every `period` for `seconds`, as the live pipeline's thread does."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        cap.check()
        time.sleep(period)


def test_no_audio_for_too_long_means_the_device_is_gone():
    cap, streams = make_capture()
    cap.stall_seconds = 0.05
    cap.start()
    streams[0].deliver(np.zeros(256))
    cap.check()  # fine just after a block
    with pytest.raises(AudioDeviceError, match="no audio for"):
        watch(cap, 1.0)
    assert not cap.running and streams[0].closed


def test_a_device_that_never_delivers_is_reported_after_a_bounded_time():
    cap, streams = make_capture()
    cap.start_seconds = 0.1
    cap.start()
    t0 = time.monotonic()
    with pytest.raises(AudioDeviceError, match="no audio since it was started") as info:
        watch(cap, 2.0)
    assert time.monotonic() - t0 < 1.0
    assert "connected" in info.value.hint
    assert not cap.running and streams[0].closed


def test_a_first_block_late_while_the_process_was_starved_is_not_a_dead_device():
    # What TensorFlow's import does while the default model loads: it holds the GIL for seconds,
    # so neither the audio callback nor the watchdog's thread runs. The watchdog then wakes first.
    cap, streams = make_capture()
    cap.start()
    cap.check()
    time.sleep(cap.stall_seconds + 0.5)    # nobody ran: no block, no check
    cap.check()                            # the watchdog's thread gets the GIL before the callback
    streams[0].deliver(np.zeros(256))      # then the late first block
    cap.check()
    assert cap.running
    # The same after the first block: a starved stretch is not a stall either.
    time.sleep(cap.stall_seconds + 0.5)
    cap.check()
    streams[0].deliver(np.zeros(256))
    cap.check()
    assert cap.running


def test_a_busy_thread_holding_the_gil_does_not_trip_the_watchdog():
    """The same with a real GIL holder: a long C-level call (no bytecode, so no GIL switch) in a
    thread, while a fake audio thread delivers a block every 5 ms and the watchdog checks."""
    import threading

    cap, streams = make_capture()
    cap.stall_seconds = 0.2
    cap.start()
    stop = threading.Event()

    def audio():
        while not stop.is_set():
            streams[0].deliver(np.zeros(256))
            time.sleep(0.005)

    def busy():
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.5:
            # One C call that never releases the GIL; sized to hold it for well over stall_seconds.
            sum(range(20_000_000))

    threads = [threading.Thread(target=audio, daemon=True), threading.Thread(target=busy, daemon=True)]
    for t in threads:
        t.start()
    try:
        watch(cap, 2.0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert cap.running


def test_a_failing_device_gives_an_audio_device_error_with_the_reason():
    def factory(**args):
        raise RuntimeError("Device unavailable [PaErrorCode -9985]")

    cap = Capture(samplerate=44100, stream_factory=factory)
    with pytest.raises(AudioDeviceError, match="Device unavailable"):
        cap.start()
    assert not cap.running


def test_unknown_device_name_lists_what_exists(monkeypatch):
    from instrument_studio.core.audio import devices

    monkeypatch.setattr(devices, "_list", lambda kind: [
        devices.DeviceInfo(index=3, name="USB Mic", hostapi="ALSA", max_input_channels=1,
                           max_output_channels=0, default_samplerate=44100.0, is_default=True)])
    with pytest.raises(AudioDeviceError, match="USB Mic"):
        Capture(device="Blue Yeti").start()


def test_no_input_device_at_all_says_how_to_connect_one(monkeypatch):
    from instrument_studio.core.audio import devices
    from instrument_studio.core.audio.capture import input_unavailable_reason

    monkeypatch.setattr(devices, "_list", lambda kind: [])
    reason = input_unavailable_reason()
    assert "no audio input device" in reason and "connect one" in reason


def test_arrival_log_dates_frames_like_a_plain_search():
    """Each frame is dated by the block that delivered it, as a plain search through every block
    finds it: in a log that has not wrapped, and in one that has (the oldest starts forgotten)."""
    rng = np.random.default_rng(3)
    for blocks in (10, 100, 5000):     # fewer than the recent look-up, more, and a wrapped log
        log = ArrivalLog(size=2048)
        sizes = rng.integers(64, 1024, blocks)
        ends = np.cumsum(sizes)
        times = np.cumsum(rng.uniform(0.001, 0.02, blocks))
        for end, when in zip(ends, times, strict=True):
            log.note(int(end), float(when))
        frames = np.concatenate([rng.integers(0, int(ends[-1]) + 500, 200),
                                 np.arange(int(ends[-1]) - 3000, int(ends[-1]) + 5)])
        expected = np.full(len(frames), np.nan)
        first_known = 0 if blocks <= 2048 else blocks - 2048 + 1   # a wrapped log forgot the oldest starts
        for j, f in enumerate(frames):
            b = int(np.searchsorted(ends, f, side="right"))
            if first_known <= b < blocks and (b > blocks - 2048 or blocks <= 2048):
                expected[j] = times[b]
        got = log.arrival_of(frames)
        assert np.array_equal(np.isnan(got), np.isnan(expected)) and np.allclose(got[~np.isnan(got)],
                                                                                 expected[~np.isnan(expected)])
    assert len(ArrivalLog().arrival_of(np.array([], dtype=np.int64))) == 0
