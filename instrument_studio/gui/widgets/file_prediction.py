"""Prediction for the Audio panel's open file: the top classes for the whole file and, under the
spectrogram, class probabilities per second with the playhead."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from ...core.audio.info import format_duration
from ...core.predict.answer import UNKNOWN
from .. import workers
from .message_label import message_label
from .prediction_timeline import PredictionTimeline

LEFT_AXIS_WIDTH = 70   # the Audio panel's; wider when the row names need it

TOP_K = 3
TIMELINE_HEIGHT = 170  # pixels given to the timeline when it appears


def among_phrase(classes) -> str:
    """The classes answers are given among, as a few words: their names, or how many."""
    classes = list(classes)
    return ", ".join(classes) if len(classes) <= 3 else f"{len(classes)} classes"


class FilePredictionView(QWidget):
    predicted = Signal(str)    # path, when the timeline is on screen

    def __init__(self, ctx, audio_panel, models, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("file_prediction")
        self.ctx = ctx
        self.audio = audio_panel
        self.models = models            # the Predict panel: the model in use and its loading
        self.prediction = None          # as shown: answered among the Predict panel's classes
        self._predicted = None          # as the model gave it, over every class
        self.path: str | None = None
        self._job = 0
        self._last_pos = -1.0
        self.summary = message_label("")
        self.summary.setObjectName("prediction_summary")
        self.summary.setTextFormat(Qt.RichText)
        self.now_label = QLabel("")
        self.now_label.setObjectName("prediction_now")
        self.now_label.setTextFormat(Qt.RichText)
        self.timeline = PredictionTimeline()
        self.timeline.setMinimumHeight(110)
        self.timeline.setToolTip("Each class's probability per second, brighter = more likely. Rows in the order "
                                 "of the whole file's answer, in which louder seconds count more. Click to play "
                                 "from there.")
        self.timeline.setXLink(audio_panel.waveform)
        self._set_axis_width(LEFT_AXIS_WIDTH)
        self.timeline.seek_requested.connect(audio_panel.seek)
        audio_panel.spectrogram.plotItem.vb.sigResized.connect(self._align)
        self.timeline.plotItem.vb.sigResized.connect(self._align)
        self.predict_button = QPushButton("Name the instrument")
        self.predict_button.setObjectName("predict_file")
        self.predict_button.setToolTip("Predict which instrument plays, second by second (loads the model the "
                                       "first time: a few seconds)")
        self.predict_button.clicked.connect(lambda: self.predict_open_file(self.audio.path or "", asked=True))
        self.predict_button.setVisible(False)
        head = QHBoxLayout()
        head.addWidget(self.predict_button)
        head.addWidget(self.summary, 1)
        head.addWidget(self.now_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.timeline, 1)
        self.setVisible(False)
        audio_panel.loaded.connect(self.predict_open_file)
        ctx.file_opened.connect(self._new_file)
        models.predictor_changed.connect(lambda _p: self.predict_open_file(self.audio.path or "", asked=True))
        models.among_changed.connect(self._show_answer)
        ctx.clock.subscribe(self._on_frame)

    def predict_open_file(self, path: str, *, asked: bool = False) -> None:
        ready = self.audio.ready
        if not path or ready is None:
            return
        self._job += 1
        job = self._job
        self.path = path
        self.prediction = self._predicted = None
        self.setVisible(True)
        self.now_label.setText("")
        if self.models.predictor is None and not asked:
            # Loading a model imports TensorFlow (seconds of CPU): only when the user asks, or
            # once a model is in use anyway.
            self.timeline.clear_prediction()
            self._set_compact(True)
            self.summary.setText(f"<span style='color:gray'>Which instrument is it? ({self.models.model_name})</span>")
            return
        self._set_compact(False)
        self.summary.setText(f"Predicting with <b>{self.models.model_name}</b>…")
        self.models.with_predictor(lambda predictor: self._run(job, predictor, ready.analysis, ready.analysis_sr),
                                   on_error=lambda exc: self._failed(job, exc))

    def _set_axis_width(self, pixels: int) -> None:
        """Room for the row names on the left, the same in the views above, so time lines up."""
        self.timeline.getAxis("left").setWidth(pixels)
        if hasattr(self.audio, "set_left_axis_width"):
            self.audio.set_left_axis_width(pixels)

    def _new_file(self, path: str) -> None:
        """Another file is opening: the previous file's answer and timeline go at once (a late
        answer for it is dropped), not when the new one has decoded."""
        self._job += 1
        self.path = path
        self.prediction = self._predicted = None
        self.timeline.clear_prediction()
        self.now_label.setText("")
        if self.isVisible():
            self.summary.setText(f"<span style='color:gray'>Opening {Path(path).name}…</span>")

    def _set_compact(self, compact: bool) -> None:
        """Only the button row until there is a timeline to show; then room for it."""
        self.predict_button.setVisible(compact)
        self.timeline.setVisible(not compact)
        splitter = self.parentWidget()
        if compact:
            self.setMaximumHeight(self.predict_button.sizeHint().height() + 6)
        elif self.maximumHeight() < 10000:
            self.setMaximumHeight(16777215)
            if isinstance(splitter, QSplitter):
                sizes = splitter.sizes()
                i = splitter.indexOf(self)
                grow = max(0, TIMELINE_HEIGHT - sizes[i])
                sizes[i] += grow
                sizes[max(range(len(sizes)), key=lambda k: sizes[k] if k != i else -1)] -= grow
                splitter.setSizes(sizes)

    def _run(self, job: int, predictor, y, sr) -> None:
        if job != self._job:
            return
        workers.start_worker(predictor.predict, y, sr, on_return=lambda p: self._show(job, p),
                             on_error=lambda exc: self._failed(job, exc))

    def _failed(self, job: int, exc: BaseException) -> None:
        if job == self._job:
            self.summary.setText(f"<span style='color:#c62828'>No prediction: {exc}</span>")

    def _show(self, job: int, prediction) -> None:
        if job != self._job:
            return
        self._predicted = prediction
        self._show_answer()
        self.predicted.emit(self.path or "")

    def _show_answer(self) -> None:
        """The file's answer and timeline, among the classes the Predict panel answers among."""
        if self._predicted is None:
            return
        prediction = self.prediction = self.models.answered(self._predicted)
        answer = prediction.answer
        ranked = [(label, p) for label, p in prediction.ranked(TOP_K + 1) if label != answer.label][:TOP_K - 1]
        if answer.label == "silent":
            head = "<b>silent</b>"
        elif answer.unknown:
            # Not one of its instruments: say so first with the unknown class's own figure (as the
            # Predict table and the timeline's label do), then what it sounds nearest to.
            head = f"<b>unknown</b> {answer.probability:.0%} ({answer.nearest_said})"
            ranked = [(label, p) for label, p in ranked if label != answer.nearest]
        else:
            head = f"<b>{answer.label}</b> {answer.probability:.0%}"
        top = " · ".join([head] + [f"{label} {p:.0%}" for label, p in ranked])
        if prediction.warnings:
            top += "<span style='color:#c62828'> — " + "; ".join(prediction.warnings) + "</span>"
        among = ""
        if prediction.considered is not None:
            among = f", among {among_phrase([c for c in prediction.considered if c != UNKNOWN])}"
        self.summary.setText(f"Whole file ({self.models.model_name}{among}): {top}"
                             "<span style='color:gray'> — below: probability per second, brighter = more likely</span>")
        self.timeline.set_prediction(prediction.labels, prediction.timeline, step=prediction.step,
                                     duration=prediction.duration, whole=prediction.probabilities)
        self._set_axis_width(max(LEFT_AXIS_WIDTH, self.timeline.label_width + 16))
        self._last_pos = -1.0
        self._on_frame(0.0)

    def clear(self) -> None:
        self.prediction = self._predicted = None
        self.timeline.clear_prediction()
        self.setVisible(False)

    def _on_frame(self, _now: float) -> None:
        if self.prediction is None or self.audio.ready is None:
            return
        pos = self.ctx.player.position()
        if pos == self._last_pos:
            return
        self._last_pos = pos
        self.timeline.set_playhead(pos)
        ranked = self.timeline.at(pos)
        if ranked:
            label, p = ranked[0]
            i = int(pos // self.prediction.step)
            silent = " (quiet)" if i < len(self.prediction.silent) and self.prediction.silent[i] else ""
            self.now_label.setText(f"at {format_duration(pos)}: <b>{label}</b> {p:.0%}{silent}")

    def _align(self, *_) -> None:
        # Keep the time axis exactly under the spectrogram's, whose colour bar takes width on the right.
        right = self.timeline.getAxis("right")
        extra = (self.timeline.plotItem.vb.sceneBoundingRect().right()
                 - self.audio.spectrogram.plotItem.vb.sceneBoundingRect().right())
        width = max(0, int(round(right.width() + extra)))
        if abs(width - right.width()) >= 1:
            right.setWidth(width)

    def shutdown(self) -> None:
        self.ctx.clock.unsubscribe(self._on_frame)
