"""Views of an EvaluationReport: per-class accuracy bars, the precision/recall/F1 table, the
threshold comparison and the runs table. They draw what they are given; nothing is computed here
beyond formatting."""

from __future__ import annotations

import numbers

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QScrollArea, QTableWidget, QTableWidgetItem

from ...core.evaluation.report import (
    COMPARISON_COLUMNS,
    ComparisonRow,
    EvaluationReport,
    ThresholdComparison,
)
from .. import presentation
from ..theme import plot_colors
from .class_counts import restyle_plot
from .tables import SortKeyItem

ROW_PX = 22  # one class per row, with room for its name and value in the tick font


def _item(value, *, number: bool = False) -> QTableWidgetItem:
    """A cell; a number sorts as a number (the runs table: 1,000 items after 480, not before)."""
    if isinstance(value, numbers.Integral):
        item = SortKeyItem(str(value), int(value))
    elif isinstance(value, numbers.Real):
        item = SortKeyItem(f"{value:.3f}", float(value))
    else:
        item = SortKeyItem(str(value))
    item.setFlags(item.flags() & ~Qt.ItemIsEditable)
    if number or isinstance(value, numbers.Real):
        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    return item


def _spread(table: QTableWidget) -> None:
    """Names as wide as they need, the numbers sharing the rest (no lone column far right)."""
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.Stretch)
    header.setSectionResizeMode(0, QHeaderView.ResizeToContents)


class PerClassAccuracyChart(pg.PlotWidget):
    """One horizontal bar per class: the share of its clips recognised, with the value printed."""

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.setObjectName("per_class_accuracy")
        self.plotItem.setMenuEnabled(False)
        self.plotItem.hideButtons()
        self.setMouseEnabled(x=False, y=False)
        self.setLabel("bottom", "accuracy (share of the class's clips predicted as that class)")
        self.invertY(True)
        self.values = np.zeros(0)
        self._items: list = []
        self._report: EvaluationReport | None = None

    def in_scroll_area(self) -> QScrollArea:
        """The chart in a vertical scroll area: with many classes each row keeps its height
        (ROW_PX) instead of all being squeezed, names and values overlapping, into the tab."""
        area = QScrollArea()
        area.setObjectName("per_class_accuracy_scroll")
        area.setWidgetResizable(True)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        area.setFrameShape(QScrollArea.NoFrame)
        area.setWidget(self)
        return area

    def recolor(self) -> None:
        """Follow a theme change: background, axes, and the value labels (drawn in the text colour)."""
        restyle_plot(self)
        if self._report is not None:
            self.set_report(self._report)

    def presentation_changed(self, on: bool) -> None:
        if self._report is not None:
            self.set_report(self._report)   # row heights and the room for the value texts

    def set_report(self, report: EvaluationReport) -> None:
        for item in self._items:
            self.removeItem(item)
        self._items = []
        self._report = report
        labels = list(report.labels)
        self.values = np.array([report.per_class[label].accuracy for label in labels])
        n = len(labels)
        bars = pg.BarGraphItem(x0=np.zeros(n), y=np.arange(n), height=0.7, width=self.values,
                               brush=plot_colors()["wave"])
        self.addItem(bars)
        self._items.append(bars)
        for i, (label, v) in enumerate(zip(labels, self.values, strict=True)):
            support = report.per_class[label].support
            # In the axis text colour: TextItem's default light grey was hard to read on white.
            text = pg.TextItem(f"{v:.0%}  (n={support})", anchor=(0, 0.5),
                               color=plot_colors()["grid"] if support == 0 else pg.getConfigOption("foreground"))
            text.setPos(v + 0.01, i)
            self.addItem(text)
            self._items.append(text)
        self.getAxis("left").setTicks([[(i, label) for i, label in enumerate(labels)]])
        self.getAxis("bottom").setTicks([[(v, f"{v:.0%}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        # Room right of a full bar for "100%  (n=48)": at presentation size the text is twice as wide.
        self.setXRange(0, 1.5 if presentation.is_on() else 1.15, padding=0)
        self.setYRange(-0.6, n - 0.4, padding=0)
        rows = ROW_PX * (presentation.FONT_SCALE if presentation.is_on() else 1.0)
        self.setMinimumHeight(int(rows * n) + 70)  # axis label and margins below the rows
        presentation.restyle(self)


class MetricsTable(QTableWidget):
    """Precision, recall, F1, accuracy and support per class, then micro and macro averages."""

    COLUMNS = ["class", "precision", "recall", "F1", "accuracy", "support"]

    def __init__(self, parent=None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setObjectName("metrics_table")
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        _spread(self)

    def set_report(self, report: EvaluationReport) -> None:
        rows = [(label, m.precision, m.recall, m.f1, m.accuracy, m.support) for label, m in report.per_class.items()]
        rows.append(("micro average", *report.micro, report.accuracy, report.n))
        rows.append(("macro average", *report.macro, float(np.mean([m.accuracy for m in report.per_class.values()])),
                     report.n))
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = _item(value)
                if r >= len(rows) - 2:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.setItem(r, c, item)


class ThresholdTable(QTableWidget):
    """Per class: the threshold tuned on validation clips, and F1 on the test clips with plain
    argmax and with the thresholds, side by side."""

    COLUMNS = ["class", "threshold (tuned on val)", "F1 argmax", "F1 thresholds", "recall argmax",
               "recall thresholds"]

    def __init__(self, parent=None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setObjectName("threshold_table")
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        _spread(self)

    def set_comparison(self, cmp: ThresholdComparison | None) -> None:
        if cmp is None:
            self.setRowCount(0)
            return
        a, t = cmp.argmax, cmp.thresholded
        rows = [(label, float(cmp.thresholds[i]), a.per_class[label].f1, t.per_class[label].f1,
                 a.per_class[label].recall, t.per_class[label].recall) for i, label in enumerate(a.labels)]
        rows.append(("accuracy (all clips)", "", a.accuracy, t.accuracy, "", ""))
        rows.append(("macro F1", "", a.macro_f1, t.macro_f1, "", ""))
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.setItem(r, c, _item(value))


class RunsTable(QTableWidget):
    """One row per evaluated run (its test metrics), newest last."""

    def __init__(self, parent=None):
        super().__init__(0, len(COMPARISON_COLUMNS), parent)
        self.setObjectName("runs_table")
        self.setHorizontalHeaderLabels([c.replace("_", " ") for c in COMPARISON_COLUMNS])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        _spread(self)
        self.setSortingEnabled(True)

    def set_runs(self, runs: list[ComparisonRow]) -> None:
        self.setSortingEnabled(False)
        self.setRowCount(len(runs))
        for r, run in enumerate(runs):
            for c, key in enumerate(COMPARISON_COLUMNS):
                self.setItem(r, c, _item(run.row()[key]))
        self.setSortingEnabled(True)
