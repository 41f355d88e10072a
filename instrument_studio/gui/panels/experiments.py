"""The Experiments panel: sweep one training setting over values and repeats, on the Training
panel's configuration; curves of every run overlaid, or bar charts of time, energy, test
accuracy and epochs against the swept value, and the results table."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import Cancelled, StudioError
from ...core.events import SweepRunFailed, SweepRunFinished, SweepRunStarted
from ...core.experiments.devices import local_gpus
from ...core.experiments.sweep import param_label, sweep_job
from ...core.experiments.sweep_io import SweepRecord
from ...core.userdirs import user_data_dir
from .. import workers
from ..widgets.message_label import message_label
from ..widgets.sweep_charts import SweepBars, SweepCurves, value_text
from ..widgets.sweep_form import SweepForm
from ..widgets.sweep_table import SweepTable
from .experiments_run import LiveRun, default_evaluate_fn, default_train_fn


def sweeps_dir() -> Path:
    return user_data_dir("sweeps")


class ExperimentsPanel(QWidget):
    title = "Experiments"
    run_finished = Signal(object)     # SweepRun, as each run finishes
    sweep_done = Signal(str)          # status: finished | cancelled | failed
    reopened = Signal(str)            # path of a reopened sweep

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("experiments_panel")
        self.record: SweepRecord | None = None
        self.saved_path: Path | None = None
        self.base = None                  # TrainConfig the sweep starts from
        self.features = None              # FeatureSet it trains on, or None: extracted from `source`
        # What the worker extracts features from when they are not in memory: a dataset folder,
        # "starter", or the Dataset panel's Dataset object (which has no path of its own).
        self.source = None
        self.feature_config = None        # FeatureConfig for `source`
        self.dataset_label = ""
        # Injectable for tests; None: core.learn.training.train and its test-split evaluation.
        self.train_fn = None
        self.evaluate_fn = None
        self.monitor = None
        self._worker = None
        self._cancel = threading.Event()
        self._after_run = threading.Event()
        self._live = LiveRun()
        self._live_version = -1
        self._dirty = False
        self._current = ""
        self._build()
        ctx.clock.subscribe(self._on_frame)
        self._update_buttons()

    # --- construction ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.base_label = message_label()
        self.base_label.setObjectName("base_label")
        self.base_label.setWordWrap(True)
        self.base_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.refresh_button = QPushButton("Use Training panel settings")
        self.refresh_button.setToolTip("Take the dataset, features, model and optimizer set in the Training panel")
        self.refresh_button.clicked.connect(self.refresh_base)
        base_box = QGroupBox("Base configuration")
        bl = QHBoxLayout(base_box)
        bl.addWidget(self.base_label, 1)
        bl.addWidget(self.refresh_button)

        self.form = SweepForm()
        self.form.changed.connect(self._update_buttons)
        self.run_button = QPushButton("Run sweep")
        self.run_button.setObjectName("run_sweep")
        self.run_button.clicked.connect(self.start_sweep)
        self.after_button = QPushButton("Stop after this run")
        self.after_button.setObjectName("stop_after_run")
        self.after_button.clicked.connect(self.stop_after_run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_sweep")
        self.cancel_button.setToolTip("Stop now; runs already finished are kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button = QPushButton("Open sweep…")
        self.open_button.clicked.connect(self.open_dialog)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self.export_dialog("csv"))
        self.json_button = QPushButton("Export JSON…")
        self.json_button.clicked.connect(lambda: self.export_dialog("json"))
        # Where the runs train. Shown only where there is a choice: two local GPUs or more, or a Dask
        # scheduler set in Preferences (its GPUs are counted when the sweep starts). The local GPUs
        # are looked up when the panel is first shown (NVML), not at the app's start.
        self._gpus = None
        self.run_on = QComboBox()
        self.run_on.setObjectName("sweep_run_on")
        self.run_on.setToolTip(
            "Where the runs train. On several GPUs, one run per GPU at a time, each in a process of its own "
            "that measures its own GPU's energy; a run's curves come when it finishes (its epochs are not "
            "drawn live). A Dask cluster's GPUs: its workers started with --resources \"GPU=1\".")
        self.run_on.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("sweep_progress")
        self.progress.setFormat("idle")       # (as the Training panel's: an empty bar reads as a text field)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status_label = message_label("No sweep yet.")
        self.status_label.setObjectName("sweep_status")
        row = QHBoxLayout()
        for w in (self.run_button, self.run_on, self.after_button, self.cancel_button):
            row.addWidget(w)
        row.addWidget(self.progress, 1)
        for w in (self.open_button, self.csv_button, self.json_button):
            row.addWidget(w)
        sweep_box = QGroupBox("Sweep")
        sl = QVBoxLayout(sweep_box)
        sl.addWidget(self.form)
        sl.addLayout(row)
        sl.addWidget(self.status_label)

        self.curves = SweepCurves()
        self.bars = SweepBars()
        self.views = QTabWidget()
        self.views.setObjectName("sweep_views")
        self.views.addTab(self.curves, "Curves")
        self.views.addTab(self.bars, "Bar charts")
        self.table = SweepTable()
        self.form.mode_combo.currentIndexChanged.connect(
            lambda _i: self.views.setCurrentWidget(self.bars if self.form.mode() == "train-to-accuracy" else self.curves))
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.views)
        splitter.addWidget(self.table)
        splitter.setSizes([520, 200])

        layout = QVBoxLayout(self)
        layout.addWidget(base_box)
        layout.addWidget(sweep_box)
        layout.addWidget(splitter, 1)
        self._show_base()

    # --- the base configuration -------------------------------------------------------------------
    def set_base(self, train_config, features=None, *, dataset: str = "", source=None,
                 feature_config=None) -> None:
        """The configuration every run starts from, and what it trains on: a FeatureSet in memory,
        or a dataset `source` whose features (under `feature_config`) the sweep's worker extracts."""
        self.base, self.features, self.dataset_label = train_config, features, dataset
        self.source = source
        self.feature_config = features.config if features is not None else feature_config
        self._show_base()
        self._update_buttons()

    def refresh_base(self) -> None:
        """Take the Training panel's current settings and dataset."""
        training = getattr(self.window(), "panels", {}).get("TrainingPanel")
        if training is None:
            self.ctx.status.emit("There is no Training panel in this window.", 8000)
            return
        try:
            cfg = training.form.config()
            src = training.source()
            fcfg = training.feature_config()
        except (StudioError, IndexError) as exc:
            self.ctx.report_error("Experiments: the Training panel's settings", exc)
            return
        self.set_base(cfg, src.features, dataset=src.label, source=src.source, feature_config=fcfg)
        self.ctx.status.emit("Sweep base taken from the Training panel.", 5000)

    def _show_base(self) -> None:
        if self.base is None:
            self.base_label.setText("No base configuration yet: load a dataset and choose a model in the Training "
                                    "panel, then press <b>Use Training panel settings</b>.")
            return
        parts = self._describe(self.base, self.features, self.dataset_label)
        if self.features is None and self.feature_config is not None:
            parts.append(f"features <b>{self.feature_config.kind}</b> (extracted when the sweep starts)")
        self.base_label.setText(" · ".join(parts))

    @staticmethod
    def _describe(b, features, dataset: str) -> list[str]:
        parts = [f"model <b>{getattr(b, 'model', '?')}</b>", f"optimizer <b>{getattr(b, 'optimizer', '?')}</b>",
                 f"learning rate <b>{value_text(getattr(b, 'learning_rate', '?'))}</b>",
                 f"batch size <b>{getattr(b, 'batch_size', '?')}</b>", f"seed <b>{getattr(b, 'seed', '?')}</b>"]
        if features is not None:
            fs = features
            parts.append(f"features <b>{fs.config.kind}</b> {fs.input_shape}, {fs.n_classes} classes, "
                         f"{fs.n('train')} train / {fs.n('val')} val / {fs.n('test')} test rows")
        if dataset:
            parts.insert(0, f"dataset <b>{dataset}</b>")
        return parts

    # --- running ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    def start_sweep(self) -> None:
        if self.running:
            return
        if not self._has_base():
            self.ctx.report_error("Experiments", StudioError(
                "no base configuration: choose a dataset in the Training panel and press Use Training panel settings"))
            return
        try:
            sweep = self.form.sweep_config(self.base, dataset=self.dataset_label, features=self.feature_config)
        except StudioError as exc:
            self.ctx.report_error("Sweep settings", exc)
            return
        self.record = SweepRecord(config=sweep)
        self.saved_path = None
        self._current = ""
        self._cancel.clear()
        self._after_run.clear()
        self._live.reset()
        self.table.set_param_label(param_label(sweep.param))
        self.table.show_runs([])        # the previous sweep's rows do not belong under the new header
        self.views.setCurrentWidget(self.bars if sweep.mode == "train-to-accuracy" else self.curves)
        self.progress.setFormat("%v of %m runs")
        self.progress.setRange(0, sweep.n_runs)
        self.progress.setValue(0)
        self._set_status(f"Starting {sweep.n_runs} runs…")
        self._dirty = True
        # TensorFlow work goes to the process's one TF thread (core.learn.tfthread explains why); this
        # worker only orders the runs, reads the energy meters and waits.
        train_fn = self.train_fn or default_train_fn()
        evaluate_fn = self.evaluate_fn or default_evaluate_fn()
        self._refresh_run_on()
        devices = self.run_on.currentData()
        self._worker = workers.start_worker(
            sweep_job, sweep, features=self.features, source=self.source, train_fn=train_fn,
            evaluate_fn=evaluate_fn, monitor=self.monitor, should_stop=self._cancel.is_set, stop_after_run=self._after_run.is_set,
            on_event=self._live.push, devices=devices,
            on_yield=self._on_event, on_error=self._on_error, on_finish=self._on_finish)
        self._update_buttons()

    def stop_after_run(self) -> None:
        if self.running:
            self._after_run.set()
            self._set_status(self._current + " — the sweep stops after this run.")

    def cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self._set_status("Cancelling… finished runs are kept.")

    def _on_event(self, event) -> None:
        if isinstance(event, SweepRunStarted):
            self._current = self._run_text(event)
            self._set_status(self._current + "…")
        elif isinstance(event, SweepRunFinished):
            self.record.runs.append(event.run)
            self.table.append_run(event.run)
            self.progress.setValue(len(self.record.runs))
            self._dirty = True
            self.run_finished.emit(event.run)
        elif isinstance(event, SweepRunFailed):
            failed = f"run {event.index + 1} of {event.total} failed on {event.device}: {event.message}"
            self.record.message = "; ".join(filter(None, (self.record.message, failed)))
            self._set_status(failed[0].upper() + failed[1:] + " (the others go on)")

    def _run_text(self, run: SweepRunStarted, *, short: bool = False) -> str:
        value = f"{param_label(self.record.config.param)} {value_text(run.value)}"
        return value if short else f"Run {run.index + 1} of {run.total}: {value}, repeat {run.repeat + 1}"

    def _on_error(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.record.status, self.record.message = "cancelled", str(exc)
        else:
            self.record.status, self.record.message = "failed", str(exc)
            self.ctx.report_error("Sweep", exc)

    def _on_finish(self) -> None:
        self._worker = None
        record = self.record
        record.keep_sweep_order()      # runs on several GPUs finish in any order
        if record.status == "running":
            record.status = "cancelled" if len(record.runs) < record.config.n_runs else "finished"
            if record.status == "cancelled":
                record.message = f"stopped after {len(record.runs)} of {record.config.n_runs} runs"
        self._live.reset()
        self._dirty = True
        done = f"Sweep {record.status}: {len(record.runs)} of {record.config.n_runs} runs"
        if record.message and (record.status != "finished" or len(record.runs) < record.config.n_runs):
            done += f" ({record.message})"
        if record.runs:
            path = sweeps_dir() / (time.strftime("sweep-%Y%m%d-%H%M%S-") + f"{record.config.param}.json")
            self._set_status(done + "; saving…")
            workers.start_worker(record.save, path, on_return=lambda p: self._saved(p, done),
                                 on_error=lambda e: self.ctx.report_error("Saving the sweep", e),
                                 on_finish=lambda: self.sweep_done.emit(record.status))
        else:
            self._set_status(done + ".")
            self.sweep_done.emit(record.status)
        self._update_buttons()

    def _saved(self, path: Path, done: str) -> None:
        self.saved_path = Path(path)
        self._set_status(f"{done}; saved to {path}")

    # --- files ------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        folder = sweeps_dir()
        path, _ = QFileDialog.getOpenFileName(self, "Open Sweep", str(folder if folder.is_dir() else Path.home()),
                                              "Sweeps (*.json);;All files (*)")
        if path:
            self.open_sweep(path)

    def open_sweep(self, path: str | Path) -> None:
        if self.running:
            self.ctx.status.emit("A sweep is running: cancel it before opening another.", 8000)
            return
        workers.start_worker(SweepRecord.load, path, on_return=lambda rec: self._show_record(rec, path),
                             on_error=lambda e: self.ctx.report_error("Opening a sweep", e))

    def _show_record(self, record: SweepRecord, path) -> None:
        self.record = record
        self.saved_path = Path(path)
        self.form.set_from(record.config)
        self.table.set_param_label(param_label(record.config.param))
        self.table.show_runs(record.runs)
        self.progress.setFormat("%v of %m runs")
        self.progress.setRange(0, record.config.n_runs)
        self.progress.setValue(len(record.runs))
        self.views.setCurrentWidget(self.bars if record.config.mode == "train-to-accuracy" else self.curves)
        self._dirty = True
        if self.base is None:  # show what the reopened runs were trained with
            self.base_label.setText("Reopened sweep: " + " · ".join(
                self._describe(record.config.base, None, record.config.dataset)))
        self._set_status(f"Opened {Path(path).name}: {record.status}, {len(record.runs)} of "
                         f"{record.config.n_runs} runs (dataset {record.config.dataset or 'not recorded'})")
        self._update_buttons()
        self.reopened.emit(str(path))

    def export_dialog(self, kind: str) -> None:
        if not self.record or not self.record.runs:
            return
        name = f"sweep-{self.record.config.param}.{kind}"
        path, _ = QFileDialog.getSaveFileName(self, f"Export {kind.upper()}", str(Path.home() / name),
                                              f"{kind.upper()} (*.{kind})")
        if path:
            self.export(path, kind)

    def export(self, path: str | Path, kind: str) -> None:
        fn = self.record.export_csv if kind == "csv" else self.record.export_json
        workers.start_worker(fn, path, on_return=lambda _t: self.ctx.status.emit(f"Exported {path}", 8000),
                             on_error=lambda e: self.ctx.report_error("Export", e))

    # --- drawing (frame clock) ---------------------------------------------------------------------
    def _on_frame(self, _now: float) -> None:
        if not self.isVisible() and not self._dirty:
            return
        if self._dirty and self.record is not None:
            self._dirty = False
            cfg = self.record.config
            label = param_label(cfg.param)
            self.curves.show_runs(self.record.runs, cfg.values, param_label=label)
            self.bars.show_runs(self.record.runs, cfg.values, param_label=label,
                                to_accuracy=cfg.mode == "train-to-accuracy")
            self._live_version = -1
        version, history, progress, run = self._live.snapshot()
        if version != self._live_version:
            self._live_version = version
            self.curves.show_live(history, self._run_text(run, short=True) if run is not None else "")
            if self.running and run is not None and history.get("loss"):
                self._set_status(f"{self._run_text(run)} — epoch {len(history['loss'])}")
            elif self.running and progress is not None and not self._current:
                done = f"{progress.done:g}/{progress.total:g} " if progress.total else ""
                self._set_status(f"Preparing: {progress.stage} {done}{progress.message}".rstrip())

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)

    @property
    def gpus(self) -> list:
        if self._gpus is None:
            self._gpus = local_gpus()
        return self._gpus

    def _refresh_run_on(self) -> None:
        """The places the runs can train, as the machine and Preferences stand now."""
        choices = [("One run after another", None)]
        if len(self.gpus) >= 2:
            choices.append((f"On all {len(self.gpus)} GPUs at once", self.gpus))
        scheduler = self.ctx.settings.get("compute/scheduler", "") or ""
        if scheduler:
            choices.append((f"On the GPUs of the Dask cluster at {scheduler}", f"dask:{scheduler}"))
        labels = [label for label, _ in choices]
        if labels != [self.run_on.itemText(i) for i in range(self.run_on.count())]:
            current = self.run_on.currentText()
            self.run_on.clear()
            for label, devices in choices:
                self.run_on.addItem(label, devices)
            if current in labels:
                self.run_on.setCurrentIndex(labels.index(current))
        self.run_on.setVisible(len(choices) > 1)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._refresh_run_on()      # Preferences may have set or cleared a Dask scheduler
        super().showEvent(event)

    def _update_buttons(self) -> None:
        running = self.running
        self.run_button.setEnabled(not running and self._has_base())
        if running:
            self.run_button.setToolTip("A sweep is running")
        elif not self._has_base():
            self.run_button.setToolTip("No dataset to train on yet: choose one in the Training panel, then press "
                                       "Use Training panel settings")
        else:
            self.run_button.setToolTip("Train one run per value and repeat")
        self.after_button.setEnabled(running)
        self.run_on.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running)
        self.refresh_button.setEnabled(not running)
        has_runs = bool(self.record and self.record.runs)
        self.csv_button.setEnabled(has_runs)
        self.json_button.setEnabled(has_runs)

    def _has_base(self) -> bool:
        # `source` may be a Dataset object, whose truth is its clip count: ask whether it is there.
        return self.base is not None and (self.features is not None or
                                          (self.source is not None and self.source != ""))

    def shutdown(self) -> None:
        self._cancel.set()
        self.ctx.clock.unsubscribe(self._on_frame)
