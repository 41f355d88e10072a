"""Live answers of a musicnn model from a stream (core.predict.streaming): every window is a slice
of the signal's own spectrogram, and every answer is the model's on that slice, whatever blocks the
audio arrives in; the costly front end sees each frame once."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from instrument_studio.core.audio.audiofile import resample
from instrument_studio.core.features.clip import musicnn_log
from instrument_studio.core.features.mel import mel_power
from instrument_studio.core.predict.inference import load_predictor
from instrument_studio.core.predict.live_predict import LivePredictor
from instrument_studio.core.predict.streaming import LENGTH_STEP, StreamingMusicnn
from tests.core.test_live_predict import FakePipeline

SR = 22050


@pytest.fixture(scope="module")
def default():
    return load_predictor()


def melody(seconds: float, seed: int = 0) -> np.ndarray:
    """Harmonic tones stepping through a scale, a little noise: real work for the front end."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    freq = 220.0 * 2 ** (np.floor(t * 2) % 12 / 12)
    y = sum(np.sin(2 * np.pi * k * np.cumsum(freq) / SR) / k for k in range(1, 6))
    return (0.2 * y + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def whole_power(y: np.ndarray, cfg) -> np.ndarray:
    """The mel power frames of the whole signal (time first), as training windows are cut from a clip's."""
    return mel_power(resample(y, SR, cfg.mel.sr), cfg.mel).T


def test_each_answer_is_the_models_on_a_slice_of_the_whole_spectrogram(default):
    y = melody(9.0)
    full = whole_power(y, default.config)
    stream = StreamingMusicnn(default.bundle, SR)
    assert StreamingMusicnn.supports(default.bundle)
    lengths, front_end = [], stream._frames
    stream._frames = lambda x: (lengths.append(x.shape[1]), front_end(x))[1]
    rng = np.random.default_rng(1)
    i, checked = 0, 0
    while i < len(y):
        n = int(rng.integers(100, 9000))          # blocks of any size, answers at any moment
        stream.push(y[i:i + n])
        i += n
        if rng.random() < 0.5:
            stream.advance()                      # front-end work between answers changes nothing
            if rng.random() < 0.5:
                continue
        proba = stream.probabilities()
        if proba is None:
            assert stream.frames < stream.width
            continue
        a = stream.frames - stream.width
        # each frame at the level the stream had reached when it was made
        window = musicnn_log(full[a:a + stream.width] * stream._gains[-stream.width:, None])
        np.testing.assert_array_equal(stream.window(), window)
        np.testing.assert_allclose(proba, default._proba_of_rows(window[None])[0], atol=1e-5)
        checked += 1
    assert checked >= 5
    # TensorFlow keeps a compiled kernel per input shape (memory that grew for hours): the front
    # end sees lengths in steps only, however the audio arrives
    assert lengths and all(n % LENGTH_STEP == 0 for n in lengths) and len(set(lengths)) < len(lengths)


def test_stream_answers_are_the_windowed_answers_of_the_same_moment(default):
    """The windowed path computes a cut-out window's spectrogram on its own; the stream's window
    is part of the whole signal's: at the edges their spectrograms differ, their answers little,
    and far less than the answers of a moment earlier (the melody changes note every half second)."""
    y = melody(10.0, seed=3)
    stream = StreamingMusicnn(default.bundle, SR)
    width = int(default.window_seconds * SR)

    def windowed(end: int) -> np.ndarray:
        return default.predict_window(default.window_audio(resample(y[end - width:end], SR, default.sr)))

    now, earlier = [], []
    stream.push(y[:int(4.0 * SR)])
    for end in range(int(4.0 * SR), len(y) + 1, SR // 2):
        stream.push(y[end - SR // 2:end] if end > int(4.0 * SR) else y[:0])
        streamed = stream.probabilities()
        now.append(np.abs(streamed - windowed(end)).sum())
        earlier.append(np.abs(streamed - windowed(end - SR)).sum())
    closer = sum(a < b for a, b in zip(now, earlier, strict=True))
    # Measured against the moment before, not a fixed distance: how far the edge frames move an
    # answer is the head's own sensitivity, which grew as it came to read each band's maximum and
    # the spectrum's ripple (the stream's newest window ends 2-3 frames before the newest sample,
    # the spectrogram's look-ahead, so after a note change it still holds a few frames of the
    # previous note, which a band's maximum sees wholly). Medians, now / a moment earlier: 0.36 /
    # 0.49 with the head of 04:55, 0.42 / 0.56 with the ripple; a stream a moment late would be ~1.
    assert closer >= 0.8 * len(now) and np.median(now) < 0.8 * np.median(earlier), (now, earlier)


REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/data/real (real recordings)")
def test_on_real_phrases_the_stream_names_what_the_file_so_far_names(default):
    """Real playing changes level: the stream, levelled by its last seconds as it goes, names what
    the same window cut from the recording so far names, levelled as a file is (as a whole)."""
    from instrument_studio.core.audio.audiofile import load
    from instrument_studio.core.audio.levels import frame_mean_squares
    from instrument_studio.core.features.clip import level_gain

    files = [sorted((REAL / src).rglob("*.*"))[0] for src in ("bach10", "cmmsd-vibrato", "freesound")
             if (REAL / src).is_dir()]
    cfg = default.config
    agree = total = 0
    for path in files:
        y, _ = load(path, sr=SR)
        y = y[:12 * SR]
        full = whole_power(y, cfg)
        y16 = resample(y, SR, cfg.mel.sr)
        stream = StreamingMusicnn(default.bundle, SR)
        width = int(default.window_seconds * SR)
        for end in range(width + SR // 2, len(y) + 1, SR // 2):
            stream.push(y[end - SR // 2:end] if end > width + SR // 2 else y[:end])
            streamed = stream.probabilities()
            a = stream.frames - stream.width
            gain = np.float32(level_gain(frame_mean_squares(y16[:end * cfg.mel.sr // SR], cfg.mel.sr)) ** 2)
            window = musicnn_log(full[a:a + stream.width] * gain)
            agree += int(np.argmax(streamed) == np.argmax(default._proba_of_rows(window[None])[0]))
            total += 1
    assert total >= 20 and agree >= 0.9 * total, (agree, total, files)


def test_the_stream_is_brought_to_one_level_as_files_are(default):
    """Played 20 dB softer, a stream's windows (and a file's) are the same once a window has come:
    the level the model hears is the one files are brought to."""
    from instrument_studio.core.features.clip import ACTIVE_LEVEL_DB, musicnn_windows

    y = melody(6.0, seed=5)
    loud, soft = StreamingMusicnn(default.bundle, SR), StreamingMusicnn(default.bundle, SR)
    for i in range(0, len(y), 2205):
        loud.push(y[i:i + 2205])
        soft.push(0.1 * y[i:i + 2205])
    np.testing.assert_allclose(soft.window(), loud.window(), atol=1e-3)
    np.testing.assert_allclose(soft.probabilities(), loud.probabilities(), atol=1e-3)
    cfg, y16 = default.config, resample(y, SR, default.config.mel.sr)
    np.testing.assert_allclose(musicnn_windows(0.1 * y16, cfg)[0], musicnn_windows(y16, cfg)[0], atol=1e-3)
    # the stream's steady melody sits where a file of it is brought
    gain_db = 10 * np.log10(loud._gains[-1])
    rms_db = 20 * np.log10(np.sqrt(np.mean(np.square(y16[-3 * cfg.mel.sr:]))))
    assert abs(rms_db + gain_db - ACTIVE_LEVEL_DB) < 1.0


def test_a_pause_keeps_the_playing_level(default):
    """The room's quiet in a pause is not brought up to the playing level: a file holding the pause
    is levelled by its playing, and so is the stream, for a pause of several seconds."""
    stream = StreamingMusicnn(default.bundle, SR)
    stream.push(melody(6.0, seed=2))
    playing = stream._gains[-1]
    quiet = 1e-4 * np.random.default_rng(0).standard_normal(4 * SR).astype(np.float32)  # -80 dB
    stream.push(quiet)
    assert abs(10 * np.log10(stream._gains[-1] / playing)) < 1.0


def test_a_long_stream_keeps_one_window_and_reset_forgets_it(default):
    stream = StreamingMusicnn(default.bundle, SR)
    y = melody(4.0)
    for k in range(15):                             # a minute, answered now and then
        stream.push(y)
        if k % 4 == 0:
            assert stream.probabilities() is not None
    assert len(stream._values) <= stream.width + 6 and len(stream._timbral) <= stream.width + 6
    stream.reset()
    assert stream.frames == 0 and not stream.ready and stream.probabilities() is None


def test_only_musicnn_bundles_stream(default, synth_model):
    assert StreamingMusicnn.supports(default.bundle)
    assert not StreamingMusicnn.supports(load_predictor(synth_model[0]).bundle)
    assert not LivePredictor(load_predictor(synth_model[0])).streaming
    assert not LivePredictor(default, streaming=False).streaming


def test_live_answers_come_from_the_stream_and_a_gap_starts_it_afresh(default):
    pipe = FakePipeline()
    live = LivePredictor(default)
    assert live.streaming
    live.attach(pipe)
    try:
        pipe.feed(melody(5.0), block=2048)
        deadline = time.monotonic() + 60
        while (live._stream is None or not live._stream.ready or live.count < 3) and time.monotonic() < deadline:
            pipe.feed(melody(0.5), block=2048)
        assert live._stream is not None and live._stream.ready
        answers = [r for r in live.poll() if hasattr(r, "state")]
        assert answers and all(r.state in ("confident", "uncertain") for r in answers)
        frames = live._stream.frames
        # The next blocks do not follow the last (a new Start): the stream starts again.
        first = 10 ** 9
        deadline = time.monotonic() + 30
        while live._stream.frames >= frames and time.monotonic() < deadline:
            for fn in list(pipe.listeners):
                fn(melody(0.1), SR, first)
            first += int(0.1 * SR)
            time.sleep(0.1)
        assert live._stream.frames < frames
    finally:
        live.detach()
