"""The Training panel's classroom tools, kept apart from its plotting: Pause / Step one epoch
buttons over a core TrainingControl, the run list kept on disk (core.learn.run_store), and the
File menu's Export report… and Export model… for the selected run (or the latest).

All file work (reports, exports, run files) runs in workers; Keras work on the TensorFlow thread.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QFileDialog, QInputDialog, QPushButton

from ...core.errors import StudioError
from ...core.learn.control import TrainingControl
from ...core.learn.run_store import RunStore
from ...core.learn.runs import training_run
from ...core.learn.tfthread import run_in_tf_thread
from ...core.userdirs import user_data_dir
from .. import workers

PAUSE_KEY = "Ctrl+P"
STEP_KEY = "Ctrl+E"


def train_and_evaluate(*, run_tf, **kw):
    """training_run, then the test-split evaluation that the run report and the kept run list show."""
    from ...core.evaluation.run_report import attach_evaluation

    run = training_run(run_tf=run_tf, **kw)
    if run.result is not None:
        run_tf(attach_evaluation, run)
    return run


def _write_report(run, path: str) -> str:
    from ...core.evaluation.document import write_document
    from ...core.evaluation.run_report import run_document, run_input

    return str(write_document(run_document(run_input(run)), path))


def _export(run, fmt: str, out: str) -> str:
    """On the TensorFlow thread: the run's saved bundle, or a temporary one of its model."""
    from ...core.learn.export import export_bundle

    if run.bundle_path and Path(run.bundle_path, "bundle.json").is_file():
        return str(export_bundle(run.bundle_path, fmt=fmt, out=out))
    if run.result is None:
        raise StudioError("this run's model is neither saved nor in memory: train it again to export it")
    with tempfile.TemporaryDirectory(prefix="instrument-studio-export-") as tmp:
        bundle = run.save_bundle(Path(tmp) / "bundle")
        run.bundle_path = None      # the temporary bundle is gone after this: not where the user saved it
        return str(export_bundle(bundle, fmt=fmt, out=out))


