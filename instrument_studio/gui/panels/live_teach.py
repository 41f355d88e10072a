"""The Live panel's Teach box, beside the take list: learn the dataset folder's takes in one step.

Teaching runs core.personal.teach.teach on the TensorFlow thread (via a pool worker that only waits);
its Progress events come back through a queued signal. When it ends, `taught` carries the new
bundle, already loaded, so live prediction switches to it at once (the Predict panel owns the
model in use; the live bars' model selector keeps the default model one click away).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ...core.errors import Cancelled, StudioError
from ...core.events import Progress
from ...core.learn.tfthread import run_in_tf_thread
from ...core.personal.takes import MIN_TAKES, take_files
from ...core.userdirs import user_data_dir
from .. import workers
from ..widgets.message_label import message_label


class _Relay(QObject):
    event = Signal(object)


def personal_model_path(dataset: str) -> Path:
    """Where a dataset's personal model is kept: the user's data folder, not inside the dataset
    (a folder there would read as one more class)."""
    name = Path(dataset).expanduser().resolve().name or "takes"
    return user_data_dir("personal-models") / f"{name}-personal"


def count_takes(dataset: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _path, label in take_files(dataset):
        counts[label] = counts.get(label, 0) + 1
    return counts


class TeachBox(QWidget):
    taught = Signal(str, object)       # bundle path, the loaded Bundle
    finished = Signal(bool)            # True when a model was made

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("teach_box")
        self.dataset = ""
        self.result = None
        self._worker = None
        self._stop = threading.Event()
        self._relay = _Relay(self)
        self._relay.event.connect(self._on_event)
        self.teach_button = QPushButton("Teach")
        self.teach_button.setObjectName("teach_button")
        self.teach_button.setToolTip("Learn the takes of the dataset folder (each label a class, at least "
                                     f"{MIN_TAKES} takes each) and recognise them live")
        self.teach_button.setStyleSheet("font-weight: bold;")
        self.teach_button.clicked.connect(self.toggle)
        self.keep_check = QCheckBox("Keep default instruments")
        self.keep_check.setObjectName("teach_keep_default")
        self.keep_check.setToolTip("Also name the default model's 20 instruments, as it does (your takes of "
                                   "one of them do not change it); unchecked, sounds like them are answered "
                                   "“unknown”")
        self.keep_check.setChecked(bool(ctx.settings.get("live/teach_keep_default", False, type_=bool)))
        self.keep_check.toggled.connect(lambda on: ctx.settings.set("live/teach_keep_default", on))
        self.keep_check.toggled.connect(lambda _on: self.refresh())
        self.progress = QProgressBar()
        self.progress.setObjectName("teach_progress")
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.status = message_label("")
        self.status.setObjectName("teach_status")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.RichText)
        self.status.setMinimumWidth(220)
        self.status.setMaximumWidth(300)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.teach_button)
        layout.addWidget(self.keep_check)
        layout.addWidget(self.progress)
        layout.addWidget(self.status, 1)

    @property
    def running(self) -> bool:
        return self._worker is not None

    # --- readiness: a count of files, no decoding ---------------------------------------------
    def set_dataset(self, dataset: str) -> None:
        self.dataset = dataset
        self.refresh()

    def refresh(self) -> None:
        if self.running or not self.dataset:
            return
        folder = self.dataset
        workers.start_worker(count_takes, folder, on_return=lambda c: self._counted(folder, c),
                             on_error=lambda _exc: self._counted(folder, {}))

    def _counted(self, folder: str, counts: dict[str, int]) -> None:
        if folder != self.dataset or self.running:
            return
        if not counts:
            self.status.setText(f"Record at least {MIN_TAKES} takes of each of two or more sounds, then press "
                                "<b>Teach</b>.")
            return
        few = [c for c, n in counts.items() if n < MIN_TAKES]
        listed = ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
        if few:
            need = "; ".join(f"{MIN_TAKES - counts[c]} more of {c}" for c in sorted(few))
            self.status.setText(f"Takes: {listed}. Record {need} to teach.")
        elif len(counts) < 2 and not self.keep_check.isChecked():
            self.status.setText(f"Takes: {listed}. Record a second sound (or keep the default instruments) "
                                "to teach.")
        else:
            self.status.setText(f"Takes: {listed}. Ready: press <b>Teach</b>.")

    # --- teaching ----------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.running:
            self._stop.set()
            self.status.setText("Stopping…")
        else:
            self.start()

    def start(self, out: str | Path | None = None) -> None:
        from ...core.personal.teach import teach

        if not self.dataset:
            self.status.setText("⚠ Choose a dataset folder first.")
            return
        out = Path(out) if out else personal_model_path(self.dataset)
        self._stop = threading.Event()
        self.result = None
        self.teach_button.setText("Stop teaching")
        self.keep_check.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText("Teaching… (the default model loads first)")
        self._worker = workers.start_worker(run_in_tf_thread, teach, self.dataset, out,
                                            keep_default=self.keep_check.isChecked(), on_event=self._relay.event.emit,
                                            should_stop=self._stop.is_set, on_return=self._done,
                                            on_error=self._failed, on_finish=self._ended)

    def _on_event(self, ev) -> None:
        if isinstance(ev, Progress) and self.running:
            if ev.total:
                self.progress.setRange(0, int(ev.total))
                self.progress.setValue(int(ev.done))
                self.progress.setFormat(f"{ev.stage}: %v of %m")
            else:
                self.progress.setRange(0, 0)
                self.progress.setFormat(ev.stage)
            self.status.setText(f"Teaching: {ev.message or ev.stage}…")

    def _done(self, result) -> None:
        self.result = result
        per = ", ".join(f"{c} {r}/{n}" for c, (r, n) in result.per_class.items())
        left = f" {len(result.left_out)} take(s) left out (silent or clipped)." \
            if result.left_out else ""
        self.status.setText(f"Taught <b>{', '.join(result.taught)}</b> in {result.wall_seconds:.0f} s; held-out "
                            f"takes {result.loto_accuracy:.0%} right.{left} Live prediction uses it now.")
        self.status.setToolTip(f"{result.path}\neach take answered by a model taught without it: {per}\n"
                               f"unknown below {result.threshold:.2f}")
        self.taught.emit(str(result.path), result.bundle)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            self.status.setText("Teaching stopped; nothing was saved.")
            return
        text = exc.reason if isinstance(exc, StudioError) else f"unexpected error ({type(exc).__name__}: {exc})"
        self.status.setText(f"⚠ {text[:1].upper()}{text[1:]}")
        self.ctx.report_error("Cannot teach yet" if "cannot teach" in text else "Teaching failed", exc)

    def _ended(self) -> None:
        self._worker = None
        self.teach_button.setText("Teach")
        self.keep_check.setEnabled(True)
        self.progress.setVisible(False)
        self.finished.emit(self.result is not None)

    def shutdown(self) -> None:
        self._stop.set()
