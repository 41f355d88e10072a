"""Plot text a user can read: no overlapping tick labels, readable value labels, a "0" for now
on the live time axis (issue 11 #11). Checked on what the axes actually draw."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QVBoxLayout, QWidget

from instrument_studio.core.evaluation.report import make_report
from instrument_studio.gui import presentation
from instrument_studio.gui.widgets.curves import TrainingCurves
from instrument_studio.gui.widgets.live_spectrogram import LiveSpectrogramView
from instrument_studio.gui.widgets.metric_views import ROW_PX, PerClassAccuracyChart
from instrument_studio.gui.widgets.spectrogram_view import SpectrogramView
from instrument_studio.gui.widgets.sweep_charts import SweepCurves


def drawn_labels(axis: pg.AxisItem) -> list[tuple[str, object]]:
    """(text, rect) of every tick label the axis paints now."""
    image = QImage(10, 10, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(text, rect) for rect, _flags, text in specs[2] if text]


def assert_apart(labels, margin: float = 3.0) -> None:
    """No two labels touch: pyqtgraph itself only drops labels that would overlap, and leaves
    ones that abut ("10.9" read as one label); a few pixels must separate them."""
    rects = [r.adjusted(-margin, -margin, margin, margin) for _, r in labels]
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not a.intersects(b), [t for t, _ in labels]


def test_loss_log_axis_labels_do_not_overlap(qtbot):
    curves = SweepCurves()
    qtbot.addWidget(curves)
    curves.resize(1200, 190)  # about its height in the 1280x720 window
    curves.show()
    qtbot.waitExposed(curves)
    axis = curves.loss.getAxis("left")
    epochs = np.arange(1, 31)
    for loss in (0.9 * np.exp(-epochs / 30) + 0.25, 3.0 * np.exp(-epochs / 4) + 0.004):  # < 1 decade; ~3
        curves.loss.clear()
        curves.loss.plot(epochs, loss)
        curves.loss.enableAutoRange()
        qtbot.wait(50)
        labels = drawn_labels(axis)
        assert len(labels) >= 2, labels
        assert_apart(labels)


def test_per_class_accuracy_rows_are_readable(qtbot):
    labels = [f"instrument-{i:02d}" for i in range(20)]
    y = np.repeat(np.arange(20), 5)
    scores = np.eye(20)[y] + 0.01
    chart = PerClassAccuracyChart()
    area = chart.in_scroll_area()
    qtbot.addWidget(area)
    area.resize(1200, 170)                # a short tab: the rows scroll instead of squeezing
    area.show()
    chart.set_report(make_report(labels, y, scores))
    qtbot.waitExposed(area)
    qtbot.waitUntil(lambda: chart.height() >= 20 * ROW_PX)
    qtbot.wait(50)
    names = drawn_labels(chart.getAxis("left"))
    assert len(names) == 20
    assert_apart(names)
    texts = [item for item in chart._items if isinstance(item, pg.TextItem)]
    assert texts and all(t.color == pg.mkColor(pg.getConfigOption("foreground")) for t in texts)


def test_live_time_axis_shows_now_as_0(qtbot):
    view = LiveSpectrogramView()
    qtbot.addWidget(view)
    view.resize(900, 300)
    view.show()
    qtbot.waitExposed(view)
    shown = [text for text, _ in drawn_labels(view.getAxis("bottom"))]
    assert "0" in shown and "-1" in shown, shown


def test_per_class_value_texts_fit_in_presentation_mode(qtbot):
    """At presentation size "100%  (n=5)" ran past the right edge of the chart (cut in the
    screenshot); its text now ends inside the plot, in both modes."""

    labels = ["piano", "violin", "cello"]
    y = np.repeat(np.arange(3), 5)
    chart = PerClassAccuracyChart()
    area = chart.in_scroll_area()
    qtbot.addWidget(area)
    area.resize(1260, 400)
    area.show()
    chart.set_report(make_report(labels, y, np.eye(3)[y] + 0.01))
    qtbot.waitExposed(area)

    def overflow() -> float:
        vb = chart.plotItem.vb
        right = vb.mapSceneToView(vb.sceneBoundingRect().topRight()).x()
        return max(t.mapRectToView(t.boundingRect()).right() - right
                   for t in chart._items if isinstance(t, pg.TextItem))

    try:
        for on in (False, True):
            presentation.set_on(on)
            presentation.style_all(area)
            qtbot.wait(50)
            assert overflow() <= 0, on
    finally:
        presentation.set_on(False)
        presentation.style_all(area)


def test_training_curves_draw_grid_lines_only_where_a_value_is_labelled(qtbot, monkeypatch):
    """Every grid line of the training curves is at a labelled value (no unlabelled minor lines:
    they were a third of the GUI's CPU while training and blurred the grid in class), and a new
    epoch, which moves the epoch plots' ranges, does not re-make their symbols."""
    area = QWidget()     # presentation mode reaches the widgets under a window's root
    qtbot.addWidget(area)
    curves = TrainingCurves(area)
    QVBoxLayout(area).addWidget(curves)
    area.resize(1260, 400)   # about its size in the 1280x720 window
    area.show()
    curves.add_run("r", "run 1")
    b = np.arange(250)
    curves.add_batches("r", (b + 1) / 125, 2.3 * np.exp(-b / 100))
    for epoch in (1, 2):
        curves.add_epoch("r", epoch, loss=1.0 / epoch, accuracy=0.5 + epoch / 10, val_loss=1.1 / epoch,
                         val_accuracy=0.4 + epoch / 10)
    curves.refresh(force=True)
    try:
        for on in (False, True):
            presentation.set_on(on)
            presentation.style_all(area)
            qtbot.wait(50)
            for plot in (curves.batch_plot, curves.loss_plot, curves.acc_plot):
                for side in ("left", "bottom"):
                    axis = plot.getAxis(side)
                    labelled = [text for text, _rect in drawn_labels(axis)]
                    length = axis.width() if side == "bottom" else axis.height()
                    levels = axis.tickValues(*axis.range, length)      # (spacing, values) per tick level
                    assert len(labelled) >= 3 and len(levels) == 1, (on, plot.plotItem.titleLabel.text, side,
                                                                     labelled, levels)
            # Accuracy's whole scale is named, both ends included, at presentation size too.
            ends = {text for text, _rect in drawn_labels(curves.acc_plot.getAxis("left"))} & {"0", "0.0", "1", "1.0"}
            assert len(ends) == 2, (on, drawn_labels(curves.acc_plot.getAxis("left")))
    finally:
        presentation.set_on(False)
        presentation.style_all(area)

    remade = []
    scatter = curves._runs["r"].items["loss"].scatter
    monkeypatch.setattr(scatter, "setData", lambda *a, **k: remade.append(1))
    curves.add_batches("r", np.array([2.2]), np.array([0.1]))    # the third epoch begins: x to 3
    curves.add_epoch("r", 3, loss=0.05, accuracy=0.9, val_loss=0.3, val_accuracy=0.8)   # y range grows
    curves.refresh(force=True)
    qtbot.wait(50)
    assert curves.loss_plot.viewRange()[0][1] >= 3.0 and remade == [1]   # its own new point only


@pytest.mark.parametrize("make", [SpectrogramView, LiveSpectrogramView], ids=["audio", "live"])
def test_colour_bar_values_stay_readable_in_presentation_mode(qtbot, make):
    """At presentation size the spectrogram colour bars showed no value but "0" (pyqtgraph keeps
    the bar's axis 45 px wide and drops wider labels): a bar without numbers says nothing."""
    area = QWidget()
    qtbot.addWidget(area)
    view = make()
    QVBoxLayout(area).addWidget(view)
    area.resize(1260, 330)      # about the Audio panel's spectrogram at 1280x720
    area.show()
    qtbot.waitExposed(area)
    try:
        for on in (False, True):
            presentation.set_on(on)
            presentation.style_all(area)
            qtbot.wait(50)
            shown = [text for text, _ in drawn_labels(view.colorbar.axis)]
            assert len(shown) >= 3 and "0" in shown and any(t.startswith(("-", "\u2212")) for t in shown), (on, shown)
    finally:
        presentation.set_on(False)
        presentation.style_all(area)


def test_confusion_names_and_counts_fit_their_rows_in_presentation_mode(qtbot):
    """Ten classes at 1280x720 in presentation mode: the rows were 20 px high and their 30 px
    names and counts ran into each other. Names stay apart, counts no taller than a cell, and
    both are still larger than at normal size."""
    from PySide6.QtGui import QFontInfo, QFontMetricsF

    from instrument_studio.gui.widgets.confusion_view import ConfusionView

    area = QWidget()
    qtbot.addWidget(area)
    view = ConfusionView()
    QVBoxLayout(area).addWidget(view)
    area.resize(975, 410)     # its share of the Evaluation panel at 1280x720
    area.show()
    labels = ["piano", "acoustic-guitar", "violin", "cello", "trumpet", "trombone", "saxophone", "oboe",
              "clarinet", "flute"]
    counts = np.eye(10, dtype=int) * 48
    view.set_matrix(labels, counts, counts / 48.0)
    qtbot.waitExposed(area)
    def px(item) -> int:
        return QFontInfo(item.textItem.font()).pixelSize()

    normal_px = px(view._texts[0])
    try:
        presentation.set_on(True)
        presentation.style_all(area)
        def settled() -> bool:   # the axes widen and the fonts follow the cells over a few frames
            cell = view.plot.vb.height() / 10
            font = view._texts[0].textItem.font()
            return (len(drawn_labels(view.plot.getAxis("left"))) == 10 and px(view._texts[0]) > normal_px
                    and QFontMetricsF(font).height() <= cell + 1)

        qtbot.waitUntil(settled, timeout=5000)
        assert_apart(drawn_labels(view.plot.getAxis("left")), margin=0.0)
    finally:
        presentation.set_on(False)
        presentation.style_all(area)
    assert px(view._texts[0]) == normal_px


def test_level_meter_scale_is_read_from_afar_in_presentation_mode(qtbot):
    """The Live panel's level meter kept its 9 px dB numbers in presentation mode."""
    from PySide6.QtGui import QFontInfo, QFontMetrics

    from instrument_studio.gui.widgets.level_meter import LevelMeter

    area = QWidget()
    qtbot.addWidget(area)
    meter = LevelMeter()
    QVBoxLayout(area).addWidget(meter)
    area.resize(700, 120)
    area.show()
    qtbot.waitExposed(area)
    normal_px, normal_h = QFontInfo(meter.scale_font()).pixelSize(), meter.height()
    try:
        presentation.set_on(True)
        presentation.style_all(area)
        qtbot.waitUntil(lambda: meter.height() > normal_h, timeout=2000)
        font = meter.scale_font()
        assert QFontInfo(font).pixelSize() >= max(16, 1.5 * normal_px), (normal_px, QFontInfo(font).pixelSize())
        bar = meter._bar_rect()
        assert bar.bottom() + 3 + QFontMetrics(font).height() <= meter.height() + 1   # the numbers are inside it
    finally:
        presentation.set_on(False)
        presentation.style_all(area)
    qtbot.waitUntil(lambda: meter.height() == normal_h, timeout=2000)
    assert QFontInfo(meter.scale_font()).pixelSize() == normal_px
