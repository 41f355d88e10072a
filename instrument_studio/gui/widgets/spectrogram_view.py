"""Mel spectrogram image: seconds across, Hz (mel-spaced) up, dB colour bar.

The full-resolution columns live in one preallocated array (filled in pieces while a file
decodes). The image item is only ever given what the view shows, max-pooled to about two
columns per pixel, so drawing an hour-long file costs the same as drawing ten seconds: a coarse
copy pooled COARSE columns at a time is kept up to date as columns arrive and serves zoomed-out
views. Redraws happen on the frame clock, never per piece of input.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontInfo

from ...core.config import MelConfig
from ...core.display.mel_axis import mel_axis_ticks
from ...core.features.mel import DB_FLOOR
from .. import presentation
from .timeline import TimelinePlot, restyle_label

DYNAMIC_RANGE_DB = 80.0
REFRESH_INTERVAL_S = 0.25  # while columns are still arriving
COARSE = 16                # columns per column of the coarse copy


def _pool_max(block: np.ndarray, factor: int) -> np.ndarray:
    """Max over runs of `factor` columns (axis 0); a short last run is pooled too."""
    if factor <= 1:
        return block
    n = len(block) // factor
    body = block[: n * factor].reshape(n, factor, block.shape[1]).max(axis=1)
    if len(block) > n * factor:
        body = np.concatenate([body, block[n * factor:].max(axis=0, keepdims=True)])
    return body


FREQ_LABEL, FREQ_LABEL_SHORT = "Frequency (Hz, mel scale)", "Hz (mel)"
POWER_LABEL, POWER_LABEL_SHORT = "Power (dB re full scale)", "dB"


def fit_mel_ticks(plot, cfg: MelConfig | None) -> None:
    """Frequency ticks spaced for their labels' size on screen: at presentation size (30 px) on a
    short view, the fixed spacing piled 300 ... 5k on top of each other."""
    if cfg is None:
        return
    axis = plot.getAxis("left")
    height = plot.plotItem.vb.height()
    px = QFontInfo(axis.style.get("tickFont") or QFont()).pixelSize()
    gap = cfg.n_mels * 1.5 * px / height if height > 0 else None
    axis.setTicks([mel_axis_ticks(cfg, min_gap=gap), []])


def name_axes(plot, colorbar, on: bool, *, width: int | None) -> None:
    """A spectrogram's axes at presentation size or back: short names (the long ones at 30 px are
    longer than a view is high), and room for the colour bar's values. The Audio, Dataset clip and
    Live spectrograms share it."""
    left = plot.getAxis("left")
    left.setLabel(FREQ_LABEL_SHORT if on else FREQ_LABEL)
    left.setWidth(None if on else width)     # room for "1.5k" at 30 px beside its name
    colorbar.getAxis("left").setLabel(POWER_LABEL_SHORT if on else POWER_LABEL)   # the bar's name
    presentation.colour_bar_room(colorbar, on)     # its values, "-80" the widest
    presentation.room_above(plot.plotItem, on)     # the top value, "0" dB


class SpectrogramView(TimelinePlot):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("spectrogram_view")
        self._left_width = self.getAxis("left").fixedWidth
        self.setLabel("left", FREQ_LABEL)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-DYNAMIC_RANGE_DB, 0.0), colorMap=pg.colormap.get("magma"),
                                        label=POWER_LABEL, interactive=True, width=16)
        self.colorbar.setImageItem(self.image, insert_in=self.plotItem)
        # Levels the user dragged on the colour bar win over the automatic ones until the next file.
        self.user_levels: tuple[float, float] | None = None
        self.colorbar.sigLevelsChangeFinished.connect(
            lambda bar: setattr(self, "user_levels", tuple(bar.levels())))
        self.cfg: MelConfig | None = None
        self.data: np.ndarray | None = None    # (frames, n_mels): image x is time
        self.coarse: np.ndarray | None = None  # data max-pooled COARSE columns at a time
        self.filled = 0
        self._coarse_filled = 0
        self.peak_db = DB_FLOOR
        self._dirty = False
        self._last_refresh = 0.0
        self.render_count = 0
        self.plotItem.vb.sigXRangeChanged.connect(self._view_changed)
        self.plotItem.vb.sigResized.connect(lambda *_a: fit_mel_ticks(self, self.cfg))

    def presentation_changed(self, on: bool) -> None:
        name_axes(self, self.colorbar, on, width=self._left_width)
        fit_mel_ticks(self, self.cfg)

    # --- filling ----------------------------------------------------------------------------
    def begin(self, total_frames: int, cfg: MelConfig) -> None:
        self.cfg = cfg
        total_frames = max(1, total_frames)
        self.data = np.empty((total_frames, cfg.n_mels), dtype=np.float32)
        self.coarse = np.full((-(-total_frames // COARSE), cfg.n_mels), DB_FLOOR, dtype=np.float32)
        self.filled = self._coarse_filled = 0
        self.peak_db = DB_FLOOR
        self.user_levels = None
        fit_mel_ticks(self, cfg)
        self.setYRange(0, cfg.n_mels, padding=0)
        self.setLimits(yMin=0, yMax=cfg.n_mels)
        self.set_duration(total_frames * self.seconds_per_column)
        self.image.clear()
        self._dirty = True

    @property
    def seconds_per_column(self) -> float:
        return self.cfg.hop_length / self.cfg.sr if self.cfg else 1.0

    def add_frames(self, first: int, db: np.ndarray) -> None:
        if self.data is None:
            return
        if first + db.shape[1] > len(self.data):
            # More columns than the file's size estimate reserved (a header is never believed): grow.
            self._grow(max(first + db.shape[1], 2 * len(self.data)))
        n = min(db.shape[1], len(self.data) - first)
        if n <= 0:
            return
        self.data[first:first + n] = db[:, :n].T
        self.filled = max(self.filled, first + n)
        self.peak_db = max(self.peak_db, float(db.max()))
        self._update_coarse()
        self._dirty = True

    def _grow(self, total_frames: int) -> None:
        data = np.empty((total_frames, self.data.shape[1]), dtype=np.float32)
        data[: self.filled] = self.data[: self.filled]
        coarse = np.full((-(-total_frames // COARSE), self.coarse.shape[1]), DB_FLOOR, dtype=np.float32)
        coarse[: len(self.coarse)] = self.coarse
        self.data, self.coarse = data, coarse

    def _update_coarse(self) -> None:
        # Pool every complete run of COARSE columns that has arrived (and the partial last one).
        start = self._coarse_filled * COARSE
        stop = self.filled
        if stop <= start:
            return
        pooled = _pool_max(self.data[start:stop], COARSE)
        self.coarse[self._coarse_filled:self._coarse_filled + len(pooled)] = pooled
        self._coarse_filled = stop // COARSE

    def finish(self) -> None:
        """All columns are in: drop columns a length estimate (MP3) reserved but never came, draw."""
        if self.data is not None and self.cfg is not None and 0 < self.filled < len(self.data):
            self.data = self.data[: self.filled]
            self.coarse = self.coarse[: -(-self.filled // COARSE)]
            self.set_duration(self.filled * self.seconds_per_column)
        self._dirty = True
        self.refresh(force=True)

    def clear_image(self) -> None:
        self.data = self.coarse = None
        self.image.clear()
        self.playhead.setVisible(False)

    # --- drawing ------------------------------------------------------------------------------
    def _view_changed(self, *_) -> None:
        self._dirty = True
        self._last_refresh = 0.0  # a pan or zoom redraws on the next frame, not after the throttle

    def refresh(self, *, force: bool = False) -> bool:
        """Redraw the visible part if anything changed (throttled while columns arrive)."""
        if not self._dirty or self.data is None or self.filled == 0:
            return False
        now = time.monotonic()
        if not force and now - self._last_refresh < REFRESH_INTERVAL_S:
            return False
        self._last_refresh = now
        self._dirty = False
        self._render()
        return True

    def visible_columns(self) -> tuple[int, int]:
        (x0, x1), _ = self.plotItem.vb.viewRange()
        spc = self.seconds_per_column
        c0 = int(np.clip(np.floor(x0 / spc), 0, self.filled))
        c1 = int(np.clip(np.ceil(x1 / spc) + 1, c0, self.filled))
        return c0, c1

    def _render(self) -> None:
        c0, c1 = self.visible_columns()
        if c1 <= c0:
            self.image.clear()
            return
        target = max(256, 2 * int(self.plotItem.vb.width()))
        factor = max(1, (c1 - c0) // target)
        if factor >= COARSE:
            # Zoomed out: pool the coarse copy (aligned to COARSE-column runs).
            k0, k1 = c0 // COARSE, -(-c1 // COARSE)
            f = max(1, factor // COARSE)
            k0 -= k0 % f
            block = _pool_max(self.coarse[k0:k1], f)
            c0, step = k0 * COARSE, COARSE * f
        else:
            c0 -= c0 % factor
            block = _pool_max(self.data[c0:c1], factor)
            step = factor
        spc = self.seconds_per_column
        self.image.setImage(block, autoLevels=False, levels=self._levels())
        self.image.setRect(QRectF(c0 * spc, 0, len(block) * step * spc, self.cfg.n_mels))
        self.colorbar.setLevels(self._levels())
        self.render_count += 1

    def recolor(self) -> None:
        super().recolor()
        fg = pg.getConfigOption("foreground")
        for name in ("left", "right"):
            axis = self.colorbar.getAxis(name)
            axis.setTextPen(fg)
            axis.setPen(fg)
            restyle_label(axis, fg)

    def _levels(self) -> tuple[float, float]:
        if self.user_levels is not None:
            return self.user_levels
        # The loudest bin, rounded up to 10 dB, down to 80 dB below it: librosa's top_db convention.
        top = min(20.0, 10.0 * np.ceil(self.peak_db / 10.0)) if self.peak_db > DB_FLOOR else 0.0
        return (top - DYNAMIC_RANGE_DB, top)

    # --- reading (tests, screenshots) --------------------------------------------------------
    def column_at(self, seconds: float) -> np.ndarray | None:
        if self.data is None or self.cfg is None or self.filled == 0:
            return None
        i = int(seconds / self.seconds_per_column)
        return self.data[min(max(i, 0), self.filled - 1)]
