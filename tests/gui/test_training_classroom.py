"""The Training panel's classroom tools, driven like a user: Pause / Resume / Step epoch (the curves
wait), the run list kept across a restart, and the File menu's Export report… and Export model…
(The question when quitting during a run: tests/gui/test_main_window.py.)"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from tests.gui.test_training_panel import tiny_training_panel, train_and_wait

SLOW = 300000     # ms: the shared machine can take long to start TensorFlow


@pytest.fixture(autouse=True)
def quit_without_asking(monkeypatch):
    """A test that fails mid-run must not leave the window's quit question waiting for a click."""
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Discard)


@pytest.fixture
def panel(window, qtbot):
    p = tiny_training_panel(window, epochs=2)
    p.form.lr_box.setValue(0.01)
    p.form.batch_box.setValue(16)
    yield p
    # A failed test may leave a run going: end it, or closing the window would ask (and wait) first.
    p.stop_training()
    qtbot.waitUntil(lambda: not p.is_running(), timeout=SLOW)


def _epochs(panel, run_id=None):
    return panel.curves.point_counts(run_id or panel._live_id)["loss"]


def test_pause_holds_the_curves_and_step_adds_exactly_one_epoch(qtbot, panel):
    panel.form.epochs_box.setValue(300)
    pause, step = panel.extras.pause_button, panel.extras.step_button
    control = panel._control
    assert not pause.isEnabled() and not step.isEnabled()          # nothing to pause yet
    assert pause.shortcut().toString() == "Ctrl+P" and step.shortcut().toString() == "Ctrl+E"
    qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel._last_epoch is not None, timeout=SLOW)
    assert pause.isEnabled() and step.isEnabled() and pause.text() == "Pause"
    qtbot.mouseClick(pause, Qt.LeftButton)
    assert pause.text() == "Resume" and "Paused" in panel.status_label.text()
    qtbot.waitUntil(lambda: control.holding, timeout=SLOW)          # the batch under way has ended
    qtbot.wait(300)                                                  # its events drawn
    held = (panel.curves.point_counts(panel._live_id), panel._last_batch.step)
    qtbot.wait(1200)
    assert (panel.curves.point_counts(panel._live_id), panel._last_batch.step) == held   # the curves wait
    assert "Paused" in panel.status_label.text()                     # and the status says why
    epochs = held[0]["loss"]
    qtbot.mouseClick(step, Qt.LeftButton)
    assert pause.text() == "Pause"
    qtbot.waitUntil(lambda: pause.isChecked(), timeout=SLOW)        # the step ended: paused again
    qtbot.waitUntil(lambda: control.holding, timeout=SLOW)
    qtbot.wait(300)
    assert _epochs(panel) == epochs + 1 and pause.text() == "Resume"
    assert "Paused after the epoch" in panel.status_label.text()
    # The header names the epoch the plots end with (it said one epoch less while paused).
    assert panel.progress.text().startswith(f"epoch {epochs + 1} of 300 done"), panel.progress.text()
    qtbot.wait(1000)
    assert _epochs(panel) == epochs + 1                              # and it stays there
    qtbot.mouseClick(pause, Qt.LeftButton)                           # Resume
    assert pause.text() == "Pause" and not control.paused
    qtbot.waitUntil(lambda: _epochs(panel) >= epochs + 3, timeout=SLOW)
    qtbot.mouseClick(pause, Qt.LeftButton)                           # paused, Stop still ends the run
    with qtbot.waitSignal(panel.run_finished, timeout=SLOW) as blocker:
        qtbot.mouseClick(panel.stop_button, Qt.LeftButton)
    run = blocker.args[0]
    assert run.stop_reason == "stopped by user" and run.epochs_run >= epochs + 3
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=10000)
    assert not pause.isEnabled() and pause.text() == "Pause" and not step.isEnabled()


def test_the_run_list_survives_a_restart(qtbot, window, panel, tmp_path):
    from instrument_studio.gui.main_window import MainWindow

    first = train_and_wait(qtbot, panel, timeout=SLOW)
    assert first.evaluation is not None and np.asarray(first.evaluation["confusion_matrix"]).sum() > 0
    with qtbot.waitSignal(panel.bundle_saved, timeout=SLOW):
        panel.save_run_bundle(first, str(tmp_path / "kept-model"))
    run_file = panel.extras.store.path(first.id)
    qtbot.waitUntil(lambda: run_file.is_file() and "kept-model" in run_file.read_text(), timeout=10000)

    again = MainWindow(window.ctx.__class__(window.ctx.settings, player=window.ctx.player))   # a restart
    qtbot.addWidget(again)
    try:
        restored = again.panels["TrainingPanel"]
        assert [r.id for r in restored.runs] == [first.id] and restored.table.rowCount() == 1
        run = restored.runs[0]
        assert run.bundle_path == str(tmp_path / "kept-model") and run.result is None
        assert run.config == first.config and run.metrics["test_accuracy"] == pytest.approx(first.metrics["test_accuracy"])
        assert restored.table.item(0, 9).text() == panel.table.item(0, 9).text()     # test accuracy shown
        assert restored.curves.visible_runs() == []                     # listed, curves hidden until Show
        restored.table.item(0, 0).setCheckState(Qt.Checked)
        assert restored.curves.visible_runs() == [run.id]
        qtbot.waitUntil(lambda: restored.curves.point_counts(run.id)["val_accuracy"] == first.epochs_run,
                        timeout=10000)                                  # its curves drawn from the run file
        restored.use_feature_set(panel.source().features, "tiny generated set")
        restored.form.epochs_box.setValue(1)
        second = train_and_wait(qtbot, restored, timeout=SLOW)
        assert second.id == first.id + 1                                  # numbering carries on
    finally:
        again.close()


def test_export_report_and_model_from_the_file_menu(qtbot, window, panel, tmp_path, monkeypatch):
    extras = panel.extras
    assert not extras.report_action.isEnabled() and not extras.export_action.isEnabled()   # no run yet
    assert extras.report_action in window.file_menu.actions()
    train_and_wait(qtbot, panel, timeout=SLOW)
    assert extras.report_action.isEnabled() and extras.export_action.isEnabled()

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "class-report"), ""))
    with qtbot.waitSignal(extras.report_written, timeout=SLOW) as blocker:
        extras.report_action.trigger()
    html = (tmp_path / "class-report.html")
    assert blocker.args[0] == str(html)
    text = html.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 3 and "Confusion matrix" in text
    assert "Wrote the report" in panel.status_label.text()

    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("TensorFlow Lite (phones)", True))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "phone"), ""))
    with qtbot.waitSignal(extras.model_exported, timeout=SLOW) as blocker:
        extras.export_action.trigger()
    assert blocker.args[0] == str(tmp_path / "phone" / "model.tflite")
    assert (tmp_path / "phone" / "model.tflite").stat().st_size > 0
    assert "Standardisation is inside the model" in (tmp_path / "phone" / "README.md").read_text()
