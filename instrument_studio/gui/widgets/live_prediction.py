"""Live prediction in the Live panel: top-k bars from the most recent window, several times a
second, the measured latency, and an honest "uncertain" state."""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ...core.events import LivePrediction, LivePredictionFailed
from ...core.predict.live_predict import LivePredictor
from .steady import SteadyLabel, ValueBar

TOP_K = 5
# Seconds past the next answer's due time after which the bars are shown as stale.
STALE_S = 1.0
NO_AUDIO = "uncertain: no live audio"
CONFIDENT_STYLE = "QLabel { color: white; background: #2e7d32; border-radius: 4px; padding: 2px 8px; }"
UNCERTAIN_STYLE = "QLabel { color: #3e2c00; background: #ffca28; border-radius: 4px; padding: 2px 8px; }"
IDLE_STYLE = "QLabel { color: palette(text); border: 1px solid palette(mid); border-radius: 4px; padding: 2px 8px; }"
# Texts the read-outs are sized for from the start (SteadyLabel: an answer drawn re-lays out nothing).
STATE_SAMPLES = ("waiting for the live input", "uncertain: low confidence (top 100%)", "acoustic-guitar")
LATENCY_SAMPLE = "latency 999 ms · 99.9 answers/s"
AMONG_TIP = ("Playing one of a few instruments? Tick them: the bars name the likeliest of those "
             "(the same choice as the Predict panel's)")
AMONG_WAITING_TIP = "The model's classes are offered here once it has loaded: press Start (or predict a file)"


