from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from instrument_studio.core.audio.devices import DeviceInfo
from instrument_studio.core.errors import AudioDeviceError
from instrument_studio.gui import preferences


def fake_devices():
    return [DeviceInfo(0, "Speakers", "ALSA", 0, 2, 48000.0, True),
            DeviceInfo(3, "USB Headphones", "ALSA", 0, 2, 44100.0, False)]


def test_output_device_choice_is_applied_and_remembered(qtbot, window, monkeypatch):
    monkeypatch.setattr(preferences, "output_devices", fake_devices)
    dialog = preferences.PreferencesDialog(current_device="", current_theme="system", parent=window)
    qtbot.addWidget(dialog)
    labels = [dialog.output_combo.itemText(i) for i in range(dialog.output_combo.count())]
    assert labels[0] == "System default" and "Speakers (ALSA)  (default)" in labels
    dialog.output_combo.setCurrentIndex(2)
    assert dialog.output_device() == "USB Headphones"
    window.apply_preferences(output_device=dialog.output_device(), theme=dialog.theme())
    assert window.ctx.settings.get("audio/output_device") == "USB Headphones"
    assert window.ctx.player._device == "USB Headphones"
    again = preferences.PreferencesDialog(current_device="USB Headphones", current_theme="system")
    qtbot.addWidget(again)
    assert again.output_device() == "USB Headphones"


def test_no_devices_is_explained(qtbot, monkeypatch):
    def broken():
        raise AudioDeviceError("audio is unavailable: PortAudio library not found")

    monkeypatch.setattr(preferences, "output_devices", broken)
    dialog = preferences.PreferencesDialog(current_device="", current_theme="system")
    qtbot.addWidget(dialog)
    assert "PortAudio" in dialog.device_note.text()


def test_dark_and_light_themes_are_readable(qtbot, window):
    app = QApplication.instance()
    for theme, dark in (("dark", True), ("light", False)):
        window.apply_preferences(output_device="", theme=theme)
        pal = app.palette()
        window_l = pal.color(QPalette.Window).lightness()
        text_l = pal.color(QPalette.WindowText).lightness()
        assert (window_l < 128) == dark
        assert abs(window_l - text_l) > 120  # text stands out from its background
        bg = window.audio_panel.waveform.backgroundBrush().color().lightness()
        assert (bg < 128) == dark
    window.apply_preferences(output_device="", theme="system")


def test_a_dask_scheduler_preference_reaches_feature_extraction(qtbot, window, monkeypatch, tmp_path):
    """Preferences > Dask scheduler is shown as saved, and the Dataset panel's extraction runs there."""
    from PySide6.QtCore import Qt

    from instrument_studio.core.datasets import import_dataset
    from instrument_studio.core.features import extraction
    from tests.core import dataset_fixtures as fx

    monkeypatch.setattr(preferences, "output_devices", fake_devices)
    dialog = preferences.PreferencesDialog(current_device="", current_theme="system",
                                           current_scheduler="tcp://10.0.0.5:8786", parent=window)
    qtbot.addWidget(dialog)
    assert dialog.findChild(type(dialog.scheduler_edit), "dask_scheduler").text() == "tcp://10.0.0.5:8786"
    dialog.scheduler_edit.setText("  tcp://127.0.0.1:8786 ")
    assert dialog.scheduler() == "tcp://127.0.0.1:8786"
    window.ctx.settings.set("compute/scheduler", dialog.scheduler())

    seen = {}
    real = extraction.extract

    def spy(*args, scheduler=None, **kwargs):
        seen["scheduler"] = scheduler
        return real(*args, **kwargs)      # computed here: no cluster is running in this test

    monkeypatch.setattr(extraction, "extract", spy)
    panel = window.panels["DatasetPanel"]
    box = panel.features_box
    box.set_dataset(import_dataset(fx.folders(tmp_path / "mine", per_class=2)))
    with qtbot.waitSignal(panel.features_ready, timeout=60000):
        qtbot.mouseClick(box.extract_button, Qt.LeftButton)
    assert seen["scheduler"] == "tcp://127.0.0.1:8786"


def test_backend_preference_is_remembered_for_the_next_start(qtbot, window, monkeypatch):
    from instrument_studio.core.learn import backend

    monkeypatch.setattr(backend, "installed", lambda name: name != "torch")
    dialog = preferences.PreferencesDialog(current_device="", current_theme="system", parent=window)
    qtbot.addWidget(dialog)
    combo = dialog.backend_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[0].startswith("Automatic") and "JAX" in texts and "PyTorch  (not installed)" in texts
    assert not combo.model().item(texts.index("PyTorch  (not installed)")).isEnabled()
    assert "next start" in dialog.backend_note.text()
    running = backend.TITLES[backend.backend_name()]
    assert f"This session runs on {running}" in dialog.backend_note.text()
    combo.setCurrentIndex(combo.findData("jax"))
    window.set_backend_preference(dialog.keras_backend())
    assert window.ctx.settings.get(preferences.BACKEND_KEY) == "jax"
    assert "next start" in window.statusBar().currentMessage()
    again = preferences.PreferencesDialog(current_device="", current_theme="system",
                                          current_backend=window.ctx.settings.get(preferences.BACKEND_KEY))
    qtbot.addWidget(again)
    assert again.keras_backend() == "jax"


def test_startup_backend_order(monkeypatch):
    """--backend, else KERAS_BACKEND, else the preference (when installed): what choose_backend gets."""
    from instrument_studio.core.learn import backend

    class FakeSettings:
        def __init__(self, value):
            self.value = value

        def get(self, key, default=None):
            return self.value

    chosen = []
    monkeypatch.setattr(backend, "choose_backend", lambda name=None: chosen.append(name) or (name or "auto"))
    monkeypatch.setattr(backend, "installed", lambda name: name in ("tensorflow", "jax"))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    preferences.startup_backend(FakeSettings("jax"), None)
    preferences.startup_backend(FakeSettings("torch"), None)       # not installed: automatic
    preferences.startup_backend(FakeSettings("jax"), "tensorflow")
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    preferences.startup_backend(FakeSettings("jax"), None)          # the environment wins over the preference
    assert chosen == ["jax", None, "tensorflow", None]
