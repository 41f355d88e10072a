"""clip_features: the one feature path (shapes, agreement with librosa, patches, channels)."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.errors import ConfigError, FeatureError
from instrument_studio.core.features.clip import clip_features
from instrument_studio.core.features.mel import log_mel, mel_power, power_to_db

SR = 22050


def _signal(seconds=3.0, freq=440.0, noise=0.02):
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(0)
    return (0.4 * np.sin(2 * np.pi * freq * t) + noise * rng.standard_normal(len(t))).astype(np.float32)


def test_mfcc_summary_is_120_values_matching_librosa():
    import librosa

    y = _signal()
    cfg = FeatureConfig(kind="mfcc")
    rows = clip_features(y, cfg)
    assert rows.shape == (1, 120) == (1, *cfg.row_shape)
    db = log_mel(y, cfg.mel)
    m = librosa.feature.mfcc(S=db, n_mfcc=40)
    expected = np.concatenate([m.mean(1), m.std(1), librosa.feature.delta(m).mean(1)])
    np.testing.assert_allclose(rows[0], expected, rtol=1e-4, atol=1e-3)


def test_sequence_is_frames_by_21():
    cfg = FeatureConfig(kind="sequence")
    short, long = clip_features(_signal(1.0, noise=0), cfg), clip_features(_signal(5.0, noise=0), cfg)
    assert short.shape == long.shape == (1, 130, 21) == (1, *cfg.row_shape)
    # columns 13 (centroid, Hz) sit near the tone's frequency where the tone plays
    assert 300 < np.median(long[0, 5:-5, 13]) < 700
    # the 1 s clip is zero-padded: its centroid is 0 over the padding
    assert np.all(short[0, 60:, 13] == 0)


def test_mel_patches_overlap_and_count():
    y = _signal(3.0)
    half = FeatureConfig(kind="mel-patches", patch_hop_seconds=0.5)
    none = FeatureConfig(kind="mel-patches", patch_hop_seconds=1.0)
    a, b = clip_features(y, half), clip_features(y, none)
    assert a.shape[1:] == (128, 43) == half.row_shape
    frames = log_mel(y, half.mel).shape[1]
    assert a.shape[0] == (frames - 43) // half.patch_hop_frames + 1
    assert b.shape[0] == (frames - 43) // 43 + 1 < a.shape[0]
    # patch k starts at k * hop frames of the clip's log-mel: the same numbers as the whole image
    np.testing.assert_array_equal(a[1], log_mel(y, half.mel)[:, 22:65])


def test_short_clip_gives_one_padded_patch():
    rows = clip_features(_signal(0.2), FeatureConfig(kind="mel-patches"))
    assert rows.shape == (1, 128, 43)


def test_musicnn_short_clip_is_repeated_to_fill_its_window():
    """musicnn mean-pools a window: a short note must fill it (repeated), not sit in silence, so
    that a note's embedding does not move with its length."""
    from instrument_studio.core.config import MUSICNN_FEATURES as cfg
    from instrument_studio.core.features.clip import musicnn_spectrogram, musicnn_windows

    y = _signal(1.0)[: cfg.mel.sr]  # 1 s at 16 kHz (the tone is only there to be heard)
    frames = musicnn_spectrogram(y, cfg)
    rows, starts = musicnn_windows(y, cfg)
    assert rows.shape == (1, *cfg.row_shape) and starts == [0]
    n = len(frames)
    assert n < cfg.patch_frames
    for k in range(0, cfg.patch_frames, n):
        np.testing.assert_array_equal(rows[0, k:k + n], frames[: cfg.patch_frames - k])
    assert rows[0].max(axis=1).min() > 0  # no silent (all-zero) frame anywhere
    # a clip of a window or more is cut as it is
    long = _signal(4.0)[: 4 * cfg.mel.sr]
    np.testing.assert_array_equal(musicnn_windows(long, cfg)[0][0], musicnn_spectrogram(long, cfg)[: cfg.patch_frames])


@pytest.mark.parametrize("hpss,multires,channels", [(True, False, 3), (False, True, 3), (True, True, 5)])
def test_channels(hpss, multires, channels):
    cfg = FeatureConfig(kind="mel-patches", hpss=hpss, multires=multires)
    rows = clip_features(_signal(1.5), cfg)
    assert rows.shape[1:] == (128, 43, channels) == cfg.row_shape
    assert np.isfinite(rows).all()
    if multires and not hpss:
        # channel 1 is the 2048-sample window: the plain log-mel
        np.testing.assert_allclose(rows[0, :, :, 1], clip_features(_signal(1.5), FeatureConfig(kind="mel-patches"))[0],
                                   atol=1e-4)
    if hpss:
        # a steady tone is harmonic: the harmonic channel carries more energy than the percussive one
        base = 1 if not multires else 3
        assert rows[..., base].mean() > rows[..., base + 1].mean()


def test_patch_of_live_buffer_equals_patch_of_file():
    """Live prediction feeds 1 s buffers; its patch equals the file's first patch (same code path)."""
    y = _signal(3.0)
    cfg = FeatureConfig(kind="mel-patches")
    live = clip_features(y[: (cfg.patch_frames - 1) * cfg.mel.hop_length], cfg)
    whole = clip_features(y, cfg)
    # Only the last frames differ: their windows reach past the end of the live buffer.
    np.testing.assert_allclose(live[0, :, :-3], whole[0, :, :-3], atol=1e-4)


def test_empty_and_non_finite_input():
    with pytest.raises(FeatureError):
        clip_features(np.zeros(0, np.float32), FeatureConfig())
    y = _signal(1.0)
    y[100] = np.nan
    assert np.isfinite(clip_features(y, FeatureConfig())).all()


def test_config_round_trip_and_validation():
    cfg = FeatureConfig(kind="mel-patches", hpss=True, multires_n_ffts=(512, 1024, 2048))
    assert FeatureConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ConfigError):
        FeatureConfig(multires_n_ffts=(1000,))
    with pytest.raises(ConfigError):
        FeatureConfig(mfcc_stats=("median",))


def test_existing_log_mel_unchanged():
    y = _signal(1.0)
    cfg = FeatureConfig().mel
    np.testing.assert_array_equal(log_mel(y, cfg), power_to_db(mel_power(y, cfg), cfg))


def test_hpss_puts_clicks_in_the_percussive_channel():
    y = np.zeros(int(1.5 * SR), np.float32)
    y[:: SR // 8] = 0.9  # eight clicks a second
    rows = clip_features(y, FeatureConfig(kind="mel-patches", hpss=True))
    harmonic, percussive = rows[..., 1], rows[..., 2]
    assert percussive.mean() > harmonic.mean() + 3  # dB


@pytest.mark.parametrize("frames", [1, 2, 3, 4, 5, 8, 9, 10, 17, 44, 301])
def test_delta_is_librosas_savitzky_golay_interp_delta(frames):
    """The delta's edges are copied from the first/last window's slope rather than refitted:
    the same values as scipy's mode="interp" (what librosa.feature.delta uses)."""
    import scipy.signal

    from instrument_studio.core.features.clip import _delta

    m = (np.random.default_rng(frames).standard_normal((40, frames)) * 30).astype(np.float32)
    got = _delta(m)
    if frames < 3:
        assert not got.any()
        return
    width = min(9, frames if frames % 2 else frames - 1)
    ref = scipy.signal.savgol_filter(m, width, polyorder=1, deriv=1, axis=-1, mode="interp")
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-4 * np.abs(ref).max())
