"""The chosen model's summary (layers, output shapes, parameter counts), built in the background.

Building a Keras model needs TensorFlow, so the summary is made on the TensorFlow thread and only
once the view is activated (its panel shown): the app never imports TensorFlow at start-up. Edits
are debounced so that typing in a field builds one model, not one per keystroke.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit

from ...core.errors import ConfigError
from ...core.learn.runs import describe_model
from ...core.learn.tfthread import run_in_tf_thread
from .. import workers


class ModelSummaryView(QPlainTextEdit):
    ready = Signal(str)

    def __init__(self, arguments: Callable[[], dict], parent=None):
        """arguments() -> keyword arguments of core.learn.runs.describe_model (ConfigError: shown as text)."""
        super().__init__(parent)
        self.setObjectName("model_summary")
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.setFont(QFont("monospace", 8))
        self.setPlaceholderText("The model's layers, output shapes and parameter counts appear here.")
        self.setMinimumHeight(160)
        self._arguments = arguments
        self._job = 0
        self.active = False
        self._timer = QTimer(self, singleShot=True, interval=300)
        self._timer.timeout.connect(self._start)

    def activate(self) -> None:
        if not self.active:
            self.active = True
            self.schedule()

    def schedule(self) -> None:
        if self.active:
            self._timer.start()

    def _start(self) -> None:
        try:
            kwargs = self._arguments()
        except ConfigError as exc:
            self.setPlainText(str(exc))
            return
        self._job += 1
        job = self._job
        self.setPlainText("building the model…")
        workers.start_worker(run_in_tf_thread, describe_model, **kwargs,
                             on_return=lambda text: self._show(job, text),
                             on_error=lambda exc: self._show(job, f"Cannot build this model: {exc}"))

    def _show(self, job: int, text: str) -> None:
        if not shiboken6.isValid(self):   # the window closed while the model was being built
            return
        if job == self._job:   # an older request finishing late must not overwrite a newer one
            self.setPlainText(text)
            self.ready.emit(text)
