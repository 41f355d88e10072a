"""The Training panel: choose a dataset, features, model and training settings; Train and watch the
curves live; Stop; keep every run in a run list, overlay runs, save a run's model bundle.

The run happens off the GUI thread, on the process's one TensorFlow thread (core.learn.tfthread; TensorFlow
is imported there, never at start-up). It reports
through core.events appended to a deque; the frame clock drains the deque and draws. Finished runs
are announced by `run_finished(SessionRun)` for the evaluation and experiment panels.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.audio.info import format_duration
from ...core.config import FeatureConfig
from ...core.errors import Cancelled, ConfigError, StudioError
from ...core.events import BatchEnd, EpochEnd, Progress, TrainStarted
from ...core.learn.runs import SessionRun, release_superseded, save_run
from ...core.learn.tfthread import run_in_tf_thread
from ...core.learn.training import TrainConfig
from .. import workers
from ..widgets.curves import TrainingCurves
from ..widgets.dataset_picker import DatasetPicker, DatasetSource
from ..widgets.message_label import message_label
from ..widgets.model_summary import ModelSummaryView
from ..widgets.run_names import run_labels, run_settings
from ..widgets.run_table import RunTable
from ..widgets.train_form import TrainForm
from .training_extras import TrainingExtras, train_and_evaluate
from .training_progress import header_text, status_text


class TrainingPanel(QWidget):
    title = "Training"
    run_started = Signal(object)       # TrainStarted
    run_finished = Signal(object)      # SessionRun, also appended to `runs`
    run_released = Signal(object)      # SessionRun whose model was dropped (superseded by newer runs)
    run_failed = Signal(str)           # message (stopped before it began, or an error)
    bundle_saved = Signal(str)         # path

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("training_panel")
        self.runs: list[SessionRun] = []
        self._events: deque = deque()
        self.extras = TrainingExtras(self)       # pause / step, the run list on disk, report and export
        self._control = self.extras.control
        self._worker = None
        self._live_id: int | None = None
        self._started: TrainStarted | None = None
        self._last_batch: BatchEnd | None = None
        self._last_epoch: EpochEnd | None = None
        self._t_start = 0.0
        self._last_labels = 0.0
        self._features_memo: tuple | None = None    # (DatasetSource, FeatureConfig, FeatureSet)
        self._closed = False
        self._run_settings: dict[int, dict] = {}    # what each run's legend name is made from
        self._build()
        self._restore_runs()
        ctx.dataset_changed.connect(self.use_panel_dataset)
        if getattr(ctx, "dataset", None) is not None:
            self.use_panel_dataset(ctx.dataset)
        self._restore_config()
        self.form.changed.connect(self.summary_view.schedule)
        ctx.clock.subscribe(self._on_frame)

    # --- construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.picker = DatasetPicker()
        self.picker.changed.connect(self._source_picked)
        self.source_box, self.open_button = self.picker.box, self.picker.open_button
        self.form = TrainForm()
        self.form.setObjectName("train_form")
        self.summary_view = ModelSummaryView(self._summary_arguments)
        self.summary_ready = self.summary_view.ready

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(self.form)
        lv.addWidget(QLabel("Model summary"))
        lv.addWidget(self.summary_view, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        # Up and down only: the column is as wide as its widest row needs (a fixed 400 px was
        # narrower than the form, which scrolled sideways).
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(left.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                               + 2 * scroll.frameWidth())
        self.settings_scroll = scroll

        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("train_button")
        self.train_button.setDefault(True)
        self.train_button.clicked.connect(self.start_training)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop_train_button")
        self.stop_button.setToolTip("end the run after the current batch, keeping the best weights so far")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_training)
        self.save_button = QPushButton("Save model…")
        self.save_button.setObjectName("save_bundle_button")
        self.save_button.setToolTip("save the selected run (or the latest) as a model bundle")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._save_dialog)
        self.progress = QProgressBar()
        self.progress.setObjectName("train_progress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.status_label = message_label("Choose a dataset and a model, then press Train.")
        self.status_label.setObjectName("train_status")
        self.status_label.setWordWrap(True)
        self.device_label = QLabel("")
        self.device_label.setObjectName("device_label")

        top = QHBoxLayout()
        top.addWidget(self.picker, 1)
        top.addSpacing(16)
        for w in (self.train_button, self.extras.pause_button, self.extras.step_button, self.stop_button,
                  self.save_button, self.extras.tensorboard_box):
            top.addWidget(w)
        self.curves = TrainingCurves()
        self.table = RunTable()
        self.table.shown_changed.connect(self._show_runs)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        right = QSplitter(Qt.Vertical)
        progress_box = QWidget()
        pv = QVBoxLayout(progress_box)
        pv.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.device_label)
        pv.addLayout(row)
        pv.addWidget(self.status_label)
        pv.addWidget(self.curves, 1)
        right.addWidget(progress_box)
        right.addWidget(self.table)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        body = QSplitter(Qt.Horizontal)
        body.addWidget(scroll)
        body.addWidget(right)
        body.setStretchFactor(1, 1)
        body.setSizes([420, 1000])
        self.body = body
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(body, 1)

    # --- datasets --------------------------------------------------------------------------------
    def use_feature_set(self, features, name: str) -> None:
        """Train on a FeatureSet already in memory (e.g. features computed elsewhere, or a test's)."""
        self.picker.use_feature_set(features, name)

    def use_dataset_folder(self, path: str, name: str | None = None) -> None:
        self.picker.use_folder(path, name)

    def use_panel_dataset(self, dataset) -> None:
        """Follow the Dataset panel's dataset (not while a run uses the current one)."""
        if dataset is not None and not self.is_running():
            self._features_memo = None
            self.picker.use_panel_dataset(dataset)

    def source(self) -> DatasetSource:
        return self.picker.current()

    def _source_picked(self, src: DatasetSource) -> None:
        if src.features is not None:
            self.form.set_feature_kind(src.features.config.kind, fixed=True)
            self.form.set_dataset_validation(src.features.n("val"))
        else:
            self.form.set_feature_kind(self.form.feature_kind(), fixed=False)
            self.form.set_dataset_validation(None)
        self.summary_view.schedule()

    def feature_config(self) -> FeatureConfig:
        src = self.source()
        if src.features is not None:
            return src.features.config
        return FeatureConfig(kind=self.form.feature_kind())

    # --- running ---------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._worker is not None

    def start_training(self) -> bool:
        """Start a run with the current settings; False (and a status line) if one is running."""
        if self.is_running():
            self._status("A run is in progress: stop it first, or wait for it to finish.")
            return False
        try:
            cfg = self.form.config()
        except ConfigError as exc:
            self._status(f"Cannot train: {exc}")
            return False
        self.ctx.settings.set("training/config", cfg.to_json())
        src, fcfg = self.source(), self.feature_config()
        memo = self._features_memo
        cached = src.features
        if cached is None and memo is not None and memo[0] is src and memo[1] == fcfg:
            cached = memo[2]
        run_id = self.extras.store.next_id(self.runs)
        self.extras.reset()
        self._events.clear()
        self._live_id, self._started, self._last_batch, self._last_epoch = run_id, None, None, None
        self._t_start = time.monotonic()
        self.table.set_shown([])
        self._run_settings[run_id] = run_settings(cfg, fcfg.kind, src.label)
        self.curves.add_run(run_id, f"run {run_id}", epochs=int(cfg.epochs))
        self._show_runs([run_id])
        self._batch_x: list[float] = []
        self._batch_y: list[float] = []
        self.progress.setRange(0, 0)
        self.progress.setFormat("preparing…")
        self._status(f"Run {run_id}: preparing {src.label} ({fcfg.kind})…")
        self._worker = workers.start_worker(
            train_and_evaluate, control=self._control, tensorboard_dir=self.extras.tensorboard_dir(run_id),
            run_id=run_id, source=src.source, label=src.label, features=cached, feature_config=fcfg, config=cfg,
            emit=self._events.append, should_stop=self._control.should_stop,
            run_tf=run_in_tf_thread, on_return=self._finished, on_error=self._failed, on_finish=self._worker_done)
        self._update_buttons()
        return True

    def stop_training(self) -> None:
        if self.is_running():
            self._control.stop()
            self.stop_button.setEnabled(False)
            self.extras.update_buttons(True)
            self._status("Stopping after the current batch…")

    def _finished(self, run: SessionRun) -> None:
        if self._closed:
            return
        self._drain()
        if self._live_id is not None:
            self.curves.set_history(run.id, run.history)
            self.curves.refresh(force=True)
        if run.data is not None and self.source().features is None:
            self._features_memo = (self.source(), run.feature_config, run.data)
        self.runs.append(run)
        self.extras.keep(run)
        self.table.add_run(run, self.curves.colour(run.id), shown=True)
        self.table.selectRow(self.table.rowCount() - 1)
        m = run.metrics
        test = f", test accuracy {100 * m['test_accuracy']:.1f} %" if "test_accuracy" in m else ""
        best = f", best epoch {run.best_epoch}" if run.best_epoch else ""
        self._status(f"Run {run.id} {run.stop_reason} after {run.epochs_run} epoch(s) in "
                     f"{format_duration(run.duration)} on {run.device}{best}{test}.")
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(f"run {run.id}: {run.stop_reason}")
        self.run_finished.emit(run)
        for old in release_superseded(self.runs):   # memory no longer grows run after run
            self.run_released.emit(old)

    def _failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._events.clear()
        if self._live_id is not None:
            self.curves.remove_run(self._live_id)
            self._show_runs(self.table.shown_ids())
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if isinstance(exc, Cancelled):
            message = "Training stopped before its first epoch finished: nothing to keep."
            self.progress.setFormat("stopped")
        else:
            message = f"Training failed: {exc}" if isinstance(exc, StudioError) else \
                f"Training failed ({type(exc).__name__}: {exc})"
            self.progress.setFormat("failed")
            self.ctx.report_error("Training failed", exc)
        self._status(message)
        self.run_failed.emit(message)

    def _worker_done(self) -> None:
        self._worker = None
        if self._closed:
            return
        self._live_id = None
        self._update_buttons()

    def _show_runs(self, keys) -> None:
        """Overlay these runs (and the live one), named in the legends by what differs between them."""
        keys = list(keys)
        if self._live_id is not None and self._live_id not in keys and self._live_id in self.curves.runs():
            keys.append(self._live_id)
        self.curves.set_visible_runs(keys)
        for run in self.runs:   # runs added without start_training (e.g. restored ones)
            if run.id not in self._run_settings:
                self._run_settings[run.id] = run_settings(run.config, run.feature_config.kind, run.dataset)
        self.curves.set_run_labels(run_labels({k: self._run_settings[k] for k in keys if k in self._run_settings}))

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running and not self._control.should_stop())
        self.extras.update_buttons(running)
        self.picker.setEnabled(not running)
        self.form.set_running(running)
        self.save_button.setEnabled(self._run_to_save() is not None and not running)

    # --- live drawing (frame clock) ----------------------------------------------------------------
    def _on_frame(self, now: float) -> None:
        if self._live_id is not None:
            self._drain()
        self.curves.refresh(now)
        if self._live_id is None:
            return
        self.extras.sync()
        paused = self._control.paused
        # An epoch's end (which zeroes _last_labels) reaches the header at once, paused or not: the
        # header said "epoch 3 of 20 done" beside plots that ended with epoch 4 after a Step.
        if self._last_labels == 0.0 or (now - self._last_labels >= 0.5 and not paused):
            self._last_labels = now
            self._update_progress(status=not paused)   # paused: the status line says how to go on

    def _drain(self) -> None:
        events, xs, ys = self._events, self._batch_x, self._batch_y
        key = self._live_id
        while events:
            ev = events.popleft()
            if isinstance(ev, BatchEnd):
                if ev.block_x:  # every batch since the previous event (events come at the frame rate)
                    xs.extend(ev.block_x)
                    ys.extend(ev.block_loss)
                else:
                    xs.append(ev.epoch_float)
                    ys.append(ev.loss)
                self._last_batch = ev
            elif isinstance(ev, EpochEnd):
                self.curves.add_epoch(key, ev.epoch, loss=ev.loss, accuracy=ev.accuracy, val_loss=ev.val_loss,
                                      val_accuracy=ev.val_accuracy)
                self._last_epoch = ev
                self._last_labels = 0.0      # the header catches up with the plots at once
            elif isinstance(ev, TrainStarted):
                self._started = ev
                self.progress.setRange(0, ev.epochs * ev.batches_per_epoch)
                self.device_label.setText(f"Device: {ev.device}")
                self.device_label.setToolTip(
                    f"Keras backend: {ev.backend or 'tensorflow'}; reproducible (deterministic kernels): "
                    f"{'on' if ev.reproducible else 'off'}")
                self.run_started.emit(ev)
            elif isinstance(ev, Progress):
                if ev.fraction is not None:
                    self.progress.setRange(0, 1000)
                    self.progress.setValue(int(1000 * ev.fraction))
                self.progress.setFormat(ev.message or ev.stage)
        if xs and key is not None:
            self.curves.add_batches(key, np.asarray(xs), np.asarray(ys))
            xs.clear()
            ys.clear()

    def _update_progress(self, *, status: bool = True) -> None:
        s, b = self._started, self._last_batch
        if s is None or b is None:
            return
        self.progress.setValue(b.step + 1)
        self.progress.setFormat(header_text(s, b, self._last_epoch))
        if status:
            self._status(status_text(self._live_id, s, b, self._last_epoch))

    def _status(self, text: str) -> None:
        self.status_label.setText(text)

    # --- model summary -----------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.summary_view.activate()   # TensorFlow only once someone looks at this panel

    def _summary_arguments(self) -> dict:
        src = self.source()
        if src.features is not None:
            shape, n_classes = src.features.input_shape, src.features.n_classes
        else:   # features not computed yet: the shape follows from the feature config
            shape, n_classes = None, len(src.dataset.classes) if src.dataset is not None else 10
        return {"name": self.form.model(), "feature_config": self.feature_config(), "params": self.form.params.values(),
                "input_shape": shape, "n_classes": max(2, n_classes)}

    # --- the kept run list, bundles -------------------------------------------------------------------
    def _restore_runs(self) -> None:
        self.extras.restore_runs()

    def install_menus(self, window) -> None:
        self.extras.install_menus(window)

    def _selected_or_latest(self) -> SessionRun | None:
        rid = self.table.selected_run_id()
        return next((r for r in self.runs if r.id == rid), None) or (self.runs[-1] if self.runs else None)

    def _run_to_save(self) -> SessionRun | None:
        rid = self.table.selected_run_id()
        run = next((r for r in self.runs if r.id == rid), None) or (self.runs[-1] if self.runs else None)
        return run if run is not None and run.result is not None else None

    def _save_dialog(self) -> None:
        run = self._run_to_save()
        if run is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save the model bundle (a folder)",
                                              f"{run.config.model}-run{run.id}", "Model bundle (folder)")
        if path:
            self.save_run_bundle(run, path)

    def save_run_bundle(self, run: SessionRun, path: str):
        self._status(f"Saving run {run.id} to {path}…")
        return workers.start_worker(run_in_tf_thread, save_run, run, path,
                                    on_return=lambda saved: self._bundle_saved(saved, run),
                                    on_error=lambda exc: self.ctx.report_error("Cannot save the model", exc))

    def _bundle_saved(self, path: str, run: SessionRun | None = None) -> None:
        if self._closed:
            return
        if run is not None:
            self.extras.keep(run)      # the kept run list remembers where the model is
        self._status(f"Saved the model bundle {path}")
        self.bundle_saved.emit(path)

    # --- settings, theme, shutdown -----------------------------------------------------------------
    def _restore_config(self) -> None:
        text = self.ctx.settings.get("training/config", "")
        if text:
            try:
                self.form.set_config(TrainConfig.from_json(str(text)))
            except StudioError:
                pass   # an old or damaged saved config: keep the defaults

    def theme_changed(self) -> None:
        self.curves.theme_changed()

    def presentation_changed(self, on: bool) -> None:
        """Presentation mode: the settings column folds away (drag it back at the left edge), so the
        big curves get the panel's whole width; back to the usual split after."""
        self.body.setSizes([0, 1000] if on else [420, 1000])

    def shutdown(self) -> None:
        # A run still going ends at its next batch; its late results find a closed panel and are dropped.
        self._closed = True
        self._control.stop()
        self.ctx.clock.unsubscribe(self._on_frame)
