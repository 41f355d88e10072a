"""The log-mel spectrogram: pure functions over float32 mono audio at a MelConfig's rate.

The log-mel spectrogram here is the one the Audio panel shows, the Live panel scrolls and the
models are trained on. `mel_power_frames` is the single place that turns samples into mel
frames; the whole-file, chunked (progressive display) and streaming forms all call it, so
they agree to the last bit (tests/core/test_features.py checks it).

Clip features for models are in features/clip.py; labelling a mel axis in Hz is display code
(display/mel_axis.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np

from ..config import MelConfig
from ..errors import Cancelled

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


class StreamingMel:
    """Mel frames from audio arriving in pieces, equal to log_mel() of the whole signal.

    push() returns the dB columns whose windows are complete; finish() pads the end as the
    whole-clip form does (centred frames) and returns the rest. Used for progressive display
    of long files and for the live microphone view.
    """

    def __init__(self, cfg: MelConfig, *, center: bool = True,
                 to_values: Callable[[np.ndarray], np.ndarray] | None = None):
        self.cfg = cfg
        self.center = center
        # What a column of mel power becomes: dB re full scale (the display's), or another
        # compression (musicnn's log10(1 + 10000 x) for live answers).
        self.to_values = to_values or (lambda power: power_to_db(power, cfg))
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
        db = self.to_values(mel_power_frames(self._buf[: (k - 1) * cfg.hop_length + cfg.n_fft], cfg))
        self._buf = self._buf[k * cfg.hop_length:]
        self.frames_out += k
        return db
