"""Preferences: audio output device, theme, the Dask scheduler for heavy work, and the Keras backend
(applied at the next start)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..core.audio.devices import output_devices
from ..core.errors import AudioDeviceError, ConfigError
from ..core.learn import backend as keras_backend
from .theme import THEMES

BACKEND_KEY = "training/backend"   # QSettings key: "auto", "tensorflow", "jax" or "torch"


def startup_backend(settings, cli_choice: str | None) -> str:
    """The backend this run of the app uses: --backend, else KERAS_BACKEND, else the preference (when
    installed), else automatic. Called before anything imports Keras."""
    import os

    choice = cli_choice
    if choice is None and not os.environ.get("KERAS_BACKEND"):
        preferred = settings.get(BACKEND_KEY, keras_backend.AUTO) or keras_backend.AUTO
        if preferred in keras_backend.BACKENDS and keras_backend.installed(preferred):
            choice = preferred
    try:
        return keras_backend.choose_backend(choice)
    except ConfigError:  # Keras already loaded (a second window in one process): it keeps its backend
        return keras_backend.backend_name()


class PreferencesDialog(QDialog):
    def __init__(self, *, current_device: str | None, current_theme: str, current_scheduler: str = "",
                 current_backend: str = "auto",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(460)
        form = QFormLayout()

        self.output_combo = QComboBox()
        self.output_combo.setObjectName("output_device")
        self.output_combo.addItem("System default", "")
        self.device_note = QLabel()
        self.device_note.setWordWrap(True)
        try:
            devices = output_devices()
        except AudioDeviceError as exc:
            devices = []
            self.device_note.setText(str(exc))
        if not devices and not self.device_note.text():
            self.device_note.setText("No audio output device found: playback is unavailable.")
        for d in devices:
            self.output_combo.addItem(d.label + ("  (default)" if d.is_default else ""), d.name)
        index = self.output_combo.findData(current_device or "")
        self.output_combo.setCurrentIndex(max(0, index))
        form.addRow("Audio output:", self.output_combo)
        if self.device_note.text():
            form.addRow("", self.device_note)

        self.theme_combo = QComboBox()
        self.theme_combo.setObjectName("theme")
        for name in THEMES:
            self.theme_combo.addItem(name.capitalize(), name)
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(current_theme)))
        form.addRow("Theme:", self.theme_combo)

        self.scheduler_edit = QLineEdit(current_scheduler or "")
        self.scheduler_edit.setObjectName("dask_scheduler")
        self.scheduler_edit.setPlaceholderText("none: this computer's cores")
        self.scheduler_edit.setToolTip("A Dask scheduler (tcp://host:8786) that feature extraction and folder "
                                       "prediction run on; the audio must be at the same paths on its workers. "
                                       "See docs/scale.md.")
        form.addRow("Dask scheduler:", self.scheduler_edit)
        # Keras reads its backend once, at its first import: a change here cannot apply to this run.
        self.backend_combo = QComboBox()
        self.backend_combo.setObjectName("keras_backend")
        self.backend_combo.addItem("Automatic (KERAS_BACKEND, else TensorFlow)", keras_backend.AUTO)
        for name in keras_backend.BACKENDS:
            ok = keras_backend.installed(name)
            self.backend_combo.addItem(keras_backend.TITLES[name] + ("" if ok else "  (not installed)"), name)
            if not ok:
                item = self.backend_combo.model().item(self.backend_combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip(f'pip install "instrument-studio[{keras_backend.EXTRAS[name]}]"')
        self.backend_combo.setCurrentIndex(max(0, self.backend_combo.findData(current_backend or "auto")))
        self.backend_combo.setToolTip("The library Keras trains and predicts with. TensorFlow has no GPU support "
                                      "on Windows; JAX and PyTorch use NVIDIA (CUDA) and AMD (ROCm) GPUs, "
                                      "PyTorch also Apple's (MPS).")
        form.addRow("Training backend:", self.backend_combo)
        running = keras_backend.backend_name()
        self.backend_note = QLabel(f"Applied at the next start of the app (Keras chooses its backend once). "
                                   f"This session runs on {keras_backend.TITLES.get(running, running)}.")
        self.backend_note.setObjectName("backend_note")
        self.backend_note.setWordWrap(True)
        form.addRow("", self.backend_note)

        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def output_device(self) -> str:
        return self.output_combo.currentData() or ""

    def scheduler(self) -> str:
        return self.scheduler_edit.text().strip()

    def theme(self) -> str:
        return self.theme_combo.currentData()

    def keras_backend(self) -> str:
        return self.backend_combo.currentData() or keras_backend.AUTO
