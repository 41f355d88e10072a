"""The clips behind one confusion-matrix cell, most confident first, and the selected clip: its
spectrogram, true versus predicted class, the top-3 probabilities and a Play button."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.evaluation.report import EvaluationReport
from .message_label import message_label
from .spectrogram_view import SpectrogramView
from .tables import columns_measured_once


class ClipList(QWidget):
    clip_selected = Signal(int)     # item index in the report
    play_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.report: EvaluationReport | None = None
        self.indices: list[int] = []
        self.current: int | None = None
        self.title = message_label("Click a cell of the confusion matrix to list its clips.")
        self.title.setObjectName("clip_list_title")
        self.title.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("clip_table")
        self.table.setHorizontalHeaderLabels(["clip", "confidence", "true → predicted"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.verdict = message_label("")
        self.verdict.setObjectName("clip_verdict")
        self.verdict.setTextFormat(Qt.RichText)
        self.verdict.setWordWrap(True)
        self.play_button = QPushButton(self.style().standardIcon(QStyle.SP_MediaPlay), "Play clip")
        self.play_button.setObjectName("play_clip")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(lambda: self.current is not None and self.play_requested.emit(self.current))
        self.spectrogram = SpectrogramView()
        self.spectrogram.setMinimumHeight(160)
        self.spectrogram.setVisible(False)
        self.placeholder = QLabel("Select a clip to see its spectrogram and play it.")
        self.placeholder.setObjectName("clip_placeholder")
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.placeholder.setStyleSheet("QLabel { color: gray; }")
        row = QHBoxLayout()
        row.addWidget(self.verdict, 1)
        row.addWidget(self.play_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 2)
        layout.addLayout(row)
        layout.addWidget(self.spectrogram, 3)
        layout.addWidget(self.placeholder, 3)

    def show_cell(self, report: EvaluationReport, true_class: int, predicted_class: int) -> None:
        self.report = report
        self.indices = report.cell_items(true_class, predicted_class)
        t, p = report.labels[true_class], report.labels[predicted_class]
        what = f"<b>{t}</b> recognised" if t == p else f"<b>{t}</b> predicted as <b>{p}</b>"
        self.title.setText(f"{what}: {len(self.indices)} clip{'s' * (len(self.indices) != 1)}, most confident first")
        self.table.setRowCount(len(self.indices))
        conf = report.confidence()
        with columns_measured_once(self.table):
            self._fill(report, conf, t, p)
        self.clear_clip()

    def _fill(self, report: EvaluationReport, conf, t: str, p: str) -> None:
        for r, i in enumerate(self.indices):
            name = QTableWidgetItem(Path(report.items[i].split("#", 1)[0]).name
                                    + (f"#{report.items[i].split('#', 1)[1]}" if "#" in report.items[i] else ""))
            name.setToolTip(report.items[i])
            c = QTableWidgetItem(f"{conf[i]:.1%}")
            c.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.table.setItem(r, 0, name)
            self.table.setItem(r, 1, c)
            self.table.setItem(r, 2, QTableWidgetItem(f"{t} → {p}"))

    def clear(self) -> None:
        self.report, self.indices = None, []
        self.table.setRowCount(0)
        self.title.setText("Click a cell of the confusion matrix to list its clips.")
        self.clear_clip()

    def clear_clip(self) -> None:
        self.current = None
        self.verdict.setText("")
        self.play_button.setEnabled(False)
        self.set_playing(False)
        self.spectrogram.clear_image()
        self.spectrogram.setVisible(False)
        self.placeholder.setVisible(True)

    def names(self) -> list[str]:
        return [self.table.item(r, 0).toolTip() for r in range(self.table.rowCount())]

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _selection_changed(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        if not rows or self.report is None:
            return
        i = self.indices[min(rows)]
        self.current = i
        r = self.report
        truth, pred = r.labels[r.y_true[i]], r.labels[r.pred[i]]
        colour = "#2e7d32" if truth == pred else "#c62828"
        top = " · ".join(f"{label} {p:.1%}" for label, p in r.top_k(i, 3))
        self.verdict.setText(f"true <b>{truth}</b> · predicted <b style='color:{colour}'>{pred}</b>"
                             f"<br>top 3: {top}")
        self.play_button.setEnabled(False)
        self.clip_selected.emit(i)

    def show_audio(self, item: int, db, mel_cfg, *, playable: bool, reason: str = "") -> None:
        """The selected clip's spectrogram arrived (from a worker)."""
        if item != self.current:
            return
        self.placeholder.setVisible(False)
        self.spectrogram.setVisible(True)
        self.spectrogram.begin(db.shape[1], mel_cfg)
        self.spectrogram.add_frames(0, db)
        # The view draws only the columns it shows: show the whole clip first, then draw (drawn
        # the other way round, the image held the first second of the default range and no more).
        self.spectrogram.setXRange(0, self.spectrogram.duration, padding=0)
        self.spectrogram.finish()
        self.play_button.setEnabled(playable)
        self.play_button.setToolTip("Play this clip" if playable else f"Playback unavailable: {reason}")

    def set_playing(self, playing: bool) -> None:
        """Play turns into Pause while the clip sounds."""
        self.play_button.setText("Pause clip" if playing else "Play clip")
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay))

    def show_audio_error(self, item: int, message: str) -> None:
        if item == self.current:
            self.verdict.setText(self.verdict.text() + f"<br><span style='color:#c62828'>{message}</span>")
