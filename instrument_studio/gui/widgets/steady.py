"""Widgets for read-outs that change several times a second without re-laying out the window.

A QLabel whose text changes asks its parent's layout for a new geometry (QWidget::updateGeometry),
and the layout request cascades up to the window: measured in the Live panel under Xvfb, drawing
one live answer (five names, five values, the latency line) cost 6 ms of the GUI thread, almost
all of it layouts, not painting. Qt skips that request for a widget whose minimum and maximum
sizes are equal, so a SteadyLabel keeps a fixed size that fits every text it is expected to show
(0.36 ms an answer). QProgressBar.setValue repaints at once (QWidget::repaint, one flush per bar);
ValueBar paints on the next update like everything else.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class SteadyLabel(QLabel):
    """A label of fixed size, wide enough for `samples` (typical texts) and for every text shown so
    far: a new, wider text grows it once (and is kept among the samples; texts it already fits are
    not, so a read-out rewritten for hours keeps a handful); a font or style change fits it again."""

    def __init__(self, text: str = "", samples: Iterable[str] = (), parent: QWidget | None = None):
        super().__init__(text, parent)
        self._samples: set[str] = set(samples) | {text}
        self._fit()

    def set_samples(self, samples: Iterable[str]) -> None:
        """Texts it should fit from now on (e.g. the class names of a new model)."""
        self._samples = set(samples) | {self.text()}
        self._fit()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        if text not in self._samples and self._needed(text) > self.width():
            self._samples.add(text)
            super().setText(text)
            self._fit()
            return
        super().setText(text)

    def _needed(self, text: str) -> int:
        return self._metrics.horizontalAdvance(text) + self._margin

    def _fit(self) -> None:
        current = self.text()
        self.setMinimumSize(0, 0)
        self.setMaximumSize(QSize(16777215, 16777215))
        width = height = 0
        for text in self._samples:
            super().setText(text)
            hint = super().sizeHint()
            width, height = max(width, hint.width()), max(height, hint.height())
        super().setText(current)
        # Kept: fontMetrics() builds a new object each call, and setText measures every new text.
        self._metrics = self.fontMetrics()
        # What the label adds around its text (style sheet padding, border, indent).
        self._margin = super().sizeHint().width() - self._metrics.horizontalAdvance(current)
        self.setFixedSize(width, height)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.FontChange, QEvent.StyleChange) and "_samples" in self.__dict__:
            self._fit()


class ValueBar(QWidget):
    """A horizontal bar for a value in [minimum, maximum] (QProgressBar's calls), drawn in the
    palette's highlight colour, greyed when disabled."""

    def __init__(self, parent: QWidget | None = None, *, height: int = 14):
        super().__init__(parent)
        self._min, self._max, self._value = 0, 100, 0
        self._height = height
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFixedHeight(height)

    def setRange(self, minimum: int, maximum: int) -> None:  # noqa: N802 - QProgressBar's names
        self._min, self._max = minimum, max(minimum, maximum)
        self.setValue(self._value)

    def minimum(self) -> int:
        return self._min

    def maximum(self) -> int:
        return self._max

    def value(self) -> int:
        return self._value

    def setValue(self, value: int) -> None:  # noqa: N802
        value = min(max(int(value), self._min), self._max)
        if value != self._value:
            self._value = value
            self.update()

    def fraction(self) -> float:
        span = self._max - self._min
        return (self._value - self._min) / span if span else 0.0

    def sizeHint(self) -> QSize:
        return QSize(120, self._height)

    def minimumSizeHint(self) -> QSize:
        return QSize(20, self._height)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        pal = self.palette()
        group = QPalette.Active if self.isEnabled() else QPalette.Disabled
        groove = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(pal.color(group, QPalette.Mid))
        p.setBrush(pal.color(group, QPalette.Base))
        p.drawRoundedRect(groove, 3, 3)
        w = groove.width() * self.fraction()
        if w >= 1:
            p.setPen(Qt.NoPen)
            p.setBrush(pal.color(QPalette.Active, QPalette.Highlight) if self.isEnabled()
                       else pal.color(QPalette.Disabled, QPalette.Mid))
            p.drawRoundedRect(QRectF(groove.x(), groove.y(), w, groove.height()), 3, 3)
        p.end()
