"""Input level meter in dBFS: RMS bar, peak-hold tick, and a clip lamp that stays lit until clicked.

Values come from core Level events; the meter only keeps what a meter shows (a falling peak-hold
and a lit lamp) and paints on `update()`, which the panel calls on the frame clock.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import presentation

FLOOR_DB = -60.0
TICKS = (-60, -48, -36, -24, -18, -12, -6, 0)
HOLD_S = 1.5          # the peak tick stays this long, then falls
FALL_DB_PER_S = 20.0
CLIP_HOLD_S = 3.0
# (bar height, lamp width, widget height) in px: normal and presenting. Presenting, the scale's
# numbers are 60 % of presentation size: read from the back of a room, and the meter (a strip
# above the spectrogram) takes 22 px more of the panel's height, not 50.
_SIZES = {False: (18, 44, 34), True: (26, 70, 56)}
_GREEN, _YELLOW, _RED = QColor("#2e9d4a"), QColor("#d9b310"), QColor("#d63b2f")


class LevelMeter(QWidget):
    clip_reset = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("level_meter")
        self.setMinimumSize(260, 34)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        # It paints every pixel itself: Qt need not repaint what is behind it 60 times a second.
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setToolTip("Input level in dBFS (bar: RMS, tick: peak). The CLIP lamp lights when a sample "
                        "reaches full scale: turn the input gain down. Click the lamp to reset it.")
        self.rms_db = FLOOR_DB
        self.peak_db = FLOOR_DB
        self.hold_db = FLOOR_DB
        self._hold_time = 0.0
        self.clipped = False
        self._clip_time = 0.0
        self.active = False
        self._scale: QPixmap | None = None
        self._lamps: dict[bool, QPixmap] = {}
        self._painted_look: tuple | None = None
        self._presenting = False

    def sizeHint(self) -> QSize:
        return QSize(320, _SIZES[self._presenting][2])

    def presentation_changed(self, on: bool) -> None:
        """Its dB scale and CLIP lamp big enough for a projector (they kept their small print)."""
        self._presenting = on
        self.setMinimumSize(260, _SIZES[on][2])
        self.updateGeometry()
        self._scale = None
        self._lamps.clear()
        self._painted_look = None
        self.update()

    def scale_font(self) -> QFont:
        """The font of the dB numbers under the bar."""
        font = QFont(self.font())
        if self._presenting:
            font.setPixelSize(max(12, int(round(0.6 * presentation.big_px()))))
        else:
            font.setPointSizeF(max(6.5, font.pointSizeF() * 0.75))
        return font

    def set_level(self, *, peak_dbfs: float, rms_dbfs: float, clipped: bool, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.active = True
        self.rms_db = max(FLOOR_DB, rms_dbfs)
        self.peak_db = max(FLOOR_DB, peak_dbfs)
        if self.peak_db >= self.hold_db:
            self.hold_db, self._hold_time = self.peak_db, now
        if clipped:
            self.clipped, self._clip_time = True, now

    def tick(self, now: float | None = None) -> None:
        """Let the peak-hold fall and the clip lamp go out after a while (frame clock)."""
        now = time.monotonic() if now is None else now
        if now - self._hold_time > HOLD_S:
            self.hold_db = max(self.peak_db, self.hold_db - FALL_DB_PER_S / 60.0)
        if self.clipped and now - self._clip_time > CLIP_HOLD_S:
            self.clipped = False
        if self._look() != self._painted_look:
            self.update()  # a steady level (a held note, silence) moves no pixel: nothing to repaint

    def reset(self) -> None:
        self.rms_db = self.peak_db = self.hold_db = FLOOR_DB
        self.clipped = False
        self.active = False
        self.update()

    def mousePressEvent(self, event) -> None:
        if self._lamp_rect().contains(event.position()):
            self.clipped = False
            self.clip_reset.emit()
            self.update()

    def text(self) -> str:
        """What the meter says, in words (accessibility and tests)."""
        if not self.active:
            return "no input"
        clip = ", CLIPPING" if self.clipped else ""
        return f"peak {self.peak_db:.1f} dBFS, RMS {self.rms_db:.1f} dBFS{clip}"

    # --- painting ---------------------------------------------------------------------------
    def _lamp_rect(self) -> QRectF:
        bar_h, lamp_w, _ = _SIZES[self._presenting]
        return QRectF(self.width() - lamp_w - 2, 2, lamp_w, bar_h)

    def _look(self) -> tuple:
        """What a paint would show, to the pixel."""
        bar = self._bar_rect()
        return (self.active, self.clipped, self.width(), round(self._x(self.rms_db, bar)),
                round(self._x(self.hold_db, bar)))

    def _x(self, db: float, bar: QRectF) -> float:
        frac = (min(0.0, max(FLOOR_DB, db)) - FLOOR_DB) / -FLOOR_DB
        return bar.left() + frac * bar.width()

    def resizeEvent(self, event) -> None:
        self._scale = None
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:
        self._scale = None  # palette or font changed: redraw the scale and the lamp
        self._lamps.clear()
        self._painted_look = None
        super().changeEvent(event)

    def _lamp_pixmap(self, lit: bool) -> QPixmap:
        """The CLIP lamp, lit or not, drawn once per palette/font: its text was a third of the
        meter's painting time."""
        pix = self._lamps.get(lit)
        if pix is not None:
            return pix
        rect = self._lamp_rect()
        pix = QPixmap(int(rect.width()) + 1, int(rect.height()) + 1)
        pix.fill(Qt.transparent)
        p = QPainter(pix)
        pal = self.palette()
        box = QRectF(0, 0, rect.width(), rect.height())
        p.fillRect(box, _RED if lit else pal.button().color())
        p.setPen(QPen(pal.mid().color(), 1))
        p.drawRect(box)
        p.setPen(QColor("white") if lit else pal.buttonText().color())
        if self._presenting:
            p.setFont(self.scale_font())
        p.drawText(box, Qt.AlignCenter, "CLIP")
        p.end()
        self._lamps[lit] = pix
        return pix

    def _scale_pixmap(self) -> QPixmap:
        """The static part (tick marks and dB labels), drawn once per size/palette: the meter
        repaints 60 times a second and text is the costly part of it."""
        if self._scale is not None and self._scale.size() == self.size():
            return self._scale
        pix = QPixmap(self.size())
        pix.fill(Qt.transparent)
        p = QPainter(pix)
        pal = self.palette()
        bar = self._bar_rect()
        p.setFont(self.scale_font())
        p.setPen(pal.text().color())
        right_limit = bar.right()
        for db in TICKS:
            x = self._x(db, bar)
            p.drawLine(int(x), int(bar.bottom()), int(x), int(bar.bottom()) + 3)
            label = f"{db}"
            w = p.fontMetrics().horizontalAdvance(label)
            left = min(max(0.0, x - w / 2), right_limit - w)
            p.drawText(int(left), int(bar.bottom()) + 3 + p.fontMetrics().ascent(), label)
        unit = "dBFS"
        p.drawText(int(bar.right()) + 6, int(bar.bottom()) + 3 + p.fontMetrics().ascent(), unit)
        p.end()
        self._scale = pix
        return pix

    def _bar_rect(self) -> QRectF:
        bar_h, lamp_w, _ = _SIZES[self._presenting]
        return QRectF(2, 2, self.width() - lamp_w - 10, bar_h)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.window())
        bar = self._bar_rect()
        p.fillRect(bar, pal.base())
        if self.active:
            for lo, hi, colour in ((FLOOR_DB, -18.0, _GREEN), (-18.0, -6.0, _YELLOW), (-6.0, 0.0, _RED)):
                x0 = self._x(lo, bar)
                x1 = self._x(min(hi, self.rms_db), bar)
                if x1 > x0:
                    p.fillRect(QRectF(x0, bar.top(), x1 - x0, bar.height()), colour)
            x = self._x(self.hold_db, bar)
            p.setPen(QPen(pal.text().color(), 2))
            p.drawLine(int(x), int(bar.top()), int(x), int(bar.bottom()))
        p.setPen(QPen(pal.mid().color(), 1))
        p.drawRect(bar)
        p.drawPixmap(0, 0, self._scale_pixmap())
        p.drawPixmap(self._lamp_rect().topLeft(), self._lamp_pixmap(self.clipped))
        p.end()
        self._painted_look = self._look()
