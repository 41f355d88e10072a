"""Labelling a mel-scaled frequency axis in Hz: display code, shared by the GUI's spectrogram views
and the PNG renderer (display/render.py). Nothing here computes features.
"""

from __future__ import annotations

import numpy as np

from ..config import MelConfig

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


def mel_axis_ticks(cfg: MelConfig, *, min_gap: float | None = None) -> list[tuple[float, str]]:
    """(position, label) pairs for a mel-scaled frequency axis labelled in Hz, at least `min_gap`
    mel bands apart (default n_mels / 14; a short plot with big labels asks for more)."""
    candidates = [50, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000,
                  10000, 12000, 16000, 20000]
    ticks = []
    last = -1e9
    min_gap = max(cfg.n_mels / 14, min_gap or 0.0)  # keep labels from colliding
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
