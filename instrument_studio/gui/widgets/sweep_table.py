"""The sweep's results table: one row per finished run, energy shown as 'unavailable' (never 0)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from .sweep_charts import value_text

COLUMNS = ("value", "repeat", "seed", "epochs", "time (s)", "GPU energy (J)", "CPU package energy (J)",
           "test accuracy", "reached target", "final loss", "final val loss", "final val accuracy", "device")


def _fmt(x, spec: str) -> str:
    return "–" if x is None else format(x, spec)


def run_cells(run) -> list[str]:
    reached = {None: "–", True: "yes", False: "no"}[run.reached_target]
    return [
        value_text(run.value), str(run.repeat + 1), str(run.seed), str(run.epochs), f"{run.train_seconds:.2f}",
        "unavailable" if run.energy_joules is None else f"{run.energy_joules:.1f}",
        "unavailable" if run.cpu_energy_joules is None else f"{run.cpu_energy_joules:.1f}",
        f"{run.test_accuracy:.4f}", reached, _fmt(run.final_loss, ".4f"), _fmt(run.final_val_loss, ".4f"),
        _fmt(run.final_val_accuracy, ".4f"), run.device or "–",
    ]


class SweepTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("sweep_table")
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def set_param_label(self, label: str) -> None:
        self.setHorizontalHeaderItem(0, QTableWidgetItem(label))

    def show_runs(self, runs: Sequence) -> None:
        self.setRowCount(0)
        for run in runs:
            self.append_run(run)

    def append_run(self, run) -> None:
        row = self.rowCount()
        self.insertRow(row)
        for col, text in enumerate(run_cells(run)):
            item = QTableWidgetItem(text)
            if col < len(COLUMNS) - 1:
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if col in (5, 6) and text == "unavailable":
                item.setToolTip(run.energy_source if col == 5 else run.cpu_energy_source)
                item.setForeground(Qt.gray)
            self.setItem(row, col, item)

    def cell_text(self, row: int, column: str) -> str:
        return self.item(row, COLUMNS.index(column)).text()