class TrainingExtras(QObject):
    report_written = Signal(str)     # path
    model_exported = Signal(str)     # path of the exported model

    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.control = TrainingControl()
        self.store = RunStore(getattr(panel.ctx, "runs_dir", None))
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pause_train_button")
        self.pause_button.setCheckable(True)
        self.pause_button.setShortcut(QKeySequence(PAUSE_KEY))
        self.pause_button.setToolTip(f"hold the run after the current batch; press again to resume ({PAUSE_KEY})")
        self.pause_button.toggled.connect(self._pause_toggled)
        self.step_button = QPushButton("Step epoch")
        self.step_button.setObjectName("step_train_button")
        self.step_button.setShortcut(QKeySequence(STEP_KEY))
        self.step_button.setToolTip(f"train to the end of this epoch (or the next one), then pause ({STEP_KEY})")
        self.step_button.clicked.connect(self.step_epoch)
        for button in (self.pause_button, self.step_button):
            button.setEnabled(False)       # until a run starts
        self.tensorboard_box = QCheckBox("TensorBoard logs")
        self.tensorboard_box.setObjectName("tensorboard_box")
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            self.tensorboard_box.setEnabled(False)
            self.tensorboard_box.setToolTip("needs the tensorboard package: pip install 'instrument-studio[tensorboard]'")
        else:
            self.tensorboard_box.setToolTip(f"also write each run's TensorBoard logs into {self.tensorboard_root()}"
                                            "/run-N (tensorboard --logdir that folder)")
        self.report_action = self.export_action = None
        self.forget_action = QAction("Forget this run", panel)
        self.forget_action.setObjectName("forget_run_action")
        self.forget_action.setShortcut(QKeySequence.Delete)
        self.forget_action.setShortcutContext(Qt.WidgetShortcut)
        self.forget_action.setToolTip("remove the selected run from the run list (a saved model bundle stays)")
        self.forget_action.triggered.connect(self.forget_selected)

    def tensorboard_root(self) -> Path:
        return user_data_dir("tensorboard")

    def tensorboard_dir(self, run_id: int) -> str | None:
        """Where this run's TensorBoard logs go, when the box is ticked."""
        if not self.tensorboard_box.isChecked():
            return None
        return str(self.tensorboard_root() / f"run-{run_id}")

    # --- pause / step ----------------------------------------------------------------------------
    def reset(self) -> None:
        self.control.reset()
        self._show_paused(False)

    def _pause_toggled(self, on: bool) -> None:
        if not self.panel.is_running():
            return
        if on:
            self.control.pause()
            self.panel._status("Paused after the current batch: Resume or Step epoch to go on, Stop to end.")
        else:
            self.control.resume()
            self.panel._status("Resumed.")
        self._show_paused(on)

    def step_epoch(self) -> None:
        if self.panel.is_running() and not self.control.should_stop():
            self.control.step_epoch()
            self._show_paused(False)
            self.panel._status("Training to the end of this epoch, then pausing…")

    def sync(self) -> None:
        """Each frame of a run: a step that has ended (the training thread paused itself after the
        epoch) shows as paused."""
        if self.control.paused and not self.pause_button.isChecked() and not self.control.should_stop():
            self._show_paused(True)
            self.panel._status("Paused after the epoch: Step epoch again, Resume, or Stop.")

    def _show_paused(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if paused else "Pause")

    def update_buttons(self, running: bool) -> None:
        live = running and not self.control.should_stop()
        self.pause_button.setEnabled(live)
        self.step_button.setEnabled(live)
        if not running:
            self._show_paused(False)
        has_run = self.panel._selected_or_latest() is not None
        for action in (self.report_action, self.export_action):
            if action is not None:
                action.setEnabled(has_run)

    # --- the run list on disk ----------------------------------------------------------------------
    def load_runs(self) -> list:
        try:
            runs = self.store.load_all()
        except OSError as exc:
            self.panel._status(f"Cannot read the saved runs in {self.store.folder}: {exc.strerror or exc}")
            return []
        if self.store.problems:
            self.panel._status(f"Skipped {len(self.store.problems)} damaged run file(s): {self.store.problems[0]}")
        return runs

    def restore_runs(self) -> None:
        """The runs of earlier sessions (no models in memory), listed with their curves hidden."""
        panel = self.panel
        panel.table.setContextMenuPolicy(Qt.ActionsContextMenu)
        panel.table.addAction(self.forget_action)
        for run in self.load_runs():
            panel.runs.append(run)
            panel.curves.add_run(run.id, f"run {run.id}")
            panel.curves.set_history(run.id, run.history)
            panel.table.add_run(run, panel.curves.colour(run.id), shown=False)
        panel.curves.set_visible_runs([])

    def forget_selected(self) -> None:
        panel = self.panel
        rid = panel.table.selected_run_id()
        run = next((r for r in panel.runs if r.id == rid), None)
        if run is None:
            return
        panel.runs.remove(run)
        panel.table.remove_run(run.id)
        panel.curves.remove_run(run.id)
        panel.curves.set_visible_runs(panel.table.shown_ids())
        if run.holds_model:
            run.release_model()
            panel.run_released.emit(run)
        self.forget(run)
        panel._status(f"Forgot run {run.id}" + (f"; its model stays in {run.bundle_path}" if run.bundle_path else "."))
        self.update_buttons(panel.is_running())

    def keep(self, run) -> None:
        """Write a run's file in a worker (a failure is reported, never fatal)."""
        workers.start_worker(self.store.save, run,
                             on_error=lambda exc: self.panel.ctx.report_error("Cannot keep the run list", exc))

    def forget(self, run) -> None:
        workers.start_worker(self.store.remove, run.id,
                             on_error=lambda exc: self.panel.ctx.report_error("Cannot forget the run", exc))

    # --- File menu ---------------------------------------------------------------------------------
    def install_menus(self, window) -> None:
        menu = window.file_menu
        before = getattr(window, "prefs_action", None)
        self.report_action = QAction("Export &Report…", window, shortcut=QKeySequence("Ctrl+Shift+R"))
        self.report_action.setObjectName("export_report_action")
        self.report_action.triggered.connect(self.report_dialog)
        self.export_action = QAction("Export &Model…", window, shortcut=QKeySequence("Ctrl+Shift+E"))
        self.export_action.setObjectName("export_model_action")
        self.export_action.triggered.connect(self.export_dialog)
        for action in (self.report_action, self.export_action):
            if before is not None:
                menu.insertAction(before, action)
            else:
                menu.addAction(action)
        if before is not None:
            menu.insertSeparator(before)
        self.update_buttons(self.panel.is_running())

    def report_dialog(self) -> None:
        run = self.panel._selected_or_latest()
        if run is None:
            return
        path, _ = QFileDialog.getSaveFileName(self.panel, "Export the run report", f"run{run.id}-report.html",
                                              "Web page (*.html);;PDF (*.pdf)")
        if path:
            if Path(path).suffix.lower() not in (".html", ".htm", ".pdf"):
                path += ".html"
            self.write_report(run, path)

    def write_report(self, run, path: str):
        self.panel._status(f"Writing the report of run {run.id} to {path}…")
        return workers.start_worker(_write_report, run, path, on_return=self._report_done,
                                    on_error=lambda exc: self.panel.ctx.report_error("Cannot write the report", exc))

    def _report_done(self, path: str) -> None:
        self.panel._status(f"Wrote the report {path}")
        self.report_written.emit(path)

    def export_dialog(self) -> None:
        from ...core.learn.export import FORMATS

        run = self.panel._selected_or_latest()
        if run is None:
            return
        names = {"savedmodel": "TensorFlow SavedModel", "tflite": "TensorFlow Lite (phones)",
                 "onnx": "ONNX (web pages, other runtimes)"}
        choice, ok = QInputDialog.getItem(self.panel, "Export the model", "Format:", [names[f] for f in FORMATS],
                                          1, False)
        if not ok:
            return
        fmt = FORMATS[[names[f] for f in FORMATS].index(choice)]
        path, _ = QFileDialog.getSaveFileName(self.panel, "Export the model into a folder",
                                              f"{run.config.model}-run{run.id}-{fmt}", "Folder")
        if path:
            self.export_model(run, fmt, path)

    def export_model(self, run, fmt: str, out: str):
        self.panel._status(f"Exporting run {run.id} as {fmt} to {out}…")
        return workers.start_worker(run_in_tf_thread, _export, run, fmt, out, on_return=self._export_done,
                                    on_error=lambda exc: self.panel.ctx.report_error("Cannot export the model", exc))

    def _export_done(self, path: str) -> None:
        self.panel._status(f"Exported {path} (README.md beside it says what input it expects)")
        self.model_exported.emit(path)
