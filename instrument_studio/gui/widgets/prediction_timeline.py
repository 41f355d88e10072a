"""Class probabilities per second as a heat map under the spectrogram: time across (shared with
the waveform and spectrogram), one row per likely class, the playhead on top."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFontMetrics

from .. import presentation
from .timeline import TimelinePlot

# Rows shown: the classes that reach this probability somewhere, at most MAX_ROWS of them.
MIN_SHOWN_PROBABILITY = 0.05
MAX_ROWS = 8
# Widest row name in pixels; longer ones are elided in the middle.
MAX_LABEL_WIDTH = 180


class PredictionTimeline(TimelinePlot):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("prediction_timeline")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.addItem(self.image)
        self.getAxis("left").setStyle(tickLength=0)
        self.showAxis("right")
        self.getAxis("right").setStyle(showValues=False)
        self.getAxis("right").setPen(None)
        self.invertY(True)
        self.rows: list[int] = []
        self.labels: tuple[str, ...] = ()
        self.timeline = np.zeros((0, 0))
        self.step = 1.0
        self.label_width = 0      # pixels the widest row name needs

    def set_prediction(self, labels, timeline: np.ndarray, *, step: float, duration: float,
                       whole: np.ndarray | None = None) -> None:
        """`whole`: the file's own answer, which orders the rows, so that the top row is the class the
        file is named (louder seconds count more in it than in a plain mean of the steps; with rows
        in the steps' mean order, 10 of 161 web-app recordings had another class on top)."""
        self.labels = tuple(labels)
        self.timeline = np.asarray(timeline, dtype=np.float32)
        self.step = step
        peak = self.timeline.max(axis=0) if len(self.timeline) else np.zeros(len(self.labels))
        if whole is None:
            whole = self.timeline.mean(axis=0) if len(self.timeline) else np.zeros(len(self.labels))
        order = np.argsort(-np.asarray(whole), kind="stable") if len(self.timeline) else []
        self.rows = [int(c) for i, c in enumerate(order) if i == 0 or peak[c] >= MIN_SHOWN_PROBABILITY][:MAX_ROWS]
        data = self.timeline[:, self.rows].T  # (rows, steps): row-major image, row 0 at the top
        self.image.setImage(data, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(0, 0, len(self.timeline) * step, len(self.rows)))
        self.getAxis("left").setTicks([[(i + 0.5, self._fit(self.labels[c])) for i, c in enumerate(self.rows)]])
        self.label_width = max((self._text_width(self._fit(self.labels[c])) for c in self.rows), default=0)
        self.setYRange(0, len(self.rows), padding=0)
        self.setLimits(yMin=0, yMax=len(self.rows))
        self.set_duration(duration)
        presentation.restyle(self)

    def _metrics(self) -> QFontMetrics:
        return QFontMetrics(self.getAxis("left").style.get("tickFont") or self.font())

    def _text_width(self, text: str) -> int:
        return self._metrics().horizontalAdvance(text)

    def _fit(self, label: str) -> str:
        # Whole names: the views above make room for them (FilePredictionView.align_left_axes);
        # only a name longer than MAX_LABEL_WIDTH is elided.
        return self._metrics().elidedText(label, Qt.ElideMiddle, MAX_LABEL_WIDTH)

    def clear_prediction(self) -> None:
        self.rows, self.timeline = [], np.zeros((0, 0))
        self.image.clear()
        self.getAxis("left").setTicks([[]])
        self.label_width = 0
        self.playhead.setVisible(False)
        self.clear_duration()

    def at(self, seconds: float) -> list[tuple[str, float]]:
        """Ranked (class, probability) of the step under `seconds`."""
        if not len(self.timeline):
            return []
        i = int(min(max(seconds // self.step, 0), len(self.timeline) - 1))
        row = self.timeline[i]
        return [(self.labels[c], float(row[c])) for c in np.argsort(-row, kind="stable")]
