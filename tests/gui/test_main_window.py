"""The main window's keys, menus and quitting, as a user meets them (issue 11 #7, #8, #16)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from instrument_studio.gui.theme import is_dark
from tests.audio_factory import tone, write
from tests.gui.test_audio_panel import open_and_wait
from tests.gui.test_training_panel import tiny_training_panel


def view_width(panel) -> float:
    (x0, x1), _ = panel.waveform.plotItem.vb.viewRange()
    return x1 - x0


# Ctrl+= as the README says; Ctrl++ (QKeySequence.ZoomIn) as before.
@pytest.mark.parametrize("key, modifiers", [(Qt.Key_Equal, Qt.ControlModifier),
                                            (Qt.Key_Plus, Qt.ControlModifier)])
def test_ctrl_equals_zooms_in_as_the_readme_says(qtbot, window, tmp_path, key, modifiers):
    panel = open_and_wait(qtbot, window, write(tmp_path / "z.wav", tone(440, 8.0, 22050), 22050))
    assert view_width(panel) == pytest.approx(8.0, abs=0.05)
    window.activateWindow()
    qtbot.keyClick(window, key, modifiers)
    assert view_width(panel) == pytest.approx(4.0, abs=0.05)
    qtbot.keyClick(window, Qt.Key_Minus, Qt.ControlModifier)
    assert view_width(panel) == pytest.approx(8.0, abs=0.05)


def test_help_is_the_last_menu_and_the_theme_is_in_view(qtbot, window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "&Help" and "&Predict" in titles and "&Live" in titles
    assert titles.index("&View") < titles.index("&Predict")
    themes = {a.text(): a for a in window.theme_menu.actions()}
    assert list(themes) == ["System", "Light", "Dark"]
    assert window.theme_menu.menuAction() in window.view_menu.actions()
    try:
        themes["Dark"].trigger()
        assert is_dark(QApplication.instance()) and window.ctx.settings.get("theme") == "dark"
        assert themes["Dark"].isChecked() and not themes["Light"].isChecked()
    finally:
        themes["Light"].trigger()
    assert not is_dark(QApplication.instance()) and themes["Light"].isChecked()


@pytest.fixture
def training(window, qtbot):
    panel = tiny_training_panel(window, epochs=500)
    with qtbot.waitSignal(panel.run_started, timeout=60000):
        qtbot.mouseClick(panel.train_button, Qt.LeftButton)
    yield panel
    panel.stop_training()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=60000)


def test_quitting_during_training_asks_first(qtbot, window, training, monkeypatch):
    asked = []

    def answer(choice):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return choice
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.Cancel))
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    window.quit_action.trigger()                              # File > Quit, Ctrl+Q
    assert asked and "training run" in asked[0] and "lost" in asked[0]
    assert window.isVisible() and training.is_running()      # Cancel: nothing happened
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.Discard))
    window.close()
    assert len(asked) == 2 and not window.isVisible()
    qtbot.waitUntil(lambda: not training.is_running(), timeout=30000)


def test_quitting_with_nothing_running_does_not_ask(qtbot, window, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked for no reason"))
    window.close()
    assert not window.isVisible()
