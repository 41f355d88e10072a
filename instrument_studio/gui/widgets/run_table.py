"""The run list: one row per finished training run (config, final metrics, duration); a Show box
per row overlays that run's curves."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

COLUMNS = ("Show", "Run", "Model", "Features", "Optimizer", "LR", "Batch", "Epochs", "Best val acc",
           "Test acc", "Train time", "Device", "Ended")


def _pct(value) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f} %"


MIN_ROWS_SHOWN = 3


class RunTable(QTableWidget):
    shown_changed = Signal(list)     # run ids whose Show box is ticked

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("run_table")
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self._ids: list[int] = []
        self.itemChanged.connect(self._item_changed)
        # Room for a few runs whatever the window's height (at 1280x720 it showed 1.5 rows).
        self.setMinimumHeight(self.min_height_for_rows(MIN_ROWS_SHOWN))
        self._filling = False

    def min_height_for_rows(self, rows: float) -> int:
        frame = 2 * self.frameWidth()
        scrollbar = self.horizontalScrollBar().sizeHint().height()
        return int(self.horizontalHeader().sizeHint().height() + rows * self.verticalHeader().defaultSectionSize()
                   + frame + scrollbar)

    def add_run(self, run, colour: str | None, *, shown: bool = True) -> None:
        self._filling = True
        row = self.rowCount()
        self.insertRow(row)
        self._ids.append(run.id)
        c = run.config
        show = QTableWidgetItem()
        show.setFlags(Qt.ItemIsUserCheckable | Qt.ItemIsEnabled | Qt.ItemIsSelectable)
        show.setCheckState(Qt.Checked if shown else Qt.Unchecked)
        show.setToolTip("overlay this run's curves")
        metrics = run.metrics
        cells = [show, str(run.id), c.model, run.feature_config.kind, c.optimizer, f"{c.learning_rate:g}",
                 str(c.batch_size), f"{run.epochs_run}/{c.epochs}", _pct(metrics.get("best_val_accuracy")),
                 _pct(metrics.get("test_accuracy")), f"{run.duration:.1f} s", run.device, run.stop_reason]
        for col, cell in enumerate(cells):
            item = cell if isinstance(cell, QTableWidgetItem) else QTableWidgetItem(cell)
            if col:
                item.setToolTip(run.name)
            if col == 1 and colour:
                swatch = QPixmap(12, 12)
                swatch.fill(QColor(colour))
                item.setIcon(QIcon(swatch))
            self.setItem(row, col, item)
        self._filling = False

    def remove_run(self, run_id: int) -> None:
        if run_id in self._ids:
            row = self._ids.index(run_id)
            self._ids.pop(row)
            self.removeRow(row)
            self.shown_changed.emit(self.shown_ids())

    def run_id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def selected_run_id(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        return self.run_id_at(rows[0].row()) if rows else None

    def shown_ids(self) -> list[int]:
        return [rid for row, rid in enumerate(self._ids) if self.item(row, 0).checkState() == Qt.Checked]

    def set_shown(self, ids) -> None:
        ids = set(ids)
        self._filling = True
        for row, rid in enumerate(self._ids):
            self.item(row, 0).setCheckState(Qt.Checked if rid in ids else Qt.Unchecked)
        self._filling = False
        self.shown_changed.emit(self.shown_ids())

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == 0:
            self.shown_changed.emit(self.shown_ids())
