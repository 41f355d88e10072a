"""Waveform as a min/max envelope at screen resolution: an hour of audio draws instantly."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ...core.envelope import EnvelopePyramid
from ..theme import plot_colors
from .timeline import TimelinePlot


class WaveformView(TimelinePlot):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("waveform_view")
        self.setLabel("left", "Amplitude")
        self.setYRange(-1.0, 1.0, padding=0.02)
        colour = plot_colors()["wave"]
        # The envelope is the area between the per-block maxima and minima; zoomed in far enough
        # (under one sample per block) both are the samples themselves and it becomes a line.
        self.hi_curve = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1))
        self.lo_curve = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1))
        self.fill = pg.FillBetweenItem(self.hi_curve, self.lo_curve, brush=pg.mkBrush(colour))
        for item in (self.fill, self.hi_curve, self.lo_curve):
            item.setZValue(10)
            self.addItem(item)
        self.envelope: EnvelopePyramid | None = None
        self.sr = 1
        self.plotItem.vb.sigXRangeChanged.connect(self._refresh)

    def set_envelope(self, envelope: EnvelopePyramid, sr: int) -> None:
        self.envelope, self.sr = envelope, sr
        self.set_duration(len(envelope) / sr)
        peak = float(max(abs(envelope.levels[-1][1].min()), abs(envelope.levels[-1][2].max()))) \
            if envelope.levels else float(np.abs(envelope.y).max(initial=0.0))
        limit = max(1.0, peak)
        self.setYRange(-limit, limit, padding=0.02)
        self._refresh()

    def clear_audio(self) -> None:
        self.envelope = None
        self.hi_curve.setData([], [])
        self.lo_curve.setData([], [])
        self.playhead.setVisible(False)

    def points_drawn(self) -> int:
        x, _ = self.hi_curve.getData()
        return 0 if x is None else len(x)

    def recolor(self) -> None:
        super().recolor()
        colour = plot_colors()["wave"]
        self.hi_curve.setPen(pg.mkPen(colour, width=1))
        self.lo_curve.setPen(pg.mkPen(colour, width=1))
        self.fill.setBrush(pg.mkBrush(colour))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._refresh()

    def _refresh(self, *_) -> None:
        if getattr(self, "envelope", None) is None or len(self.envelope) == 0:
            return
        (x0, x1), _ = self.plotItem.vb.viewRange()
        start, stop = int(max(0, x0) * self.sr), int(min(self.duration, x1) * self.sr) + 1
        pixels = max(200, int(self.plotItem.vb.width()))
        sl = self.envelope.slice(start, stop, pixels)
        x = sl.x / self.sr
        self.hi_curve.setData(x, sl.hi)
        self.lo_curve.setData(x, sl.lo)
