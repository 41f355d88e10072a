"""The Evaluation panel's lower tabs: per-class accuracy, precision / recall / F1, thresholds
tuned on the validation clips, and the runs evaluated so far (with CSV export)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from .message_label import message_label
from .metric_views import MetricsTable, PerClassAccuracyChart, RunsTable, ThresholdTable


class ReportTabs(QTabWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.accuracy_chart = PerClassAccuracyChart()
        self.metrics_table = MetricsTable()
        self.threshold_table = ThresholdTable()
        self.threshold_note = message_label()
        thresholds = QWidget()
        tl = QVBoxLayout(thresholds)
        tl.addWidget(self.threshold_note)
        tl.addWidget(self.threshold_table, 1)
        self.runs_table = RunsTable()
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("export_runs")
        self.export_button.setEnabled(False)
        runs = QWidget()
        rl = QVBoxLayout(runs)
        rl.addWidget(self.runs_table, 1)
        rrow = QHBoxLayout()
        rrow.addStretch(1)
        rrow.addWidget(self.export_button)
        rl.addLayout(rrow)
        self.addTab(self.accuracy_chart.in_scroll_area(), "Per-class accuracy")
        self.addTab(self.metrics_table, "Precision / recall / F1")
        self.addTab(thresholds, "Thresholds")
        self.addTab(runs, "Runs compared")

    def show_report(self, report) -> None:
        self.accuracy_chart.set_report(report)
        self.metrics_table.set_report(report)

    def show_thresholds(self, comparison, evaluation) -> None:
        """`comparison`: ModelEvaluation.threshold_comparison(...), None without validation clips."""
        self.threshold_table.set_comparison(comparison)
        if comparison is None:
            self.threshold_note.setText("No validation clips for this model and data set: thresholds need them.")
            return
        self.threshold_note.setText(
            f"Class-wise thresholds tuned on {len(np.unique(evaluation.val_groups))} validation clips, applied to "
            f"the {evaluation.split} clips: accuracy {comparison.argmax.accuracy:.1%} with plain argmax, "
            f"{comparison.thresholded.accuracy:.1%} with the thresholds.")

    def show_runs(self, summaries) -> None:
        self.runs_table.set_runs(list(summaries))
        self.export_button.setEnabled(True)
