from __future__ import annotations

import librosa
import numpy as np
import pytest

from instrument_studio.core.config import MelConfig
from instrument_studio.core.display import mel_axis as MA
from instrument_studio.core.errors import ConfigError
from instrument_studio.core.features import mel as F


@pytest.fixture(scope="module")
def noise():
    rng = np.random.default_rng(1)
    return (0.1 * rng.standard_normal(22050 * 3)).astype(np.float32)


def test_mel_power_equals_librosa(noise):
    cfg = MelConfig()
    ours = F.mel_power(noise, cfg)
    ref = librosa.feature.melspectrogram(y=noise, sr=cfg.sr, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                         n_mels=cfg.n_mels, fmax=cfg.fmax)
    assert ours.shape == ref.shape
    assert np.max(np.abs(ours - ref)) / ref.max() < 1e-5


@pytest.mark.parametrize("cfg", [MelConfig(), MelConfig(n_fft=512, hop_length=128, n_mels=40, fmax=4000)])
def test_chunked_and_streaming_equal_whole_clip(noise, cfg):
    whole = F.log_mel(noise, cfg)
    chunked = np.concatenate([db for _, db in F.log_mel_chunks(noise, cfg, chunk_frames=37)], axis=1)
    assert np.max(np.abs(chunked - whole)) < 1e-3
    rng = np.random.default_rng(0)
    sm, parts, i = F.StreamingMel(cfg), [], 0
    while i < len(noise):
        n = int(rng.integers(1, 3000))
        parts.append(sm.push(noise[i:i + n]))
        i += n
    parts.append(sm.finish())
    streamed = np.concatenate(parts, axis=1)
    assert streamed.shape == whole.shape
    assert np.max(np.abs(streamed - whole)) < 1e-3


def test_full_scale_sine_reads_about_zero_db_in_its_band():
    cfg = MelConfig()
    t = np.arange(cfg.sr) / cfg.sr
    db = F.log_mel(np.sin(2 * np.pi * 1000 * t).astype(np.float32), cfg)
    column = db[:, 20]
    assert abs(column.max()) < 0.5
    band = int(np.argmax(column))
    assert abs(MA.mel_axis_position(1000, cfg) - (band + 0.5)) < 1.5
    quiet = F.log_mel((0.01 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), cfg)
    assert abs(quiet[:, 20].max() + 40) < 0.5  # 1/100 of full scale is -40 dB


def test_silence_is_finite():
    db = F.log_mel(np.zeros(5000, dtype=np.float32), MelConfig())
    assert np.isfinite(db).all()


def test_axis_ticks_are_increasing_and_inside():
    cfg = MelConfig()
    ticks = MA.mel_axis_ticks(cfg)
    positions = [p for p, _ in ticks]
    assert positions == sorted(positions) and 0 <= positions[0] and positions[-1] <= cfg.n_mels
    assert "1k" in [label for _, label in ticks]


@pytest.mark.parametrize("kwargs", [dict(n_fft=1000), dict(hop_length=0), dict(fmax=20000), dict(n_mels=0)])
def test_bad_mel_settings_are_refused(kwargs):
    with pytest.raises(ConfigError):
        MelConfig(**kwargs)


def test_mel_scale_matches_librosa():
    hz = np.array([0.0, 50.0, 440.0, 999.0, 1000.0, 1001.0, 4000.0, 8000.0, 11025.0])
    assert np.allclose(MA.hz_to_mel(hz), librosa.hz_to_mel(hz))
    mel = np.linspace(0, 45, 50)
    assert np.allclose(MA.mel_to_hz(mel), librosa.mel_to_hz(mel))
