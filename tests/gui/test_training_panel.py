"""The Training panel, driven like a user would: a short run in the worker, live curves, Stop,
overlaying runs, the model summary, saving a bundle, refusing a second run, reporting failures."""

from __future__ import annotations

import threading
import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from instrument_studio.core.learn.bundle import load_bundle
from instrument_studio.core.learn.control import TrainingControl
from instrument_studio.core.learn.tfthread import run_in_tf_thread
from tests.training_data import blobs


def tiny_training_panel(window, *, epochs: int):
    """The Training panel, shown, on a tiny generated feature set, set to train `epochs` epochs."""
    p = window.panels["TrainingPanel"]
    window.tabs.setCurrentWidget(p)
    p.use_feature_set(blobs(n_train=240, n_classes=3, dim=12), "tiny generated set")
    p.form.epochs_box.setValue(epochs)
    return p


@pytest.fixture
def panel(window, qtbot):
    p = tiny_training_panel(window, epochs=2)
    p.form.lr_box.setValue(0.01)
    p.form.batch_box.setValue(16)
    return p


def train_and_wait(qtbot, panel, timeout=90000):
    with qtbot.waitSignal(panel.run_finished, timeout=timeout) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=10000)
    return blocker.args[0]


def test_short_training_draws_curves_and_lists_the_run(qtbot, panel):
    run = train_and_wait(qtbot, panel)
    batches = int(np.ceil(192 / 16))            # 240 rows, 20 % held out for validation
    assert run.epochs_run == 2 and run.stop_reason == "completed"
    counts = panel.curves.point_counts(run.id)
    assert counts == {"batch_loss": 2 * batches, "loss": 2, "val_loss": 2, "accuracy": 2, "val_accuracy": 2}
    assert panel.runs == [run] and panel.table.rowCount() == 1
    assert panel.table.item(0, 2).text() == "mlp" and panel.table.item(0, 7).text() == "2/2"
    assert panel.table.item(0, 9).text().endswith("%")          # test accuracy shown
    assert "completed after 2 epoch(s)" in panel.status_label.text()
    assert panel.device_label.text() == "Device: CPU"
    assert panel.progress.text() == "run 1: completed"
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()
    # axes and series are labelled
    assert panel.curves.batch_plot.plotItem.getAxis("bottom").labelText == "epoch"
    # A run alone is named by its settings, once, by its solid training line; validation is dashed.
    items = panel.curves.loss_plot.plotItem.legend.items
    assert [label.text for _, label in items] == ["mlp · adam lr 0.01 · batch 16"]
    assert [pg.mkPen(sample.item.opts["pen"]).style() for sample, _ in items] == [Qt.SolidLine]
    styles = [pg.mkPen(i.opts["pen"]).style() for i in panel.curves.loss_plot.plotItem.listDataItems()]
    assert sorted(styles, key=lambda s: s.value) == [Qt.SolidLine, Qt.DashLine]


class RecordingControl(TrainingControl):
    """Counts how often the training thread asks should_stop() after Stop was pressed."""

    def __init__(self):
        super().__init__()
        self.asked_after_set = 0

    def should_stop(self) -> bool:
        answer = super().should_stop()
        if threading.current_thread() is not threading.main_thread():
            self.asked_after_set += answer
        return answer


def test_stop_mid_run_ends_within_one_batch_and_keeps_the_best_weights(qtbot, panel):
    panel.form.epochs_box.setValue(500)
    panel.form.batch_box.setValue(8)
    panel._control = panel.extras.control = RecordingControl()
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel._last_epoch is not None and panel._last_epoch.epoch >= 2, timeout=90000)
    assert panel.stop_button.isEnabled()
    with qtbot.waitSignal(panel.run_finished, timeout=30000) as blocker:
        qtbot.mouseClick(panel.stop_button, Qt.LeftButton)
    run = blocker.args[0]
    assert run.stop_reason == "stopped by user" and 2 <= run.epochs_run < 500
    assert panel._control.asked_after_set == 1          # the very next batch end stopped it
    assert run.result.restored_best and 1 <= run.best_epoch <= run.epochs_run
    assert "stopped by user" in panel.table.item(0, 12).text()
    qtbot.waitUntil(lambda: panel.train_button.isEnabled(), timeout=5000)


