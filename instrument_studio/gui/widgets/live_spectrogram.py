"""Scrolling mel spectrogram for live input: the newest column at the right edge (0 s = now).

Columns go into a preallocated ring image twice as wide as the view (friture's idiom): column j
lands at j % W and j % W + W, so the newest W columns are always one contiguous slice, shown with
`setImage(slice, autoLevels=False, levels=...)` once per frame, never per column. The levels
are the colour bar's (fixed dB range, adjustable by dragging the bar), never auto-levels, so the
colours mean the same dB from frame to frame.

The view also measures its own audio-to-pixel latency: each column carries the time its newest
sample reached the audio callback; when the image item is painted, now minus that time is
recorded (`latencies`).
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from ...core.config import MelConfig
from ...core.display.mel_axis import mel_axis_ticks
from ...core.features.mel import DB_FLOOR

DEFAULT_LEVELS = (-80.0, 0.0)  # dB re full scale
_MAX_PENDING = 256             # batches of column arrival times kept while nothing is painted


class _TimedImage(pg.ImageItem):
    """An ImageItem that tells its owner when it has been painted."""

    def __init__(self, on_painted, **kw):
        super().__init__(**kw)
        self._on_painted = on_painted

    def paint(self, painter, *args):
        super().paint(painter, *args)
        self._on_painted()


class LiveSpectrogramView(pg.PlotWidget):
    def __init__(self, cfg: MelConfig | None = None, *, seconds: float = 8.0, parent=None):
        super().__init__(parent=parent)
        self.setObjectName("live_spectrogram")
        self.plotItem.setMenuEnabled(False)
        self.plotItem.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        self.setLabel("bottom", "Time (s, 0 = now)")
        # "0" (now) sits on the right edge: by default pyqtgraph hides a label that reaches past
        # the axis end, so the axis said -8 ... -1 and never 0. Half a label may overhang.
        self.getAxis("bottom").setStyle(hideOverlappingLabels=12)
        self.setLabel("left", "Frequency (Hz, mel scale)")
        self.getAxis("left").setWidth(70)
        self.image = _TimedImage(self._painted, axisOrder="col-major")
        self.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=DEFAULT_LEVELS, colorMap=pg.colormap.get("magma"),
                                        label="Power (dB re full scale)", interactive=True, width=16)
        self.colorbar.setImageItem(self.image, insert_in=self.plotItem)
        # A lookup table longer than 256 entries makes pyqtgraph colour the image itself (RGBA)
        # instead of handing Qt an indexed image: Qt then blits RGBA ~6x faster than it expands
        # and scales Indexed8 (3.7 ms -> 0.5 ms per paint at 1200x470 px, measured here).
        self.image.setLookupTable(self.colorbar.colorMap().getLookupTable(nPts=512, alpha=True))
        self.latencies: deque[float] = deque(maxlen=20000)
        self.columns_drawn = 0
        self.draws = 0
        self.configure(cfg or MelConfig(), seconds=seconds)

    # --- geometry -----------------------------------------------------------------------------
    def configure(self, cfg: MelConfig, *, seconds: float | None = None) -> None:
        """(Re)allocate for a mel config and a visible time span; clears the picture."""
        self.cfg = cfg
        if seconds is not None:
            self.seconds = seconds
        self.width_cols = max(8, int(round(self.seconds * cfg.sr / cfg.hop_length)))
        self.ring = np.full((2 * self.width_cols, cfg.n_mels), DB_FLOOR, dtype=np.float32)
        self.total = 0            # columns received since clear()
        self._pending_arrivals: list[np.ndarray] = []
        self._painted_arrivals: list[np.ndarray] = []
        self._dirty = True
        span = self.width_cols * cfg.hop_length / cfg.sr
        self.image.setImage(self.window(), autoLevels=False, levels=self.levels())
        self.image.setRect(QRectF(-span, 0, span, cfg.n_mels))
        self.getAxis("left").setTicks([mel_axis_ticks(cfg), []])
        self.setXRange(-span, 0, padding=0)
        self.setYRange(0, cfg.n_mels, padding=0)

    def reset(self) -> None:
        """Blank the picture. (Not `clear`: PlotWidget binds plotItem.clear, which removes the items.)"""
        self.configure(self.cfg)

    def levels(self) -> tuple[float, float]:
        lo, hi = self.colorbar.levels()
        return float(lo), float(hi)

    # --- data in (GUI thread, on the frame clock) ---------------------------------------------
    def add_columns(self, db: np.ndarray, arrival: np.ndarray | None = None) -> None:
        """Append dB columns (n_mels, k); nothing is drawn until `draw()`."""
        k = db.shape[1]
        if k == 0:
            return
        w = self.width_cols
        if k > w:
            db = db[:, -w:]
            arrival = None if arrival is None else arrival[-w:]
            self.total += k - w
            k = w
        cols = db.T
        p = self.total % w
        first = min(k, w - p)
        self.ring[p:p + first] = cols[:first]
        self.ring[p + w:p + w + first] = cols[:first]
        if k > first:
            self.ring[:k - first] = cols[first:]
            self.ring[w:w + k - first] = cols[first:]
        self.total += k
        if arrival is not None:
            self._pending_arrivals.append(np.asarray(arrival, dtype=np.float64))
            if len(self._pending_arrivals) > _MAX_PENDING:  # hidden or minimised: nothing is painted
                del self._pending_arrivals[0]
        self._dirty = True

    def window(self) -> np.ndarray:
        """The newest W columns, oldest first: a contiguous view of the ring (no copy)."""
        p = self.total % self.width_cols
        return self.ring[p:p + self.width_cols]

    def draw(self) -> bool:
        """Show what arrived since the last draw (call once per frame); False if nothing new."""
        if not self._dirty:
            return False
        self._dirty = False
        self.image.setImage(self.window(), autoLevels=False, levels=self.levels())
        if self._pending_arrivals:
            self._painted_arrivals.extend(self._pending_arrivals)
            self._pending_arrivals = []
            del self._painted_arrivals[:-_MAX_PENDING]
        self.draws += 1
        return True

    def freeze_copy(self) -> None:
        """Keep showing the current picture while new columns keep arriving into the ring."""
        self.image.setImage(self.window().copy(), autoLevels=False, levels=self.levels())
        self._pending_arrivals = []

    def _painted(self) -> None:
        if not self._painted_arrivals:
            return
        now = time.monotonic()
        for arr in self._painted_arrivals:
            good = arr[np.isfinite(arr)]
            self.latencies.extend((now - good).tolist())
            self.columns_drawn += len(arr)
        self._painted_arrivals = []

    # --- reading (tests, benchmarks) ----------------------------------------------------------
    def recent(self, seconds: float) -> np.ndarray:
        """The newest `seconds` of columns as (n_mels, k), oldest first."""
        k = min(self.width_cols, max(1, int(seconds * self.cfg.sr / self.cfg.hop_length)), self.total)
        return self.window()[self.width_cols - k:].T.copy()

    def displayed(self) -> np.ndarray:
        """The image the item currently holds (n_mels, W): what a user sees, frozen or not."""
        return np.asarray(self.image.image).T.copy()
