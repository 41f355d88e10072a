"""LivePipeline fed by a fake source: the same mel as the file path, levels, listeners, takes, errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import soundfile as sf

from instrument_studio.core.audio.capture import ArrivalLog
from instrument_studio.core.audio.ringbuffer import RingBuffer
from instrument_studio.core.config import MelConfig
from instrument_studio.core.errors import AudioDeviceError
from instrument_studio.core.events import (
    Level,
    LiveFrames,
    LiveStarted,
    LiveStopped,
    TakeFailed,
    TakeSaved,
    TakeStarted,
)
from instrument_studio.core.features.mel import log_mel, mel_frequencies
from instrument_studio.core.live.pipeline import LivePipeline, PlaybackSource


class FakeSource:
    """A source whose 'audio thread' is the test: feed() copies blocks into the ring."""

    kind = "microphone"
    name = "fake mic"

    def __init__(self, samplerate: int):
        self.samplerate = samplerate
        self.ring = RingBuffer(samplerate * 4)
        self.arrivals = ArrivalLog()
        self.lost: str | None = None
        self.started = self.stopped = False
        self.callbacks = self.dropped = self.late = 0

    def start(self):
        self.started = True

    def stop(self):
        self.stopped = True

    def check(self):
        if self.lost:
            raise AudioDeviceError(self.lost)

    def feed(self, y: np.ndarray, block: int = 256, realtime: bool = False):
        for i in range(0, len(y), block):
            self.ring.write(y[i:i + block])
            self.arrivals.note(self.ring.written, time.monotonic())
            self.callbacks += 1
            if realtime:
                time.sleep(block / self.samplerate)


def tone(freq, seconds, sr, amp=0.5):
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def collect(pipe: LivePipeline, until, timeout=10.0) -> list:
    events = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events += pipe.poll()
        if until(events):
            return events
        time.sleep(0.005)
    raise AssertionError(f"timed out; got {[type(e).__name__ for e in events][:20]}")


def frames_of(events) -> np.ndarray:
    fr = [e for e in events if isinstance(e, LiveFrames)]
    assert [e.first for e in fr] == list(np.cumsum([0] + [e.db.shape[1] for e in fr[:-1]]))
    return np.concatenate([e.db for e in fr], axis=1)


@pytest.fixture
def pipe():
    p = LivePipeline()
    yield p
    p.stop()


def test_at_the_analysis_rate_the_live_columns_equal_the_file_spectrogram(pipe):
    cfg = MelConfig()
    y = np.random.default_rng(1).standard_normal(cfg.sr).astype(np.float32) * 0.1
    src = FakeSource(cfg.sr)
    pipe.start(src)
    src.feed(y, block=300)
    want = log_mel(y, cfg)[:, :-4]  # the last columns need audio beyond the end (centred frames)
    events = collect(pipe, lambda ev: sum(e.db.shape[1] for e in ev if isinstance(e, LiveFrames))
                     >= want.shape[1])
    got = frames_of(events)[:, :want.shape[1]]
    np.testing.assert_array_equal(got, want)  # the same code, to the bit


def test_a_48k_tone_shows_in_its_mel_band_and_matches_the_file_path_closely(pipe):
    cfg = MelConfig()
    src = FakeSource(48000)
    pipe.start(src)
    y = tone(1000.0, 1.0, 48000)
    src.feed(y)
    events = collect(pipe, lambda ev: sum(e.db.shape[1] for e in ev if isinstance(e, LiveFrames)) >= 40)
    db = frames_of(events)[:, 8:36]
    band = int(np.argmin(np.abs(mel_frequencies(cfg) - 1000.0)))
    assert abs(int(np.median(np.argmax(db, axis=0))) - band) <= 1
    import librosa

    ref = log_mel(librosa.resample(y, orig_sr=48000, target_sr=cfg.sr, res_type="soxr_hq"), cfg)[:, 8:36]
    loud = ref > -60
    # Same features as a file resampled by audiofile.load (soxr HQ), within a fraction of a dB.
    assert np.max(np.abs(db[loud] - ref[loud])) < 0.5


def test_level_in_dbfs_and_clipping(pipe):
    src = FakeSource(48000)
    pipe.start(src)
    src.feed(tone(440, 0.2, 48000, amp=0.5))
    events = collect(pipe, lambda ev: any(isinstance(e, Level) for e in ev))
    levels = [e for e in events if isinstance(e, Level)]
    assert levels[-1].peak_dbfs == pytest.approx(-6.02, abs=0.05)
    assert levels[-1].rms_dbfs == pytest.approx(-9.03, abs=0.1)
    assert not any(e.clipped for e in levels)
    src.feed(np.clip(tone(440, 0.1, 48000, amp=2.0), -1, 1))
    events = collect(pipe, lambda ev: any(isinstance(e, Level) and e.clipped for e in ev))
    assert max(e.peak_dbfs for e in events if isinstance(e, Level)) == pytest.approx(0.0, abs=0.01)


def test_listeners_and_latest_audio_get_the_analysis_rate_signal(pipe):
    cfg = MelConfig()
    src = FakeSource(cfg.sr)
    got = []
    done = threading.Event()

    def listener(block, sr, first):
        got.append((first, block.copy(), sr))
        if first + len(block) >= cfg.sr:
            done.set()

    pipe.add_listener(listener)
    pipe.start(src)
    y = tone(300, 1.0, cfg.sr)
    src.feed(y)
    assert done.wait(5)
    assert {sr for _, _, sr in got} == {cfg.sr}
    assert np.array_equal(np.concatenate([b for _, b, _ in got])[:cfg.sr], y)
    assert [f for f, _, _ in got] == list(np.cumsum([0] + [len(b) for _, b, _ in got[:-1]]))
    np.testing.assert_array_equal(pipe.latest_audio(0.5), y[-cfg.sr // 2:])


def test_listeners_get_audio_resampled_exactly_as_training_files_are(pipe):
    """From a 48 kHz device, what a live predictor receives equals core.audio.audiofile.resample of the
    same samples: the resampling that made the training features (the display may differ)."""
    from instrument_studio.core.audio.audiofile import resample

    cfg = MelConfig()
    src = FakeSource(48000)
    got = []
    y = tone(440, 1.0, 48000)
    expected = resample(y, 48000, cfg.sr)
    done = threading.Event()

    def listener(block, sr, first):
        got.append(block.copy())
        if first + len(block) >= len(expected) // 2:
            done.set()

    pipe.add_listener(listener)
    pipe.start(src)
    src.feed(y)
    assert done.wait(5)
    live = np.concatenate(got)
    np.testing.assert_array_equal(live, expected[: len(live)])


def test_a_failing_listener_is_removed_and_reported(pipe):
    src = FakeSource(22050)
    pipe.add_listener(lambda *a: 1 / 0)
    pipe.start(src)
    src.feed(tone(300, 0.1, 22050))
    events = collect(pipe, lambda ev: any(type(e).__name__ == "LiveError" for e in ev))
    assert "division by zero" in [e for e in events if type(e).__name__ == "LiveError"][0].message
    assert pipe._listeners == []


def test_a_take_records_the_source_rate_audio_and_stops_at_n_seconds(pipe, tmp_path):
    src = FakeSource(48000)
    pipe.start(src)
    pipe.start_take(dataset=tmp_path, label="cello", seconds=0.5)
    collect(pipe, lambda ev: any(isinstance(e, TakeStarted) for e in ev))
    y = tone(220, 1.0, 48000)
    src.feed(y)
    events = collect(pipe, lambda ev: any(isinstance(e, TakeSaved) for e in ev))
    saved = [e for e in events if isinstance(e, TakeSaved)][0]
    assert saved.label == "cello" and saved.seconds == pytest.approx(0.5)
    back, sr = sf.read(saved.path, dtype="float32")
    assert sr == 48000 and np.allclose(back, y[:24000], atol=1 / 32768)
    assert not pipe.recording


def test_stopping_mid_take_keeps_the_take(pipe, tmp_path):
    src = FakeSource(22050)
    pipe.start(src)
    pipe.start_take(dataset=tmp_path, label="oboe")
    collect(pipe, lambda ev: any(isinstance(e, TakeStarted) for e in ev))
    src.feed(tone(500, 0.3, 22050))
    pipe.stop()
    events = pipe.poll()
    saved = [e for e in events if isinstance(e, TakeSaved)]
    assert len(saved) == 1 and saved[0].seconds == pytest.approx(0.3, abs=0.01)
    assert any(isinstance(e, LiveStopped) and not e.error for e in events)
    assert src.stopped


def test_losing_the_device_mid_take_keeps_the_take_and_says_why(pipe, tmp_path):
    src = FakeSource(22050)
    pipe.start(src)
    pipe.start_take(dataset=tmp_path, label="flute")
    collect(pipe, lambda ev: any(isinstance(e, TakeStarted) for e in ev))
    src.feed(tone(500, 0.4, 22050))
    time.sleep(0.05)
    src.lost = "the input device 'USB Mic' stopped"
    events = collect(pipe, lambda ev: any(isinstance(e, LiveStopped) for e in ev))
    stopped = [e for e in events if isinstance(e, LiveStopped)][0]
    assert "USB Mic" in stopped.error
    saved = [e for e in events if isinstance(e, TakeSaved)][0]
    assert saved.seconds == pytest.approx(0.4, abs=0.01) and "input stopped" in saved.note
    assert not pipe.running


def test_a_take_into_a_read_only_place_fails_clearly_and_the_view_goes_on(pipe, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    src = FakeSource(22050)
    pipe.start(src)
    pipe.start_take(dataset=blocker, label="x")
    events = collect(pipe, lambda ev: any(isinstance(e, TakeFailed) for e in ev))
    assert "cannot record into this folder" in [e for e in events if isinstance(e, TakeFailed)][0].message
    src.feed(tone(300, 0.2, 22050))
    collect(pipe, lambda ev: any(isinstance(e, LiveFrames) for e in ev))
    assert pipe.running


def test_columns_are_dated_by_the_arrival_of_their_newest_sample(pipe):
    src = FakeSource(48000)
    pipe.start(src)
    fed = []  # time each 256-frame block was handed over, as the audio callback would
    original_note = src.arrivals.note

    def note(end, when):
        fed.append(when)
        original_note(end, when)

    src.arrivals.note = note
    t0 = time.monotonic()
    src.feed(tone(1000, 0.5, 48000), realtime=True)
    events = collect(pipe, lambda ev: sum(e.db.shape[1] for e in ev if isinstance(e, LiveFrames)) >= 15)
    arrival = np.concatenate([e.arrival for e in events if isinstance(e, LiveFrames)])
    assert np.all(np.isfinite(arrival)) and np.all(arrival >= t0)
    assert np.all(np.diff(arrival) >= 0)
    # Column k's newest sample is analysis sample k * hop + n_fft / 2 - 1, i.e. 48 kHz frame ~2.18x that.
    cfg = MelConfig()
    newest = (np.arange(len(arrival)) * cfg.hop_length + cfg.n_fft // 2) * 48000 / cfg.sr - 1
    block = newest.astype(int) // 256
    fed = np.array(fed)
    # The block that brought that frame (or a neighbour, for the rounding between rates).
    candidates = np.stack([fed[np.clip(block + d, 0, len(fed) - 1)] for d in (-1, 0, 1)])
    assert np.all(np.any(candidates == arrival, axis=0))


def test_playback_feeds_the_live_view(pipe):
    from instrument_studio.core.audio.playback import Player
    from tests.fakes import FakeStream

    streams = []

    def factory(**kw):
        streams.append(FakeStream(**kw))
        return streams[-1]

    player = Player(stream_factory=factory)
    stereo = np.stack([tone(1000, 0.6, 44100), tone(1000, 0.6, 44100)], axis=1)
    player.set_audio(stereo, 44100)
    src = PlaybackSource(player)
    pipe.start(src)
    player.play()
    events = collect(pipe, lambda ev: sum(e.db.shape[1] for e in ev if isinstance(e, LiveFrames)) >= 20)
    assert isinstance(events[0], LiveStarted) and events[0].source == "playback"
    db = frames_of(events)[:, 6:20]
    band = int(np.argmin(np.abs(mel_frequencies(MelConfig()) - 1000.0)))
    assert abs(int(np.median(np.argmax(db, axis=0))) - band) <= 1
    player.close()
    pipe.stop()
    assert src._tap not in player._taps