def test_a_second_run_cannot_start_while_one_runs(qtbot, panel):
    panel.form.epochs_box.setValue(500)
    with qtbot.waitSignal(panel.run_started, timeout=60000):
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
        assert not panel.train_button.isEnabled()
        assert panel.start_training() is False
        assert "in progress" in panel.status_label.text()
    qtbot.waitUntil(lambda: panel._last_epoch is not None, timeout=60000)
    with qtbot.waitSignal(panel.run_finished, timeout=60000):
        qtbot.mouseClick(panel.stop_button, Qt.LeftButton)
    assert len(panel.runs) == 1


def test_stop_before_the_first_epoch_ends_is_not_a_run(qtbot, panel):
    panel.form.batch_box.setValue(1)        # a long first epoch: the Stop lands inside it at the latest
    with qtbot.waitSignal(panel.run_failed, timeout=60000) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
        qtbot.mouseClick(panel.stop_button, Qt.LeftButton)    # while the run is still being prepared
    assert "stopped before its first epoch finished" in blocker.args[0] and panel.progress.text() == "stopped"
    qtbot.waitUntil(lambda: panel.train_button.isEnabled(), timeout=5000)
    assert panel.runs == [] and panel.curves.runs() == []


def test_two_runs_overlay_on_the_same_axes(qtbot, panel):
    first = train_and_wait(qtbot, panel)
    panel.form.optimizer_box.setCurrentIndex(panel.form.optimizer_box.findData("sgd"))
    second = train_and_wait(qtbot, panel)
    assert second.config.optimizer == "sgd" and first.config.optimizer == "adam"
    assert panel.curves.visible_runs() == [second.id]        # a new run starts on a clean view
    panel.table.item(0, 0).setCheckState(Qt.Checked)
    assert panel.curves.visible_runs() == [first.id, second.id]
    assert panel.curves.colour(first.id) != panel.curves.colour(second.id)
    # Named by what differs between them, not "run 1" and "run 2".
    legend = [label.text for _, label in panel.curves.acc_plot.plotItem.legend.items]
    assert sorted(legend) == ["adam", "sgd"]
    panel.table.item(1, 0).setCheckState(Qt.Unchecked)
    assert panel.curves.visible_runs() == [first.id]
    assert panel.curves.legend_texts("batch") == ["mlp · adam lr 0.01 · batch 16"]


def test_model_summary_follows_the_chosen_model(qtbot, panel):
    with qtbot.waitSignal(panel.summary_ready, timeout=60000):
        panel.form.params.editors["units"][0].setValue(64)
    text = panel.summary_view.toPlainText()
    assert "input (12,)" in text and "dense_1" in text
    assert f"total {12 * 64 + 64 + 64 * 3 + 3:,} parameters" in text


def test_saved_bundle_predicts_like_the_run(qtbot, panel, tmp_path):
    run = train_and_wait(qtbot, panel)
    with qtbot.waitSignal(panel.bundle_saved, timeout=30000) as blocker:
        panel.save_run_bundle(run, str(tmp_path / "bundle"))
    assert blocker.args[0] == str(tmp_path / "bundle") and "Saved" in panel.status_label.text()
    x = run.data.x["test"]
    reloaded = run_in_tf_thread(lambda: load_bundle(tmp_path / "bundle").predict_proba(x))
    original = run_in_tf_thread(run.result.predict_proba, x)
    np.testing.assert_array_equal(reloaded, original)


def test_a_failing_run_is_reported_and_the_panel_carries_on(qtbot, panel, window):
    panel.form.model_box.setCurrentIndex(panel.form.model_box.findData("lstm"))   # needs sequences
    with qtbot.waitSignal(panel.run_failed, timeout=60000) as blocker:
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    assert "lstm needs frame sequences" in blocker.args[0]
    assert window.last_error[0] == "Training failed"
    qtbot.waitUntil(lambda: panel.train_button.isEnabled(), timeout=5000)
    assert panel.curves.runs() == [] and panel.runs == []


