"""The row of spectrogram settings under the Audio panel's views: n_fft, hop, mel bands, fmax."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from ...core.config import MelConfig
from ...core.errors import ConfigError
from .message_label import line_label


class MelSettingsRow(QWidget):
    """Edits a MelConfig; Apply emits `applied(MelConfig)`. Invalid combinations cannot be
    applied, and the reason is shown beside the controls and in Apply's tooltip."""

    applied = Signal(object)

    def __init__(self, cfg: MelConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.current = cfg
        self.nfft_combo = QComboBox()
        self.nfft_combo.setObjectName("n_fft")
        for n in (256, 512, 1024, 2048, 4096, 8192):
            self.nfft_combo.addItem(str(n), n)
        self.hop_spin = QSpinBox()
        self.hop_spin.setObjectName("hop")
        self.hop_spin.setRange(32, 8192)
        self.hop_spin.setSingleStep(64)
        self.mels_spin = QSpinBox()
        self.mels_spin.setObjectName("n_mels")
        self.mels_spin.setRange(8, 256)
        self.fmax_spin = QSpinBox()
        self.fmax_spin.setObjectName("fmax")
        self.fmax_spin.setRange(500, cfg.sr // 2)
        self.fmax_spin.setSingleStep(500)
        self.fmax_spin.setSuffix(" Hz")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("apply_settings")
        self.apply_button.clicked.connect(self.apply)
        self.reset_button = QPushButton("Defaults")
        self.reset_button.setToolTip("128 mel bands up to 8000 Hz, n_fft 2048, hop 512 (the course labs' settings)")
        self.reset_button.clicked.connect(self.reset)
        self.note = line_label()
        self._show(cfg)
        self.nfft_combo.currentIndexChanged.connect(self._edited)
        for w in (self.hop_spin, self.mels_spin, self.fmax_spin):
            w.valueChanged.connect(self._edited)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Spectrogram:"))
        for label, w in (("n_fft", self.nfft_combo), ("hop", self.hop_spin), ("mel bands", self.mels_spin),
                         ("fmax", self.fmax_spin)):
            row.addWidget(QLabel(label))
            row.addWidget(w)
        row.addWidget(self.apply_button)
        row.addWidget(self.reset_button)
        row.addStretch(1)
        row.addWidget(self.note)
        self._edited()

    def config(self) -> MelConfig:
        """The controls' settings (raises ConfigError for an invalid combination)."""
        return MelConfig(sr=self.current.sr, n_fft=int(self.nfft_combo.currentData()),
                         hop_length=self.hop_spin.value(), n_mels=self.mels_spin.value(),
                         fmax=float(self.fmax_spin.value()))

    def apply(self) -> None:
        try:
            cfg = self.config()
        except ConfigError:
            return  # Apply is disabled then; the reason is already on screen
        self.current = cfg
        self.apply_button.setEnabled(False)
        self.applied.emit(cfg)

    def reset(self) -> None:
        self._show(MelConfig(sr=self.current.sr))
        self.apply()

    def _show(self, cfg: MelConfig) -> None:
        self.nfft_combo.setCurrentIndex(max(0, self.nfft_combo.findData(cfg.n_fft)))
        self.hop_spin.setValue(cfg.hop_length)
        self.mels_spin.setValue(cfg.n_mels)
        self.fmax_spin.setValue(int(cfg.fmax))

    def _edited(self, *_) -> None:
        try:
            cfg = self.config()
        except ConfigError as exc:
            self.apply_button.setEnabled(False)
            self.apply_button.setToolTip(str(exc))
            self.note.setText(f"<span style='color:#c62828'>{exc.reason}</span>")
            return
        self.apply_button.setToolTip("Recompute the spectrogram with these settings")
        self.note.setText(f"analysis at {cfg.sr:,} Hz")
        self.apply_button.setEnabled(cfg != self.current)
