"""The Predict panel: which model names instruments (the default one or a saved bundle), and a
folder of recordings predicted file by file into a table that fills in as it goes.

It also owns the model the Audio panel's prediction timeline and the Live panel's bars use: the
model loads once, in a worker, the first time anything asks for it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.learn.tfthread import run_in_tf_thread
from ...core.predict.answer import UNKNOWN
from ...core.predict.inference import DEFAULT_MODEL, load_predictor, predict_files, write_predictions_csv
from .. import presentation, workers
from ..widgets.file_prediction import FilePredictionView, among_phrase
from ..widgets.live_prediction import LivePredictionView
from ..widgets.message_label import empty_state, message_label
from ..widgets.tables import SORT_ROLE, SortKeyItem, follows_its_sorting, rows_changed_at_once

COLUMNS = ["file", "top class", "probability", "top 3"]


# A folder's results reach the table in batches at most this often (sooner than the eye notices).
ROWS_EVERY_MS = 40


def shown_below(paths: list[str]) -> list[Path]:
    """The folders a table's paths are shown below: each folder chosen, and the one folder the chosen
    files share (for files dropped from one folder, just their names)."""
    folders = [Path(p) for p in paths if Path(p).is_dir()]
    parents = [str(Path(p).parent) for p in paths if not Path(p).is_dir()]
    if parents:
        try:
            folders.append(Path(os.path.commonpath(parents)))
        except ValueError:      # absolute and relative paths mixed: shown as given
            pass
    return folders


class _TickWithoutClosing(QObject):
    """A click on a checkable entry of the menu it watches ticks it and leaves the menu open, so a
    few classes are chosen in one visit (a QMenu closes on every click)."""

    def eventFilter(self, menu, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.MouseButtonRelease:
            action = menu.actionAt(event.position().toPoint())
            if action is not None and action.isCheckable() and action.isEnabled():
                action.trigger()
                return True
        return False


class PredictPanel(QWidget):
    title = "Predict"
    predictor_changed = Signal(object)
    among_changed = Signal()           # the classes answers are given among (answer_among)
    folder_done = Signal(int, int)     # files predicted, files that failed

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("predict_panel")
        self.model_path: str | None = ctx.settings.get("predict/model", "") or None
        self.run = None                   # a SessionRun of this session in use (its model in memory)
        self.predictor = None
        self._loading = None
        self._waiting: list = []
        self.results = []                 # as predicted, among every class
        self._unshown: list = []          # results not in the table yet (added every ROWS_EVERY_MS)
        self.only: list[str] | None = None  # the classes the table answers among (None: all)
        self._class_labels: tuple[str, ...] = ()
        self._roots: list[Path] = []
        self._stopped_by: str | None = None   # why the last run ended early, in words
        self._worker = None
        self.file_view: FilePredictionView | None = None
        self.live_view: LivePredictionView | None = None
        # Models kept loaded for switching back in one click: the default model ("") and the
        # personal models taught in this session (path -> Predictor).
        self.held: dict[str, object] = {}
        self._build()

    @property
    def model_name(self) -> str:
        if self.run is not None:
            return self.run.name
        return Path(self.model_path).name if self.model_path else "default model"

    # --- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.model_label = message_label()
        self.model_label.setObjectName("model_label")
        self.model_label.setTextFormat(Qt.RichText)
        self.model_label.setWordWrap(True)
        self.choose_button = QPushButton("Choose model…")
        self.choose_button.clicked.connect(self._choose_model)
        self.default_button = QPushButton("Use default model")
        self.default_button.clicked.connect(lambda: self.set_model(None))
        self.runs_combo = QComboBox()
        self.runs_combo.setObjectName("predict_runs")
        self.runs_combo.setToolTip("Predict with a model trained in this session, without saving it first")
        self.runs_combo.addItem("Runs of this session…")
        self.runs_combo.setEnabled(False)
        self.runs_combo.activated.connect(self._run_chosen)
        top = QHBoxLayout()
        top.addWidget(self.model_label, 1)
        top.addWidget(self.runs_combo)
        top.addWidget(self.choose_button)
        top.addWidget(self.default_button)

        self.folder_button = QPushButton("Predict folder…")
        self.folder_button.setObjectName("predict_folder")
        self.folder_button.clicked.connect(self._choose_folder)
        self.files_button = QPushButton("Predict files…")
        self.files_button.clicked.connect(self._choose_files)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_predict")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.among_button = QToolButton()
        self.among_button.setObjectName("predict_among")
        self.among_button.setPopupMode(QToolButton.InstantPopup)
        self.among_button.setToolTip("Known to be among a few instruments? Tick them: the table, its CSV and "
                                     "the Audio panel's answer name the likeliest of those (nothing is "
                                     "predicted again)")
        self.among_menu = QMenu(self)
        self.among_menu.setObjectName("predict_among_menu")
        self._tick_filter = _TickWithoutClosing(self)
        self.among_menu.installEventFilter(self._tick_filter)
        self.among_button.setMenu(self.among_menu)
        self.among_button.setText("Among: every class")
        self.among_button.setEnabled(False)   # until the model's classes are known
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("export_predictions")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export)
        self.progress = QProgressBar()
        self.progress.setObjectName("predict_progress")
        # "idle" until a run starts, as the Training panel's bar: "0 of 100 files" at rest would read
        # as a stalled job, and an empty bar as a text field.
        self.progress.setFormat("idle")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = message_label("Choose a folder of recordings to name the instrument in each.")
        self.status.setObjectName("predict_status")
        row = QHBoxLayout()
        for w in (self.folder_button, self.files_button, self.cancel_button):
            row.addWidget(w)
        row.addWidget(self.progress, 1)
        row.addWidget(self.among_button)
        row.addWidget(self.export_button)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("predict_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Interactive)
        for column in (1, 2):   # class names and percentages whole, at any text size
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 380)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.ElideMiddle)    # a long path keeps its file name in sight
        # activated: a double-click, or Enter on the selected row (the keyboard's way in)
        self.table.activated.connect(self._open_row)
        # In the order predicted until a header is clicked: then by file, class, probability or top 3.
        self.table.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
        self.table.setSortingEnabled(True)
        follows_its_sorting(self.table)
        self.table.setToolTip("Double-click a file (or press Enter) to open it in the Audio panel; click a column's header to "
                              "sort by it (probability: the least sure answers first or last)")

        # Before the first run, say what the table is for instead of showing empty columns.
        self.placeholder = empty_state(
            "No recordings predicted yet",
            "<b>Predict folder…</b> names the instrument in every recording of a folder and its subfolders "
            "(WAV, AIFF, FLAC, OGG, MP3); <b>Predict files…</b> in the ones you pick.<br>Or drop a folder or "
            "several recordings on the window. Each row gives the instrument, its probability and the next "
            "two; double-click a row to see the file second by second.", name="predict_placeholder")
        self.table_stack = QStackedWidget()
        self.table_stack.addWidget(self.placeholder)
        self.table_stack.addWidget(self.table)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.table_stack, 1)
        self._show_model()

    # --- answering among some classes -------------------------------------------------------------
    def _offer_classes(self, labels: tuple[str, ...]) -> None:
        """The classes menu for the model in use (rebuilt, and the choice reset, when its classes change)."""
        labels = tuple(label for label in labels if label != UNKNOWN)
        if labels == self._class_labels:
            return
        self._class_labels = labels
        self.among_menu.clear()
        every = self.among_menu.addAction("Every class")
        every.setObjectName("among_every")
        every.triggered.connect(lambda: self.answer_among(None))
        self.among_menu.addSeparator()
        for label in labels:
            act = self.among_menu.addAction(label)
            act.setCheckable(True)
            act.toggled.connect(self._among_toggled)
        self.answer_among(None)

    def open_among_menu(self) -> None:
        """The classes menu under its button, the panel shown (the Predict menu's "Answer Among…")."""
        if hasattr(self, "window"):
            self.window.tabs.setCurrentWidget(self)
        if self.among_button.isEnabled():
            self.among_menu.popup(self.among_button.mapToGlobal(self.among_button.rect().bottomLeft()))
        else:
            self.ctx.status.emit("The classes to answer among are offered once the model has loaded", 5000)

    def _among_toggled(self) -> None:
        chosen = [a.text() for a in self.among_menu.actions() if a.isCheckable() and a.isChecked()]
        self.answer_among(chosen or None)

    def answer_among(self, classes: list[str] | None) -> None:
        """Answer the table (and its CSV export) among `classes` only; None: among every class."""
        self.only = list(classes) if classes and set(classes) != set(self._class_labels) else None
        for act in self.among_menu.actions():
            if act.isCheckable():
                act.blockSignals(True)
                act.setChecked(self.only is not None and act.text() in self.only)
                act.blockSignals(False)
        self.among_button.setText("Among: " + (among_phrase(self.only) if self.only else "every class"))
        self.among_button.setEnabled(bool(self._class_labels))
        self._show_rows()
        with rows_changed_at_once(self.table):    # only the answer's columns change
            for row in range(self.table.rowCount()):
                r = self._result_at(row)
                if r.ok:
                    self._fill_answer(row, self.shown(r))
        self.among_changed.emit()

    def among_for(self, labels) -> list[str] | None:
        """The chosen classes that a model with `labels` knows (None: every class). A file predicted
        by a model chosen before this one, or a live predictor not yet replaced, may lack some."""
        classes = [c for c in self.only or () if c in labels]
        return classes or None

    def answered(self, prediction):
        """A prediction answered among the chosen classes (the table's rows, the Audio panel's file)."""
        if prediction is None:
            return prediction
        return prediction.among(self.among_for(prediction.labels))

    def shown(self, r):
        """A result as the table shows it: answered among the chosen classes."""
        return replace(r, prediction=self.answered(r.prediction)) if r.ok and self.only else r

    def install_menus(self, window) -> None:
        """Put the file timeline under the Audio panel's spectrogram and the bars in the Live panel."""
        self.window = window
        audio = window.panels.get("AudioPanel")
        if audio is not None and hasattr(audio, "host_view"):
            self.file_view = FilePredictionView(self.ctx, audio, self)
            audio.host_view(self.file_view)
        live = window.panels.get("LivePanel")
        if live is not None and hasattr(live, "host_view"):
            self.live_view = LivePredictionView(self.ctx, live, self)
            live.host_view(self.live_view)
        if live is not None and hasattr(live, "model_taught"):
            live.model_taught.connect(self.use_bundle)
        training = window.panels.get("TrainingPanel")
        if training is not None and hasattr(training, "run_finished"):
            for run in getattr(training, "runs", []):
                self.offer_run(run)
            training.run_finished.connect(self.offer_run)
            if hasattr(training, "run_released"):
                training.run_released.connect(self.remove_run)
        menu = window.menuBar().addMenu("&Predict")
        self.menu_actions = {}
        for text, fn, keys in (("Choose Model…", self._choose_model, None),
                               ("Use Default Model", lambda: self.set_model(None), None),
                               (None, None, None),
                               ("Predict Folder…", self._choose_folder, "Ctrl+Shift+O"),
                               ("Predict Files…", self._choose_files, "Ctrl+Alt+O"),
                               ("Answer Among…", self.open_among_menu, None),
                               ("Export Predictions CSV…", self._export, "Ctrl+Shift+S")):
            if text is None:
                menu.addSeparator()
                continue
            act = QAction(text, self)
            if keys:
                act.setShortcut(QKeySequence(keys))
            act.triggered.connect(fn)
            menu.addAction(act)
            self.menu_actions[text] = act
        self._set_exportable(self.export_button.isEnabled())
        self.folder_button.setToolTip("Name the instrument in every recording of a folder (Ctrl+Shift+O)")
        self.files_button.setToolTip("Name the instrument in the recordings you pick (Ctrl+Alt+O)")
        self.export_button.setToolTip("Save the table as CSV (Ctrl+Shift+S)")

    # --- the model ------------------------------------------------------------------------------
    def offer_run(self, run) -> None:
        """List a finished run of the Training panel (one whose model is still in memory)."""
        if getattr(run, "result", None) is None:
            return
        self.runs_combo.addItem(run.name, run)
        self.runs_combo.setEnabled(True)

    def remove_run(self, run) -> None:
        """A run whose model the Training panel released: no longer offered. The run in use keeps
        predicting with the model it holds until another model is chosen."""
        index = self.runs_combo.findText(run.name)
        if index > 0:
            self.runs_combo.removeItem(index)
        self.runs_combo.setEnabled(self.runs_combo.count() > 1)

    def _run_chosen(self, index: int) -> None:
        run = self.runs_combo.itemData(index)
        if run is not None and getattr(run, "result", None) is not None:
            self.use_run(run)

    def use_run(self, run) -> None:
        """Predict with a run's model as it is in memory (unsaved; not remembered after quitting)."""
        from ...core.predict.inference import Predictor

        self.run = run
        self._loading = None
        self.predictor = Predictor(run.result, runner=run_in_tf_thread)
        self.runs_combo.setCurrentIndex(max(0, self.runs_combo.findText(run.name)))
        self._show_model()
        waiting, self._waiting = self._waiting, []
        for fn, _ in waiting:
            fn(self.predictor)
        self.predictor_changed.emit(self.predictor)

    def use_bundle(self, path: str, bundle) -> None:
        """Predict with a bundle already loaded (one just taught, saved at `path`): at once."""
        from ...core.predict.inference import Predictor

        self.run = None
        self.runs_combo.setCurrentIndex(0)
        self.model_path = str(path)
        self.ctx.settings.set("predict/model", self.model_path)
        self._loading = None
        self.predictor = self.held[self.model_path] = Predictor(bundle, runner=run_in_tf_thread)
        self._show_model()
        waiting, self._waiting = self._waiting, []
        for fn, _ in waiting:
            fn(self.predictor)
        self.predictor_changed.emit(self.predictor)

    def _show_model(self) -> None:
        if self.run is not None:
            self._offer_classes(tuple(self.run.labels))
            labels = ", ".join(self.run.labels)
            self.model_label.setText(f"Model: <b>{self.model_name}</b> (this session's run, not saved) — "
                                     f"{len(self.run.labels)} classes: {labels}")
            self.model_label.setToolTip(f"trained on {self.run.dataset}")
            self.default_button.setEnabled(True)
            return
        where = self.model_path or str(DEFAULT_MODEL)
        if self.predictor is not None:
            self._offer_classes(tuple(self.predictor.labels))
        state = "loaded" if self.predictor is not None else "loads when first needed"
        labels = f" — {len(self.predictor.labels)} classes: {', '.join(self.predictor.labels)}" if self.predictor else ""
        self.model_label.setText(f"Model: <b>{self.model_name}</b> ({state}){labels}")
        self.model_label.setToolTip(where)
        self.default_button.setEnabled(self.model_path is not None)

    def set_model(self, path: str | None) -> None:
        self.run = None
        self.runs_combo.setCurrentIndex(0)
        self.model_path = str(path) if path else None
        self.ctx.settings.set("predict/model", self.model_path or "")
        self.predictor = self.held.get(self.model_path or "")
        self._loading = None
        self._show_model()
        self.with_predictor(self.predictor_changed.emit)

    def _choose_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a model bundle folder", self.model_path or "")
        if path:
            self.set_model(path)

    def with_predictor(self, fn, *, on_error=None) -> None:
        """Call fn(predictor) in the GUI thread once the model is loaded (loading it if needed)."""
        if self.predictor is not None:
            fn(self.predictor)
            return
        self._waiting.append((fn, on_error))
        if self._loading is not None:
            return
        path = self.model_path
        self._loading = path or "default"
        self.model_label.setText(f"Model: <b>{self.model_name}</b> (loading…)")
        workers.start_worker(run_in_tf_thread, load_predictor, path, on_return=lambda p: self._loaded(path, p),
                             on_error=lambda exc: self._load_failed(path, exc))

    def _loaded(self, path, predictor) -> None:
        if path != self.model_path or self.run is not None:
            return  # another model was chosen meanwhile
        predictor.runner = run_in_tf_thread
        self.predictor = predictor
        if path is None or path in self.held:
            self.held[path or ""] = predictor
        self._loading = None
        self._show_model()
        waiting, self._waiting = self._waiting, []
        for fn, _ in waiting:
            fn(predictor)

    def _load_failed(self, path, exc: BaseException) -> None:
        self._loading = None
        self._show_model()
        waiting, self._waiting = self._waiting, []
        self.ctx.report_error("Cannot load the model", exc)
        for _, on_error in waiting:
            if on_error is not None:
                on_error(exc)

    # --- folders ---------------------------------------------------------------------------------
    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Predict every recording in a folder",
                                                self.ctx.settings.get("last_dir", "") or "")
        if path:
            self.predict_paths([path])

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Predict recordings", self.ctx.settings.get("last_dir", "") or "")
        if paths:
            self.predict_paths(paths)

    def predict_paths(self, paths: list[str]) -> None:
        self.cancel()
        self.results = []
        self._unshown = []
        self._roots = shown_below(paths)
        self.table.setRowCount(0)
        self.table_stack.setCurrentWidget(self.table)
        self.progress.setRange(0, 0)
        self.status.setText("Loading the model…" if self.predictor is None else "Predicting…")
        self.cancel_button.setEnabled(True)
        self._set_exportable(False)
        self.with_predictor(lambda predictor: self._start(predictor, paths), on_error=self._model_failed)

    def _start(self, predictor, paths) -> None:
        self.status.setText("Predicting…")
        scheduler = self.ctx.settings.get("compute/scheduler", "") or None
        bundle_path = getattr(predictor.bundle, "path", None)
        if scheduler and bundle_path is not None:
            # The Preferences' Dask scheduler: each worker there loads this bundle (same paths needed).
            from ...core.predict.parallel import predict_files_parallel

            self._worker = workers.start_worker(predict_files_parallel, bundle_path, paths, scheduler=scheduler,
                                                on_yield=self._add_row, on_error=self._failed,
                                                on_finish=self._finished)
            return
        self._worker = workers.start_worker(predict_files, predictor, paths, on_yield=self._add_row,
                                            on_error=self._failed, on_finish=self._finished)

    def _add_row(self, r) -> None:
        self.results.append(r)
        self.progress.setFormat("%v of %m files")
        self.progress.setRange(0, r.total)
        self.progress.setValue(r.index + 1)
        self._unshown.append(r)
        if len(self._unshown) == 1:
            QTimer.singleShot(ROWS_EVERY_MS, self._show_rows)

    def _show_rows(self) -> None:
        """Put the results that came in the last ROWS_EVERY_MS into the table, at once: a row added
        alone costs 7 ms of the GUI thread (the table re-measured and repainted), which at the 64
        files a second of two processes was half of it (bench/predict_table.py --stream)."""
        rows, self._unshown = self._unshown, []
        if not rows:
            return
        self.table_stack.setCurrentWidget(self.table)
        first = len(self.results) - len(rows)       # the rows not shown are the last results
        with rows_changed_at_once(self.table):
            for index, r in enumerate(rows, start=first):
                row = self.table.rowCount()
                self.table.insertRow(row)
                self._fill_row(row, index, self.shown(r))
        if self.table.horizontalHeader().sortIndicatorSection() < 0:
            self.table.scrollToBottom()             # in the order predicted: follow the newest

    def _result_at(self, row: int):
        """The result a row of the table shows (rows move when the table is sorted)."""
        return self.results[self.table.item(row, 0).data(Qt.UserRole)]

    def _fill_row(self, row: int, index: int, r) -> None:
        shown = self._shown_path(r.path)
        name = SortKeyItem(shown, shown.lower())
        name.setData(Qt.UserRole, index)
        name.setToolTip(r.path)
        self.table.setItem(row, 0, name)
        if r.ok:
            self._fill_answer(row, r)
            if r.prediction.warnings:
                self.table.item(row, 0).setToolTip(f"{r.path}\n" + "\n".join(r.prediction.warnings))
        else:
            # (no span over the answer's columns: spans stay where they are when the rows are sorted)
            for column, text, key in ((1, "error", "~error"), (2, "", -1.0), (3, r.error, None)):
                item = SortKeyItem(text, key)
                item.setForeground(Qt.red)
                item.setToolTip(r.error)
                self.table.setItem(row, column, item)

    def _fill_answer(self, row: int, r) -> None:
        """The answer's columns of a predicted file's row (what answering among classes changes)."""
        answer = r.prediction.answer
        probability = -1.0 if r.prediction.is_silent else answer.probability
        cells = ((answer.label, None),
                 ("" if r.prediction.is_silent else f"{answer.probability:.1%}", probability),
                 (", ".join(f"{label} {p:.0%}" for label, p in r.top(3)), None))
        for column, (text, key) in enumerate(cells, start=1):
            item = self.table.item(row, column)
            if item is not None:
                item.setText(text)          # re-answered: no new item
                if key is not None:
                    item.setData(SORT_ROLE, key)
                continue
            item = SortKeyItem(text, key)
            if column == 2:
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.table.setItem(row, column, item)

    def _shown_path(self, path: str) -> str:
        """The path below the folder that was chosen, or below the folder the chosen files share (the
        full path is in the tooltip)."""
        for root in self._roots:
            try:
                return str(Path(path).relative_to(root))
            except ValueError:
                continue
        return path

    def _failed(self, exc: BaseException) -> None:
        from ...core.errors import Cancelled

        if not isinstance(exc, Cancelled):
            self._stopped_by = f"Stopped after {len(self.results)} files: {exc}"
            self.ctx.report_error("Folder prediction stopped", exc)

    def _model_failed(self, exc: BaseException) -> None:
        self._stopped_by = f"Nothing predicted: the model could not be loaded ({exc})"
        self._finished()

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.quit()
            self._worker = None
            self._cancelled = True
            self.status.setText(f"Cancelled after {len(self.results)} files.")

    def _finished(self) -> None:
        self._show_rows()
        cancelled, self._cancelled = getattr(self, "_cancelled", False), False
        self._worker = None
        self.cancel_button.setEnabled(False)
        ok = sum(r.ok for r in self.results)
        failed = len(self.results) - ok
        if not self.results:
            self.table_stack.setCurrentWidget(self.placeholder)
            self.progress.setFormat("idle")
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        stopped_by, self._stopped_by = self._stopped_by, None
        if stopped_by is not None:     # (the error box says it too; the line keeps it in sight)
            self.status.setText(stopped_by)
        elif not cancelled and not self.results:
            searched = ", ".join(r.name for r in self._roots) or "the files chosen"
            self.status.setText(f"No recordings (WAV, AIFF, FLAC, OGG, MP3) found in {searched}.")
        elif not cancelled:
            self.status.setText(f"{ok} file{'s' * (ok != 1)} predicted ({self.model_name})"
                                + (f"; {failed} could not be read." if failed else "."))
        self._set_exportable(bool(self.results))
        self.folder_done.emit(ok, failed)

    def is_running(self) -> bool:
        return self._worker is not None

    def progress_text(self) -> str:
        """How far a folder's prediction has come, in words ("12 of 300 files done")."""
        total = self.results[-1].total if self.results else None
        return f"{len(self.results)} of {total} files done" if total else "starting"

    def _set_exportable(self, on: bool) -> None:
        """Export CSV… on the panel and in the Predict menu: enabled together."""
        self.export_button.setEnabled(on)
        action = getattr(self, "menu_actions", {}).get("Export Predictions CSV…")
        if action is not None:
            action.setEnabled(on)

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export predictions", "predictions.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> None:
        try:
            write_predictions_csv(path, [self.shown(r) for r in self.results])
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.ctx.report_error("Cannot export the predictions", exc)
        else:
            among = f" (answered among {', '.join(self.only)})" if self.only else ""
            self.ctx.status.emit(f"Wrote {len(self.results)} rows to {path}{among}", 5000)

    def _open_row(self, index) -> None:
        if 0 <= index.row() < self.table.rowCount() and hasattr(self, "window"):
            self.window.open_file(self._result_at(index.row()).path)

    def presentation_changed(self, on: bool) -> None:
        """Presentation mode: the answers table at the size of the plots' text (the class names are
        what the room reads); back to the application's size when it is off."""
        font = self.table.font()
        font.setPixelSize(presentation.big_px() if on else presentation.base_font_px())
        self.table.setFont(font)
        header = self.table.horizontalHeader()
        header.setFont(font)
        # Under the dark theme's application style sheet a header ignores setFont once shown.
        header.setStyleSheet(f"QHeaderView {{ font-size: {font.pixelSize()}px; }}" if on else "")
        self.table.verticalHeader().setDefaultSectionSize(int(font.pixelSize() * 1.6))

    def shutdown(self) -> None:
        self.cancel()
        for view in (self.file_view, self.live_view):
            if view is not None:
                view.shutdown()
