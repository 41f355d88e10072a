"""Features: pure functions over float32 mono audio at a MelConfig's rate.

The log-mel spectrogram here is the one the Audio panel shows, the Live panel scrolls and the
models are trained on. `mel_power_frames` is the single place that turns samples into mel
frames; the whole-file, chunked (progressive display) and streaming forms all call it, so
they agree to the last bit (tests/core/test_features.py checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np

from ..config import FeatureConfig, MelConfig
from ..errors import Cancelled, FeatureError

# Below any real signal: keeps log10 finite for digital silence.
_AMIN = 1e-10
# Display floor and ceiling in dB re full scale (a full-scale 1 kHz sine peaks at about 0 dB).
DB_FLOOR = -90.0
DB_CEIL = 0.0
# STFT frames transformed per block in mel_power_frames.
_FRAME_BLOCK = 256


@lru_cache(maxsize=16)
def mel_basis(cfg: MelConfig) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin,
                               fmax=cfg.fmax).astype(np.float32)


@lru_cache(maxsize=16)
def _mel_basis_sparse(cfg: MelConfig):
    # Each FFT bin feeds at most two mel filters: as a sparse matrix the projection is ~50x less
    # work than the dense product, and it runs without BLAS threads, which stall badly when other
    # processes load the CPU (measured: 0.4 ms idle vs 80-100 ms under load for one 256-frame block).
    import scipy.sparse

    return scipy.sparse.csr_matrix(mel_basis(cfg))


@lru_cache(maxsize=16)
def _window(n_fft: int) -> np.ndarray:
    import scipy.signal

    return scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float32)


def n_frames(n_samples: int, cfg: MelConfig) -> int:
    """Frames a centred STFT gives for n_samples (librosa's center=True convention)."""
    return 1 + n_samples // cfg.hop_length


def mel_power_frames(padded: np.ndarray, cfg: MelConfig) -> np.ndarray:
    """Mel power (n_mels, n) of every full window in `padded` (samples already centred/padded).

    Window k covers padded[k*hop : k*hop + n_fft]: librosa's STFT with center=False, a Hann
    window and power 2, then the Slaney mel filterbank: numerically librosa.feature.melspectrogram.
    Frames are transformed in blocks so temporaries stay in cache and float32 throughout.
    """
    import scipy.fft

    padded = np.ascontiguousarray(padded, dtype=np.float32)
    if len(padded) < cfg.n_fft:
        return np.zeros((cfg.n_mels, 0), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, cfg.n_fft)[:: cfg.hop_length]
    window, basis = _window(cfg.n_fft), _mel_basis_sparse(cfg)
    out = np.empty((cfg.n_mels, len(frames)), dtype=np.float32)
    for i in range(0, len(frames), _FRAME_BLOCK):
        spec = scipy.fft.rfft(frames[i:i + _FRAME_BLOCK] * window, axis=1)
        power = spec.real ** 2 + spec.imag ** 2
        out[:, i:i + _FRAME_BLOCK] = basis @ power.T
    return out


def mel_power(y: np.ndarray, cfg: MelConfig) -> np.ndarray:
    """Mel power spectrogram (n_mels, frames) of a whole clip, centred frames, zero padding."""
    pad = cfg.n_fft // 2
    return mel_power_frames(np.pad(np.asarray(y, dtype=np.float32), pad), cfg)


@lru_cache(maxsize=16)
def full_scale_ref(cfg: MelConfig) -> float:
    """Mel power of a full-scale 1 kHz sine: the 0 dB of every displayed spectrogram."""
    t = np.arange(cfg.sr, dtype=np.float64) / cfg.sr
    freq = min(1000.0, 0.5 * (cfg.fmin + cfg.fmax))
    tone = np.sin(2 * np.pi * freq * t).astype(np.float32)
    return float(mel_power(tone, cfg)[:, 4:-4].max())


def power_to_db(power: np.ndarray, cfg: MelConfig) -> np.ndarray:
    """10 log10(power / full-scale reference): dB re full scale, float32."""
    out = np.maximum(power, _AMIN * full_scale_ref(cfg))
    out = np.log10(out / full_scale_ref(cfg), dtype=np.float32)
    out *= 10.0
    return out


def log_mel(y: np.ndarray, cfg: MelConfig) -> np.ndarray:
    """Log-mel spectrogram (n_mels, frames) in dB re full scale."""
    return power_to_db(mel_power(y, cfg), cfg)


def log_mel_chunks(y: np.ndarray, cfg: MelConfig, *, chunk_frames: int = 4096,
                   should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first_frame, dB block) over a whole clip, equal to log_mel(y) cut into columns.

    Used to show a long file's spectrogram while it is still being computed.
    """
    y = np.asarray(y, dtype=np.float32)
    pad = cfg.n_fft // 2
    padded = np.pad(y, pad)
    total = n_frames(len(y), cfg)
    hop = cfg.hop_length
    for f0 in range(0, total, chunk_frames):
        if should_stop is not None and should_stop():
            raise Cancelled("spectrogram cancelled")
        f1 = min(total, f0 + chunk_frames)
        seg = padded[f0 * hop: (f1 - 1) * hop + cfg.n_fft]
        yield f0, power_to_db(mel_power_frames(seg, cfg), cfg)


def mel_frequencies(cfg: MelConfig) -> np.ndarray:
    """Centre frequency in Hz of each mel band (for labelling a mel-scaled axis)."""
    import librosa

    return librosa.mel_frequencies(n_mels=cfg.n_mels + 2, fmin=cfg.fmin, fmax=cfg.fmax)[1:-1]


# librosa's Slaney mel scale (htk=False), written out because the GUI labels its axes with it
# and importing librosa.core.convert pulls in numba: 1.6 s of frozen window on the first file.
# tests/core/test_features.py checks it against librosa.hz_to_mel / mel_to_hz.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / _F_SP
    log = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(hz >= _MIN_LOG_HZ, log, linear)


def mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    linear = _F_SP * mel
    log = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(mel, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, log, linear)


def mel_axis_position(hz, cfg: MelConfig):
    """Where frequency `hz` sits on a mel-spectrogram image whose row i spans [i, i+1).

    Band i is centred on the (i+1)-th of n_mels+2 points spaced evenly in mel from fmin to fmax.
    """
    lo, hi = hz_to_mel(cfg.fmin), hz_to_mel(cfg.fmax)
    return (np.asarray(hz_to_mel(hz)) - lo) / (hi - lo) * (cfg.n_mels + 1) - 0.5


def mel_axis_ticks(cfg: MelConfig) -> list[tuple[float, str]]:
    """(position, label) pairs for a mel-scaled frequency axis labelled in Hz."""
    candidates = [50, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000,
                  10000, 12000, 16000, 20000]
    ticks = []
    last = -1e9
    min_gap = cfg.n_mels / 14  # keep labels from colliding
    for hz in candidates:
        if not cfg.fmin <= hz <= cfg.fmax:
            continue
        pos = float(mel_axis_position(hz, cfg))
        if pos < 0 or pos > cfg.n_mels or pos - last < min_gap:
            continue
        ticks.append((pos, f"{hz // 1000:g}k" if hz >= 1000 and hz % 1000 == 0 else
                      (f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}")))
        last = pos
    return ticks


class StreamingMel:
    """Mel frames from audio arriving in pieces, equal to log_mel() of the whole signal.

    push() returns the dB columns whose windows are complete; finish() pads the end as the
    whole-clip form does (centred frames) and returns the rest. Used for progressive display
    of long files and for the live microphone view.
    """

    def __init__(self, cfg: MelConfig, *, center: bool = True):
        self.cfg = cfg
        self.center = center
        self._buf = np.zeros(cfg.n_fft // 2 if center else 0, dtype=np.float32)
        self.samples_in = 0
        self.frames_out = 0
        self._finished = False

    def push(self, y: np.ndarray) -> np.ndarray:
        if self._finished:
            raise RuntimeError("StreamingMel.push after finish")
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        self.samples_in += len(y)
        self._buf = np.concatenate([self._buf, y]) if len(self._buf) else y.copy()
        return self._drain()

    def finish(self) -> np.ndarray:
        """The remaining columns (centred mode: up to 1 + samples // hop in all)."""
        if self._finished:
            return np.zeros((self.cfg.n_mels, 0), dtype=np.float32)
        self._finished = True
        if not self.center:
            return np.zeros((self.cfg.n_mels, 0), dtype=np.float32)
        want = n_frames(self.samples_in, self.cfg) - self.frames_out
        self._buf = np.concatenate([self._buf, np.zeros(self.cfg.n_fft // 2, dtype=np.float32)])
        out = self._drain()
        if want < out.shape[1]:
            self.frames_out -= out.shape[1] - max(0, want)
            out = out[:, :max(0, want)]
        return out

    def _drain(self) -> np.ndarray:
        cfg = self.cfg
        if len(self._buf) < cfg.n_fft:
            return np.zeros((cfg.n_mels, 0), dtype=np.float32)
        k = (len(self._buf) - cfg.n_fft) // cfg.hop_length + 1
        db = power_to_db(mel_power_frames(self._buf[: (k - 1) * cfg.hop_length + cfg.n_fft], cfg), cfg)
        self._buf = self._buf[k * cfg.hop_length:]
        self.frames_out += k
        return db


# --- clip features: THE one code path from audio to model input ------------------------------
# Extraction, evaluation, file prediction and live prediction all call clip_features(); a model
# bundle stores its FeatureConfig, so the input a model sees live is computed exactly as in training.

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
    narrower for clips of fewer frames)."""
    import scipy.signal

    n = m.shape[1]
    if n < 3:
        return np.zeros_like(m)
    width = min(9, n if n % 2 else n - 1)
    return scipy.signal.savgol_filter(m, width, polyorder=1, deriv=1, axis=-1, mode="interp")


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


def clip_features(y: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Model input rows for one clip of mono float32 audio at cfg.mel.sr.

    mfcc: (1, n_mfcc * len(mfcc_stats)); sequence: (1, frames, 21);
    mel-patches: (patches, n_mels, patch_frames[, channels]), one row per patch.
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
    return mel_patches(y, cfg)
