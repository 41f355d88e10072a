"""The Audio panel's stacked time views: the waveform over the mel spectrogram (and any view
another panel hosts under them), on one time axis whose seconds line up vertically."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QWidget

from .spectrogram_view import SpectrogramView
from .waveform_view import WaveformView

LEFT_AXIS_WIDTH = 70   # pixels; the same in every view stacked here, so time lines up


class AudioViews(QSplitter):
    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Vertical, parent)
        self.waveform = WaveformView()
        self.spectrogram = SpectrogramView()
        self.spectrogram.setXLink(self.waveform)
        # Keep the two plots' left edges aligned so time lines up vertically.
        self.set_left_axis_width(LEFT_AXIS_WIDTH)
        # The colour bar takes width on the spectrogram's right; an equal empty axis on the waveform
        # keeps one time on one vertical line in both views.
        self.waveform.showAxis("right")
        self.waveform.getAxis("right").setStyle(showValues=False)
        self.waveform.getAxis("right").setPen(None)
        self.spectrogram.plotItem.vb.sigResized.connect(self._align)
        self.waveform.plotItem.vb.sigResized.connect(self._align)
        self.waveform.seek_requested.connect(self.seek_requested)
        self.spectrogram.seek_requested.connect(self.seek_requested)
        self.addWidget(self.waveform)
        self.addWidget(self.spectrogram)
        self.setSizes([220, 480])

    def _align(self, *_) -> None:
        right_axis = self.waveform.getAxis("right")
        extra = (self.waveform.plotItem.vb.sceneBoundingRect().right()
                 - self.spectrogram.plotItem.vb.sceneBoundingRect().right())
        width = max(0, int(round(right_axis.width() + extra)))
        if abs(width - right_axis.width()) >= 1:
            right_axis.setWidth(width)

    def set_left_axis_width(self, pixels: int) -> None:
        """The width of the waveform's and spectrogram's left axes (a hosted view with wider
        labels widens them all alike)."""
        self.waveform.getAxis("left").setWidth(pixels)
        self.spectrogram.getAxis("left").setWidth(pixels)

    def host(self, widget: QWidget) -> None:
        self.addWidget(widget)
        self.setSizes([200, 420, 160])

    def set_playhead(self, seconds: float, *, follow: bool) -> None:
        """Draw the playhead; with `follow`, page the view along when it leaves the view."""
        self.waveform.set_playhead(seconds)
        self.spectrogram.set_playhead(seconds)
        if follow:
            (x0, x1), _ = self.waveform.plotItem.vb.viewRange()
            if not x0 <= seconds <= x1:
                self.waveform.setXRange(seconds, seconds + (x1 - x0), padding=0)

    def zoom_to_fit(self) -> None:
        if self.waveform.duration > 0:
            self.waveform.setXRange(0, self.waveform.duration, padding=0)

    def zoom(self, factor: float, *, centre: float | None = None) -> None:
        """Zoom by `factor` (0.5: in) about `centre` (None: the middle of the view)."""
        if self.waveform.duration <= 0:
            return
        (x0, x1), _ = self.waveform.plotItem.vb.viewRange()
        centre = (x0 + x1) / 2 if centre is None else centre
        half = (x1 - x0) * factor / 2
        self.waveform.setXRange(max(0, centre - half), min(self.waveform.duration, centre + half), padding=0)

    def recolor(self) -> None:
        self.waveform.recolor()
        self.spectrogram.recolor()
