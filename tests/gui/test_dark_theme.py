"""Switching to the dark theme while the app runs reaches every plot and the radio buttons (issue 11 #20)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from instrument_studio.gui.theme import apply_theme
from instrument_studio.gui.widgets.file_prediction import FilePredictionView


def lightness(widget) -> int:
    return widget.backgroundBrush().color().lightness()


def ring_contrast(button) -> int:
    """How far the brightest pixel of the radio button's indicator stands above the window."""
    image = button.grab().toImage()
    h = image.height()
    window = QApplication.instance().palette().window().color().lightness()
    return max(image.pixelColor(x, y).lightness() for x in range(0, 18) for y in range(h)) - window


def test_view_theme_dark_recolours_plots_made_in_the_light_theme(qtbot, window):
    evaluation = window.panels["EvaluationPanel"]
    experiments = window.panels["ExperimentsPanel"]
    timeline = window.findChildren(FilePredictionView)[0].timeline
    labels = ["violin", "cello", "flute"]
    counts = np.eye(3) * 10 + 1
    evaluation.confusion.set_matrix(labels, counts, counts / counts.sum(1, keepdims=True))
    views = {"confusion matrix": evaluation.confusion.graphics, "clip spectrogram": evaluation.clips.spectrogram,
             "per-class accuracy": evaluation.accuracy_chart, "bar chart": experiments.bars.time,
             "prediction timeline": timeline, "waveform": window.audio_panel.waveform}
    try:
        window.set_theme("light")
        assert all(lightness(v) > 200 for v in views.values())
        dark = next(a for a in window.theme_menu.actions() if a.text() == "Dark")
        dark.trigger()                                            # View > Theme > Dark
        still_light = [name for name, v in views.items() if lightness(v) > 100]
        assert still_light == []
        # axis text follows: light text on the dark plots
        axis = experiments.bars.time.getAxis("left")
        assert axis.textPen().color().lightness() > 150
        # the radio buttons' rings are visible against the dark window
        window.tabs.setCurrentWidget(evaluation)
        evaluation.confusion.setEnabled(True)
        assert ring_contrast(evaluation.confusion.norm_button) > 60
    finally:
        window.set_theme("light")
        apply_theme(QApplication.instance(), "light")
