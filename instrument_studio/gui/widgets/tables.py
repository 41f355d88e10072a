"""Helpers for QTableWidget tables that hold many rows."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

# Where a SortKeyItem keeps what it sorts by.
SORT_ROLE = Qt.UserRole + 1


class SortKeyItem(QTableWidgetItem):
    """A cell that sorts by a key of its own (SORT_ROLE), not by its text: "9.5%" after "10.2%"."""

    def __init__(self, text: str = "", key=None):
        super().__init__(text)
        self.setData(SORT_ROLE, text if key is None else key)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None or isinstance(mine, str) != isinstance(theirs, str):
            return super().__lt__(other)
        return mine < theirs


@contextmanager
def columns_measured_once(table: QTableWidget):
    """Change many cells with the table's content-sized columns measured once, after the last one.
    While a column is sized to its contents, its header re-measures it (over up to 1,000 rows) at
    every cell changed: seconds for a few hundred rows (bench/predict_table.py)."""
    header = table.horizontalHeader()
    sized = [c for c in range(table.columnCount()) if header.sectionResizeMode(c) == QHeaderView.ResizeToContents]
    for column in sized:
        header.setSectionResizeMode(column, QHeaderView.Interactive)
    try:
        yield
    finally:
        for column in sized:
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)


@contextmanager
def rows_changed_at_once(table: QTableWidget):
    """columns_measured_once, and a table sorted by a column sorted once, after the last change: while
    sorting is on, every cell set moves its row at once, before the row's other cells are filled."""
    sorting = table.isSortingEnabled()
    table.setSortingEnabled(False)
    try:
        with columns_measured_once(table):
            yield
    finally:
        table.setSortingEnabled(sorting)
