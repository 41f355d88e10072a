"""Preferences: audio output device, theme, and the Dask scheduler for heavy work."""

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
from ..core.errors import AudioDeviceError
from .theme import THEMES


class PreferencesDialog(QDialog):
    def __init__(self, *, current_device: str | None, current_theme: str, current_scheduler: str = "",
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
