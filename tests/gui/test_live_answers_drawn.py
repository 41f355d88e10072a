"""A live answer is drawn as soon as it is ready, not at the next tick of the frame clock."""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu, QToolButton

from instrument_studio.core.predict.inference import load_predictor
from instrument_studio.gui.widgets.live_prediction import LivePredictionView
from tests.core.test_live_predict import FakePipeline
from tests.synth_instruments import note


class StillClock:
    """A frame clock that never ticks: whatever gets drawn is drawn without it."""

    def subscribe(self, callback) -> None:
        pass

    def unsubscribe(self, callback) -> None:
        pass


class Live(QObject):
    started = Signal()
    stopped = Signal(str)


def answer_view(qtbot, predictor=None) -> tuple[LivePredictionView, Live]:
    """The Live panel's answer view on a fake live panel (a FakePipeline) and a still clock."""

    class Ctx:
        clock = StillClock()

    class Models(QObject):
        """The Predict panel's side of the view: its model and its classes to answer among."""

        predictor_changed = Signal(object)
        among_changed = Signal()
        model_name = "test model"
        model_path = None
        run = None

        def __init__(self):
            super().__init__()
            self.held: dict = {}                # personal models kept in memory: none here
            self.among_menu = QMenu()
            self.among_button = QToolButton()
            self.among_button.setText("Among: every class")

        def among_for(self, labels):
            return None

        def with_predictor(self, fn, on_error=None):
            fn(predictor)

    pipe = FakePipeline()
    pipe.running = True
    live, models = Live(), Models()
    live.pipeline = pipe
    view = LivePredictionView(Ctx(), live, models)
    qtbot.addWidget(view)
    return view, live


def test_answers_reach_the_bars_without_the_frame_clock(qtbot, synth_model):
    view, live = answer_view(qtbot, load_predictor(synth_model[0]))
    pipe = live.pipeline
    live.started.emit()
    feeder = threading.Thread(target=pipe.feed, args=(np.concatenate([note("tone", seconds=4.0, freq=440.0)]),),
                              daemon=True)
    feeder.start()
    try:
        qtbot.waitUntil(lambda: len(view.displayed_latency) >= 3, timeout=60_000)
        assert view.latest is not None and view.names[0].text()
        assert "answers/s" in view.latency_label.text()
    finally:
        feeder.join()
        view.shutdown()
