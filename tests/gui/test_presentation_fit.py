"""Presentation mode at 1280x720, as the screenshots showed it: the Live panel's frequency labels
piled on each other, the Dataset chart's key and the batch plot's title were cut off. Each now fits,
and toggling back restores the usual layout."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QFont, QFontInfo

from instrument_studio.gui import presentation


def _presenting(window, qtbot, panel, monkeypatch=None) -> None:
    window.resize(1280, 720)
    window.tabs.setCurrentWidget(panel)
    window.presentation_action.trigger()
    assert presentation.is_on()
    qtbot.wait(100)    # the layouts settle


def test_live_frequency_labels_apart_and_axis_names_fit(qtbot, window):
    live = window.panels["LivePanel"]
    _presenting(window, qtbot, live)
    try:
        view = live.view
        axis = view.getAxis("left")
        px = QFontInfo(axis.style.get("tickFont") or QFont()).pixelSize()
        height = view.plotItem.vb.height()
        assert height >= 300, height         # the spectrogram has the room (the take recorder folded away)
        positions = [pos for pos, _label in axis._tickLevels[0]]
        gaps = np.diff(positions) * height / view.cfg.n_mels
        assert len(positions) >= 3 and gaps.min() >= 1.2 * px, (gaps, px)
        # Both names read along the axis: no longer than the view is high.
        for name_axis in (axis, view.colorbar.getAxis("left")):
            assert name_axis.label.isVisible()
            assert name_axis.label.boundingRect().width() <= height, name_axis.labelText
        # The tick text and the axis name do not share pixels.
        assert axis.width() >= axis.label.boundingRect().height() + 2 * px
        # The colour bar's top label ("0" dB, centred on the bar's top end) is not cut by the
        # widget's edge: there is half a label of room above the bar.
        bar_top = view.mapFromScene(view.colorbar.bar.sceneBoundingRect().topLeft()).y()
        assert bar_top >= px / 2, (bar_top, px)
    finally:
        window.presentation_action.trigger()
    assert live.views.sizes()[-1] > 0          # the take recorder is back
    assert view.getAxis("left").labelText.startswith("Frequency")


def test_dataset_key_fits_above_the_chart(qtbot, window, monkeypatch):
    dataset = window.panels["DatasetPanel"]
    monkeypatch.setattr(type(dataset), "ensure_dataset", lambda self: None)   # shown, it would render the starter set
    classes = ["piano", "acoustic-guitar", "violin", "cello", "trumpet", "trombone", "saxophone", "oboe",
               "clarinet", "flute"]
    dataset.counts_view.set_counts(classes, {"train": dict.fromkeys(classes, 154), "val": dict.fromkeys(classes, 38),
                                             "test": dict.fromkeys(classes, 48)})
    _presenting(window, qtbot, dataset)
    try:
        view = dataset.counts_view
        title = view.plotItem.titleLabel
        assert "val" in title.text and "test" in title.text
        assert title.item.boundingRect().width() <= view.plotItem.width(), (title.item.boundingRect().width(),
                                                                            view.plotItem.width())
        assert view.plotItem.width() <= view.width()     # the chart is not cut at the splitter
    finally:
        window.presentation_action.trigger()
    assert "validation" in dataset.counts_view.plotItem.titleLabel.text


def test_batch_plot_title_fits(qtbot, window, monkeypatch):
    training = window.panels["TrainingPanel"]
    monkeypatch.setattr(type(training.summary_view), "activate", lambda self: None)   # no TensorFlow import
    _presenting(window, qtbot, training)
    plot = training.curves.batch_plot
    try:
        label = plot.plotItem.titleLabel
        assert label.item.boundingRect().width() <= plot.plotItem.vb.width(), label.text
    finally:
        window.presentation_action.trigger()
    assert plot.plotItem.titleLabel.text == "Training loss per batch"


def test_waveform_amplitude_ticks_apart_and_name_fits(qtbot, window, tmp_path):
    from tests.audio_factory import tone, write
    from tests.gui.test_audio_panel import open_and_wait

    path = write(tmp_path / "a440.wav", tone(440, 2.0, 22050), 22050)
    panel = open_and_wait(qtbot, window, path)
    _presenting(window, qtbot, panel)
    try:
        wave = panel.waveform
        axis = wave.getAxis("left")
        px = QFontInfo(axis.style.get("tickFont") or QFont()).pixelSize()
        height = wave.plotItem.vb.height()
        values = [v for v, _label in axis._tickLevels[0]]
        assert values == [-1.0, 0.0, 1.0]
        assert (values[1] - values[0]) / 2.0 * height >= 1.2 * px, (height, px)
        assert axis.label.boundingRect().width() <= height, axis.labelText
        # The "1" at the top of the range is centred on the plot's top edge: half a label of room
        # above it, or the widget's edge cuts it.
        top = wave.mapFromScene(wave.plotItem.vb.sceneBoundingRect().topLeft()).y()
        assert top >= px / 2, (top, px)
    finally:
        window.presentation_action.trigger()
    axis = panel.waveform.getAxis("left")
    assert axis.labelText == "Amplitude" and axis._tickLevels is None     # automatic ticks again
    qtbot.wait(50)    # the layout settles
    assert wave.mapFromScene(wave.plotItem.vb.sceneBoundingRect().topLeft()).y() < px / 2   # desk margins back


def test_predict_table_is_read_at_presentation_size(qtbot, window):
    """The Predict panel has no plot: its answers table was left at desk size in presentation mode."""
    panel = window.panels["PredictPanel"]
    normal = QFontInfo(panel.table.font()).pixelSize()
    _presenting(window, qtbot, panel)
    try:
        assert QFontInfo(panel.table.font()).pixelSize() == presentation.big_px() > normal
        assert panel.table.verticalHeader().defaultSectionSize() >= presentation.big_px()
    finally:
        window.presentation_action.trigger()
    assert QFontInfo(panel.table.font()).pixelSize() == normal


def _text_height(widget) -> int:
    """Rows of the widget's picture that hold text (pixels far from the background)."""
    image = widget.grab().toImage()
    bg = image.pixelColor(2, 2).lightness()
    rows = [y for y in range(image.height())
            if any(abs(image.pixelColor(x, y).lightness() - bg) > 90 for x in range(4, min(image.width(), 300), 2))]
    return (rows[-1] - rows[0] + 1) if rows else 0


def test_predict_table_header_is_big_in_the_dark_theme_too(qtbot, window):
    """Under the dark theme's application style sheet the header ignored its new font: its titles
    stayed at desk size above big rows."""
    from PySide6.QtWidgets import QApplication

    from instrument_studio.gui.theme import apply_theme

    panel = window.panels["PredictPanel"]
    header = panel.table.horizontalHeader()
    window.set_theme("dark")
    try:
        _presenting(window, qtbot, panel)
        try:
            qtbot.wait(50)
            big = _text_height(header)
            assert big >= 0.55 * presentation.big_px(), (big, presentation.big_px())
        finally:
            window.presentation_action.trigger()
        qtbot.wait(50)
        assert _text_height(header) < 0.8 * big
    finally:
        window.set_theme("light")
        apply_theme(QApplication.instance(), "light")