def test_follows_the_dataset_panels_dataset(qtbot, window):
    from pathlib import Path

    from instrument_studio.core.datasets import Dataset

    panel = window.panels["TrainingPanel"]
    assert panel.source_box.currentText() == "Starter set (built in)"     # the default
    count = panel.source_box.count()
    window.ctx.set_dataset(Dataset(name="my takes", layout="folders", root=Path("/tmp"), classes=("a", "b"), clips=[]))
    assert panel.source_box.currentText() == "Dataset panel: my takes"
    assert panel.source().dataset.name == "my takes"
    panel.source_box.setCurrentIndex(0)
    window.ctx.set_dataset(Dataset(name="other", layout="folders", root=Path("/tmp"), classes=("a", "b"), clips=[]))
    assert panel.source_box.count() == count + 1                           # one entry that follows the panel
    assert panel.source_box.currentText() == "Dataset panel: other"
    assert "own validation split" in panel.form.val_note.text()


def test_mid_run_the_epoch_axes_and_the_header_agree(qtbot, panel, monkeypatch):
    """Issue 11 (14): mid-run the accuracy plot's x axis read -2...6 around its one point, and
    the header said "epoch 1 of 10" while the plots showed a finished epoch."""
    from instrument_studio.core.errors import Cancelled
    from instrument_studio.core.events import BatchEnd, EpochEnd, TrainStarted

    release = threading.Event()

    def fake_run(*, emit, should_stop, **_kw):   # a run that reaches a point the test chooses, then waits
        emit(TrainStarted(model="mlp", n_train=64, n_val=16, batch_size=16, batches_per_epoch=4, epochs=10,
                          device="CPU", n_params=100))
        for step in range(4):
            emit(BatchEnd(step=step, epoch=0, batch=step, epoch_float=(step + 1) / 4, loss=1.0 - 0.1 * step,
                          accuracy=0.3 + 0.05 * step, samples_seen=16 * (step + 1), elapsed=0.1 * (step + 1)))
        emit(EpochEnd(epoch=1, loss=0.7, accuracy=0.45, val_loss=0.8, val_accuracy=0.4, seconds=0.5, elapsed=0.5,
                      best_epoch=1))
        release.wait(20)
        while not should_stop():
            time.sleep(0.01)
        raise Cancelled("stopped")

    monkeypatch.setattr("instrument_studio.gui.panels.training_extras.training_run", fake_run)
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    curves = panel.curves
    qtbot.waitUntil(lambda: curves.acc_plot.plotItem.listDataItems()
                    and curves.point_counts(1)["accuracy"] == 1, timeout=10000)
    qtbot.waitUntil(lambda: panel.progress.text() == "epoch 1 of 10 done", timeout=3000)
    for plot in (curves.batch_plot, curves.loss_plot, curves.acc_plot):
        x0, x1 = plot.viewRange()[0]
        assert -0.05 <= x0 <= 0.0 and 1.0 <= x1 <= 1.05, (plot.plotItem.titleLabel.text, x0, x1)
    release.set()
    qtbot.mouseClick(panel.stop_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=10000)


def test_at_1280x720_the_run_list_shows_rows_and_the_settings_do_not_scroll_sideways(qtbot, window, panel):
    """Issue 11 (12): at 1280x720 the run list showed 1.5 rows, and the settings column scrolled
    sideways."""
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.height() == 720)
    train_and_wait(qtbot, panel)
    qtbot.wait(100)
    table = panel.table
    row = table.verticalHeader().defaultSectionSize()
    visible = (table.viewport().height()) / row
    assert visible >= 2.9, visible
    scroll = panel.settings_scroll
    assert not scroll.horizontalScrollBar().isVisible(), "the settings scroll sideways"
    assert scroll.widget().width() >= scroll.widget().minimumSizeHint().width()
    # the curves keep a usable height
    assert panel.curves.acc_plot.height() >= 180
