"""The Dataset panel, driven as a user drives it: import, facts, balance, clip list, play, features."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from instrument_studio.core.audio.playback import Player
from instrument_studio.core.datasets import starter
from instrument_studio.gui.panels import dataset as dataset_panel
from instrument_studio.gui.panels import dataset_clip
from tests.core import dataset_fixtures as fx
from tests.fakes import FakeStream

pretty_midi = pytest.importorskip("pretty_midi")
TIM = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
FULL_RECIPE = starter.load_recipe()


@pytest.fixture(autouse=True)
def playable(monkeypatch):
    monkeypatch.setattr(dataset_clip, "output_unavailable_reason", lambda: None)


@pytest.fixture
def small_starter(monkeypatch, tmp_path):
    def recipe():
        r = json.loads(json.dumps(FULL_RECIPE))
        r["instruments"] = r["instruments"][:4]
        r["notes_per_instrument"], r["phrases_per_instrument"] = 6, 2
        return r

    monkeypatch.setenv(starter.SOUNDFONT_ENV, str(TIM))
    monkeypatch.setattr(starter, "load_recipe", recipe)
    monkeypatch.setattr(starter, "starter_cache_dir", lambda: tmp_path / "starter-cache")


def show_panel(qtbot, window):
    panel = window.panels["DatasetPanel"]
    with qtbot.waitSignal(panel.dataset_loaded, timeout=60000):
        window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel._loading is None, timeout=10000)
    return panel


def import_folder(qtbot, panel, monkeypatch, folder):
    monkeypatch.setattr(dataset_panel.QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    with qtbot.waitSignal(panel.dataset_loaded, timeout=30000):
        qtbot.mouseClick(panel.open_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel._loading is None, timeout=10000)


def test_starter_set_is_shown_when_nothing_else_is_open(qtbot, window, small_starter):
    seen = []
    window.ctx.dataset_changed.connect(seen.append)
    panel = show_panel(qtbot, window)
    assert panel.dataset.layout == "starter" and len(panel.dataset.classes) == 4
    assert seen and seen[-1] is panel.dataset is window.ctx.dataset
    assert panel.stack.currentIndex() == 1
    facts = panel.facts_label.text()
    assert "classes <b>4</b>" in facts and "features per sample <b>120</b>" in facts
    assert "TimGM6mb" in panel.notes_label.text()
    assert not panel.warning_label.isVisible()  # a balanced set: no warning


def test_import_facts_balance_and_filters(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    root = fx.folders(tmp_path / "mine", per_class=4)
    for i in range(8):  # make flute much larger than the others
        fx.write(root / "flute" / f"extra{i}.wav", 900 + i)
    import_folder(qtbot, panel, monkeypatch, root)
    ds = panel.dataset
    assert ds.layout == "folders" and ds.classes == ("cello", "flute", "violin")
    stats = ds.stats()
    assert f"Training samples <b>{stats['n_train']}</b>" in panel.facts_label.text()
    assert f"test <b>{stats['n_test']}</b>" in panel.facts_label.text()
    assert panel.counts_view.totals() == {"cello": 4, "flute": 12, "violin": 4}
    assert panel.warning_label.isVisible() and "flute" in panel.warning_label.text()
    assert panel.shown_label.text() == "20 of 20 clips"
    panel.class_filter.setCurrentIndex(panel.class_filter.findData("cello"))
    assert panel.shown_label.text() == "4 of 20 clips"
    panel.split_filter.setCurrentIndex(panel.split_filter.findData("train"))
    rows = [panel.proxy.data(panel.proxy.index(r, 2)) for r in range(panel.proxy.rowCount())]
    assert rows and set(rows) == {"training"}
    # The app keeps its project in the user data folder, never in the data folder.
    assert not (root / "instrument-studio.json").exists()
    assert Path(ds.folder).is_dir() and window.ctx.settings.get("dataset/last") == str(ds.folder)


def test_rescan_picks_up_new_takes(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    assert not panel.rescan_button.isEnabled()  # the starter set is not read from a folder
    root = fx.folders(tmp_path / "mine", per_class=3)
    import_folder(qtbot, panel, monkeypatch, root)
    assert panel.shown_label.text() == "9 of 9 clips"
    fx.write(root / "violin" / "2026-11-21T20-30-00.wav", 660)  # a take recorded in the Live panel
    with qtbot.waitSignal(panel.dataset_loaded, timeout=30000):
        qtbot.mouseClick(panel.rescan_button, Qt.LeftButton)
    assert panel.shown_label.text() == "10 of 10 clips"
    assert panel.counts_view.totals()["violin"] == 4


def test_click_a_clip_plays_it_and_shows_its_spectrogram(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    import_folder(qtbot, panel, monkeypatch, fx.folders(tmp_path / "mine", per_class=3))
    qtbot.waitUntil(lambda: panel.clip_box._play_block_reason is None, timeout=5000)
    panel.clip_box.player = Player(stream_factory=lambda **kw: FakeStream(**kw))
    rect = panel.table.visualRect(panel.proxy.index(0, 0))
    clip = panel.proxy.data(panel.proxy.index(0, 0), Qt.UserRole)
    with qtbot.waitSignal(panel.clip_shown, timeout=10000) as sig:
        qtbot.mouseClick(panel.table.viewport(), Qt.LeftButton, pos=rect.center())
    assert sig.args == [clip.path]
    assert panel.spectrogram.isVisible() and panel.spectrogram.data is not None
    assert clip.name in panel.clip_box.clip_label.text()
    player = panel.clip_box.player
    assert player.playing and abs(player.duration - 0.3) < 0.01
    # The Audio panel's player is left alone: its file stays loaded.
    assert not window.ctx.player.playing and window.ctx.player.duration == 0
    assert panel.clip_box.play_button.text() == "Pause"
    qtbot.mouseClick(panel.clip_box.play_button, Qt.LeftButton)
    assert not player.playing and panel.clip_box.play_button.text() == "Play"
    # Another dataset: the clip view no longer shows this one's clip (issue 11 #10).
    import_folder(qtbot, panel, monkeypatch, fx.folders(tmp_path / "other", per_class=2))
    assert not panel.spectrogram.isVisible() and clip.name not in panel.clip_box.clip_label.text()
    assert panel.clip_box.clip_label.text().startswith("Click a clip")
    assert not panel.clip_box.play_button.isEnabled() and panel.clip_box.preview is None


def test_a_broken_clip_says_why(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    root = fx.folders(tmp_path / "mine", per_class=3)
    (root / "cello" / "broken.wav").write_bytes(b"not audio at all" * 20)
    import_folder(qtbot, panel, monkeypatch, root)
    broken = next(c for c in panel.dataset.clips if c.name == "broken.wav")
    panel.show_clip(broken)
    qtbot.waitUntil(lambda: "Cannot open broken.wav" in panel.clip_box.clip_label.text(), timeout=10000)


def test_extract_features_with_progress_and_a_failure_report(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    root = fx.folders(tmp_path / "mine", per_class=2)
    (root / "violin" / "broken.wav").write_bytes(b"RIFF" + b"\x00" * 40)
    import_folder(qtbot, panel, monkeypatch, root)
    box = panel.features_box
    with qtbot.waitSignal(panel.features_ready, timeout=60000) as sig:
        qtbot.mouseClick(box.extract_button, Qt.LeftButton)
        assert box.progress.isVisible() and box.cancel_button.isVisible()
    fs = sig.args[0]
    assert fs.input_shape == (120,) and sum(fs.n(s) for s in ("train", "val", "test")) == 6
    text = box.result_label.text()
    # The per-file cache is shared by the test session: some files may come from it.
    done = re.search(r"(\d+) computed, (\d+) from the cache", text)
    assert done and int(done.group(1)) + int(done.group(2)) == 6
    assert "1 file(s) skipped: broken.wav" in text
    qtbot.waitUntil(lambda: not box.running, timeout=5000)
    assert not box.progress.isVisible() and box.extract_button.isEnabled()


def test_cancel_feature_extraction(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    import_folder(qtbot, panel, monkeypatch, fx.folders(tmp_path / "mine", per_class=8))
    box = panel.features_box
    box.kind_combo.setCurrentIndex(box.kind_combo.findData("mel-patches"))
    assert box.hpss_box.isVisible()
    box.hpss_box.setChecked(True)
    assert "128 × 43 × 3 patch" in panel.facts_label.text()
    qtbot.mouseClick(box.extract_button, Qt.LeftButton)
    qtbot.mouseClick(box.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not box.running, timeout=30000)
    assert "cancelled" in box.result_label.text()
    assert box.features is None and box.extract_button.isEnabled()


def test_imbalance_warning_text():
    assert dataset_panel.imbalance_warning(("a", "b"), {"a": 10, "b": 12}) == ""
    text = dataset_panel.imbalance_warning(("a", "b"), {"a": 10, "b": 40})
    assert "b has 40" in text and "a only 10" in text and "4.0×" in text
    assert "No training clips for b" in dataset_panel.imbalance_warning(("a", "b"), {"a": 3, "b": 0})


def test_feature_arrays_need_no_extraction(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    import_folder(qtbot, panel, monkeypatch, fx.npy(tmp_path / "lab", n_features=120))
    assert panel.dataset.layout == "npy"
    assert "features per sample <b>120</b> (from the arrays)" in panel.facts_label.text()
    box = panel.features_box
    assert box.extract_button.text() == "Load feature arrays" and not box.kind_combo.isEnabled()
    panel.show_clip(panel.dataset.clips[0])
    assert "no audio to play" in panel.clip_box.clip_label.text()
    with qtbot.waitSignal(panel.features_ready, timeout=20000) as sig:
        qtbot.mouseClick(box.extract_button, Qt.LeftButton)
    assert sig.args[0].n("test") == 20
    qtbot.waitUntil(lambda: not box.running, timeout=5000)


def test_theme_change_restyles_the_plots(qtbot, window, small_starter):
    panel = show_panel(qtbot, window)
    window.apply_preferences(output_device="", theme="dark")
    try:
        assert panel.counts_view.backgroundBrush().color().lightness() < 100
        assert panel.spectrogram.backgroundBrush().color().lightness() < 100
    finally:
        window.apply_preferences(output_device="", theme="light")
    assert panel.counts_view.backgroundBrush().color().lightness() > 150


def test_spectrogram_covers_each_clip_in_turn(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    root = fx.folders(tmp_path / "mine", per_class=3)
    fx.write(root / "cello" / "long.wav", 220, seconds=2.5)
    import_folder(qtbot, panel, monkeypatch, root)
    clips = {c.name: c for c in panel.dataset.clips}
    for name, seconds in (("cello0.wav", 0.3), ("long.wav", 2.5), ("flute0.wav", 0.3)):
        with qtbot.waitSignal(panel.clip_shown, timeout=10000):
            panel.show_clip(clips[name])
        view = panel.spectrogram
        qtbot.waitUntil(lambda v=view: v.image.image is not None and len(v.image.image) == len(v.data), timeout=3000)
        rect = view.image.mapRectToParent(view.image.boundingRect())
        assert abs(rect.width() - seconds) < 0.05, name


def test_one_sound_at_a_time_with_the_audio_panel(qtbot, window, monkeypatch, tmp_path, small_starter):
    panel = show_panel(qtbot, window)
    import_folder(qtbot, panel, monkeypatch, fx.folders(tmp_path / "mine", per_class=3, seconds=2.0))
    qtbot.waitUntil(lambda: panel.clip_box._play_block_reason is None, timeout=5000)
    box = panel.clip_box
    box.player = Player(stream_factory=lambda **kw: FakeStream(**kw))
    audio = window.ctx.player
    audio.set_audio(fx.tone(440, 5.0), fx.SR)
    audio.play()
    with qtbot.waitSignal(panel.clip_shown, timeout=10000):
        panel.show_clip(panel.dataset.clips[0])
    assert box.player.playing and not audio.playing  # the clip paused the Audio panel's file
    assert audio.duration == pytest.approx(5.0)       # ...which stays loaded
    audio.play()                                      # the Audio panel plays again: the clip gives way
    qtbot.waitUntil(lambda: not box.player.playing, timeout=3000)
    qtbot.waitUntil(lambda: box.play_button.text() == "Play", timeout=3000)
    audio.stop()
