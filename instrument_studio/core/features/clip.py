"""Clip features: THE one code path from audio to model input.

Extraction, evaluation, file prediction and live prediction all call clip_features(); a model
bundle stores its FeatureConfig, so the input a model sees live is computed exactly as in training.
"""

from __future__ import annotations

import numpy as np

from ..config import FeatureConfig, MelConfig
from ..errors import FeatureError
from .mel import log_mel, mel_power, power_to_db


def _stft_magnitude(y: np.ndarray, cfg: MelConfig) -> np.ndarray:
    import librosa

    return np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                               window="hann", center=True, pad_mode="constant"))


def mfcc_from_db(db: np.ndarray, n_mfcc: int) -> np.ndarray:
    """MFCC (n_mfcc, frames): orthonormal DCT-II of a log-mel spectrogram, what
    librosa.feature.mfcc(S=db) computes, without importing librosa on the live path."""
    import scipy.fft

    return scipy.fft.dct(db, type=2, norm="ortho", axis=0)[:n_mfcc]


def _delta(m: np.ndarray) -> np.ndarray:
    """First-order delta over frames: librosa.feature.delta's Savitzky-Golay filter (width 9,
    narrower for clips of fewer frames), mode "interp".

    For a first-order fit the filter's value at a window's centre IS the slope of the line fitted
    to that window, and "interp" gives each edge frame the slope of the line fitted to the first
    (last) full window: the centre value of that window. So the edges are copied from the first
    and last centre values instead of refitted by least squares (scipy's interp mode: two lstsq
    calls per clip, more than half of the MFCC summary's time)."""
    import scipy.signal

    n = m.shape[1]
    if n < 3:
        return np.zeros_like(m)
    width = min(9, n if n % 2 else n - 1)
    half = width // 2
    d = scipy.signal.savgol_filter(m, width, polyorder=1, deriv=1, axis=-1, mode="constant")
    d[:, :half] = d[:, half:half + 1]
    d[:, n - half:] = d[:, n - half - 1:n - half]
    return d


