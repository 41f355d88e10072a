"""Small audio helpers for the recipe: atomic FLAC writes and silence trims.

Files are decoded and resampled by `audio.audiofile` (`load`, `resample`), as every prediction is,
so that built phrases and augmented copies are made from the samples the model hears."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def save_audio(path: str | Path, y: np.ndarray, sr: int) -> Path:
    """Write mono audio (FLAC or WAV by suffix, 16-bit) via a temporary file and an atomic rename."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    fmt = "FLAC" if path.suffix.lower() == ".flac" else "WAV"
    y = np.clip(np.asarray(y, dtype=np.float32), -1.0, 1.0)
    sf.write(str(tmp), y, int(sr), format=fmt, subtype="PCM_16")
    os.replace(tmp, path)
    return path


def _frame_db(y: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """Level of each 10 ms frame in dB below the loudest frame, and the frame length in samples."""
    from ..audio.levels import frame_mean_squares, frame_samples

    rms = np.sqrt(frame_mean_squares(y, sr) + 1e-12)
    return 20 * np.log10(rms / rms.max()) if len(rms) else rms, frame_samples(sr)


def trim_leading(y: np.ndarray, sr: int, *, top_db: float = 40.0, keep_s: float = 0.01) -> np.ndarray:
    """Drop leading silence: everything before the first 10 ms frame within `top_db` of the peak frame."""
    db, hop = _frame_db(y, sr)
    if len(db) == 0:
        return y
    first = int(np.argmax(db > -top_db))
    start = max(0, first * hop - int(keep_s * sr))
    return y[start:]


def trim_trailing(y: np.ndarray, sr: int, *, top_db: float = 50.0) -> np.ndarray:
    """Drop trailing silence (frames more than `top_db` below the peak frame)."""
    db, hop = _frame_db(y, sr)
    if len(db) == 0:
        return y
    loud = np.nonzero(db > -top_db)[0]
    end = (int(loud[-1]) + 1) * hop if len(loud) else len(y)
    return y[:end]
