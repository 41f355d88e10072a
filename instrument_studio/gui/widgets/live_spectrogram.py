"""Scrolling mel spectrogram for live input: the newest column at the right edge (0 s = now).

Columns go into a preallocated ring of dB values twice as wide as the view (friture's idiom):
column j lands at j % W and j % W + W, so the newest W columns are always one contiguous slice
(`window()`). The image item does not hand pyqtgraph that slice to colour and scale every frame
(that was most of the live view's CPU: a 344x128 image coloured and scaled to ~1200x470 pixels
~40 times a second, in software): it keeps the picture already coloured at screen resolution
(core.display.raster.SpectrogramRaster), colours only the columns that arrived, writes them into
the few pixel columns they cover, and copies the visible slice to the screen 1:1. A resize, new
levels (dragging the colour bar) or a freeze/resume redraw everything, which gives the very same
pixels (tests/gui/test_live_raster.py). The levels are the colour bar's (fixed dB range), never
auto-levels, so the colours mean the same dB from frame to frame.

The view also measures its own audio-to-pixel latency: each column carries the time its newest
sample reached the audio callback; when the image item is painted, now minus that time is
recorded (`latencies`).
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from ...core.config import MelConfig
from ...core.display.raster import SpectrogramRaster
from ...core.features.mel import DB_FLOOR
from .spectrogram_view import FREQ_LABEL, POWER_LABEL, fit_mel_ticks, name_axes

DEFAULT_LEVELS = (-80.0, 0.0)  # dB re full scale
FREQ_AXIS_PX = 70              # the frequency axis at normal size: its name and "1.5k"
_MAX_PENDING = 256             # batches of column arrival times kept while nothing is painted


class _RasterImage(pg.ImageItem):
    """The image in the plot's scene, for the colour bar (levels, lookup table) and the plot's
    geometry; `self.image` is the (W, n_mels) dB window shown. Its pixels are painted by the
    overlay below, not by the scene."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.overlay: _RasterOverlay | None = None

    # The colour bar sets levels and the lookup table through these: both recolour everything.
    def setLevels(self, levels, update: bool = True):
        super().setLevels(levels, update)
        if self.overlay is not None:
            self.overlay.recolour()

    def setLookupTable(self, lut, update: bool = True):
        super().setLookupTable(lut, update)
        if self.overlay is not None:
            self.overlay.recolour()

    def paint(self, painter, *args):
        pass


