"""Presentation mode (View menu, Ctrl+Shift+P): every plot of every panel gets text at least twice
as large, thick lines and high contrast, in both themes, remembered across starts; toggling back
restores the plots. And the legends' run names (widgets/run_names.py)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontInfo, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication

from instrument_studio.gui import presentation
from instrument_studio.gui.widgets.curves import TrainingCurves
from instrument_studio.gui.widgets.run_names import run_labels


def tick_px(axis: pg.AxisItem) -> int:
    """The pixel size of the tick labels an axis draws (pyqtgraph falls back to the widget font)."""
    return QFontInfo(axis.style.get("tickFont") or QFont()).pixelSize()


def plots(window) -> list[tuple[str, pg.GraphicsView]]:
    return [(name, view) for name, panel in window.panels.items() for view in panel.findChildren(pg.GraphicsView)]


def axes(view) -> list[pg.AxisItem]:
    return [i for i in view.scene().items() if isinstance(i, pg.AxisItem) and i.isVisible() and i.style["showValues"]]


def test_presentation_mode_on_every_plot_and_back(qtbot, window):
    training = window.panels["TrainingPanel"]
    training.curves.add_run(1, "lr 0.001")
    training.curves.add_epoch(1, 1, loss=1.0, accuracy=0.5, val_loss=1.2, val_accuracy=0.4)
    training.curves.refresh(force=True)
    views = plots(window)
    panels_with_plots = {name for name, _ in views}
    assert {"AudioPanel", "LivePanel", "DatasetPanel", "TrainingPanel", "EvaluationPanel",
            "ExperimentsPanel"} <= panels_with_plots
    before = {id(a): tick_px(a) for _, v in views for a in axes(v)}
    loss_item = training.curves._runs[1].items["loss"]
    width_before = pg.mkPen(loss_item.opts["pen"]).widthF()
    title_before = training.curves.loss_plot.plotItem.titleLabel.opts.get("size")

    action = window.presentation_action
    assert action in window.view_menu.actions() and action.shortcut() == QKeySequence("Ctrl+Shift+P")
    action.trigger()
    assert presentation.is_on() and window.ctx.settings.get("view/presentation", False, type_=bool)
    for name, view in views:
        for axis in axes(view):
            assert tick_px(axis) >= 2 * before[id(axis)], (name, axis.orientation)
            assert pg.mkPen(axis.pen()).widthF() >= 2 or axis.pen().style() == 0
    assert pg.mkPen(loss_item.opts["pen"]).widthF() >= max(3, 2 * width_before)
    legend = training.curves.loss_plot.plotItem.legend
    assert all(label.opts["size"] == f"{presentation.big_px()}px" for _, label in legend.items)
    assert training.curves.loss_plot.plotItem.titleLabel.opts["size"] == f"{presentation.TITLE_PX}px"
    # High contrast: pure white behind black text in the light theme ...
    window.set_theme("light")
    assert pg.mkColor(pg.getConfigOption("background")).name() == "#ffffff"
    assert pg.mkColor(pg.getConfigOption("foreground")).name() == "#000000"
    # ... pure black behind white in the dark one, still big.
    window.set_theme("dark")
    assert pg.mkColor(pg.getConfigOption("background")).name() == "#000000"
    assert training.curves.loss_plot.backgroundBrush().color().name() == "#000000"
    assert tick_px(training.curves.loss_plot.getAxis("left")) >= 2 * before[id(training.curves.loss_plot.getAxis("left"))]
    # A run added now is drawn thick too.
    training.curves.add_run(2, "lr 0.01")
    assert pg.mkPen(training.curves._runs[2].items["val_loss"].opts["pen"]).widthF() >= 3

    action.trigger()
    window.set_theme("system")
    assert not presentation.is_on() and not window.ctx.settings.get("view/presentation", True, type_=bool)
    for _name, view in views:
        for axis in axes(view):
            assert tick_px(axis) == before[id(axis)]
    assert pg.mkPen(loss_item.opts["pen"]).widthF() == width_before
    assert training.curves.loss_plot.plotItem.titleLabel.opts.get("size") == title_before
    base = QApplication.instance().palette().color(QPalette.Base).name()
    assert pg.mkColor(pg.getConfigOption("background")).name() == base    # the theme's own colours again
    assert training.curves.loss_plot.backgroundBrush().color().name() == base


def test_presentation_mode_is_remembered(qtbot, window, tmp_path):
    from PySide6.QtCore import QSettings

    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings

    window.presentation_action.trigger()
    window.close()
    presentation.set_on(False)
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    again = MainWindow(AppContext(settings, player=window.ctx.player))
    qtbot.addWidget(again)
    try:
        assert again.presentation_action.isChecked() and presentation.is_on()
        curves = again.panels["TrainingPanel"].curves
        assert tick_px(curves.loss_plot.getAxis("bottom")) >= 2 * QFontInfo(QFont()).pixelSize()
    finally:
        again.presentation_action.setChecked(False)
        again.close()


def test_sweep_and_confusion_views_rebuilt_in_presentation_mode_stay_big(qtbot, window):
    window.presentation_action.trigger()
    try:
        ev = window.panels["EvaluationPanel"]
        confusion = ev.findChild(pg.GraphicsLayoutWidget)
        if confusion is not None:
            texts = [i for i in confusion.scene().items() if isinstance(i, pg.TextItem)]
            assert all(QFontInfo(t.textItem.font()).pixelSize() >= 2 * 8 for t in texts)
        from instrument_studio.gui.widgets.sweep_charts import SweepBars

        bars = SweepBars()
        qtbot.addWidget(bars)
        bars.test_acc.show_bars(["0.001", "0.01"], [0.8, 0.9], [0.01, 0.02], [(0, 0.8), (1, 0.9)], x_label="lr")
        assert tick_px(bars.test_acc.getAxis("left")) >= 2 * QFontInfo(QFont()).pixelSize()
        errors = [i for i in bars.test_acc.plotItem.items if isinstance(i, pg.ErrorBarItem)]
        assert errors and pg.mkPen(errors[0].opts["pen"]).widthF() >= 3
    finally:
        window.presentation_action.trigger()


def test_curves_legend_renamed_and_dashed_for_validation(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    for key in (1, 2):
        curves.add_run(key, f"run {key}")
        curves.add_epoch(key, 1, loss=1.0, accuracy=0.5, val_loss=1.1, val_accuracy=0.45)
    curves.set_run_labels({1: "lr 0.001", 2: "lr 0.01"})
    items = curves.loss_plot.plotItem.legend.items
    # One entry per run (its solid training line); the validation lines are its dashed twins.
    assert [label.text for _, label in items] == ["lr 0.001", "lr 0.01"]
    from PySide6.QtCore import Qt

    assert [pg.mkPen(s.item.opts["pen"]).style() for s, _ in items] == [Qt.SolidLine] * 2
    dashed = [i for i in curves.loss_plot.plotItem.listDataItems() if pg.mkPen(i.opts["pen"]).style() == Qt.DashLine]
    assert len(dashed) == 2 and all(i.isVisible() for i in dashed)
    curves.set_visible_runs([2])
    assert curves.legend_texts("loss") == ["lr 0.01"]
    curves.set_visible_runs([1, 2])          # back in the legend under its new name
    assert sorted(curves.legend_texts("loss")) == ["lr 0.001", "lr 0.01"]


class Cfg:
    def __init__(self, **kw):
        base = {"model": "mlp", "features": "mfcc", "optimizer": "adam", "lr": 0.001, "batch": 128, "epochs": 10,
                "seed": 0}
        self.d = {**base, **kw}


def test_run_labels_say_what_differs():
    base = Cfg().d
    assert run_labels({1: base, 2: Cfg(lr=0.01).d}) == {1: "lr 0.001", 2: "lr 0.01"}
    assert run_labels({1: base, 2: Cfg(batch=512).d}) == {1: "batch 128", 2: "batch 512"}
    assert run_labels({1: base, 2: Cfg(optimizer="sgd").d}) == {1: "adam", 2: "sgd"}
    assert run_labels({1: base, 2: Cfg(optimizer="sgd", lr=0.01).d}) == {1: "adam, lr 0.001", 2: "sgd, lr 0.01"}
    assert run_labels({1: Cfg(**{"param units": 256}).d, 2: Cfg(**{"param units": 128}).d}) == \
        {1: "units 256", 2: "units 128"}
    same = run_labels({1: base, 2: dict(base), 3: Cfg(lr=0.1).d})
    assert same == {1: "lr 0.001 (run 1)", 2: "lr 0.001 (run 2)", 3: "lr 0.1"}
    assert run_labels({7: base}) == {7: "mlp · adam lr 0.001 · batch 128"}
    rng = np.random.default_rng(0)
    many = {k: Cfg(lr=float(v)).d for k, v in enumerate(rng.choice([0.1, 0.01, 0.001], size=3, replace=False))}
    assert sorted(run_labels(many).values()) == ["lr 0.001", "lr 0.01", "lr 0.1"]
