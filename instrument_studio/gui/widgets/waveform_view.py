"""Waveform as a min/max envelope at screen resolution: an hour of audio draws instantly."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ...core.audio.envelope import EnvelopePyramid
from .. import presentation
from ..theme import plot_colors
from .timeline import TimelinePlot


class WaveformView(TimelinePlot):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("waveform_view")
        self.setLabel("left", "Amplitude")
        self.limit = 1.0
        self.setYRange(-1.0, 1.0, padding=0.02)
        # Zoomed out, each envelope block is a vertical min-to-max segment, two or more per pixel
        # so they merge into a solid shape; zoomed in to single samples it is the signal's line.
        # (FillBetweenItem looked the same but rebuilt its path in Python: 70 ms per redraw.)
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(plot_colors()["wave"], width=1))
        self.curve.setZValue(10)
        self.addItem(self.curve)
        self.envelope: EnvelopePyramid | None = None
        self.sr = 1
        self.plotItem.vb.sigXRangeChanged.connect(self._refresh)

    def set_envelope(self, envelope: EnvelopePyramid, sr: int) -> None:
        self.envelope, self.sr = envelope, sr
        self.set_duration(len(envelope) / sr)
        peak = float(max(abs(envelope.levels[-1][1].min()), abs(envelope.levels[-1][2].max()))) \
            if envelope.levels else float(np.abs(envelope.y).max(initial=0.0))
        self.limit = max(1.0, peak)
        self.setYRange(-self.limit, self.limit, padding=0.02)
        self.presentation_changed(presentation.is_on())
        self._refresh()

    def presentation_changed(self, on: bool) -> None:
        # At presentation size five amplitude ticks and the long name do not fit a strip this
        # low (they piled up, the name was cut): the extremes and zero, and a short name.
        axis = self.getAxis("left")
        axis.setLabel("Amp." if on else "Amplitude")
        axis.setTicks([[(v, f"{v:g}") for v in (-self.limit, 0.0, self.limit)], []] if on else None)
        presentation.room_above(self.plotItem, on)    # the top tick's label

    def clear_audio(self) -> None:
        self.envelope = None
        self.curve.setData([], [])
        self.playhead.setVisible(False)

    def points_drawn(self) -> int:
        x, _ = self.curve.getData()
        return 0 if x is None else len(x)

    def recolor(self) -> None:
        super().recolor()
        self.curve.setPen(pg.mkPen(plot_colors()["wave"], width=1))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._refresh()

    def _refresh(self, *_) -> None:
        if getattr(self, "envelope", None) is None or len(self.envelope) == 0:
            return
        (x0, x1), _ = self.plotItem.vb.viewRange()
        start, stop = int(max(0, x0) * self.sr), int(min(self.duration, x1) * self.sr) + 1
        pixels = max(200, int(self.plotItem.vb.width()))
        sl = self.envelope.slice(start, stop, 2 * pixels)
        if sl.block == 1:
            self.curve.setData(sl.x / self.sr, sl.lo, connect="all")
            return
        x = np.repeat(sl.x / self.sr, 2)
        y = np.empty(2 * len(sl.lo), dtype=np.float32)
        y[0::2], y[1::2] = sl.lo, sl.hi
        self.curve.setData(x, y, connect="pairs")
