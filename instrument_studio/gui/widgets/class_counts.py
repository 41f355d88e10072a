"""Clips per class as horizontal stacked bars (train / validation / test), one row per class."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from .. import presentation
from ..theme import is_dark
from .timeline import restyle_label

SPLIT_NAMES = (("train", "training"), ("val", "validation"), ("test", "test"))
# The key at presentation size (30 px): the long names need ~640 px, more than the chart's half.
SHORT_NAMES = {"train": "train", "val": "val", "test": "test"}


def split_colors() -> dict[str, str]:
    if is_dark():
        return {"train": "#6cb6ff", "val": "#ffb74d", "test": "#81c784"}
    return {"train": "#1f5fbf", "val": "#ef6c00", "test": "#2e7d32"}


def restyle_plot(plot: pg.PlotWidget) -> None:
    """Apply pyqtgraph's current background/foreground (set by the theme) to an existing plot
    (a plain PlotWidget; TimelinePlot.recolor does the same for the time views)."""
    fg = pg.getConfigOption("foreground")
    plot.setBackground(pg.getConfigOption("background"))
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(fg)
        axis.setTextPen(fg)
        restyle_label(axis, fg)


class ClassCountsView(pg.PlotWidget):
    """counts: {split: {class: n}}; classes top to bottom in the dataset's order."""

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.setObjectName("class_counts")
        self.plotItem.setMenuEnabled(False)
        self.plotItem.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        self.setLabel("bottom", "Clips")
        self.getAxis("left").setStyle(tickLength=0)
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.classes: tuple[str, ...] = ()
        self.counts: dict[str, dict[str, int]] = {}

    def set_counts(self, classes, counts: dict[str, dict[str, int]]) -> None:
        self.classes, self.counts = tuple(classes), counts
        self._draw()

    def recolor(self) -> None:
        """Follow a theme change: background, axes and bar colours."""
        restyle_plot(self)
        self._draw()

    def presentation_changed(self, _on: bool) -> None:
        self._draw()      # the key's names follow the mode
        # The plot took the long key's width at 30 px as its minimum, wider than the view (the
        # chart was cut at the splitter); with the short key, fit it to the view again.
        pg.GraphicsView.resizeEvent(self, None)

    def totals(self) -> dict[str, int]:
        return {c: sum(self.counts.get(s, {}).get(c, 0) for s, _ in SPLIT_NAMES) for c in self.classes}

    def _draw(self) -> None:
        for item in self.bars.values():
            self.removeItem(item)
        self.bars.clear()
        n = len(self.classes)
        if not n:
            return
        y = np.arange(n)[::-1].astype(float)  # first class at the top
        left = np.zeros(n)
        colors = split_colors()
        for split, _name in SPLIT_NAMES:
            width = np.array([self.counts.get(split, {}).get(c, 0) for c in self.classes], dtype=float)
            if not width.any():
                continue
            bar = pg.BarGraphItem(x0=left.copy(), y=y, width=width, height=0.7, brush=colors[split], pen=None)
            self.addItem(bar)
            self.bars[split] = bar
            left += width
        # The key as the title: a legend inside the plot would cover the top bars.
        short = presentation.is_on()
        self.setTitle("&nbsp;&nbsp;".join(f"<span style='color:{colors[s]}'>■</span> {SHORT_NAMES[s] if short else name}"
                                          for s, name in SPLIT_NAMES if s in self.bars), size="9pt")
        self.getAxis("left").setTicks([[(float(y[i]), c) for i, c in enumerate(self.classes)]])
        self.setYRange(-0.6, n - 0.4, padding=0)
        self.setXRange(0, max(1.0, float(left.max())) * 1.05, padding=0)
        presentation.restyle(self)