def mfcc_summary(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """One vector per clip: each MFCC coefficient summarised over frames by cfg.mfcc_stats
    (default mean, std and mean of the delta: 40 x 3 = 120 values, the labs' size)."""
    m = mfcc_from_db(log_mel(y, cfg.mel), cfg.n_mfcc)
    parts = []
    delta = None
    for stat in cfg.mfcc_stats:
        if stat.startswith("delta_"):
            delta = _delta(m) if delta is None else delta
            src, fn = delta, stat[len("delta_"):]
        else:
            src, fn = m, stat
        parts.append(getattr(np, fn)(src, axis=1))
    return np.concatenate(parts).astype(np.float32)


def fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Cut or zero-pad to exactly n samples (from the start)."""
    y = np.asarray(y, dtype=np.float32)
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


def frame_sequence(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """(frames, 21): 13 MFCC + spectral centroid (Hz) + 7 spectral contrast values per frame, over
    the clip cut or padded to cfg.clip_seconds."""
    import librosa

    mel = cfg.mel
    y = fit_length(y, int(round(cfg.clip_seconds * mel.sr)))
    m = mfcc_from_db(log_mel(y, mel), cfg.sequence_n_mfcc)
    mag = _stft_magnitude(y, mel)
    centroid = librosa.feature.spectral_centroid(S=mag, sr=mel.sr, n_fft=mel.n_fft, hop_length=mel.hop_length)
    contrast = librosa.feature.spectral_contrast(S=mag, sr=mel.sr, n_fft=mel.n_fft, hop_length=mel.hop_length,
                                                 n_bands=cfg.contrast_bands)
    return np.concatenate([m, centroid, contrast], axis=0).T.astype(np.float32)


def mel_channels(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """The log-mel image a patch is cut from: (n_mels, frames) or, with multi-resolution and/or
    HPSS, (n_mels, frames, channels): window lengths cfg.multires_n_ffts, then harmonic and
    percussive log-mels (librosa's median-filter HPSS on the mel power). Every channel has the
    same hop, so frames align."""
    import dataclasses
    import warnings

    mel = cfg.mel
    if cfg.multires:
        chans = []
        with warnings.catch_warnings():
            # Short windows leave the lowest mel bands without an FFT bin ("Empty filters").
            warnings.simplefilter("ignore", UserWarning)
            for n_fft in cfg.multires_n_ffts:
                chans.append(log_mel(y, dataclasses.replace(mel, n_fft=n_fft)))
    else:
        chans = [log_mel(y, mel)]
    if cfg.hpss:
        import librosa

        # Median-filter HPSS on the mel power (128 bands) rather than the 1025-bin STFT: 15x faster,
        # and the channels are mel images anyway. Kernels: 31 frames across time (harmonic),
        # 9 bands across frequency (percussive; about the span of librosa's 31 FFT bins).
        harmonic, percussive = librosa.decompose.hpss(mel_power(y, mel), kernel_size=(31, 9))
        chans += [power_to_db(harmonic.astype(np.float32), mel), power_to_db(percussive.astype(np.float32), mel)]
    n = min(c.shape[1] for c in chans)
    if len(chans) == 1:
        return chans[0]
    return np.stack([c[:, :n] for c in chans], axis=-1)


def mel_patches(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """(patches, n_mels, patch_frames[, channels]): 1 s log-mel patches every patch_hop_seconds
    (Han et al. 2017). A clip shorter than one patch is zero-padded to one patch."""
    mel = cfg.mel
    need = (cfg.patch_frames - 1) * mel.hop_length
    y = np.asarray(y, dtype=np.float32)
    if len(y) < need:
        y = np.pad(y, (0, need - len(y)))
    img = mel_channels(y, cfg)
    width, hop = cfg.patch_frames, cfg.patch_hop_frames
    starts = range(0, img.shape[1] - width + 1, hop)
    return np.stack([img[:, s:s + width] for s in starts]).astype(np.float32)


def musicnn_log(power: np.ndarray) -> np.ndarray:
    """musicnn's compression of mel power: log10(1 + 10000 x), float32."""
    return np.log10(10000.0 * power + 1.0, dtype=np.float32)


# musicnn's log10(1 + 10000 x) is not scale-free: the same playing recorded 12 dB quieter reaches
# the network in another shape (the median note of two note libraries here differed by 12 dB, and a
# head trained on one named the other's notes 0.41 -> 0.78 right once both were brought to one
# level). So every clip, and the live stream, is brought to one active level first.
# The level: about that of the mastered commercial music musicnn learnt from. Through the recipe's
# hold-outs, -30/-20/-12/-9/-6 dB named 898/903/926/923/936 of 1,414 recordings: a plateau from -12
# on; -12 named the most real phrases and web-app recordings, -6 more library notes.
ACTIVE_LEVEL_DB = -12.0  # RMS, dB re full scale, of a clip's playing part
ACTIVE_TOP_DB = 40.0     # the playing part: level frames (audio.levels) within this of the loudest


def level_gain(mean_squares: np.ndarray) -> float:
    """The amplitude gain that brings the playing part of level frames with these mean squares
    (`audio.levels.frame_mean_squares`) to ACTIVE_LEVEL_DB (1.0 for silence)."""
    ms = np.asarray(mean_squares, dtype=np.float64)
    if not len(ms) or ms.max() <= 0:
        return 1.0
    active = ms[ms > ms.max() * 10 ** (-ACTIVE_TOP_DB / 10)]
    return float(10 ** (ACTIVE_LEVEL_DB / 20) / np.sqrt(active.mean()))


def musicnn_spectrogram(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """musicnn's input frames of a whole clip (frames x n_mels), the clip brought to ACTIVE_LEVEL_DB."""
    from ..audio.levels import frame_mean_squares

    gain = np.float32(level_gain(frame_mean_squares(y, cfg.mel.sr)) ** 2)  # on power
    return musicnn_log(mel_power(y, cfg.mel) * gain).T


def musicnn_windows(y: np.ndarray, cfg: FeatureConfig) -> tuple[np.ndarray, list[int]]:
    """(windows, patch_frames, n_mels): log10(1 + 10000 * mel power), time first, as the musicnn
    checkpoints were trained on, of the clip brought to ACTIVE_LEVEL_DB, every patch_hop_seconds,
    cut from the whole clip's spectrogram; and each window's first frame. A clip shorter than one
    window is repeated until it fills one (a note played again), not padded with silence."""
    img = musicnn_spectrogram(y, cfg)
    width, hop = cfg.patch_frames, cfg.patch_hop_frames
    if len(img) < width:
        # musicnn pools the mean over a window's frames: a short note padded with silence had an
        # embedding that moved with the note's length, so the notes of a library whose notes are
        # longer or shorter looked like other instruments (a head trained on one note library and
        # tested on another, 7 classes: 0.08 -> 0.24 and 0.23 -> 0.41 right, repeated vs padded).
        img = np.tile(img, (-(-width // len(img)), 1))[:width]
    starts = list(range(0, len(img) - width + 1, hop))
    # The last window ends at the clip's end, so no tail longer than half a hop goes unheard.
    if len(img) - width - starts[-1] > hop // 2:
        starts.append(len(img) - width)
    return np.stack([img[s:s + width] for s in starts]).astype(np.float32), starts


def clip_features(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Model input rows for one clip of mono float32 audio at cfg.mel.sr.

    mfcc: (1, n_mfcc * len(mfcc_stats)); sequence: (1, frames, 21);
    mel-patches: (patches, n_mels, patch_frames[, channels]), one row per patch;
    musicnn: (windows, patch_frames, n_mels).
    """
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if not len(y):
        raise FeatureError("no audio samples to compute features from")
    if not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    if cfg.kind == "mfcc":
        return mfcc_summary(y, cfg)[None, :]
    if cfg.kind == "sequence":
        return frame_sequence(y, cfg)[None, :, :]
    if cfg.kind == "musicnn":
        return musicnn_windows(y, cfg)[0]
    return mel_patches(y, cfg)