class _RasterOverlay(QWidget):
    """A widget over the plot's data area that shows the raster 1:1.

    Why a widget and not the scene item's paint(): every scene repaint of the image area also
    repainted the axes, the view's background and walked the scene (more than the image itself,
    profiled); an opaque child widget repaints only its own pixels. It tells its owner when it
    has been painted (the latency measurement)."""

    def __init__(self, item: _RasterImage, on_painted, parent: QWidget):
        super().__init__(parent)
        self.item = item
        item.overlay = self
        self._on_painted = on_painted
        self.setAttribute(Qt.WA_OpaquePaintEvent)           # it paints every pixel it covers
        self.setAttribute(Qt.WA_TransparentForMouseEvents)  # the plot below keeps its mouse
        self.raster: SpectrogramRaster | None = None
        self._qimage: QImage | None = None
        self.source_total = 0     # data columns item.image holds (the newest is total - 1)
        self._stale = True        # the raster must be redrawn in full at the next paint
        self._behind = False      # new columns to draw at the next paint
        self.paints = 0

    def recolour(self) -> None:
        self._stale = True
        self.update()

    def show_window(self, window: np.ndarray, total: int, *, redraw: bool = False) -> None:
        """Show the (W, n_mels) window of data columns [total - W, total): new columns are drawn
        incrementally at the next paint, everything when `redraw`."""
        self.item.image = window   # the scene item is never repainted for new columns
        self.source_total = total
        self._stale = self._stale or redraw
        self._behind = True
        self.update()

    def paintEvent(self, event) -> None:
        item = self.item
        if item.image is None or item.lut is None or item.levels is None:
            return
        dpr = self.devicePixelRatioF()
        wpx, hpx = max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr))
        w, n_mels = item.image.shape[:2]
        raster = self.raster
        if raster is None or not raster.fits(wpx, hpx, w, n_mels):
            if raster is None:
                raster = self.raster = SpectrogramRaster(np.asarray(item.lut), tuple(item.levels))
            raster.resize(wpx, hpx, w, n_mels)
            self._qimage = QImage(raster.pixels.data, raster.pixels.shape[1], hpx, raster.pixels.strides[0],
                                  QImage.Format_RGB32)
            self._qimage.setDevicePixelRatio(dpr)
            self._stale = True
        if self._stale:
            raster.set_colours(np.asarray(item.lut), tuple(float(v) for v in item.levels))
            raster.redraw(item.image, self.source_total)
            self._stale = self._behind = False
        elif self._behind:
            raster.advance(item.image, self.source_total)
            self._behind = False
        p = QPainter(self)
        p.drawImage(QPointF(0, 0), self._qimage, QRect(raster.offset(), 0, wpx, hpx))
        p.end()
        self.paints += 1
        self._on_painted()

    def rendered(self) -> np.ndarray:
        """The pixels on screen (H x Wpx, 0xFFRRGGBB), as of the last paint (tests)."""
        return self.raster.visible().copy() if self.raster is not None else np.zeros((0, 0), np.uint32)


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
        self.setLabel("left", FREQ_LABEL)
        self.getAxis("left").setWidth(FREQ_AXIS_PX)
        self.image = _RasterImage(axisOrder="col-major")
        self.addItem(self.image)
        # A child of the view, not of its viewport: pyqtgraph's close() deletes the viewport.
        self.overlay = _RasterOverlay(self.image, self._painted, self)
        self.plotItem.vb.sigResized.connect(self._place_overlay)
        self.plotItem.vb.sigResized.connect(self._update_ticks)
        self.colorbar = pg.ColorBarItem(values=DEFAULT_LEVELS, colorMap=pg.colormap.get("magma"),
                                        label=POWER_LABEL, interactive=True, width=16)
        self.colorbar.setImageItem(self.image, insert_in=self.plotItem)
        # 512 colours: finer steps than the bar's 256 (the raster colours each column once).
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
        self._frozen: tuple[np.ndarray, int] | None = None
        span = self.width_cols * cfg.hop_length / cfg.sr
        self.image.setImage(self.window(), autoLevels=False, levels=self.levels())
        self.overlay.show_window(self.window(), self.total, redraw=True)
        self.image.setRect(QRectF(-span, 0, span, cfg.n_mels))
        self._update_ticks()
        self.setXRange(-span, 0, padding=0)
        self.setYRange(0, cfg.n_mels, padding=0)
        self._place_overlay()

    def _update_ticks(self, *_args) -> None:
        """Frequency ticks spaced for the labels' size on screen: at presentation size (30 px) on a
        short view, the default spacing piled 300 ... 5k on top of each other."""
        if "cfg" not in self.__dict__ or self.__dict__.get("_closed"):
            return
        fit_mel_ticks(self, self.cfg)

    def presentation_changed(self, on: bool) -> None:
        """Short axis names at presentation size: "Frequency (Hz, mel scale)" and "Power (dB re full
        scale)" at 30 px are longer than the view is high."""
        name_axes(self, self.colorbar, on, width=FREQ_AXIS_PX)
        self._update_ticks()

    def _place_overlay(self, *_args) -> None:
        """Keep the overlay exactly over the image's area of the viewport."""
        if "overlay" not in self.__dict__ or self.__dict__.get("_closed"):
            return  # resized while PlotWidget.__init__ runs, or closed (the scene is gone)
        # The view's data area, which the image fills exactly (ranges set to it, no padding); the
        # image's own rect is huge for a moment, before the first layout sets the ranges.
        rect = self.mapFromScene(self.plotItem.vb.sceneBoundingRect()).boundingRect()
        rect.translate(self.viewport().pos())
        if rect.isValid() and rect != self.overlay.geometry():
            self.overlay.setGeometry(rect)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_overlay()

    def close(self):
        self._closed = True
        self.plotItem.vb.sigResized.disconnect(self._place_overlay)
        self.plotItem.vb.sigResized.disconnect(self._update_ticks)
        return super().close()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._place_overlay()

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
        if not self._dirty and self._frozen is None:
            return False
        self._dirty = False
        self._place_overlay()
        # Resumed after a freeze: the raster still shows the frozen picture; redraw it all.
        self.overlay.show_window(self.window(), self.total, redraw=self._frozen is not None)
        self._frozen = None
        if self._pending_arrivals:
            self._painted_arrivals.extend(self._pending_arrivals)
            self._pending_arrivals = []
            del self._painted_arrivals[:-_MAX_PENDING]
        self.draws += 1
        return True

    def freeze_copy(self) -> None:
        """Keep showing the current picture while new columns keep arriving into the ring."""
        self._frozen = (self.window().copy(), self.total)
        self.overlay.show_window(*self._frozen)
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
