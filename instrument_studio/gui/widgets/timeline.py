"""What the waveform and spectrogram views share: a time axis in seconds, a playhead, click-to-seek."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from ..theme import plot_colors


def restyle_label(axis: pg.AxisItem, colour) -> None:
    """Re-render an axis label in a new colour (its CSS colour is fixed when the label is set)."""
    if axis.labelText or axis.labelUnits:
        style = dict(axis.labelStyle)
        style["color"] = pg.mkColor(colour).name()
        axis.setLabel(axis.labelText, units=axis.labelUnits or None, **style)


class TimelinePlot(pg.PlotWidget):
    """A PlotWidget whose x axis is time in seconds, zoomed and panned horizontally only."""

    seek_requested = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.plotItem.setMenuEnabled(False)
        self.plotItem.hideButtons()
        self.setMouseEnabled(x=True, y=False)
        self.setLabel("bottom", "Time", units="s")
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self.duration = 0.0
        self.playhead = pg.InfiniteLine(pos=0, angle=90, movable=False,
                                        pen=pg.mkPen(plot_colors()["playhead"], width=2))
        self.playhead.setZValue(100)
        self.playhead.setVisible(False)
        self.addItem(self.playhead, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_duration(self, seconds: float) -> None:
        self.duration = max(seconds, 1e-3)
        self.setLimits(xMin=0, xMax=self.duration, minXRange=min(0.01, self.duration))
        self.playhead.setVisible(True)
        self.follow_linked_view()

    def clear_duration(self) -> None:
        """No content: no limits either, so a linked view's range is followed whatever it is."""
        self.duration = 0.0
        self.setLimits(xMin=None, xMax=None, minXRange=None)
        self.follow_linked_view()

    def follow_linked_view(self) -> None:
        """Take the x range of the view this one is linked to. A linked view follows only range
        changes, clamped by its own limits at the time: one still limited to the previous file's
        duration kept that range after its limits grew (and Ctrl+0, which changes nothing in
        the master view, did not bring it back)."""
        vb = self.plotItem.vb
        master = vb.linkedView(vb.XAxis)
        if master is not None:
            vb.linkedViewChanged(master, vb.XAxis)

    def set_playhead(self, seconds: float) -> None:
        self.playhead.setPos(seconds)

    def recolor(self) -> None:
        """Follow a theme change: pyqtgraph's config colours only reach widgets made later."""
        self.setBackground(pg.getConfigOption("background"))
        fg = pg.getConfigOption("foreground")
        for name in ("left", "bottom", "right"):
            axis = self.getAxis(name)
            axis.setTextPen(fg)
            if name != "right":
                axis.setPen(fg)
            restyle_label(axis, fg)
        self.playhead.setPen(pg.mkPen(plot_colors()["playhead"], width=2))

    def _clicked(self, event) -> None:
        if event.button() != Qt.LeftButton or self.duration <= 0 or event.double():
            return
        vb = self.plotItem.vb
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = vb.mapSceneToView(event.scenePos()).x()
        self.seek_requested.emit(float(min(max(x, 0.0), self.duration)))
