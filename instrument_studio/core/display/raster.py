"""A scrolling spectrogram raster at screen resolution, updated a few pixel columns at a time (Qt-free).

Why: a live spectrogram that hands the toolkit a 344x128 dB image every frame makes it colour
all of it and scale it to ~1200x470 pixels 40 times a second (most of the live view's CPU). Here
the picture is kept already coloured at the size it is shown: each new dB column is coloured
through the lookup table once and written into the few pixel columns it covers; the toolkit then
copies a slice 1:1. Only a resize, new colour levels or a new lookup table redraw everything.

Geometry. Data columns are counted from 0 since the start (`total` received). Screen pixel
columns are counted the same way, forever: pixel A shows the data column whose span contains the
pixel's centre, j = floor((A + 1/2) * W / Wpx), for W data columns on Wpx pixels (nearest
neighbour, as an unsmoothed scaled blit would do). The newest `total` columns end at pixel
A_end = ceil((total * Wpx - W/2) / W); the visible pixels are [A_end - Wpx, A_end), which show the
data columns [total - W, total) exactly. Pixels live in a ring twice as wide as the view (written
at A % Wpx and A % Wpx + Wpx), so the visible part is always one contiguous slice.
Rows: pixel row y (0 = top) shows mel band floor(n_mels - (y + 1/2) * n_mels / H).
"""

from __future__ import annotations

import numpy as np


def lut_to_rgb32(lut: np.ndarray) -> np.ndarray:
    """(n, 3|4) uint8 RGB(A) -> (n,) uint32 0xFFRRGGBB (QImage.Format_RGB32's layout)."""
    lut = np.asarray(lut, dtype=np.uint32)
    return (0xFF000000 | (lut[:, 0] << 16) | (lut[:, 1] << 8) | lut[:, 2]).astype(np.uint32)


class SpectrogramRaster:
    """The coloured pixels of a scrolling (n_mels x W) dB window shown on Wpx x H screen pixels."""

    def __init__(self, lut: np.ndarray, levels: tuple[float, float]):
        self.set_colours(lut, levels)
        self.wpx = self.height = 0
        self.pixels = np.zeros((0, 0), dtype=np.uint32)
        self.end = 0                 # A_end: first pixel column not yet drawn
        self.total = 0               # data columns the pixels show (the newest is total - 1)
        self.full_redraws = 0
        self.columns_written = 0     # pixel columns written incrementally

    # --- colours --------------------------------------------------------------------------
    def set_colours(self, lut: np.ndarray, levels: tuple[float, float]) -> None:
        self.lut = lut_to_rgb32(lut)
        lo, hi = float(levels[0]), float(levels[1])
        span = hi - lo if hi != lo else 1.0
        # pyqtgraph's rescale for a lookup table: (v - lo) * n / span, clipped to [0, n - 1].
        self._lo, self._scale = lo, len(self.lut) / span

    def colour(self, db: np.ndarray) -> np.ndarray:
        idx = np.clip((db - self._lo) * self._scale, 0, len(self.lut) - 1).astype(np.intp)
        return self.lut[idx]

    # --- geometry ---------------------------------------------------------------------------
    def fits(self, wpx: int, height: int, n_cols: int, n_mels: int) -> bool:
        return (wpx, height, n_cols, n_mels) == (self.wpx, self.height, self._w, self._n_mels)

    def resize(self, wpx: int, height: int, n_cols: int, n_mels: int) -> None:
        self.wpx, self.height = max(1, int(wpx)), max(1, int(height))
        self._w, self._n_mels = int(n_cols), int(n_mels)
        self.pixels = np.zeros((self.height, 2 * self.wpx), dtype=np.uint32)
        y = np.arange(self.height)
        self.rows = np.clip(np.floor(n_mels - (y + 0.5) * n_mels / self.height), 0, n_mels - 1).astype(np.intp)

    def end_of(self, total: int) -> int:
        """A_end for `total` columns: ceil((2 * total * Wpx - W) / (2 W)), in integers."""
        return max(0, -((self._w - 2 * total * self.wpx) // (2 * self._w)))

    def column_of(self, a: np.ndarray) -> np.ndarray:
        return ((2 * a + 1) * self._w) // (2 * self.wpx)

    def offset(self) -> int:
        """Where the visible Wpx pixel columns start in `pixels`."""
        return (self.end - self.wpx) % self.wpx

    def visible(self) -> np.ndarray:
        """The Wpx x H pixels on screen (a view, oldest column left)."""
        o = self.offset()
        return self.pixels[:, o:o + self.wpx]

    # --- drawing ----------------------------------------------------------------------------
    def redraw(self, window: np.ndarray, total: int) -> None:
        """Everything from the (W, n_mels) dB window holding data columns [total - W, total)."""
        self.total, self.end = total, self.end_of(total)
        a = np.arange(self.end - self.wpx, self.end)
        self._write(a, window, total)
        self.full_redraws += 1

    def advance(self, window: np.ndarray, total: int) -> None:
        """Draw the columns that arrived since the last call (a full redraw if they fill the view)."""
        new_end = self.end_of(total)
        if total < self.total or new_end - self.end >= self.wpx:
            self.redraw(window, total)
            return
        a = np.arange(self.end, new_end)
        self.total, self.end = total, new_end
        if len(a):
            self._write(a, window, total)
            self.columns_written += len(a)

    def _write(self, a: np.ndarray, window: np.ndarray, total: int) -> None:
        cols = self.column_of(a) - (total - self._w)       # positions in the window
        first, last = int(cols.min()), int(cols.max())
        # Colour only the data columns these pixels show, then spread them over rows and pixels.
        block = self.colour(window[first:last + 1].T)     # (n_mels, k)
        out = block[self.rows][:, cols - first]           # (H, len(a))
        pos = a % self.wpx
        self.pixels[:, pos] = out
        self.pixels[:, pos + self.wpx] = out
