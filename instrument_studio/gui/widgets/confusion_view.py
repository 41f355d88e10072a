"""The confusion matrix as an image: true classes on rows, predicted on columns, class names on
both axes, the value written in every cell, a colour bar, counts or row-normalised.

Built on pyqtgraph's MatrixDisplayExample (row-major ImageItem, text ticks, ColorBarItem). A click
on a cell emits `cell_clicked(true_class, predicted_class)`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QRadioButton, QVBoxLayout, QWidget

from .. import presentation


class RotatedLabelAxis(pg.AxisItem):
    """A bottom axis whose tick labels are drawn at an angle, so long class names all fit."""

    def __init__(self, *args, angle: float = 50.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.angle = angle
        self._labels: list[tuple[float, str]] = []
        self._overhang = 0.0

    def boundingRect(self):  # noqa: N802 (Qt's name)
        # Slanted names reach left of the first column: paint there too.
        return super().boundingRect().adjusted(-self._overhang, 0, 0, 0)

    def set_labels(self, labels: list[tuple[float, str]]) -> None:
        self._labels = labels
        self.setTicks([labels])
        self.refit()

    def refit(self) -> None:
        """Height and overhang for the names at the current tick font."""
        font = self.style.get("tickFont") or QFont()
        widest = max((QFontMetrics(font).horizontalAdvance(t) for _, t in self._labels), default=0)
        rad = np.radians(self.angle)
        self.prepareGeometryChange()
        self._overhang = widest * np.cos(rad) + 4
        self.setHeight(int(widest * np.sin(rad) + QFontMetrics(font).height() + 12))

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs):  # noqa: N802 (pyqtgraph's name)
        super().drawPicture(p, axisSpec, tickSpecs, [])
        view = self.linkedView()
        if view is None or not self._labels:
            return
        bounds = view.mapRectToItem(self, view.boundingRect())
        lo, hi = self.range
        if hi == lo:
            return
        scale = bounds.width() / (hi - lo)
        metrics = QFontMetrics(p.font())
        p.setClipping(False)
        for value, text in self._labels:
            x = bounds.left() + (value - lo) * scale
            if x < bounds.left() - 1 or x > bounds.right() + 1:
                continue
            p.save()
            p.translate(x, 6)
            p.rotate(-self.angle)
            w = metrics.horizontalAdvance(text)
            # Right-aligned at the tick: the end of the name touches the column it names.
            p.drawText(QRectF(-w - 2, -metrics.height() / 2, w, metrics.height()),
                       int(Qt.AlignRight | Qt.AlignVCenter), text)
            p.restore()


class _MatrixImage(pg.ImageItem):
    def __init__(self, view: ConfusionView):
        super().__init__(axisOrder="row-major")
        self._view = view

    def mouseClickEvent(self, ev):  # noqa: N802 (Qt's name)
        if ev.button() != Qt.LeftButton:
            return
        pos = ev.pos()
        row, col = int(np.floor(pos.y())), int(np.floor(pos.x()))
        n = len(self._view.labels)
        if 0 <= row < n and 0 <= col < n:
            ev.accept()
            self._view.select_cell(row, col)


class ConfusionView(QWidget):
    cell_clicked = Signal(int, int)       # true class index, predicted class index
    mode_changed = Signal(str)            # "counts" | "normalised"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.labels: tuple[str, ...] = ()
        self.counts = np.zeros((0, 0))
        self.normalised = np.zeros((0, 0))
        self.selected: tuple[int, int] | None = None

        self.counts_button = QRadioButton("Counts")
        self.norm_button = QRadioButton("Row-normalised (share of each true class)")
        self.counts_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.counts_button)
        group.addButton(self.norm_button)
        self.counts_button.toggled.connect(lambda _: self._redraw())
        self.counts_button.toggled.connect(lambda _: self.mode_changed.emit(self.mode))
        top = QHBoxLayout()
        top.addWidget(self.counts_button)
        top.addWidget(self.norm_button)
        top.addStretch(1)   # "click a cell" is said once, by the clip list beside the matrix

        self.graphics = pg.GraphicsLayoutWidget()
        self.bottom_axis = RotatedLabelAxis("bottom")
        self.plot = self.graphics.addPlot(axisItems={"bottom": self.bottom_axis})
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setLabel("left", "true class")
        self.plot.setLabel("bottom", "predicted class")
        self.plot.getAxis("left").setStyle(tickLength=0)
        self.bottom_axis.setStyle(tickLength=0)
        self.image = _MatrixImage(self)
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False,
                                        width=14)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.highlight = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.highlight.setPen(pg.mkPen("#ff4081", width=3))
        self.highlight.setVisible(False)
        self.plot.addItem(self.highlight)
        self._texts: list[pg.TextItem] = []
        self.plot.vb.sigResized.connect(self._fit_text)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)

    @property
    def mode(self) -> str:
        return "counts" if self.counts_button.isChecked() else "normalised"

    def set_mode(self, mode: str) -> None:
        (self.counts_button if mode == "counts" else self.norm_button).setChecked(True)

    def set_matrix(self, labels, counts: np.ndarray, normalised: np.ndarray) -> None:
        self.labels = tuple(labels)
        self.counts = np.asarray(counts)
        self.normalised = np.asarray(normalised)
        self.selected = None
        self.highlight.setVisible(False)
        ticks = [(i + 0.5, label) for i, label in enumerate(self.labels)]
        self.plot.getAxis("left").setTicks([ticks])
        self.bottom_axis.set_labels(ticks)
        for item in self._texts:
            self.plot.removeItem(item)
        self._texts = []
        n = len(self.labels)
        font = QFont()
        font.setPointSizeF(max(6.0, min(10.0, 140.0 / max(n, 1))))
        for r in range(n):
            for c in range(n):
                t = pg.TextItem("", anchor=(0.5, 0.5))
                t.setFont(font)
                t.setPos(c + 0.5, r + 0.5)
                self.plot.addItem(t)
                self._texts.append(t)
        self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0)
        self._redraw()
        presentation.restyle(self.graphics)
        self._fit_text()

    def presentation_changed(self, on: bool) -> None:
        self._fit_text()
        if self.labels:
            self.bottom_axis.refit()   # its height for the names' new size

    def _fit_text(self, *_args) -> None:
        """At presentation size, text no taller than its cell: at 1280x720 the ten rows of a
        matrix were 20 px high and 30 px names and counts ran into each other. The normal sizes
        (set_matrix's) fit already."""
        n = len(self.labels)
        vb = self.plot.vb
        if not n or not presentation.is_on() or vb.height() <= 0:
            return
        cell = min(vb.height(), vb.width()) / n
        big = presentation.big_px()
        text_px = max(8, min(big, int(cell * 0.75)))
        label_px = max(8, min(big, int(cell * 0.9)))
        for item in self._texts:
            font = item.textItem.font()
            if abs(font.pixelSize() - text_px) >= 2:    # 1 px steps could see-saw with the layout
                font.setPixelSize(text_px)
                item.setFont(font)
        for axis in (self.plot.getAxis("left"), self.bottom_axis):
            font = QFont(axis.style.get("tickFont") or QFont())
            if abs(font.pixelSize() - label_px) >= 2:
                font.setPixelSize(label_px)
                axis.setStyle(tickFont=font)
                if axis is self.bottom_axis:
                    axis.refit()           # its height follows the names' size

    def cell_text(self, row: int, col: int) -> str:
        return self._texts[row * len(self.labels) + col].toPlainText()

    def _redraw(self) -> None:
        n = len(self.labels)
        if not n:
            return
        if self.mode == "counts":
            data = self.counts.astype(np.float64)
            top = max(1.0, float(data.max()))
            texts = [[str(int(v)) for v in row] for row in self.counts]
        else:
            data = self.normalised.astype(np.float64)
            top = 1.0
            texts = [[f"{v:.2f}" if v else "0" for v in row] for row in self.normalised]
        self.image.setImage(data, autoLevels=False, levels=(0.0, top))
        self.image.setRect(QRectF(0, 0, n, n))
        self.colorbar.setLevels((0.0, top))
        for r in range(n):
            for c in range(n):
                item = self._texts[r * n + c]
                item.setText(texts[r][c])
                # viridis is dark at the bottom and light at the top: pick the readable ink.
                item.setColor(QColor("#111111") if data[r, c] / top > 0.6 else QColor("#f5f5f5"))

    def select_cell(self, row: int, col: int) -> None:
        self.selected = (row, col)
        self.highlight.setRect(QRectF(col, row, 1, 1))
        self.highlight.setVisible(True)
        self.cell_clicked.emit(row, col)

    def cell_scene_pos(self, row: int, col: int) -> QPointF:
        """Where the centre of a cell is in the graphics view's viewport (for tests and tours)."""
        scene = self.plot.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5))
        return self.graphics.mapFromScene(scene)
