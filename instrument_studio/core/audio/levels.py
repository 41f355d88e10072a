"""Signal level, measured one way everywhere: the live meter, `record`'s status line, and
prediction's silence and clipping checks.

Levels are dB re full scale (dBFS: 1.0 is full scale for float audio), floored at SILENCE_DBFS
for digital silence; a sample whose magnitude reaches CLIP_LEVEL counts as clipped.
"""

from __future__ import annotations

import math

import numpy as np

from ..events import Level

CLIP_LEVEL = 0.999        # |sample| at or above this counts as clipping
SILENCE_DBFS = -120.0     # what digital silence (below 1e-6 of full scale) reads as


def dbfs(amplitude: float) -> float:
    """An amplitude (peak or RMS, full scale 1.0) in dBFS."""
    return 20.0 * math.log10(amplitude) if amplitude > 1e-6 else SILENCE_DBFS


def sum_of_squares(y: np.ndarray) -> float:
    """In float64, without BLAS: OpenBLAS hands a dot product of more than 10,000 samples to its
    worker threads, which then busy-wait; a 3 s live window's level cost 45-75 ms of CPU that way
    (for 0.5 ms of arithmetic), as much again as the network's answer."""
    return float(np.einsum("i,i->", y, y, dtype=np.float64))


def rms(y: np.ndarray) -> float:
    return math.sqrt(sum_of_squares(y) / len(y)) if len(y) else 0.0


def rms_dbfs(y: np.ndarray) -> float:
    return dbfs(rms(np.asarray(y).reshape(-1)))


LEVEL_FRAME_S = 0.01      # the frame of a level over time (a trim, a clip's playing part)


def frame_samples(sr: int) -> int:
    """Samples in one LEVEL_FRAME_S frame at rate sr."""
    return max(1, int(LEVEL_FRAME_S * sr))


def frame_mean_squares(y: np.ndarray, sr: int) -> np.ndarray:
    """Mean square of each whole LEVEL_FRAME_S frame of y (float64)."""
    hop = frame_samples(sr)
    n = len(y) // hop
    return np.mean(np.square(np.asarray(y[: n * hop]).reshape(n, hop), dtype=np.float64), axis=1)


def clipped_share(y: np.ndarray) -> float:
    """The share of samples at or above CLIP_LEVEL."""
    return float(np.mean(np.abs(y) >= CLIP_LEVEL)) if len(y) else 0.0


class LevelMeter:
    """Peak, RMS and clipping of mono blocks, summed up as a core.events.Level once every
    `interval` frames (a meter's refresh), or on demand with `level()`."""

    def __init__(self, interval: int):
        self.interval = max(1, int(interval))
        self.reset()

    def reset(self) -> None:
        self._sumsq, self._n, self._peak, self._clip = 0.0, 0, 0.0, False

    def add(self, x: np.ndarray) -> Level | None:
        """Take a block; the Level of the frames since the last one once `interval` have come."""
        if len(x) == 0:
            return None
        peak = float(np.max(np.abs(x)))
        self._peak = max(self._peak, peak)
        self._sumsq += sum_of_squares(x)
        self._n += len(x)
        self._clip = self._clip or peak >= CLIP_LEVEL
        return self.level() if self._n >= self.interval else None

    def level(self) -> Level | None:
        """The Level of the frames taken since the last one (None if none), and start afresh."""
        if self._n == 0:
            return None
        out = Level(peak_dbfs=dbfs(self._peak), rms_dbfs=dbfs(math.sqrt(self._sumsq / self._n)),
                    clipped=self._clip)
        self.reset()
        return out
