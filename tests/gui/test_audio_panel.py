from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from instrument_studio.core.config import MelConfig
from instrument_studio.core.display.mel_axis import mel_axis_position
from tests.audio_factory import make_bad_files, tone, write


def open_and_wait(qtbot, window, path, timeout=20000):
    panel = window.audio_panel
    with qtbot.waitSignal(panel.loaded, timeout=timeout):
        window.open_file(str(path))
    qtbot.waitUntil(lambda: panel._worker is None, timeout=timeout)
    return panel


def wait_playable(qtbot, panel):
    """The output-device check runs in a worker; wait for its answer before pressing Play."""
    qtbot.waitUntil(lambda: panel.play_button.isEnabled(), timeout=5000)


def test_window_title_info_and_spectrogram_of_a_tone(qtbot, window, tmp_path):
    path = write(tmp_path / "a440.wav", tone(440, 3.0, 44100, channels=2), 44100, subtype="PCM_24")
    panel = open_and_wait(qtbot, window, path)
    assert window.windowTitle() == "Instrument Studio — a440.wav"
    info = panel.info_label.text()
    assert "a440.wav" in info and "44,100 Hz" in info and "stereo" in info and "24-bit PCM" in info and "3.00 s" in info
    assert "Signed" not in info  # not "24-bit Signed 24 bit PCM" (issue 11 #15)
    assert panel.time_label.text() == "0.00 s / 3.00 s"
    # The spectrogram image holds the tone: its loudest band is the band of 440 Hz.
    column = panel.spectrogram.column_at(1.5)
    band = int(np.argmax(column))
    assert abs(mel_axis_position(440.0, MelConfig()) - (band + 0.5)) < 1.5
    assert column.max() > -20 and np.median(column) < -60
    qtbot.waitUntil(lambda: panel.spectrogram.image.image is not None
                    and panel.spectrogram.image.image.shape[0] >= 100, timeout=3000)
    image = panel.spectrogram.image.image
    assert image.shape[1] == 128
    # What is drawn is the visible part of the data, pooled to the screen: it holds the tone too.
    assert abs(int(np.argmax(image[len(image) // 2])) - band) <= 1
    assert panel.waveform.points_drawn() > 100
    assert panel.stack.currentIndex() == 1


def test_empty_state_before_anything_is_open(window):
    panel = window.audio_panel
    assert panel.stack.currentWidget() is panel.empty_page
    assert "Ctrl+O" in panel.empty_label.text()
    assert not panel.play_button.isEnabled()
    assert window.windowTitle() == "Instrument Studio"


def test_play_pause_seek_and_stop(qtbot, window, tmp_path, fake_streams):
    path = write(tmp_path / "long.wav", tone(300, 6.0, 22050), 22050)
    panel = open_and_wait(qtbot, window, path)
    wait_playable(qtbot, panel)
    qtbot.mouseClick(panel.play_button, Qt.LeftButton)
    assert panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: window.ctx.player.position() > 0.2, timeout=3000)
    # The playhead moves with playback on both views.
    qtbot.waitUntil(lambda: panel.waveform.playhead.value() > 0.2, timeout=3000)
    assert abs(panel.spectrogram.playhead.value() - panel.waveform.playhead.value()) < 0.2
    qtbot.keyClick(window, Qt.Key_Space)  # pause with the keyboard
    assert not window.ctx.player.playing and panel.play_button.text() == "Play"
    # Click in the middle of the waveform: seek there.
    vb = panel.waveform.plotItem.vb
    scene_pt = vb.mapViewToScene(QPointF(4.0, 0.0))
    view_pt = panel.waveform.mapFromScene(scene_pt)
    qtbot.mouseClick(panel.waveform.viewport(), Qt.LeftButton, pos=QPoint(int(view_pt.x()), int(view_pt.y())))
    assert window.ctx.player.position() == pytest.approx(4.0, abs=0.1)
    assert "0:04" in panel.time_label.text() or "4." in panel.time_label.text()
    qtbot.mouseClick(panel.stop_button, Qt.LeftButton)
    assert window.ctx.player.position() == 0.0
    assert fake_streams, "playback went through the output stream"


def test_playback_plays_the_file(qtbot, window, tmp_path, fake_streams):
    y = tone(500, 0.5, 16000)
    path = write(tmp_path / "short.wav", y, 16000, subtype="FLOAT")
    panel = open_and_wait(qtbot, window, path)
    wait_playable(qtbot, panel)
    panel.toggle_play()
    qtbot.waitUntil(lambda: not window.ctx.player.playing, timeout=5000)
    fake_streams[-1]._thread.join(1)
    played = np.concatenate(fake_streams[-1].blocks)[: len(y), 0]
    assert np.allclose(played, y)
    qtbot.waitUntil(lambda: panel.play_button.text() == "Play", timeout=2000)


def test_views_zoom_and_pan_together(qtbot, window, tmp_path):
    panel = open_and_wait(qtbot, window, write(tmp_path / "z.wav", tone(440, 8.0, 22050), 22050))
    # pyqtgraph's X link maps by on-screen position: wait until the layout has put both plots'
    # data areas on the same vertical lines (it may lag behind the load on a busy machine).
    wave_vb, spec_vb = panel.waveform.plotItem.vb, panel.spectrogram.plotItem.vb
    qtbot.waitUntil(lambda: abs(wave_vb.sceneBoundingRect().left() - spec_vb.sceneBoundingRect().left()) < 1
                    and abs(wave_vb.sceneBoundingRect().width() - spec_vb.sceneBoundingRect().width()) < 1,
                    timeout=5000)
    panel.waveform.setXRange(2.0, 3.0, padding=0)
    (s0, s1), _ = spec_vb.viewRange()
    assert s0 == pytest.approx(2.0, abs=0.01) and s1 == pytest.approx(3.0, abs=0.01)
    panel.zoom_to_fit()
    (w0, w1), _ = panel.waveform.plotItem.vb.viewRange()
    assert w0 == pytest.approx(0, abs=0.01) and w1 == pytest.approx(8.0, abs=0.05)


@pytest.mark.parametrize("kind,reason", [
    ("empty", "empty"), ("text", "not an audio file"), ("header_only", "no audio"),
    ("corrupt", ""), ("missing", "not found"), ("folder", "folder"),
])
def test_bad_input_shows_a_message_and_the_app_carries_on(qtbot, window, tmp_path, kind, reason):
    good = write(tmp_path / "good.wav", tone(440, 1.0, 22050), 22050)
    panel = open_and_wait(qtbot, window, good)
    bad = make_bad_files(tmp_path / "bad")[kind]
    with qtbot.waitSignal(panel.load_failed, timeout=10000) as blocker:
        window.open_file(str(bad))
    qtbot.waitUntil(lambda: panel._worker is None)
    title, text = window.last_error
    assert bad.name in text and reason in text
    assert bad.name in blocker.args[1]
    # Nothing lost: the previous file is still open and playable.
    assert panel.ready is not None and panel.path == str(good)
    assert window.windowTitle() == "Instrument Studio — good.wav"
    assert panel.play_button.isEnabled()
    box = window.findChild(QMessageBox, "error_box")
    assert box is not None and box.isVisible() and bad.name in box.text()


def test_truncated_file_opens_with_a_visible_warning(qtbot, window, tmp_path):
    path = make_bad_files(tmp_path)["truncated"]
    panel = open_and_wait(qtbot, window, path)
    assert panel.warning_label.isVisible()
    assert "truncated" in panel.warning_label.text()


def test_no_output_device_disables_play_with_the_reason(qtbot, window, tmp_path, monkeypatch):
    from instrument_studio.gui.panels import audio as audio_panel

    monkeypatch.setattr(audio_panel, "output_unavailable_reason",
                        lambda: "no audio output device found (connect one, or check that the sound server is running)")
    panel = window.audio_panel
    panel._check_output()
    qtbot.waitUntil(lambda: panel._play_block_reason is not None and "no audio output" in panel._play_block_reason)
    open_and_wait(qtbot, window, write(tmp_path / "x.wav", tone(440, 1.0, 22050), 22050))
    assert "no audio output device" in panel.play_button.toolTip() and "look again" in panel.play_button.toolTip()
    assert not panel.stop_button.isEnabled()
    # Everything else still works.
    assert panel.spectrogram.data is not None and panel.fit_button.isEnabled()


def test_play_looks_for_an_output_again_when_none_was_there_at_start(qtbot, window, tmp_path, monkeypatch,
                                                                     fake_streams):
    # Issue 11 #6: no output at launch left Play disabled until a restart, while other panels
    # (checking later) played through a device connected meanwhile.
    from instrument_studio.gui.panels import audio as audio_panel

    none = "no audio output device found (connect one, or check that the sound server is running)"
    monkeypatch.setattr(audio_panel, "output_unavailable_reason", lambda: none)
    rescans = []
    monkeypatch.setattr(audio_panel, "recheck_output_reason", lambda: rescans.append(1) or none)
    panel = window.audio_panel
    panel._check_output()
    qtbot.waitUntil(lambda: panel._play_block_reason == none)
    open_and_wait(qtbot, window, write(tmp_path / "x.wav", tone(440, 2.0, 22050), 22050))
    assert panel.play_button.isEnabled()
    qtbot.mouseClick(panel.play_button, Qt.LeftButton)              # still nothing there
    qtbot.waitUntil(lambda: bool(rescans) and not panel._rechecking)
    assert not window.ctx.player.playing and "Still no sound output" in window.statusBar().currentMessage()
    assert panel.play_button.isEnabled()
    monkeypatch.setattr(audio_panel, "recheck_output_reason", lambda: rescans.append(1) or None)  # plugged in
    qtbot.mouseClick(panel.play_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.ctx.player.playing, timeout=5000)
    assert len(rescans) == 2 and panel.play_button.text() == "Pause" and panel.stop_button.isEnabled()
    assert "look again" not in panel.play_button.toolTip()
    panel.stop()


def test_drag_and_drop_opens_the_file(qtbot, window, tmp_path):
    path = write(tmp_path / "dropped.ogg", tone(440, 1.0, 44100), 44100, fmt="OGG", subtype="VORBIS")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.audio_panel.loaded, timeout=20000):
        window.dropEvent(event)
    assert window.windowTitle().endswith("dropped.ogg")


def test_recent_files_menu_reopens(qtbot, window, tmp_path):
    a = write(tmp_path / "first.wav", tone(440, 1.0, 22050), 22050)
    b = write(tmp_path / "second.flac", tone(660, 1.0, 22050), 22050)
    open_and_wait(qtbot, window, a)
    open_and_wait(qtbot, window, b)
    actions = [act for act in window.recent_menu.actions() if act.data()]
    assert [act.data() for act in actions][:2] == [str(b.resolve()), str(a.resolve())]
    with qtbot.waitSignal(window.audio_panel.loaded, timeout=20000):
        actions[1].trigger()
    assert window.windowTitle().endswith("first.wav")


def test_changing_spectrogram_settings_recomputes(qtbot, window, tmp_path):
    panel = open_and_wait(qtbot, window, write(tmp_path / "s.wav", tone(1000, 2.0, 22050), 22050))
    panel.mels_spin.setValue(64)
    panel.fmax_spin.setValue(4000)
    assert panel.apply_button.isEnabled()
    with qtbot.waitSignal(panel.spectrogram_done, timeout=20000):
        qtbot.mouseClick(panel.apply_button, Qt.LeftButton)
    assert panel.spectrogram.data.shape[1] == 64
    cfg = MelConfig(n_mels=64, fmax=4000)
    band = int(np.argmax(panel.spectrogram.column_at(1.0)))
    assert abs(mel_axis_position(1000.0, cfg) - (band + 0.5)) < 1.5
    assert "64" in window.ctx.settings.get("audio/mel_config")


def test_invalid_settings_cannot_be_applied(qtbot, window):
    panel = window.audio_panel
    panel.nfft_combo.setCurrentIndex(panel.nfft_combo.findData(256))
    panel.hop_spin.setValue(512)  # hop longer than the window
    assert not panel.apply_button.isEnabled()
    assert "hop" in panel.apply_button.toolTip()


def test_geometry_is_remembered(qtbot, window):
    window.resize(900, 700)
    window.close()
    assert window.ctx.settings.geometry() is not None


def test_an_hour_long_file_opens_and_can_be_navigated(qtbot, window, tmp_path):
    import soundfile as sf

    sr, minutes = 8000, 60
    path = tmp_path / "hour.wav"
    with sf.SoundFile(str(path), "w", sr, 1, subtype="PCM_16") as f:
        for minute in range(minutes):
            t = np.arange(60 * sr) / sr
            f.write((0.3 * np.sin(2 * np.pi * (200 + 20 * minute) * t)).astype(np.float32))
    panel = window.audio_panel
    with qtbot.waitSignal(panel.loaded, timeout=180000):
        window.open_file(str(path))
    qtbot.waitUntil(lambda: panel._worker is None, timeout=30000)
    assert panel.ready.info.duration == pytest.approx(3600.0)
    assert panel.waveform.points_drawn() < 20000  # an envelope, not 28.8 million samples
    panel.waveform.setXRange(1800.0, 1810.0, padding=0)
    qtbot.wait(50)
    (s0, s1), _ = panel.spectrogram.plotItem.vb.viewRange()
    assert (s0, s1) == (pytest.approx(1800.0, abs=0.1), pytest.approx(1810.0, abs=0.1))
    assert 0 < panel.waveform.points_drawn() < 20000
    # The spectrogram image is the visible 10 s at screen resolution, not the whole hour.
    panel.spectrogram.refresh(force=True)
    assert panel.spectrogram.image.image.shape[0] <= 2 * 10 * 22050 / 512
    panel.spectrogram.setXRange(0, 3600.0, padding=0)
    panel.spectrogram.refresh(force=True)
    assert panel.spectrogram.image.image.shape[0] < 5000
    panel.seek(2700.0)
    assert window.ctx.player.position() == pytest.approx(2700.0)
    # Minute 45 plays 1100 Hz: the spectrogram there says so.
    band = int(np.argmax(panel.spectrogram.column_at(2730.0)))
    assert abs(mel_axis_position(1100.0, MelConfig()) - (band + 0.5)) < 1.5


def test_example_opens_a_starter_phrase(qtbot, window, monkeypatch, tmp_path):
    from pathlib import Path

    import pretty_midi

    from instrument_studio.core.datasets import starter

    full = starter.load_recipe()

    def recipe():   # the built-in recipe for two instruments, a few clips (the full set is 2,400 clips)
        r = json.loads(json.dumps(full))
        r["instruments"] = [i for i in r["instruments"] if i["label"] in ("violin", "flute")]
        r["notes_per_instrument"], r["phrases_per_instrument"] = 2, 3
        return r

    monkeypatch.setenv(starter.SOUNDFONT_ENV, str(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"))
    monkeypatch.setattr(starter, "load_recipe", recipe)
    monkeypatch.setattr(starter, "starter_cache_dir", lambda: tmp_path / "starter-cache")
    panel = window.audio_panel
    with qtbot.waitSignal(panel.loaded, timeout=120000):
        qtbot.mouseClick(panel.example_button, Qt.LeftButton)
    assert "violin" in window.windowTitle() and "phrase" in window.windowTitle()
    assert panel.ready.info.duration > 0.7       # several notes (4 at least), not one short note
