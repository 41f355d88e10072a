"""The Live panel's take recorder: label, dataset folder, length, Record, and the list of takes.

Recording itself happens in core (LivePipeline.start_take writes `<dataset>/<label>/<time>.wav`
from the pipeline's thread); this box asks for it and shows the outcome. Renaming, deleting,
undoing and playing takes run through core.live.takes / core.audio.audiofile in workers.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
)

from ...core.audio.audiofile import read_audio
from ...core.errors import DatasetError, StudioError
from ...core.events import TakeFailed, TakeSaved, TakeStarted
from ...core.live.takes import (
    check_label,
    delete_take,
    empty_trash,
    prepare_dataset,
    rename_take,
    undo_delete,
)
from .. import workers
from ..widgets.message_label import message_label
from .live_teach import TeachBox

DEFAULT_LABELS = ("violin", "cello", "flute", "clarinet", "trumpet", "guitar", "piano", "voice")


class TakesBox(QGroupBox):
    record_requested = Signal(str, str, object)   # dataset, label, seconds (None: until Stop)
    stop_requested = Signal()

    def __init__(self, ctx, parent=None):
        super().__init__("Record takes", parent)
        self.ctx = ctx
        self.setObjectName("takes_box")
        self.recording = False
        self._max_seconds: float | None = None
        self._deleted: list = []            # DeletedTake, newest last (for Undo)
        self._trash_datasets: set[str] = set()
        self.player = ctx.make_player()
        self._build()
        self.dataset_edit.setText(ctx.settings.get("live/dataset", "") or str(Path.home() / "instrument-dataset"))
        self._prepared = False
        self.label_combo.setEditText(ctx.settings.get("live/label", "") or "")
        self.length_spin.setValue(float(ctx.settings.get("live/seconds", 5.0, type_=float)))

    def _build(self) -> None:
        self.label_combo = QComboBox()
        self.label_combo.setObjectName("take_label")
        self.label_combo.setEditable(True)
        self.label_combo.setInsertPolicy(QComboBox.NoInsert)
        self.label_combo.lineEdit().setPlaceholderText("class label, e.g. violin")
        self.label_combo.setMinimumWidth(160)
        self.dataset_edit = QLineEdit()
        self.dataset_edit.setObjectName("dataset_folder")
        self.dataset_edit.setToolTip("Takes are saved as <folder>/<label>/<date-time>.wav")
        self.dataset_edit.editingFinished.connect(lambda: self.set_dataset(self.dataset_edit.text()))
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self.choose_dataset)
        self.length_spin = QDoubleSpinBox()
        self.length_spin.setObjectName("take_seconds")
        self.length_spin.setRange(0.0, 3600.0)
        self.length_spin.setDecimals(1)
        self.length_spin.setSingleStep(1.0)
        self.length_spin.setSuffix(" s")
        self.length_spin.setSpecialValueText("until Stop")
        self.length_spin.setToolTip("Length of each take; 0 records until you press Stop recording")
        self.record_button = QPushButton("● Record")
        self.record_button.setObjectName("record_button")
        self.record_button.setToolTip("Record a take into the dataset folder (Ctrl+R)")
        self.record_button.clicked.connect(self.toggle_record)
        self.status_label = message_label("Each take is saved as <i>folder/label/date-time.wav</i> and listed below "
                                   "(double-click one to hear it).")
        self.status_label.setObjectName("take_status")
        self.status_label.setWordWrap(True)

        grid = QGridLayout()
        grid.addWidget(QLabel("Label"), 0, 0)
        grid.addWidget(self.label_combo, 0, 1)
        grid.addWidget(QLabel("Length"), 0, 2)
        grid.addWidget(self.length_spin, 0, 3)
        grid.addWidget(self.record_button, 0, 4)
        grid.addWidget(QLabel("Dataset folder"), 1, 0)
        grid.addWidget(self.dataset_edit, 1, 1, 1, 3)
        grid.addWidget(self.choose_button, 1, 4)
        grid.setColumnStretch(1, 1)

        self.take_list = QListWidget()
        self.take_list.setObjectName("take_list")
        self.take_list.setMinimumHeight(90)
        self.take_list.itemSelectionChanged.connect(self._update_buttons)
        self.take_list.itemDoubleClicked.connect(lambda _i: self.play_selected())
        style = self.style()
        self.play_button = QPushButton(style.standardIcon(QStyle.SP_MediaPlay), "Play")
        self.play_button.setObjectName("take_play")
        self.play_button.clicked.connect(self.play_selected)
        self.rename_button = QPushButton("Change label…")
        self.rename_button.setObjectName("take_rename")
        self.rename_button.setToolTip("Move the take into another class folder")
        self.rename_button.clicked.connect(lambda: self.rename_selected())
        self.delete_button = QPushButton(style.standardIcon(QStyle.SP_TrashIcon), "Delete")
        self.delete_button.setObjectName("take_delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.undo_button = QPushButton("Undo delete")
        self.undo_button.setObjectName("take_undo")
        self.undo_button.setToolTip("Put the last deleted take back (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.undo_action = QAction("Undo Delete Take", self, shortcut=QKeySequence.Undo)
        self.undo_action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        self.undo_action.triggered.connect(self.undo)
        self.addAction(self.undo_action)
        buttons = QVBoxLayout()
        for b in (self.play_button, self.rename_button, self.delete_button, self.undo_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.teach = TeachBox(self.ctx)
        row = QHBoxLayout()
        row.addWidget(self.take_list, 1)
        row.addLayout(buttons)
        row.addWidget(self.teach)

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.status_label)
        layout.addLayout(row, 1)
        self._update_buttons()

    def showEvent(self, event) -> None:
        if not self._prepared:  # labels and crash recovery for the dataset, once, when first seen
            self.set_dataset(self.dataset)
        super().showEvent(event)

    # --- dataset and labels ---------------------------------------------------------------------
    @property
    def dataset(self) -> str:
        return self.dataset_edit.text().strip()

    def choose_dataset(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder for takes", self.dataset or str(Path.home()))
        if folder:
            self.set_dataset(folder)

    def set_dataset(self, folder: str) -> None:
        folder = folder.strip()
        self._prepared = True
        self.dataset_edit.setText(folder)
        if not folder:
            return
        self.ctx.settings.set("live/dataset", folder)
        self.teach.set_dataset(folder)
        workers.start_worker(prepare_dataset, folder, on_return=lambda res: self._dataset_ready(folder, res),
                             on_error=lambda exc: self.status_label.setText(f"⚠ {exc}"))

    def _dataset_ready(self, folder: str, result) -> None:
        labels, recovered = result
        if folder != self.dataset:
            return
        text = self.label_combo.currentText()
        self.label_combo.clear()
        self.label_combo.addItems(labels + [x for x in DEFAULT_LABELS if x not in labels])
        self.label_combo.setEditText(text)
        for take in recovered:
            self._add_take(str(take.path), take.label, take.seconds, note="recovered after a crash")
        if recovered:
            self.status_label.setText(f"Recovered {len(recovered)} unfinished take(s) from an earlier session.")

    # --- recording ----------------------------------------------------------------------------
    def toggle_record(self) -> None:
        if self.recording:
            self.stop_requested.emit()
            return
        try:
            label = check_label(self.label_combo.currentText())
        except DatasetError as exc:
            self.status_label.setText(f"⚠ {exc}")
            self.label_combo.setFocus()
            return
        if not self.dataset:
            self.status_label.setText("⚠ Choose a dataset folder first.")
            return
        seconds = self.length_spin.value() or None
        self.ctx.settings.set("live/label", label)
        self.ctx.settings.set("live/seconds", self.length_spin.value())
        self.record_requested.emit(self.dataset, label, seconds)

    def on_event(self, ev) -> None:
        if isinstance(ev, TakeStarted):
            self.recording = True
            self._max_seconds = ev.max_seconds
            self.record_button.setText("■ Stop recording")
            self.status_label.setText(f"Recording into {ev.path}")
        elif isinstance(ev, TakeSaved):
            self.recording = False
            self.record_button.setText("● Record")
            note = f" ({ev.note})" if ev.note else ""
            self.status_label.setText(f"Saved {ev.seconds:.1f} s to {ev.path}{note}")
            self._add_take(ev.path, ev.label, ev.seconds, note=ev.note)
            self.teach.refresh()
        elif isinstance(ev, TakeFailed):
            self.recording = False
            self.record_button.setText("● Record")
            self.status_label.setText(f"⚠ {ev.message}")
            self.ctx.report_error("Recording problem", StudioError(ev.message))

    def show_progress(self, seconds: float) -> None:
        if self.recording:
            total = f" / {self._max_seconds:.1f}" if self._max_seconds else ""
            self.record_button.setText(f"■ Stop recording ({seconds:.1f}{total} s)")

    def tick(self) -> None:
        """Frame clock: a take that finished playing turns its button back to Play."""
        if not self.player.playing and self.play_button.text() == "Stop":
            self.play_button.setText("Play")

    def input_stopped(self) -> None:
        self.recording = False
        self.record_button.setText("● Record")

    # --- the take list --------------------------------------------------------------------------
    def _add_take(self, path: str, label: str, seconds: float, *, note: str = "") -> None:
        item = QListWidgetItem()
        self._describe(item, path, label, seconds)
        if note:
            item.setToolTip(f"{path}\n{note}")
        self.take_list.insertItem(0, item)
        self.take_list.setCurrentItem(item)

    @staticmethod
    def _describe(item: QListWidgetItem, path: str, label: str, seconds: float) -> None:
        item.setText(f"{label}  —  {Path(path).name}  ({seconds:.1f} s)")
        item.setData(Qt.UserRole, (path, label, seconds))
        item.setToolTip(path)

    def takes(self) -> list[tuple[str, str, float]]:
        return [self.take_list.item(i).data(Qt.UserRole) for i in range(self.take_list.count())]

    def _selected(self):
        item = self.take_list.currentItem()
        return (item, item.data(Qt.UserRole)) if item is not None else (None, None)

    def _update_buttons(self) -> None:
        has = self.take_list.currentItem() is not None
        for b in (self.play_button, self.rename_button, self.delete_button):
            b.setEnabled(has)
        self.undo_button.setEnabled(bool(self._deleted))
        self.undo_action.setEnabled(bool(self._deleted))

    def play_selected(self) -> None:
        item, data = self._selected()
        if data is None:
            return
        if self.player.playing:
            self.player.stop()
            self.play_button.setText("Play")
            return

        def ready(decoded):
            try:
                self.player.set_audio(decoded.samples, decoded.samplerate)
                self.player.play()
                self.play_button.setText("Stop")
            except StudioError as exc:
                self.ctx.report_error("Cannot play the take", exc)

        self.player.on_finished = None
        workers.start_worker(read_audio, data[0], on_return=ready,
                             on_error=lambda exc: self.ctx.report_error("Cannot play the take", exc))

    def rename_selected(self, new_label: str | None = None) -> None:
        item, data = self._selected()
        if data is None:
            return
        path, label, seconds = data
        if new_label is None:
            labels = [self.label_combo.itemText(i) for i in range(self.label_combo.count())]
            new_label, ok = QInputDialog.getItem(self, "Change label", f"Move {Path(path).name} to class:",
                                                 labels, max(0, labels.index(label)) if label in labels else 0,
                                                 True)
            if not ok:
                return

        def moved(new_path):
            self._describe(item, str(new_path), Path(new_path).parent.name, seconds)
            self.status_label.setText(f"Moved to {new_path}")
            self.teach.refresh()

        workers.start_worker(rename_take, path, new_label, on_return=moved,
                             on_error=lambda exc: self.ctx.report_error("Cannot change the take's label", exc))

    def delete_selected(self) -> None:
        item, data = self._selected()
        if data is None:
            return
        self.player.stop()

        def deleted(d):
            self._deleted.append((d, data))
            self._trash_datasets.add(str(Path(data[0]).parent.parent))
            self.take_list.takeItem(self.take_list.row(item))
            self.status_label.setText(f"Deleted {Path(data[0]).name}. Undo with Ctrl+Z or “Undo delete”.")
            self._update_buttons()
            self.teach.refresh()

        workers.start_worker(delete_take, data[0], on_return=deleted,
                             on_error=lambda exc: self.ctx.report_error("Cannot delete the take", exc))

    def undo(self) -> None:
        if not self._deleted:
            return
        d, (_path, label, seconds) = self._deleted.pop()
        self._update_buttons()

        def restored(path):
            self._add_take(str(path), label, seconds)
            self.status_label.setText(f"Restored {path}")
            self.teach.refresh()

        workers.start_worker(undo_delete, d, on_return=restored,
                             on_error=lambda exc: self.ctx.report_error("Cannot restore the take", exc))

    def shutdown(self) -> None:
        self.teach.shutdown()
        self.player.close()
        for folder in self._trash_datasets:
            empty_trash(folder)  # deletions become final when the app closes
