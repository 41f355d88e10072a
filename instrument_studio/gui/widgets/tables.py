"""Helpers for QTableWidget tables that hold many rows."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtWidgets import QHeaderView, QTableWidget


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
