"""The Live panel, driven as a user would: source and device choosers, Start/Stop, Freeze, takes."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from instrument_studio.core.audio.devices import DeviceInfo
from instrument_studio.core.audio.playback import Player
from instrument_studio.core.config import MelConfig
from instrument_studio.core.errors import AudioDeviceError
from instrument_studio.core.features.mel import mel_frequencies
from tests.fakes import FakeStream
from tests.mic import TONE_HZ


def tone(freq, seconds, sr, amp=0.5):
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def fake_player() -> Player:
    return Player(stream_factory=lambda **kw: FakeStream(**kw))


@pytest.fixture
def make_window(qtbot, monkeypatch, tmp_path):
    """Main windows sharing one settings file (so a second window sees what the first remembered)."""
    from PySide6.QtCore import QSettings

    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.panels import audio as audio_panel
    from instrument_studio.gui.settings import Settings

    monkeypatch.setattr(audio_panel, "output_unavailable_reason", lambda: None)
    windows = []

    def make(*, player=None, devices=None):
        if devices is not None:
            monkeypatch.setattr("instrument_studio.gui.panels.live.input_devices", lambda: devices)
        settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
        ctx = AppContext(settings, player=player)
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.show()
        panel = w.panels["LivePanel"]
        w.tabs.setCurrentWidget(panel)
        windows.append(w)
        return w, panel

    yield make
    for w in windows:
        w.close()


def wait_for(qtbot, cond, timeout=10000):
    qtbot.waitUntil(cond, timeout=timeout)


MIC = DeviceInfo(index=0, name="Test Mic", hostapi="ALSA", max_input_channels=1, max_output_channels=0,
                 default_samplerate=48000.0, is_default=True)


def test_the_panel_sits_after_the_audio_panel(make_window):
    w, panel = make_window(devices=[MIC])
    assert [w.tabs.tabText(i) for i in range(2)] == ["Audio", "Live"]
    assert any(m.title() == "&Live" for m in w.menuBar().findChildren(type(w.file_menu)))


def test_no_input_device_explains_how_to_connect_one_and_playback_still_works(make_window, qtbot, monkeypatch):
    def none():
        raise AudioDeviceError("no audio input device found", hint="connect one")

    monkeypatch.setattr("instrument_studio.gui.panels.live.input_devices", none)
    w, panel = make_window(player=fake_player())
    wait_for(qtbot, lambda: panel.stack.currentIndex() == 1)
    assert panel.no_device.isVisible()
    assert "No microphone found" in panel.no_device.text() and "Plug in" in panel.no_device.text()
    assert not panel.start_button.isEnabled() and not panel.takes.record_button.isEnabled()
    # The rest works: switch the source to the Audio panel's playback and start.
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("playback"))
    assert panel.stack.currentIndex() == 0 and panel.start_button.isEnabled()
    qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.pipeline.running)
    assert w.tabs.count() >= 2 and w.audio_panel.isEnabled()
    qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    wait_for(qtbot, lambda: not panel.pipeline.running)
    # A microphone is plugged in: "Look again" finds it.
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("microphone"))
    assert panel.stack.currentIndex() == 1
    monkeypatch.setattr("instrument_studio.gui.panels.live.rescan_input_devices", lambda: [MIC])
    qtbot.mouseClick(panel.rescan_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.stack.currentIndex() == 0)
    assert panel.device_combo.currentData() == "Test Mic" and panel.start_button.isEnabled()


def test_the_default_device_is_preselected_and_the_choice_remembered(make_window, qtbot):
    other = DeviceInfo(index=5, name="USB Mic", hostapi="ALSA", max_input_channels=1, max_output_channels=0,
                       default_samplerate=44100.0, is_default=False)
    w, panel = make_window(devices=[other, MIC])
    wait_for(qtbot, lambda: panel.device_combo.count() == 2)
    assert panel.device_combo.currentData() == "Test Mic"
    assert "(system default)" in panel.device_combo.currentText()
    panel.device_combo.setCurrentIndex(0)
    panel.device_combo.activated.emit(0)
    w2, panel2 = make_window(devices=[other, MIC])
    wait_for(qtbot, lambda: panel2.device_combo.count() == 2)
    assert panel2.device_combo.currentData() == "USB Mic"


def test_playing_a_file_shows_it_live(make_window, qtbot):
    player = fake_player()
    w, panel = make_window(player=player, devices=[MIC])
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("playback"))
    qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.pipeline.running)
    player.set_audio(tone(TONE_HZ, 1.5, 44100), 44100)
    player.play()
    wait_for(qtbot, lambda: panel.view.total >= 40)
    # The columns reach the screen: the image item is in the plot and has been painted with them.
    assert panel.view.image in panel.view.plotItem.items
    wait_for(qtbot, lambda: panel.view.columns_drawn >= 20)
    assert 0 < np.median(panel.view.latencies) < 1.0
    band = int(np.argmin(np.abs(mel_frequencies(MelConfig()) - TONE_HZ)))
    shown = panel.view.displayed()[:, -30:-5]
    assert abs(int(np.median(np.argmax(shown, axis=0))) - band) <= 1
    assert "dBFS" in panel.meter.text()
    assert panel.meter.peak_db == pytest.approx(-6.0, abs=0.2)
    assert "Audio panel playback" in panel.info_label.text()
    wait_for(qtbot, lambda: "fps" in panel.fps_label.text())
    qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    wait_for(qtbot, lambda: not panel.pipeline.running and panel.start_button.text() == "Start")
    # Stopped: the meter shows no input, not the last level heard (issue 11 #10).
    wait_for(qtbot, lambda: panel.meter.text() == "no input")
    assert panel.level_label.text() == "" and panel.fps_label.text() == ""
    player.close()


def test_freeze_holds_the_picture_while_input_continues(make_window, qtbot):
    player = fake_player()
    w, panel = make_window(player=player, devices=[MIC])
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("playback"))
    qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.pipeline.running)
    player.set_audio(tone(500, 3.0, 22050), 22050)
    player.play()
    wait_for(qtbot, lambda: panel.view.total >= 10)
    qtbot.mouseClick(panel.freeze_button, Qt.LeftButton)
    assert panel.freeze_button.text() == "Resume"
    held = panel.view.displayed()
    total = panel.view.total
    wait_for(qtbot, lambda: panel.view.total >= total + 15)
    np.testing.assert_array_equal(panel.view.displayed(), held)
    qtbot.mouseClick(panel.freeze_button, Qt.LeftButton)
    wait_for(qtbot, lambda: not np.array_equal(panel.view.displayed(), held))
    player.close()


def record_from_playback(panel, qtbot, player, dataset: Path, *, seconds: float = 0.0, label="viola"):
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("playback"))
    panel.takes.set_dataset(str(dataset))
    panel.takes.label_combo.setEditText(label)
    panel.takes.length_spin.setValue(seconds)
    player.set_audio(tone(440, 6.0, 22050), 22050)
    qtbot.mouseClick(panel.takes.record_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.takes.recording)
    player.play()


def test_a_take_survives_the_app_closing_mid_take(make_window, qtbot, tmp_path):
    player = fake_player()
    w, panel = make_window(player=player, devices=[MIC])
    record_from_playback(panel, qtbot, player, tmp_path)
    assert panel.takes.record_button.text().startswith("■ Stop recording")
    wait_for(qtbot, lambda: panel.pipeline.take_seconds() > 1.0)
    w.close()  # mid-take
    takes = list((tmp_path / "viola").glob("*.wav"))
    assert len(takes) == 1 and not list((tmp_path / "viola").glob(".*part"))
    y, sr = sf.read(takes[0], dtype="float32")
    assert sr == 22050 and len(y) / sr > 1.0
    assert np.max(np.abs(y)) == pytest.approx(0.5, abs=0.01)


def test_takes_can_be_played_relabelled_deleted_and_restored(make_window, qtbot, tmp_path, monkeypatch):
    player = fake_player()
    w, panel = make_window(player=player, devices=[MIC])
    panel.takes.player = fake_player()
    record_from_playback(panel, qtbot, player, tmp_path, seconds=0.5, label="violn")
    wait_for(qtbot, lambda: panel.takes.take_list.count() == 1)
    path, label, seconds = panel.takes.takes()[0]
    assert Path(path).parent == tmp_path / "violn" and seconds == pytest.approx(0.5)
    assert "Saved 0.5 s" in panel.takes.status_label.text()

    qtbot.mouseClick(panel.takes.play_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.takes.player.playing or panel.takes.play_button.text() == "Stop")

    monkeypatch.setattr("instrument_studio.gui.panels.live_takes.QInputDialog.getItem",
                        lambda *a, **k: ("violin", True))
    qtbot.mouseClick(panel.takes.rename_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.takes.takes()[0][1] == "violin")
    moved = Path(panel.takes.takes()[0][0])
    assert moved == tmp_path / "violin" / Path(path).name and moved.exists() and not Path(path).exists()
    assert "violin" in panel.takes.take_list.item(0).text()

    qtbot.mouseClick(panel.takes.delete_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.takes.take_list.count() == 0)
    assert not moved.exists() and panel.takes.undo_button.isEnabled()
    qtbot.mouseClick(panel.takes.undo_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.takes.take_list.count() == 1)
    assert moved.exists() and not panel.takes.undo_button.isEnabled()
    player.close()


def test_a_read_only_dataset_folder_gives_a_clear_error_and_nothing_is_lost(make_window, qtbot, tmp_path,
                                                                             read_only_folder):
    target = tmp_path / "ro"
    read_only_folder(target)
    player = fake_player()
    w, panel = make_window(player=player, devices=[MIC])
    panel.source_combo.setCurrentIndex(panel.source_combo.findData("playback"))
    panel.takes.set_dataset(str(target))
    panel.takes.label_combo.setEditText("cello")
    qtbot.mouseClick(panel.takes.record_button, Qt.LeftButton)
    wait_for(qtbot, lambda: w.last_error is not None)
    title, text = w.last_error
    assert "read-only" in text and str(target / "cello") in text and "another dataset folder" in text
    assert "read-only" in panel.takes.status_label.text()
    assert panel.takes.record_button.text() == "● Record" and panel.pipeline.running  # the view goes on


def test_a_label_is_required(make_window, qtbot, tmp_path):
    w, panel = make_window(player=fake_player(), devices=[MIC])
    panel.takes.set_dataset(str(tmp_path))
    panel.takes.label_combo.setEditText("  ")
    wait_for(qtbot, lambda: panel.takes.record_button.isEnabled())
    qtbot.mouseClick(panel.takes.record_button, Qt.LeftButton)
    assert "needs a class label" in panel.takes.status_label.text()
    assert not panel.pipeline.running


@pytest.mark.mic
def test_recording_through_the_live_panel_with_a_real_microphone(make_window, qtbot, virtual_mic, known_wav,
                                                                 tmp_path):
    from tests.cli.test_record_cmd import check_recording

    w, panel = make_window()
    wait_for(qtbot, lambda: panel.device_combo.count() > 0)
    panel.device_combo.setCurrentIndex(panel.device_combo.findData(virtual_mic.device))
    panel.takes.set_dataset(str(tmp_path))
    panel.takes.label_combo.setEditText("tone")
    panel.takes.length_spin.setValue(4.0)
    qtbot.mouseClick(panel.takes.record_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.takes.recording)
    qtbot.wait(300)
    virtual_mic.play(known_wav)
    wait_for(qtbot, lambda: panel.meter.peak_db > -8)  # the tone peaks at -6 dBFS
    assert not panel.meter.clipped and "dBFS" in panel.meter.text()
    wait_for(qtbot, lambda: panel.takes.take_list.count() == 1, timeout=20000)
    path = Path(panel.takes.takes()[0][0])
    assert path.parent == tmp_path / "tone"
    assert sf.info(path).duration == pytest.approx(4.0, abs=0.01)
    check_recording(path)
    # The live spectrogram showed the tone in its mel band.
    band = int(np.argmin(np.abs(mel_frequencies(MelConfig()) - TONE_HZ)))
    shown = panel.view.displayed()
    loud = shown.max(axis=0) > -40
    tone_cols = np.argmax(shown[:, loud], axis=0) == band
    assert tone_cols.sum() >= 30, "the 1 kHz tone should fill its mel band for ~1.2 s (52 columns)"
    assert "fps" in panel.fps_label.text()
    time.sleep(0.1)


def test_unplugging_the_microphone_mid_take_keeps_the_take_and_says_so(make_window, qtbot, tmp_path,
                                                                       monkeypatch):
    from instrument_studio.core.audio.capture import Capture
    from instrument_studio.core.live.sources import MicSource
    from tests.core.test_capture import FakeInputStream

    streams = []

    def factory(**kw):
        streams.append(FakeInputStream(**kw))
        return streams[-1]

    monkeypatch.setattr("instrument_studio.gui.panels.live.MicSource",
                        lambda device: MicSource(capture=Capture(samplerate=48000, stream_factory=factory)))
    w, panel = make_window(devices=[MIC])
    wait_for(qtbot, lambda: panel.device_combo.count() == 1)
    panel.takes.set_dataset(str(tmp_path))
    panel.takes.label_combo.setEditText("horn")
    panel.takes.length_spin.setValue(0.0)
    qtbot.mouseClick(panel.takes.record_button, Qt.LeftButton)
    wait_for(qtbot, lambda: panel.takes.recording)
    for _ in range(40):  # 0.2 s of a tone arrives
        streams[0].deliver(tone(440, 256 / 48000, 48000))
    wait_for(qtbot, lambda: panel.pipeline.take_seconds() >= 0.1)
    # PortAudio ends the stream by itself: the device is gone, perhaps before the pipeline has
    # drained the last blocks; those are kept too (the whole 0.2 s is asserted below).
    streams[0].finished()
    wait_for(qtbot, lambda: w.last_error is not None)
    title, text = w.last_error
    assert title == "The live input stopped" and "stopped" in text and "unplugged" in text
    assert "⚠" in panel.info_label.text() and panel.start_button.text() == "Start"
    wait_for(qtbot, lambda: panel.takes.take_list.count() == 1)
    path, label, seconds = panel.takes.takes()[0]
    assert label == "horn" and seconds == pytest.approx(256 * 40 / 48000, abs=0.01)
    assert "input stopped" in panel.takes.status_label.text()
    assert sf.info(path).duration == pytest.approx(seconds)


def test_the_view_keeps_bounded_state_while_hidden(qtbot):
    from instrument_studio.gui.widgets.live_spectrogram import LiveSpectrogramView

    view = LiveSpectrogramView(seconds=2.0)
    qtbot.addWidget(view)  # never shown: nothing is painted
    for _ in range(2000):
        view.add_columns(np.full((128, 1), -30.0, dtype=np.float32), np.array([time.monotonic()]))
        view.draw()
    assert len(view._pending_arrivals) + len(view._painted_arrivals) <= 512
    assert view.recent(1.0).shape == (128, int(1.0 * 22050 / 512))
    assert np.all(view.window() == -30.0)  # the ring wrapped many times and stays consistent


def test_the_ring_image_shows_the_newest_columns_in_order_without_copying(qtbot):
    from instrument_studio.gui.widgets.live_spectrogram import LiveSpectrogramView

    view = LiveSpectrogramView(seconds=1.0)
    qtbot.addWidget(view)
    w = view.width_cols
    sent = 0
    for k in (3, 7, 1, w - 2, 5, w + 9):  # wraps, including a batch wider than the view
        cols = np.tile(np.arange(sent, sent + k, dtype=np.float32), (128, 1))
        view.add_columns(cols)
        sent += k
        shown = view.window()
        assert np.shares_memory(shown, view.ring) and shown.flags["C_CONTIGUOUS"]
        n = min(sent, w)
        np.testing.assert_array_equal(shown[w - n:, 0], np.arange(sent - n, sent, dtype=np.float32))
    assert view.draw() and not view.draw()  # one image update per batch of new columns
    lo, hi = view.image.levels
    assert (lo, hi) == (-80.0, 0.0)  # fixed dB levels, never auto-levels


def _fake_mic(monkeypatch, streams, **capture_attrs):
    from instrument_studio.core.audio.capture import Capture
    from instrument_studio.core.live.sources import MicSource
    from tests.core.test_capture import FakeInputStream

    def factory(**kw):
        streams.append(FakeInputStream(**kw))
        return streams[-1]

    def source(device):
        capture = Capture(samplerate=48000, stream_factory=factory)
        for name, value in capture_attrs.items():
            setattr(capture, name, value)
        return MicSource(capture=capture)

    monkeypatch.setattr("instrument_studio.gui.panels.live.MicSource", source)


def test_a_microphone_that_never_delivers_says_so_after_a_bounded_time(make_window, qtbot, monkeypatch):
    streams = []
    _fake_mic(monkeypatch, streams, start_seconds=0.3)
    w, panel = make_window(devices=[MIC])
    wait_for(qtbot, lambda: panel.device_combo.count() == 1)
    qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    wait_for(qtbot, lambda: w.last_error is not None, timeout=60000)   # the first Start imports librosa
    title, text = w.last_error
    assert title == "The live input stopped" and "has delivered no audio since it was started" in text
    assert "connected" in text and "⚠" in panel.info_label.text()
    wait_for(qtbot, lambda: panel.start_button.text() == "Start")
    _let_the_model_load(qtbot)


def test_blocks_late_while_the_app_was_busy_are_not_a_dead_microphone(make_window, qtbot, monkeypatch):
    # TensorFlow's import (the default model loading) holds the GIL for seconds: nothing else runs,
    # neither the audio callback nor the watchdog's thread. Here the GUI thread holds it for 1 s.
    import sys

    streams = []
    _fake_mic(monkeypatch, streams, stall_seconds=0.3)
    w, panel = make_window(devices=[MIC])
    wait_for(qtbot, lambda: panel.device_combo.count() == 1)
    qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    wait_for(qtbot, lambda: bool(streams) and panel.pipeline.running, timeout=60000)
    streams[0].deliver(tone(440, 256 / 48000, 48000))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(5.0)         # no other Python thread runs until this one blocks
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.0:
            pass
    finally:
        sys.setswitchinterval(interval)
    time.sleep(0.05)                   # the watchdog's thread wakes first, as it did after the import
    for _ in range(60):
        streams[0].deliver(tone(440, 256 / 48000, 48000))
        time.sleep(0.005)
    qtbot.wait(200)
    assert w.last_error is None and panel.pipeline.running
    qtbot.mouseClick(panel.start_button, Qt.LeftButton)
    wait_for(qtbot, lambda: not panel.pipeline.running)
    _let_the_model_load(qtbot)


def _let_the_model_load(qtbot):
    """Start also loads the default model for the live bars (TensorFlow: minutes on a loaded machine)."""
    from instrument_studio.gui import workers

    wait_for(qtbot, lambda: not workers.active_workers(), timeout=300000)
