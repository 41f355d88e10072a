"""The Dataset panel's feature extraction row: kind and options, Extract, progress with ETA, Cancel."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.config import FeatureConfig
from ...core.events import ExtractionFinished, FeatureProgress, FileSkipped
from .. import workers
from ..widgets.message_label import line_label, message_label

KINDS = (("mfcc", "MFCC summary (120 values per clip)"),
         ("sequence", "Frame sequence (frames × 21 per clip)"),
         ("mel-patches", "Log-mel patches (128 × 1 s, several per clip)"))


class _Relay(QObject):
    """Carries core events from the extraction thread to the GUI thread (queued signal)."""

    event = Signal(object)


def run_extraction(dataset, cfg: FeatureConfig, on_event, stop: threading.Event, scheduler: str | None = None):
    """Worker job: extract (on the Dask scheduler of the preferences, if any), save the FeatureSet
    beside the project, return (FeatureSet, report, folder)."""
    from ...core.features.extraction import extract, features_folder

    result = extract(dataset, cfg, on_event=on_event, should_stop=stop.is_set, scheduler=scheduler or None)
    folder = None
    try:
        folder = result.features.save(features_folder(dataset, cfg))
    except OSError:
        pass  # the per-file cache still makes the next run fast
    return result.features, result.report, folder


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"about {seconds} s left"
    return f"about {seconds // 60} min {seconds % 60:02d} s left"


class FeatureBox(QWidget):
    finished = Signal(object, object)   # FeatureSet, ExtractionReport
    config_changed = Signal(object)     # FeatureConfig

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.dataset = None
        self.features = None
        self.report = None
        self.failures: list[tuple[str, str]] = []
        self._worker = None
        self._stop = threading.Event()
        self._relay = _Relay(self)
        self._relay.event.connect(self._on_event)
        self._build()

    def _build(self) -> None:
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("feature_kind")
        for kind, text in KINDS:
            self.kind_combo.addItem(text, kind)
        saved = self.ctx.settings.get("dataset/feature_kind", "mfcc")
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(saved)))
        self.hop_spin = QDoubleSpinBox()
        self.hop_spin.setObjectName("patch_hop")
        self.hop_spin.setRange(0.1, 1.0)
        self.hop_spin.setSingleStep(0.1)
        self.hop_spin.setDecimals(2)
        self.hop_spin.setSuffix(" s")
        self.hop_spin.setValue(0.5)
        self.hop_spin.setToolTip("Seconds between patch starts (below 1 s, patches overlap)")
        self.hpss_box = QCheckBox("HPSS channels")
        self.hpss_box.setToolTip("Add the harmonic and the percussive log-mel as channels")
        self.multires_box = QCheckBox("3 window lengths")
        self.multires_box.setToolTip("Log-mel with 1024-, 2048- and 4096-sample windows as channels")
        self.extract_button = QPushButton("Extract features")
        self.extract_button.setObjectName("extract_button")
        self.extract_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_extract")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("extract_progress")
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.eta_label = line_label()
        self.eta_label.setObjectName("extract_eta")
        self.result_label = message_label("")
        self.result_label.setObjectName("extract_result")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        row = QHBoxLayout()
        row.addWidget(QLabel("Features:"))
        row.addWidget(self.kind_combo)
        self.hop_label = QLabel("patch hop")
        row.addWidget(self.hop_label)
        row.addWidget(self.hop_spin)
        row.addWidget(self.hpss_box)
        row.addWidget(self.multires_box)
        row.addWidget(self.extract_button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.eta_label)
        row.addWidget(self.cancel_button)
        row.addStretch(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        for signal in (self.kind_combo.currentIndexChanged, self.hpss_box.toggled, self.multires_box.toggled,
                       self.hop_spin.valueChanged):
            signal.connect(self._options_changed)
        self._options_changed()

    # --- configuration ------------------------------------------------------------------------
    def config(self) -> FeatureConfig:
        kind = self.kind_combo.currentData()
        patches = kind == "mel-patches"
        return FeatureConfig(kind=kind, patch_hop_seconds=float(self.hop_spin.value()),
                             hpss=patches and self.hpss_box.isChecked(),
                             multires=patches and self.multires_box.isChecked())

    def _options_changed(self, *_) -> None:
        patches = self.kind_combo.currentData() == "mel-patches"
        for w in (self.hop_label, self.hop_spin, self.hpss_box, self.multires_box):
            w.setVisible(patches)
        self.ctx.settings.set("dataset/feature_kind", self.kind_combo.currentData())
        self.config_changed.emit(self.config())

    def set_dataset(self, dataset) -> None:
        self.cancel()
        self.dataset = dataset
        self.features = None
        self.report = None
        self.result_label.setText("")
        self.extract_button.setEnabled(dataset is not None)
        arrays = dataset is not None and dataset.is_arrays
        self.kind_combo.setEnabled(not arrays)
        self.extract_button.setText("Load feature arrays" if arrays else "Extract features")

    # --- running ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(self) -> None:
        if self.dataset is None or self.running:
            return
        cfg = self.config()
        self._stop = threading.Event()
        self.failures = []
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.extract_button.setEnabled(False)
        self.kind_combo.setEnabled(False)
        self.eta_label.setText("starting…")
        self.result_label.setText("")
        stop = self._stop
        self._worker = workers.start_worker(run_extraction, self.dataset, cfg, self._relay.event.emit, stop,
                                            self.ctx.settings.get("compute/scheduler", "") or None,
                                            on_return=self._done, on_error=self._failed,
                                            on_finish=self._finished)

    def cancel(self) -> None:
        self._stop.set()

    def _on_event(self, ev) -> None:
        if isinstance(ev, FeatureProgress):
            if ev.fraction is not None:
                self.progress.setValue(int(ev.fraction * 1000))
            text = f"{int(ev.done):,} / {int(ev.total or 0):,} files"
            if ev.done < (ev.total or 0):
                text += f", {format_eta(ev.eta_s)}"
            self.eta_label.setText(text)
        elif isinstance(ev, FileSkipped):
            self.failures.append((ev.path, ev.reason))
        elif isinstance(ev, ExtractionFinished):
            self.report = ev.report

    def _done(self, result) -> None:
        fs, report, folder = result
        self.features, self.report = fs, report
        shapes = " · ".join(f"{name} {fs.n(split):,}" for split, name in
                            (("train", "training"), ("val", "validation"), ("test", "test")))
        rows = "×".join(str(n) for n in fs.input_shape)
        text = (f"<b>{fs.config.kind}</b>: {rows} per row; rows: {shapes}. "
                f"{report.n_computed:,} computed, {report.n_cached:,} from the cache, "
                f"{report.audio_seconds:,.0f} s of audio in {report.seconds:.1f} s.")
        if report.failures:
            names = ", ".join(f"{Path(p).name} ({r})" for p, r in report.failures[:3])
            more = f" and {len(report.failures) - 3} more" if len(report.failures) > 3 else ""
            text += f"<br><span style='color:#c62828'>⚠ {len(report.failures)} file(s) skipped: {names}{more}</span>"
        self.result_label.setText(text)
        self.result_label.setToolTip(f"saved in {folder}" if folder else "")
        self.ctx.status.emit(f"Features ready: {report.summary()}", 8000)
        self.finished.emit(fs, report)

    def _failed(self, exc: BaseException) -> None:
        from ...core.errors import Cancelled

        if isinstance(exc, Cancelled):
            self.result_label.setText("Feature extraction cancelled; files already done are cached.")
            return
        self.result_label.setText(f"<span style='color:#c62828'>Feature extraction failed: {exc}</span>")
        self.ctx.report_error("Feature extraction failed", exc)

    def _finished(self) -> None:
        self._worker = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.eta_label.setText("")
        self.extract_button.setEnabled(self.dataset is not None)
        self.kind_combo.setEnabled(self.dataset is not None and not self.dataset.is_arrays)
