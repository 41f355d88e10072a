"""The Live panel's Teach (issue 13): takes in, a personal model out, the live bars switch to it,
the default model one click away; and what it says when the takes do not allow teaching."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from instrument_studio.core.audio.devices import DeviceInfo
from instrument_studio.core.audio.playback import Player
from tests.core.test_teach import write_takes
from tests.fakes import FakeStream
from tests.synth_instruments import SR, note

MIC = DeviceInfo(index=0, name="Test Mic", hostapi="ALSA", max_input_channels=1, max_output_channels=0,
                 default_samplerate=48000.0, is_default=True)


@pytest.fixture
def live_window(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QSettings

    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.panels import audio as audio_panel
    from instrument_studio.gui.settings import Settings

    monkeypatch.setattr(audio_panel, "output_unavailable_reason", lambda: None)
    monkeypatch.setattr("instrument_studio.gui.panels.live.input_devices", lambda: [MIC])
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    ctx = AppContext(settings, player=Player(stream_factory=lambda **kw: FakeStream(**kw)))
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.resize(1280, 900)
    win.show()
    live = win.panels["LivePanel"]
    win.tabs.setCurrentWidget(live)
    yield win, live
    win.close()
    ctx.player.close()


def test_too_few_takes_say_what_to_record_next(qtbot, live_window, tmp_path):
    win, live = live_window
    teach = live.takes.teach
    write_takes(tmp_path / "d", "tone", 3)
    write_takes(tmp_path / "d", "buzz", 1)
    live.takes.set_dataset(str(tmp_path / "d"))
    qtbot.waitUntil(lambda: "Record 2 more of buzz to teach" in teach.status.text(), timeout=10000)
    with qtbot.waitSignal(teach.finished, timeout=60000) as done:
        qtbot.mouseClick(teach.teach_button, Qt.LeftButton)
    assert done.args == [False]
    assert "record 2 more takes of buzz" in teach.status.text()
    assert win.last_error is not None and win.last_error[0] == "Cannot teach yet"
    assert teach.teach_button.text() == "Teach" and not teach.progress.isVisible()


@pytest.mark.timeout(1800)
def test_teach_switches_the_live_bars_to_the_taught_classes(qtbot, live_window, tmp_path):
    win, live = live_window
    predict = win.panels["PredictPanel"]
    view, teach = predict.live_view, live.takes.teach
    dataset = write_takes(tmp_path / "d", "tone", 3, seconds=3.2)
    write_takes(dataset, "buzz", 3, seconds=3.2, freqs=(150.0, 196.0, 247.0))
    live.takes.set_dataset(str(dataset))
    qtbot.waitUntil(lambda: "Ready" in teach.status.text(), timeout=10000)
    # Live input on (playback source), answered by the default model first.
    live.source_combo.setCurrentIndex(live.source_combo.findData("playback"))
    qtbot.mouseClick(live.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: view.live is not None, timeout=600000)
    assert "violin" in predict.predictor.labels and view.model_combo.currentText() == "Default model"

    with qtbot.waitSignal(teach.finished, timeout=1500000) as done:
        qtbot.mouseClick(teach.teach_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: teach.progress.isVisible(), timeout=5000)
    assert done.args == [True], teach.status.text()
    assert "Taught <b>buzz, tone</b>" in teach.status.text() and "Live prediction uses it now" in teach.status.text()
    assert predict.predictor.labels == ("buzz", "tone", "unknown")
    assert view.model_combo.currentText().startswith("Personal: ") and "Instrument (" in view.title.text()

    shown = []
    view.shown.connect(lambda p: shown.append(p))
    player = win.ctx.player
    # Long enough for several answers however slow the machine: each answer's own cost spaces the
    # next one (up to 2 s apart on a loaded CI machine), and the first windows still hold silence.
    player.set_audio(note("buzz", seconds=30.0, freq=175.0, seed=9), SR)
    player.play()
    qtbot.waitUntil(lambda: len([p for p in shown if p.state == "confident"]) >= 3, timeout=120000)
    player.stop()
    confident = [p for p in shown if p.state == "confident"]
    assert all(p.labels == ("buzz", "tone", "unknown") for p in confident)
    assert confident[-1].ranked(1)[0][0] == "buzz"
    names = {label.text() for label in view.names} - {""}
    assert names <= {"buzz", "tone", "unknown"} and view.names[0].text() == "buzz"

    # The default model is one click away, and comes back at once (it is kept loaded).
    index = view.model_combo.findData("")
    view.model_combo.setCurrentIndex(index)
    view.model_combo.activated.emit(index)
    qtbot.waitUntil(lambda: predict.predictor is not None and "violin" in predict.predictor.labels, timeout=5000)
    assert view.live.predictor.bundle is predict.predictor.bundle and view.model_combo.currentText() == "Default model"
    qtbot.mouseClick(live.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not live.pipeline.running, timeout=10000)