class LivePredictionView(QWidget):
    shown = Signal(object)           # the LivePrediction just drawn
    # Emitted on the predictor's thread when an answer is ready; delivered (queued) on this one, so
    # an answer is drawn at once instead of at the next tick of the frame clock (up to 17 ms later).
    _answer_ready = Signal()

    def __init__(self, ctx, live_panel, models, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("live_prediction")
        self.ctx = ctx
        self.live_panel = live_panel
        self.models = models
        self.live: LivePredictor | None = None
        self.latest: LivePrediction | None = None
        self.displayed_latency: deque[float] = deque(maxlen=200)
        self.shown_times: deque[float] = deque(maxlen=200)

        self.title = QLabel("Instrument")
        self.title.setStyleSheet("font-weight: bold;")
        self.state_label = SteadyLabel("waiting for the live input", STATE_SAMPLES)
        self.state_label.setObjectName("live_state")
        self.state_label.setAlignment(Qt.AlignCenter)
        self.state_label.setStyleSheet(IDLE_STYLE)
        self.latency_label = SteadyLabel("", (LATENCY_SAMPLE,))
        self.latency_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.latency_label.setObjectName("live_latency")
        self.latency_label.setToolTip("From the newest sample of the analysed window reaching the predictor to "
                                      "the bars on screen (median of the last answers)")
        # The default model and this session's personal models, one click apart (issue 13).
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("live_model")
        self.model_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.model_combo.setToolTip("Which model names the live input: the default one, or one taught from takes")
        self.model_combo.activated.connect(self._model_chosen)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.state_label)
        head.addStretch(1)
        head.addWidget(self.latency_label)
        # The Predict panel's classes to answer among (one choice for the table, the Audio panel
        # and these bars): a musician who says "violin or viola" gets bars of those only.
        self.among_button = QToolButton()
        self.among_button.setObjectName("live_among")
        self.among_button.setPopupMode(QToolButton.InstantPopup)
        self.among_button.setMenu(models.among_menu)
        head.addWidget(self.among_button)
        models.among_changed.connect(self._among_changed)
        head.addWidget(self.model_combo)
        grid = QGridLayout()
        self.names, self.bars, self.values = [], [], []
        for i in range(TOP_K):
            name, bar, value = SteadyLabel("", ("acoustic-guitar",)), ValueBar(), SteadyLabel("", ("100%",))
            bar.setRange(0, 1000)
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            grid.addWidget(name, i, 0)
            grid.addWidget(bar, i, 1)
            grid.addWidget(value, i, 2)
            self.names.append(name)
            self.bars.append(bar)
            self.values.append(value)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(head)
        layout.addLayout(grid)

        live_panel.started.connect(self._live_started)
        live_panel.stopped.connect(self._live_stopped)
        models.predictor_changed.connect(self._predictor_changed)
        models.predictor_changed.connect(lambda _p: self._list_models())
        ctx.clock.subscribe(self._on_frame)
        self._answer_ready.connect(lambda: self._on_frame(time.monotonic()))
        self._list_models()
        self._among_changed()

    # --- wiring ------------------------------------------------------------------------------
    def _live_started(self) -> None:
        if self.live is None:
            self._set_state(f"loading {self.models.model_name}…", IDLE_STYLE)
            self.models.with_predictor(self._attach, on_error=lambda exc: self._set_state(
                f"no model: {exc}", UNCERTAIN_STYLE))

    def _live_stopped(self, _message: str = "") -> None:
        self._set_state("live input stopped", IDLE_STYLE)
        # The latency and rate measured the input that has stopped: not shown as if current.
        self.displayed_latency.clear()
        self.shown_times.clear()
        self.latency_label.setText("")
        for bar in self.bars:
            bar.setEnabled(False)

    def _list_models(self) -> None:
        from pathlib import Path

        current = self.models.model_path if self.models.run is None else "run"
        self.model_combo.clear()
        self.model_combo.addItem("Default model", "")
        for path in self.models.held:
            if path:
                self.model_combo.addItem(f"Personal: {Path(path).name}", path)
        if current and self.model_combo.findData(current) < 0:
            self.model_combo.addItem(self.models.model_name, current)
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(current or "")))

    def _among_changed(self) -> None:
        ready = self.models.among_button.isEnabled()
        self.among_button.setText(self.models.among_button.text())
        self.among_button.setEnabled(ready)
        self.among_button.setToolTip(AMONG_TIP if ready else AMONG_WAITING_TIP)
        if self.live is not None:
            self.live.answer_among(self.models.among_for(self.live.predictor.labels))

    def _model_chosen(self, index: int) -> None:
        path = self.model_combo.itemData(index)
        if path != "run" and (path or None) != self.models.model_path:
            self.models.set_model(path or None)

    def _predictor_changed(self, predictor) -> None:
        if self.live is not None:
            self._attach(predictor)

    def _attach(self, predictor) -> None:
        if self.live is not None:
            self.live.detach()
        self.live = LivePredictor(predictor, on_result=lambda _answer: self._answer_ready.emit())
        self._among_changed()
        self.live.attach(self.live_panel.pipeline)
        labels = tuple(predictor.labels)
        for name in self.names:
            name.set_samples(("acoustic-guitar", *labels))
        self.state_label.set_samples((*STATE_SAMPLES, *labels))
        self.title.setText(f"Instrument ({self.models.model_name})")
        self._set_state("listening…", IDLE_STYLE)

    def _set_state(self, text: str, style: str) -> None:
        self.state_label.setText(text)
        # A style sheet re-polishes the label and its layout even when it is the same one: at
        # several answers a second that was a large part of the GUI thread's live work.
        if self.state_label.styleSheet() != style:
            self.state_label.setStyleSheet(style)

    # --- drawing (frame clock) --------------------------------------------------------------
    def _on_frame(self, _now: float) -> None:
        if self.live is None:
            return
        events = self.live.poll()
        if not self.live_panel.pipeline.running:
            return  # answers about windows from before a stop: the input they describe is gone
        newest = None
        for ev in events:
            if isinstance(ev, LivePrediction):
                newest = ev
            elif isinstance(ev, LivePredictionFailed):
                self._set_state(ev.message, UNCERTAIN_STYLE)
        if newest is not None:
            self.show_prediction(newest)
        elif self.latest is not None \
                and time.monotonic() - self.latest.result_time > STALE_S + self.latest.spacing \
                and self.state_label.text() != NO_AUDIO:
            # No new audio (playback paused, input stopped): the bars are old news; say so.
            self._set_state(NO_AUDIO, UNCERTAIN_STYLE)
            for bar in self.bars:
                bar.setEnabled(False)

    def show_prediction(self, p: LivePrediction) -> None:
        self.latest = p
        ranked = p.ranked(TOP_K)
        for i in range(TOP_K):
            label, prob = ranked[i] if i < len(ranked) else ("", 0.0)
            self.names[i].setText(label)
            self.bars[i].setValue(int(prob * 1000))
            self.values[i].setText(f"{prob:.0%}" if label else "")
            self.bars[i].setEnabled(p.state == "confident")
        if p.state == "confident":
            self._set_state(f"{ranked[0][0]}", CONFIDENT_STYLE)
        else:
            self._set_state(f"uncertain: {p.reason}", UNCERTAIN_STYLE)
        now = time.monotonic()
        self.displayed_latency.append(now - p.window_time)
        self.shown_times.append(now)
        self.latency_label.setText(f"latency {np.median(self.displayed_latency) * 1000:.0f} ms · "
                                   f"{self.rate():.1f} answers/s")
        self.shown.emit(p)

    def rate(self) -> float:
        times = [t for t in self.shown_times if t > self.shown_times[-1] - 3.0] if self.shown_times else []
        if len(times) < 2:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def shutdown(self) -> None:
        self.ctx.clock.unsubscribe(self._on_frame)
        if self.live is not None:
            self.live.detach()
