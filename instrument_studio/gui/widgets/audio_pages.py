"""Two pieces of the Audio panel: the page shown before any file is open (drop here, or open
the example), and the loading row (what is happening, how far, Cancel)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from .message_label import empty_state, line_label


class EmptyAudioPage(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.empty_label = empty_state("Drop an audio file here", "or press <b>Ctrl+O</b> to open one. WAV, AIFF, "
                                       "FLAC, OGG and MP3, at any sample rate.", name="empty_state", framed=False)
        self.example_button = QPushButton("Open an example: a violin phrase from the starter set")
        self.example_button.setObjectName("open_example")
        self.example_button.setToolTip("Rendered on this computer from a General MIDI SoundFont the first time "
                                       "(a few seconds), then kept")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.example_button, 0, Qt.AlignHCenter)
        layout.addStretch(1)


class LoadProgressRow(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setObjectName("load_progress")
        self.progress.setRange(0, 1000)
        self.label = line_label()
        self.cancel_button = QPushButton("Cancel")
        row = QHBoxLayout(self)
        row.addWidget(self.label)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.setVisible(False)

    def show_progress(self, text: str, fraction: float | None) -> None:
        """Show the row with `text`; `fraction` None: busy without a measure."""
        self.setVisible(True)
        self.label.setText(text)
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
