from __future__ import annotations

import pytest

from instrument_studio.core.audio.playback import Player
from instrument_studio.gui import workers
from tests.fakes import FakeStream


@pytest.fixture(autouse=True)
def no_stray_workers():
    """Fail any test that leaves background work running (napari's check)."""
    yield
    stopped = workers.stop_all(timeout_ms=10000)
    assert stopped and not workers.active_workers(), "a background worker was left running"


@pytest.fixture
def fake_streams():
    return []


@pytest.fixture
def window(qtbot, monkeypatch, fake_streams, tmp_path):
    """The real main window with a fake output device (a stream that consumes audio in real time)."""
    from PySide6.QtCore import QSettings

    from instrument_studio.gui import app as gui_app
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.panels import audio as audio_panel
    from instrument_studio.gui.settings import Settings

    monkeypatch.setattr(audio_panel, "output_unavailable_reason", lambda: None)
    # Each test's own data folder: the Training panel keeps its run list there (core.learn.run_store),
    # and one test's runs must not appear in the next test's window.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))

    def factory(**kw):
        fake_streams.append(FakeStream(**kw))
        return fake_streams[-1]

    qapp = gui_app.create_app()
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    ctx = AppContext(settings, player=Player(stream_factory=factory))
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert qapp is not None
    yield win
    win.close()
