"""Min/max waveform envelopes at several resolutions, so an hour of audio draws instantly.

Level k holds the min and max of every block of BASE * FACTOR**k samples. A view asks for the
envelope of the samples it shows at about one block per pixel and gets the coarsest level that
still has at least one block per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BASE = 64
FACTOR = 4


def _blocks_minmax(y: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(y) // block
    body = y[: n * block].reshape(n, block)
    mins, maxs = body.min(axis=1), body.max(axis=1)
    if len(y) > n * block:
        tail = y[n * block:]
        mins = np.append(mins, tail.min())
        maxs = np.append(maxs, tail.max())
    return mins.astype(np.float32), maxs.astype(np.float32)


@dataclass
class EnvelopeSlice:
    """x (sample index at each point), and the min/max curves to draw between."""

    x: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    block: int


class EnvelopePyramid:
    def __init__(self, y: np.ndarray):
        self.y = np.asarray(y, dtype=np.float32)
        self.levels: list[tuple[int, np.ndarray, np.ndarray]] = []
        if len(self.y) == 0:
            return
        block = BASE
        lo, hi = _blocks_minmax(self.y, block)
        self.levels.append((block, lo, hi))
        while len(lo) > 2048:
            block *= FACTOR
            lo2, _ = _blocks_minmax(lo, FACTOR)
            _, hi2 = _blocks_minmax(hi, FACTOR)
            lo, hi = lo2, hi2
            self.levels.append((block, lo, hi))

    def __len__(self) -> int:
        return len(self.y)

    def slice(self, start: int, stop: int, pixels: int) -> EnvelopeSlice:
        """The envelope of samples [start, stop) at roughly `pixels` points or more."""
        start = max(0, int(start))
        stop = min(len(self.y), int(stop))
        if stop <= start:
            empty = np.zeros(0, dtype=np.float32)
            return EnvelopeSlice(empty, empty, empty, 1)
        per_px = (stop - start) / max(1, pixels)
        if per_px < BASE or not self.levels:
            x = np.arange(start, stop)
            seg = self.y[start:stop]
            return EnvelopeSlice(x, seg, seg, 1)
        chosen = self.levels[0]
        for level in self.levels:
            if level[0] <= per_px:
                chosen = level
        block, lo, hi = chosen
        b0, b1 = start // block, -(-stop // block)
        x = np.arange(b0, b1) * block + block // 2
        return EnvelopeSlice(x, lo[b0:b1], hi[b0:b1], block)
