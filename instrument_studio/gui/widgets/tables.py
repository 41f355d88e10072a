"""Helpers for QTableWidget tables that hold many rows."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QTableWidget, QTableWidgetItem

# Where a SortKeyItem keeps what it sorts by.
SORT_ROLE = Qt.UserRole + 1


class SortKeyItem(QTableWidgetItem):
    """A cell that sorts by a key of its own (SORT_ROLE), or by its text where it has none: "9.5%"
    before "10.2%", and a "~error" key after every class name. (A key only where the text will not
    do: setting one costs a call per cell, and a folder's rows come hundreds a second.)"""

    def __init__(self, text: str = "", key=None):
        super().__init__(text)
        if key is not None:
            self.setData(SORT_ROLE, key)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        mine = self.text() if mine is None else mine
        theirs = other.text() if theirs is None else theirs
        if isinstance(mine, str) != isinstance(theirs, str):
            return super().__lt__(other)
        return mine < theirs


def follows_its_sorting(table: QTableView) -> None:
    """After a header click sorts the table, show the selected row where it went, or else the top:
    Qt keeps the scroll position, so the rows just sorted first could lie out of view."""
    def show():
        current = table.currentIndex()
        if current.isValid() and table.selectionModel().isSelected(current):
            table.scrollTo(current, QAbstractItemView.PositionAtCenter)
        else:
            table.scrollToTop()
    # Queued: runs after the table has sorted (it re-connects its own slot to the same signal each time
    # sorting is switched back on, so a direct connection might run before it).
    table.horizontalHeader().sortIndicatorChanged.connect(show, Qt.QueuedConnection)


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
    # (not sorted by any column yet: nothing moves, and switching sorting off and on costs a pass)
    sorting = table.isSortingEnabled() and table.horizontalHeader().sortIndicatorSection() >= 0
    if sorting:
        table.setSortingEnabled(False)
    try:
        with columns_measured_once(table):
            yield
    finally:
        if sorting:
            table.setSortingEnabled(True)
