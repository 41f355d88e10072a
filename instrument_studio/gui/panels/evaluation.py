"""The Evaluation panel: how good a model is, class by class, and which clips it gets wrong.

Sources: a run the Training panel finished (`add_run`), or a saved bundle plus a data set. The
model runs once, in a worker; switching aggregation or counts/normalised redraws from the stored
probabilities.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.audio.playback import output_unavailable_reason
from ...core.evaluation.report import (
    AGGREGATION_NAMES,
    AGGREGATIONS,
    ComparisonRow,
    ModelEvaluation,
    write_comparison_csv,
)
from ...core.events import Progress
from .. import workers
from ..widgets.clip_list import ClipList
from ..widgets.confusion_view import ConfusionView
from ..widgets.message_label import empty_state, message_label
from ..widgets.report_tabs import ReportTabs
from .evaluation_jobs import ModelToEvaluate, evaluate_bundle_job, evaluate_run_job

BUNDLE_SOURCE = "Saved model + data set"


class EvaluationPanel(QWidget):
    title = "Evaluation"
    evaluated = Signal(str)          # source name, when a report is on screen
    failed = Signal(str)

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("evaluation_panel")
        self.runs: dict[str, ModelToEvaluate] = {}
        self.bundle_path = ctx.settings.get("evaluation/bundle", "") or ""
        self.dataset_path = ctx.settings.get("evaluation/dataset", "") or ""
        self.evaluation: ModelEvaluation | None = None
        self.report = None
        self.model = None
        self.source_name = ""
        self.summaries: dict[str, ComparisonRow] = {}
        self._worker = None
        self._clip_job = 0
        self._play_block: str | None = "checking the audio output…"
        self._output_checked = False
        # Its own player, as the Dataset panel's clip preview has: the Audio panel's file stays
        # loaded in ctx.player while clips are auditioned here.
        self.player = ctx.make_player()
        self._clip_audio = None
        self._build()
        ctx.clock.subscribe(self._on_frame)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # Asking PortAudio about outputs waits until the panel is first seen, not at start-up.
        if not self._output_checked:
            self._output_checked = True
            workers.start_worker(output_unavailable_reason, on_return=self._set_play_block)
        super().showEvent(event)

    # --- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("eval_source")
        self.source_combo.addItem(BUNDLE_SOURCE)
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        self.bundle_button = QPushButton("Model…")
        self.bundle_button.setToolTip("Choose a saved model bundle folder")
        self.bundle_button.clicked.connect(self._choose_bundle)
        self.dataset_button = QPushButton("Data set…")
        self.dataset_button.setToolTip("Choose a dataset project, or a folder of audio with one folder per class")
        self.dataset_button.clicked.connect(self._choose_dataset)
        self.paths_label = message_label()
        self.paths_label.setObjectName("eval_paths")
        self.split_combo = QComboBox()
        self.split_combo.setObjectName("eval_split")
        self.split_combo.addItems(["test", "val", "train"])
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setObjectName("evaluate_button")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        top = QHBoxLayout()
        for w in (QLabel("Evaluate:"), self.source_combo, self.bundle_button, self.dataset_button,
                  QLabel("split"), self.split_combo, self.evaluate_button, self.cancel_button):
            top.addWidget(w)
        top.addWidget(self.paths_label, 1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.summary = message_label("Evaluate a finished training run, or a saved model on a data set.")
        self.summary.setObjectName("eval_summary")
        self.summary.setTextFormat(Qt.RichText)
        self.aggregation_label = QLabel("clip decision:")
        self.aggregation_combo = QComboBox()
        self.aggregation_combo.setObjectName("aggregation")
        for key in AGGREGATIONS:
            self.aggregation_combo.addItem(AGGREGATION_NAMES[key], key)
        self.aggregation_combo.setToolTip("How a patch model decides for a whole clip from its patches "
                                          "(Han et al. 2017: mean or max of probabilities; or a majority vote)")
        self.aggregation_combo.currentIndexChanged.connect(lambda _: self._show())
        second = QHBoxLayout()
        second.addWidget(self.summary, 1)
        second.addWidget(self.aggregation_label)
        second.addWidget(self.aggregation_combo)

        self.confusion = ConfusionView()
        self.confusion.cell_clicked.connect(self._cell_clicked)
        self.clips = ClipList()
        self.clips.clip_selected.connect(self._load_clip)
        self.clips.play_requested.connect(self._play_clip)
        self.clips.spectrogram.seek_requested.connect(
            lambda seconds: self._clip_audio is not None and self._clip_audio[2] and self.player.seek(seconds))
        upper = QSplitter(Qt.Horizontal)
        upper.addWidget(self.confusion)
        upper.addWidget(self.clips)
        upper.setSizes([700, 420])
        self._upper = upper

        self.tabs = ReportTabs()
        self.accuracy_chart, self.metrics_table = self.tabs.accuracy_chart, self.tabs.metrics_table
        self.threshold_table, self.threshold_note = self.tabs.threshold_table, self.tabs.threshold_note
        self.runs_table, self.export_button = self.tabs.runs_table, self.tabs.export_button
        self.export_button.clicked.connect(self._export_runs)

        body = QSplitter(Qt.Vertical)
        body.addWidget(upper)
        body.addWidget(self.tabs)
        body.setSizes([560, 280])
        self._body = body
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addLayout(second)
        layout.addWidget(body, 1)
        # Before the first evaluation, say what to do instead of showing empty, unlabelled axes.
        self.body = body
        self.placeholder = empty_state(
            "No evaluation yet",
            "Choose a finished run from the Training panel, or a saved model and a data set, then press "
            "<b>Evaluate</b>.<br>The confusion matrix, per-class accuracy and precision / recall / F1 appear "
            "here; click a cell to hear the clips it confused.", name="evaluation_placeholder", framed=False)
        layout.addWidget(self.placeholder, 1)
        self._source_changed()
        self._set_results_visible(False)

    def _set_results_visible(self, visible: bool) -> None:
        for w in (self.confusion, self.clips, self.tabs):
            w.setEnabled(visible)
        if visible or self.evaluation is None:
            self.body.setVisible(visible)
            self.placeholder.setVisible(not visible)
        patch = visible and self.evaluation is not None and self.evaluation.is_patch
        self.aggregation_label.setVisible(patch)
        self.aggregation_combo.setVisible(patch)

    def install_menus(self, window) -> None:
        """Offer every run of the Training panel's run list, the latest first."""
        training = window.panels.get("TrainingPanel")
        if training is None or not hasattr(training, "run_finished"):
            return
        for run in getattr(training, "runs", []):
            self.add_training_run(run)
        training.run_finished.connect(self.add_training_run)
        if hasattr(training, "run_released"):
            training.run_released.connect(self.remove_training_run)

    def add_training_run(self, run) -> None:
        if getattr(run, "result", None) is not None and getattr(run, "data", None) is not None:
            self.add_run(run.name, run.result, run.data)

    def remove_training_run(self, run) -> None:
        """A run whose model the Training panel released: no longer offered (nor held here)."""
        if self.runs.pop(run.name, None) is None:
            return
        index = self.source_combo.findText(run.name)
        if index >= 0:
            self.source_combo.removeItem(index)

    # --- sources ------------------------------------------------------------------------------
    def add_run(self, name: str, model, features) -> None:
        """Offer a finished training run (the Training panel calls this); it becomes the choice."""
        self.runs[name] = ModelToEvaluate(name, model, features)
        if self.source_combo.findText(name) < 0:
            self.source_combo.insertItem(1, name)
        self.source_combo.setCurrentText(name)

    def _source_changed(self, *_) -> None:
        bundle = self.source_combo.currentText() == BUNDLE_SOURCE
        self.bundle_button.setVisible(bundle)
        self.dataset_button.setVisible(bundle)
        self.paths_label.setVisible(bundle)
        if bundle:
            b = Path(self.bundle_path).name if self.bundle_path else "no model chosen"
            d = Path(self.dataset_path).name if self.dataset_path else "no data set chosen"
            self.paths_label.setText(f"model: <b>{b}</b> · data: <b>{d}</b>")
            self.paths_label.setToolTip(f"{self.bundle_path}\n{self.dataset_path}")
            self.evaluate_button.setEnabled(bool(self.bundle_path and self.dataset_path))
        else:
            self.evaluate_button.setEnabled(True)

    def set_bundle_and_dataset(self, bundle_path: str, dataset_path: str) -> None:
        self.bundle_path, self.dataset_path = str(bundle_path), str(dataset_path)
        self.ctx.settings.set("evaluation/bundle", self.bundle_path)
        self.ctx.settings.set("evaluation/dataset", self.dataset_path)
        self.source_combo.setCurrentText(BUNDLE_SOURCE)
        self._source_changed()

    def _choose_bundle(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a model bundle folder", self.bundle_path or "")
        if path:
            self.set_bundle_and_dataset(path, self.dataset_path)

    def _choose_dataset(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a data set folder", self.dataset_path or "")
        if path:
            self.set_bundle_and_dataset(self.bundle_path, path)

    # --- evaluating -----------------------------------------------------------------------------
    def evaluate(self) -> None:
        self.cancel()
        split = self.split_combo.currentText()
        name = self.source_combo.currentText()
        if name == BUNDLE_SOURCE:
            job, args = evaluate_bundle_job, (self.bundle_path, self.dataset_path, split)
        else:
            job, args = evaluate_run_job, (self.runs[name], split)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.cancel_button.setVisible(True)
        self.evaluate_button.setEnabled(False)
        self.summary.setText("Evaluating…")
        self._worker = workers.start_worker(job, *args, on_yield=self._on_event, on_return=self._on_result,
                                            on_error=self._on_error, on_finish=self._on_finish)

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.quit()
            self._worker = None
            self.summary.setText("Evaluation cancelled.")

    def _on_event(self, event) -> None:
        if isinstance(event, Progress):
            fraction = event.fraction
            if fraction is None:
                self.progress.setRange(0, 0)
            else:
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(fraction * 1000))
            self.summary.setText(f"{event.stage.capitalize()}: {event.message or ''}")

    def _on_finish(self) -> None:
        self._worker = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self._source_changed()

    def _on_error(self, exc: BaseException) -> None:
        self.summary.setText(f"<span style='color:#c62828'>Evaluation failed: {exc}</span>")
        self.ctx.report_error("Cannot evaluate", exc)
        self.failed.emit(str(exc))

    def _on_result(self, result) -> None:
        name, model, evaluation = result
        self.source_name, self.model, self.evaluation = name, model, evaluation
        self._set_results_visible(True)
        self._show()
        self.evaluated.emit(name)

    def aggregation(self) -> str:
        return self.aggregation_combo.currentData() or "mean"

    def _show(self) -> None:
        ev = self.evaluation
        if ev is None:
            return
        agg = self.aggregation()
        self.report = r = ev.report(agg)
        how = f", {AGGREGATION_NAMES[agg]} over patches" if ev.is_patch else ""
        self.summary.setText(
            f"<b>{self.source_name}</b> — {ev.split} split, {r.n} clips{how}: "
            f"accuracy <b>{r.accuracy:.1%}</b> · macro F1 <b>{r.macro_f1:.3f}</b> · micro F1 {r.micro_f1:.3f}")
        self.confusion.set_matrix(r.labels, r.confusion, r.confusion_normalised)
        self.clips.clear()
        self.tabs.show_report(r)
        self.tabs.show_thresholds(ev.threshold_comparison(agg), ev)
        kind = getattr(getattr(self.model, "feature_config", None), "kind", ev.feature_kind)
        model_name = getattr(getattr(self.model, "config", None), "model", None) \
            or (getattr(self.model, "train_config", None) or {}).get("model", "?")
        self.summaries[self.source_name] = ComparisonRow(run=self.source_name, model=str(model_name), features=kind,
                                                         split=ev.split, report=r)
        self.tabs.show_runs(self.summaries.values())

    # --- clips ----------------------------------------------------------------------------------
    def _cell_clicked(self, true_class: int, predicted_class: int) -> None:
        if self.report is not None:
            self.clips.show_cell(self.report, true_class, predicted_class)

    def _load_clip(self, item: int) -> None:
        from ...core.predict.inference import clip_audio

        self._clip_job += 1
        job = self._clip_job
        mel = self.evaluation_mel()
        workers.start_worker(clip_audio, self.report.items[item], mel,
                             on_return=lambda res: self._clip_ready(job, item, mel, res),
                             on_error=lambda exc: self.clips.show_audio_error(item, str(exc)))

    def evaluation_mel(self):
        cfg = getattr(self.model, "feature_config", None)
        from ...core.config import MelConfig

        return cfg.mel if cfg is not None else MelConfig()

    def _clip_ready(self, job: int, item: int, mel, result) -> None:
        if job != self._clip_job:
            return
        y, sr, db = result
        self.player.stop()
        self.clips.set_playing(False)
        self._clip_audio = (y, sr, False)     # loaded into the player on the first Play
        self.clips.show_audio(item, db, mel, playable=self._play_block is None, reason=self._play_block or "")

    def _play_clip(self, item: int) -> None:
        """Play / Pause of the selected clip (resumes where it paused)."""
        if self._clip_audio is None or item != self.clips.current:
            return
        if self.player.playing:
            self.player.pause()
            self.clips.set_playing(False)
            return
        y, sr, loaded = self._clip_audio
        try:
            if self.ctx.player.playing:  # one sound at a time: the Audio panel's file pauses
                self.ctx.player.pause()
            if not loaded:
                self.player.set_audio(y, sr)
                self._clip_audio = (y, sr, True)
            self.player.play()
        except Exception as exc:  # noqa: BLE001 - shown to the user; the panel carries on
            self.ctx.report_error("Cannot play the clip", exc)
        self.clips.set_playing(self.player.playing)

    def _on_frame(self, _now: float) -> None:
        # The clip view draws only the columns it shows (a zoom or pan redraws here), and follows
        # the clip as it plays.
        spectrogram = self.clips.spectrogram
        spectrogram.refresh()
        player = self.player
        if player.playing and self.ctx.player.playing:  # the Audio panel started: give way
            player.pause()
        if player.playing or self.clips.play_button.text().startswith("Pause"):
            spectrogram.set_playhead(player.position())
            if not player.playing:
                self.clips.set_playing(False)

    def _set_play_block(self, reason: str | None) -> None:
        self._play_block = reason

    # --- runs table -----------------------------------------------------------------------------
    def _export_runs(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export runs comparison", "runs.csv", "CSV files (*.csv)")
        if path:
            self.export_runs(path)

    def export_runs(self, path: str) -> None:
        try:
            write_comparison_csv(path, list(self.summaries.values()))
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.ctx.report_error("Cannot export the runs table", exc)
        else:
            self.ctx.status.emit(f"Wrote {len(self.summaries)} runs to {path}", 5000)

    def presentation_changed(self, on: bool) -> None:
        """Presentation mode: the confusion matrix takes most of the panel (its class names and cell
        counts are twice as large); the clip list and the tabs below keep a strip each."""
        self._upper.setSizes([1000, 180] if on else [700, 420])
        self._body.setSizes([900, 140] if on else [560, 280])

    def shutdown(self) -> None:
        self.cancel()
        self.ctx.clock.unsubscribe(self._on_frame)
        self.player.close()
