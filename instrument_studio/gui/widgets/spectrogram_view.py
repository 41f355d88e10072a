"""Mel spectrogram image: seconds across, Hz (mel-spaced) up, dB colour bar.

Columns arrive in pieces while a file decodes; they are written into a preallocated array and the
image is refreshed at most a few times a second, on the frame clock, never per piece.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from ...core.config import MelConfig
from ...core.features import DB_FLOOR, mel_axis_ticks
from .timeline import TimelinePlot, restyle_label

DYNAMIC_RANGE_DB = 80.0
REFRESH_INTERVAL_S = 0.2  # while columns are still arriving


class SpectrogramView(TimelinePlot):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("spectrogram_view")
        self.setLabel("left", "Frequency (Hz, mel scale)")
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setAutoDownsample(True)
        self.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-DYNAMIC_RANGE_DB, 0.0), colorMap=pg.colormap.get("magma"),
                                        label="Power (dB re full scale)", interactive=True, width=16)
        self.colorbar.setImageItem(self.image, insert_in=self.plotItem)
        self.cfg: MelConfig | None = None
        self.data: np.ndarray | None = None  # (frames, n_mels): image x is time
        self.filled = 0
        self.peak_db = DB_FLOOR
        self._dirty = False
        self._last_refresh = 0.0

    # --- filling ----------------------------------------------------------------------------
    def begin(self, total_frames: int, cfg: MelConfig) -> None:
        self.cfg = cfg
        self.data = np.full((max(1, total_frames), cfg.n_mels), DB_FLOOR, dtype=np.float32)
        self.filled = 0
        self.peak_db = DB_FLOOR
        seconds = total_frames * cfg.hop_length / cfg.sr
        self.image.setImage(self.data, autoLevels=False, levels=self._levels())
        self.image.setRect(QRectF(0, 0, seconds, cfg.n_mels))
        self.getAxis("left").setTicks([mel_axis_ticks(cfg), []])
        self.setYRange(0, cfg.n_mels, padding=0)
        self.setLimits(yMin=0, yMax=cfg.n_mels)
        self.set_duration(seconds)
        self._dirty = False

    def add_frames(self, first: int, db: np.ndarray) -> None:
        if self.data is None:
            return
        n = min(db.shape[1], len(self.data) - first)
        if n <= 0:
            return
        self.data[first:first + n] = db[:, :n].T
        self.filled = max(self.filled, first + n)
        self.peak_db = max(self.peak_db, float(db.max()))
        self._dirty = True

    def finish(self) -> None:
        """All columns are in: drop columns a length estimate (MP3) reserved but never came, draw."""
        if self.data is not None and self.cfg is not None and 0 < self.filled < len(self.data):
            self.data = self.data[: self.filled]
            seconds = self.filled * self.cfg.hop_length / self.cfg.sr
            self.image.setImage(self.data, autoLevels=False, levels=self._levels())
            self.image.setRect(QRectF(0, 0, seconds, self.cfg.n_mels))
            self.set_duration(seconds)
        self._dirty = True
        self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> bool:
        """Redraw if columns arrived since the last draw (throttled unless forced)."""
        if not self._dirty or self.data is None:
            return False
        now = time.monotonic()
        if not force and now - self._last_refresh < REFRESH_INTERVAL_S and self.filled < len(self.data):
            return False
        self._last_refresh = now
        self._dirty = False
        self.image.setImage(self.data, autoLevels=False, levels=self._levels())
        self.colorbar.setLevels(self._levels())
        return True

    def clear_image(self) -> None:
        self.data = None
        self.image.clear()
        self.playhead.setVisible(False)

    def recolor(self) -> None:
        super().recolor()
        fg = pg.getConfigOption("foreground")
        for name in ("left", "right"):
            axis = self.colorbar.getAxis(name)
            axis.setTextPen(fg)
            axis.setPen(fg)
            restyle_label(axis, fg)

    def _levels(self) -> tuple[float, float]:
        # The loudest bin, rounded up to 10 dB, down to 80 dB below it: librosa's top_db convention.
        top = min(20.0, 10.0 * np.ceil(self.peak_db / 10.0)) if self.peak_db > DB_FLOOR else 0.0
        return (top - DYNAMIC_RANGE_DB, top)

    # --- reading (tests, screenshots) --------------------------------------------------------
    def column_at(self, seconds: float) -> np.ndarray | None:
        if self.data is None or self.cfg is None:
            return None
        i = int(seconds * self.cfg.sr / self.cfg.hop_length)
        return self.data[min(max(i, 0), len(self.data) - 1)]
