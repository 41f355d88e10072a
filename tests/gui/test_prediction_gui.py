"""Prediction in the GUI: a folder table that fills in (with an error row for a corrupt file),
Cancel and CSV; the Audio panel's timeline under the spectrogram; the Live panel's bars naming
the instrument of a file played through the live input."""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QFontMetrics

from instrument_studio.core.audio.audiofile import save_wav
from instrument_studio.core.audio.devices import DeviceInfo
from instrument_studio.core.audio.playback import Player
from tests.fakes import FakeStream, slow_model
from tests.synth_instruments import SR, note

MIC = DeviceInfo(index=0, name="Test Mic", hostapi="ALSA", max_input_channels=1, max_output_channels=0,
                 default_samplerate=48000.0, is_default=True)


@pytest.fixture
def app_window(qtbot, monkeypatch, synth_model, tmp_path):
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
    win.resize(1300, 900)
    win.show()
    panel = win.panels["PredictPanel"]
    with qtbot.waitSignal(panel.predictor_changed, timeout=60000):
        panel.set_model(str(synth_model[0]))
    yield win, panel
    win.close()
    ctx.player.close()


def test_folder_table_with_a_corrupt_file_and_csv(qtbot, app_window, synth_model, tmp_path):
    win, panel = app_window
    folder = tmp_path / "recordings"
    folder.mkdir()
    for label in ("buzz", "noise", "tone"):
        shutil.copy(synth_model[1] / label / f"{label}_04.wav", folder / f"{label}.wav")
    (folder / "corrupt.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    win.tabs.setCurrentWidget(panel)
    predict_menu = [a.menu() for a in win.menuBar().actions() if a.text() == "&Predict"][0]
    keys = {a.text(): a.shortcut().toString() for a in predict_menu.actions() if a.text()}
    assert keys["Predict Folder…"] == "Ctrl+Shift+O" and keys["Predict Files…"] == "Ctrl+Alt+O"
    export = [a for a in predict_menu.actions() if a.text() == "Export Predictions CSV…"][0]
    assert export.shortcut().toString() == "Ctrl+Shift+S" and not export.isEnabled()   # nothing to export yet
    with qtbot.waitSignal(panel.folder_done, timeout=30000) as done:
        panel.predict_paths([str(folder)])
    assert done.args == [3, 1]
    assert export.isEnabled() and panel.export_button.isEnabled()
    table = panel.table
    assert table.rowCount() == 4
    rows = {table.item(r, 0).text(): r for r in range(4)}
    assert table.item(rows["corrupt.wav"], 1).text() == "error"
    assert table.item(rows["corrupt.wav"], 3).text() and table.item(rows["corrupt.wav"], 3).toolTip()
    for label in ("buzz", "noise", "tone"):
        r = rows[f"{label}.wav"]
        assert table.item(r, 1).text() == label
        assert table.item(r, 3).text().startswith(label)
    assert panel.progress.value() == panel.progress.maximum() == 4
    assert panel.status.text().startswith("3 files predicted") and "1 could not be read" in panel.status.text()
    assert panel.export_button.isEnabled()
    out = tmp_path / "out.csv"
    panel.export_csv(str(out))
    assert len(list(csv.DictReader(out.open()))) == 4


def drop(win, *paths) -> None:
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    win.dropEvent(QDropEvent(QPointF(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


def test_a_dropped_folder_or_several_recordings_fill_the_predict_table(qtbot, app_window, synth_model, tmp_path):
    """A musician drops a folder on the window (from any tab): the Predict panel names every recording
    in it; several files dropped at once go there too; on the Predict tab even one file does. Before
    any of it, the panel says what the table is for instead of showing empty columns."""
    win, panel = app_window
    assert panel.table_stack.currentWidget() is panel.placeholder
    assert "No recordings predicted yet" in panel.placeholder.text() and panel.progress.text() == "idle"
    folder = tmp_path / "takes"
    (folder / "day2").mkdir(parents=True)
    shutil.copy(synth_model[1] / "buzz" / "buzz_04.wav", folder / "buzz.wav")
    shutil.copy(synth_model[1] / "tone" / "tone_04.wav", folder / "day2" / "tone.wav")
    win.tabs.setCurrentWidget(win.audio_panel)
    with qtbot.waitSignal(panel.folder_done, timeout=30000) as done:
        drop(win, folder)
    assert done.args == [2, 0] and win.tabs.currentWidget() is panel
    assert panel.table_stack.currentWidget() is panel.table
    assert {panel.table.item(r, 0).text(): panel.table.item(r, 1).text() for r in range(2)} == {
        "buzz.wav": "buzz", str(Path("day2") / "tone.wav"): "tone"}

    win.tabs.setCurrentWidget(win.audio_panel)
    with qtbot.waitSignal(panel.folder_done, timeout=30000) as done:
        drop(win, folder / "buzz.wav", folder / "day2" / "tone.wav")
    assert done.args == [2, 0] and win.tabs.currentWidget() is panel
    # shown below the folder the files share, the whole path in the tooltip
    assert sorted(panel.table.item(r, 0).text() for r in range(2)) == ["buzz.wav", str(Path("day2") / "tone.wav")]
    assert {panel.table.item(r, 0).toolTip() for r in range(2)} == {str(folder / "buzz.wav"),
                                                                    str(folder / "day2" / "tone.wav")}
    with qtbot.waitSignal(panel.folder_done, timeout=30000) as done:
        drop(win, folder / "buzz.wav")                 # on the Predict tab: into the table
    assert done.args == [1, 0] and panel.table.rowCount() == 1
    assert win.audio_panel.path is None               # nothing was opened in the Audio panel

    empty = tmp_path / "nothing here"
    empty.mkdir()
    (empty / "notes.txt").write_text("not audio")
    with qtbot.waitSignal(panel.folder_done, timeout=30000) as done:
        drop(win, empty)
    assert done.args == [0, 0]
    assert panel.status.text() == "No recordings (WAV, AIFF, FLAC, OGG, MP3) found in nothing here."
    assert panel.table_stack.currentWidget() is panel.placeholder and panel.progress.text() == "idle"


def test_one_dropped_recording_opens_in_the_audio_panel_and_a_folder_on_the_dataset_tab_opens_as_a_dataset(
        qtbot, app_window, synth_model):
    win, panel = app_window
    win.tabs.setCurrentWidget(win.panels["LivePanel"])
    with qtbot.waitSignal(win.audio_panel.loaded, timeout=20000):
        drop(win, synth_model[1] / "buzz" / "buzz_04.wav")
    assert win.tabs.currentWidget() is win.audio_panel and win.windowTitle().endswith("buzz_04.wav")
    assert panel.table.rowCount() == 0

    dataset = win.panels["DatasetPanel"]
    win.tabs.setCurrentWidget(dataset)
    drop(win, synth_model[1])
    qtbot.waitUntil(lambda: dataset.dataset is not None, timeout=30000)
    assert Path(dataset.dataset.root) == Path(synth_model[1])
    assert win.tabs.currentWidget() is dataset and panel.table.rowCount() == 0


def test_the_table_sorts_by_a_clicked_header_and_rows_keep_their_files(qtbot, app_window, synth_model, tmp_path):
    """A folder's answers sorted by probability (numbers, not text: 9.5 % before 10.2 %), by class or by
    file; answering among classes while sorted changes the right rows; double-clicking a sorted row
    opens that row's file."""
    win, panel = app_window
    folder = tmp_path / "recordings"
    folder.mkdir()
    for label in ("buzz", "noise", "tone"):
        for k in ("02", "03", "04"):
            shutil.copy(synth_model[1] / label / f"{label}_{k}.wav", folder / f"{label}_{k}.wav")
    (folder / "zz_corrupt.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    win.tabs.setCurrentWidget(panel)
    with qtbot.waitSignal(panel.folder_done, timeout=30000):
        panel.predict_paths([str(folder)])
    table, header = panel.table, panel.table.horizontalHeader()
    assert header.sortIndicatorSection() == -1                  # in the order predicted
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == sorted(p.name for p in folder.iterdir())

    def rows():
        return [(table.item(r, 0).text(), table.item(r, 1).text(), table.item(r, 2).text())
                for r in range(table.rowCount())]

    before = {name: (label, p) for name, label, p in rows()}
    assert sum(label == "error" for label, _ in before.values()) == 1
    qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(header.sectionViewportPosition(2) + 5, 5))
    assert header.sortIndicatorSection() == 2
    shown = rows()
    numbers = [float(p.rstrip("%")) for _, _, p in shown if p]
    assert numbers == sorted(numbers, reverse=header.sortIndicatorOrder() == Qt.DescendingOrder)
    assert len(set(numbers)) > 1
    assert {name: (label, p) for name, label, p in shown} == before      # each row keeps its own file's answer

    def classes_sorted_errors_last():
        labels = [label for _, label, _ in rows()]
        return labels[-1] == "error" and labels[:-1] == sorted(labels[:-1])

    table.sortByColumn(1, Qt.AscendingOrder)
    assert classes_sorted_errors_last()

    panel.answer_among(["buzz", "tone"])
    for r in range(table.rowCount()):
        name, label = table.item(r, 0).text(), table.item(r, 1).text()
        if before[name][0] in {"buzz", "tone"}:
            assert label == before[name][0]                     # already one of them: the same answer
        elif name != "zz_corrupt.wav":
            assert label in {"buzz", "tone"}
    assert classes_sorted_errors_last()                         # sorted again
    panel.answer_among(None)

    table.sortByColumn(0, Qt.DescendingOrder)
    assert table.item(0, 0).text() == "zz_corrupt.wav"
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "tone_04.wav")
    table.setFocus()
    table.setCurrentCell(row, 0)
    with qtbot.waitSignal(win.audio_panel.loaded, timeout=20000):
        qtbot.keyClick(table, Qt.Key_Return)                   # Enter opens the selected row, as a double-click does
    assert win.windowTitle().endswith("tone_04.wav")
    win.tabs.setCurrentWidget(panel)
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "buzz_02.wav")
    pos = table.visualRect(table.model().index(row, 1)).center()
    with qtbot.waitSignal(win.audio_panel.loaded, timeout=20000):
        qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=pos)
        qtbot.mouseDClick(table.viewport(), Qt.LeftButton, pos=pos)
    assert win.windowTitle().endswith("buzz_02.wav")


def test_percentages_sort_as_numbers_not_text(qtbot):
    from PySide6.QtWidgets import QTableWidget

    from instrument_studio.gui.widgets.tables import SortKeyItem

    table = QTableWidget(4, 1)
    qtbot.addWidget(table)
    for row, p in enumerate((0.102, 0.095, 1.0, 0.5)):
        table.setItem(row, 0, SortKeyItem(f"{p:.1%}", p))
    table.sortByColumn(0, Qt.AscendingOrder)
    assert [table.item(r, 0).text() for r in range(4)] == ["9.5%", "10.2%", "50.0%", "100.0%"]   # text: 10.2, 100.0, 50.0, 9.5


def test_a_header_click_shows_the_top_of_the_sorted_rows_or_the_selected_one(qtbot):
    """Qt keeps the scroll position when a table is sorted, so after scrolling to the end of a long table
    a header click would leave the rows now first out of view."""
    from PySide6.QtWidgets import QAbstractItemView, QTableWidget

    from instrument_studio.gui.widgets.tables import SortKeyItem, follows_its_sorting, rows_changed_at_once

    table = QTableWidget(200, 1)
    qtbot.addWidget(table)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    for row in range(200):
        table.setItem(row, 0, SortKeyItem(f"{(row * 37) % 200 / 200:.1%}", (row * 37) % 200))
    table.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
    table.setSortingEnabled(True)
    follows_its_sorting(table)
    table.resize(300, 200)
    table.show()
    qtbot.waitExposed(table)
    header, bar = table.horizontalHeader(), table.verticalScrollBar()

    def click_header():
        qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(header.sectionViewportPosition(0) + 5, 5))

    table.scrollToBottom()
    assert bar.value() == bar.maximum() > 0
    click_header()
    qtbot.waitUntil(lambda: bar.value() == 0)
    assert table.item(0, 0).text() == "0.0%"
    assert table.rowAt(0) == 0                                  # the first sorted row in view

    table.selectRow(10)
    chosen = table.item(10, 0).text()
    click_header()                                              # the other order: that row goes near the end
    row = next(r for r in range(200) if table.item(r, 0).text() == chosen)
    assert row > 150 and table.currentRow() == row
    qtbot.waitUntil(lambda: table.viewport().rect().contains(table.visualRect(table.model().index(row, 0)).center()))

    table.clearSelection()
    table.verticalScrollBar().setValue(100)
    with rows_changed_at_once(table):                           # rows streaming in, sorted: the view stays put
        table.insertRow(200)
        table.setItem(200, 0, SortKeyItem("50.0%", 100))
    qtbot.wait(50)
    assert bar.value() == 100


def test_quitting_during_a_folders_prediction_asks_first(qtbot, app_window, synth_model, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    win, panel = app_window
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        shutil.copy(synth_model[1] / "tone" / "tone_04.wav", folder / f"take_{i:02d}.wav")
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.Cancel)
    panel.predict_paths([str(folder)])
    qtbot.waitUntil(lambda: len(panel.results) >= 1, timeout=30000)
    win.close()
    assert len(asked) == 1 and "A folder's prediction (" in asked[0] and "of 40 files done)" in asked[0]
    assert win.isVisible() and panel.is_running()              # Cancel: still open, still predicting
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=30000)


def test_a_model_that_cannot_load_says_so_not_that_no_recordings_were_found(qtbot, app_window, synth_model,
                                                                            tmp_path):
    win, panel = app_window
    broken = tmp_path / "broken_bundle"
    broken.mkdir()
    (broken / "model.keras").write_bytes(b"not a model")
    panel.set_model(str(broken))
    with qtbot.waitSignal(panel.folder_done, timeout=60000) as done:
        panel.predict_paths([str(synth_model[1] / "tone")])
    assert done.args == [0, 0]
    assert panel.status.text().startswith("Nothing predicted: the model could not be loaded (")
    assert "No recordings" not in panel.status.text() and win.last_error[0] == "Cannot load the model"


def test_the_table_answers_among_the_classes_chosen_in_its_menu(qtbot, app_window, synth_model, tmp_path):
    """The "Among" menu: the table (and its CSV) answers among the classes ticked, at once, without
    predicting the files again; "Every class" brings the model's own answers back."""
    win, panel = app_window
    folder = tmp_path / "recordings"
    folder.mkdir()
    for label in ("buzz", "noise", "tone"):
        shutil.copy(synth_model[1] / label / f"{label}_04.wav", folder / f"{label}.wav")
    win.tabs.setCurrentWidget(panel)
    assert panel.among_button.isEnabled() and panel.among_button.text() == "Among: every class"
    with qtbot.waitSignal(panel.folder_done, timeout=30000):
        panel.predict_paths([str(folder)])
    table = panel.table

    def shown():
        return {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 3).text())
                for r in range(table.rowCount())}

    assert {name: top for name, (top, _) in shown().items()} == {"buzz.wav": "buzz", "noise.wav": "noise",
                                                                  "tone.wav": "tone"}
    actions = {a.text(): a for a in panel.among_menu.actions() if a.text()}
    assert set(actions) == {"Every class", "buzz", "noise", "tone"}
    menu = panel.among_menu
    predict_menu = [a.menu() for a in win.menuBar().actions() if a.text() == "&Predict"][0]
    [a for a in predict_menu.actions() if a.text() == "Answer Among…"][0].trigger()
    qtbot.waitUntil(menu.isVisible)
    for name in ("buzz", "tone"):       # clicked one after the other: the menu stays open between
        qtbot.mouseClick(menu, Qt.LeftButton, pos=menu.actionGeometry(actions[name]).center())
        assert menu.isVisible() and actions[name].isChecked()
    menu.hide()
    assert panel.among_button.text() == "Among: buzz, tone"
    rows = shown()
    assert rows["buzz.wav"][0] == "buzz" and rows["tone.wav"][0] == "tone"
    assert rows["noise.wav"][0] in {"buzz", "tone"}
    for _, top3 in rows.values():
        assert "noise" not in top3 and top3.count("%") == 2
    out = tmp_path / "among.csv"
    with qtbot.waitSignal(win.ctx.status, timeout=2000) as said:
        panel.export_csv(str(out))
    assert said.args[0].endswith("(answered among buzz, tone)")
    assert {Path(r["path"]).name: r["label"] for r in csv.DictReader(out.open())}["noise.wav"] in {"buzz", "tone"}
    assert {r["among"] for r in csv.DictReader(out.open())} == {"buzz; tone"}
    assert len(panel.results) == 3          # nothing was predicted again
    # The noise file opened from its row: the Audio panel answers among the same classes.
    view = panel.file_view
    row = [r for r in range(table.rowCount()) if table.item(r, 0).text() == "noise.wav"][0]
    with qtbot.waitSignal(view.predicted, timeout=30000):
        panel._open_row(table.model().index(row, 0))
    summary = view.summary.text()
    assert "among buzz, tone" in summary and f"<b>{rows['noise.wav'][0]}</b>" in summary
    assert {view.timeline.labels[c] for c in view.timeline.rows} <= {"buzz", "tone"}
    actions["Every class"].trigger()
    assert panel.among_button.text() == "Among: every class"
    assert shown()["noise.wav"][0] == "noise" and not actions["buzz"].isChecked()
    assert "among" not in view.summary.text() and "<b>noise</b>" in view.summary.text()


def test_a_runs_results_reach_the_table_in_batches_with_columns_fitting_their_text(qtbot, app_window):
    """Results arriving faster than the eye reach the table together, within a fraction of a second
    (a row added alone cost the GUI thread 7 ms); the class and probability columns still fit their
    text afterwards, and "Among" re-answers rows that have not been shown yet too."""
    from PySide6.QtWidgets import QHeaderView

    from instrument_studio.core.predict.inference import FileResult, Prediction

    win, panel = app_window
    win.tabs.setCurrentWidget(panel)
    labels = ("buzz", "noise", "tone")
    panel._offer_classes(labels)
    table = panel.table
    table.setRowCount(0)
    panel.results = []

    def result(i, probabilities):
        p = np.asarray(probabilities, dtype=np.float32)
        return FileResult(path=f"/takes/take_{i}.wav", index=i, total=3,
                          prediction=Prediction(labels, p, np.zeros(1), p[None], np.zeros(1, bool), duration=1.0))

    for i, p in enumerate(([0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.5, 0.3])):
        panel._add_row(result(i, p))
    assert table.rowCount() == 0                      # not yet: one batch for the three
    panel.answer_among(["buzz", "noise"])             # shows them first, then answers among the two
    assert table.rowCount() == 3
    assert [table.item(r, 1).text() for r in range(3)] == ["noise", "buzz", "noise"]
    panel.answer_among(None)
    assert [table.item(r, 1).text() for r in range(3)] == ["tone", "buzz", "noise"]
    for i, p in enumerate(([0.1, 0.2, 0.7], [0.1, 0.1, 0.8]), start=3):
        panel._add_row(result(i, p))
    qtbot.waitUntil(lambda: table.rowCount() == 5, timeout=2000)
    header = table.horizontalHeader()
    assert header.sectionResizeMode(1) == header.sectionResizeMode(2) == QHeaderView.ResizeToContents
    metrics = QFontMetrics(table.font())
    assert header.sectionSize(2) >= metrics.horizontalAdvance("100.0%")


def test_cancel_stops_a_folder(qtbot, app_window, synth_model):
    win, panel = app_window
    panel.predict_paths([str(synth_model[1])])  # 60 files
    qtbot.waitUntil(lambda: panel.table.rowCount() >= 2, timeout=30000)
    qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.cancel_button.isEnabled(), timeout=10000)
    assert panel.table.rowCount() < 60
    assert panel.status.text().startswith("Cancelled after")


def test_audio_panel_timeline_under_the_spectrogram(qtbot, app_window, tmp_path):
    win, panel = app_window
    y = np.concatenate([note("tone", seconds=3.0, freq=440.0), note("noise", seconds=3.0, seed=2)])
    wav = save_wav(tmp_path / "two.wav", y, SR)
    view = panel.file_view
    with qtbot.waitSignal(view.predicted, timeout=30000):  # a model is in use: files are predicted at once
        win.open_file(str(wav))
    assert view.isVisible()
    assert "Whole file" in view.summary.text()
    tl = view.timeline
    assert tl.timeline.shape == (6, 3)
    top = [tl.labels[i] for i in tl.timeline.argmax(axis=1)]
    first, last = top[:3], top[3:]
    assert first.count("tone") >= 2 and last.count("noise") >= 2, top
    # The timeline shares the waveform's time axis and follows the playhead.
    assert tl.plotItem.vb.viewRange()[0] == pytest.approx(win.audio_panel.waveform.plotItem.vb.viewRange()[0])
    win.audio_panel.seek(4.5)
    qtbot.waitUntil(lambda: view.now_label.text().startswith("at 4.50 s"), timeout=3000)
    assert tl.at(4.5)[0][0] in view.now_label.text()
    assert tl.playhead.value() == pytest.approx(4.5, abs=0.05)


def test_without_a_model_loaded_the_audio_panel_offers_a_button(qtbot, window, synth_model, tmp_path):
    panel = window.panels["PredictPanel"]
    window.ctx.settings.set("predict/model", "")
    wav = save_wav(tmp_path / "one.wav", note("noise", seconds=2.0), SR)
    with qtbot.waitSignal(window.audio_panel.loaded, timeout=30000):
        window.open_file(str(wav))
    view = panel.file_view
    assert panel.predictor is None  # opening a file does not load a model (nor TensorFlow)
    assert view.predict_button.isVisible() and not view.timeline.isVisible()
    panel.model_path = str(synth_model[0])
    button = view.predict_button
    qtbot.waitUntil(lambda: button.isVisible() and button.height() > 10 and view.height() >= button.height())
    with qtbot.waitSignal(view.predicted, timeout=60000):
        qtbot.mouseClick(button, Qt.LeftButton)
    assert view.timeline.isVisible() and not view.predict_button.isVisible()
    assert view.prediction.label == "noise"


def _live_on_playback(qtbot, app_window):
    """The Live panel started on the Audio panel's playback, with live prediction attached."""
    win, panel = app_window
    live = win.panels["LivePanel"]
    view = panel.live_view
    win.tabs.setCurrentWidget(live)
    live.source_combo.setCurrentIndex(live.source_combo.findData("playback"))
    qtbot.mouseClick(live.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: live.pipeline.running and view.live is not None, timeout=30000)
    return win, live, view


def test_live_bars_name_the_instrument_played_through_the_live_input(qtbot, app_window):
    win, live, view = _live_on_playback(qtbot, app_window)
    player = win.ctx.player
    # 8 s of buzz: answers are spaced by their cost, and on a loaded CI machine 4 s gave few to spare.
    buzz_then_silence = np.concatenate([note("buzz", seconds=8.0, freq=300.0, seed=7), np.zeros(3 * SR, np.float32)])
    shown = []
    spaced = []
    view.shown.connect(lambda p: shown.append((p.state, p.ranked(1)[0][0] if p.probabilities is not None else "")))
    view.shown.connect(spaced.append)
    player.set_audio(buzz_then_silence, SR)
    player.play()
    qtbot.waitUntil(lambda: len([s for s in shown if s[0] == "confident"]) >= 8, timeout=20000)
    heard = [label for state, label in shown if state == "confident"]
    assert max(set(heard), key=heard.count) == "buzz", heard
    # About as often as the predictor's CPU budget plans them (a few a second for this small model;
    # each answer also waits for the next block of audio).
    planned = 1.0 / np.median([p.spacing for p in spaced[-6:]])
    assert "latency" in view.latency_label.text() and view.rate() >= 0.5 * planned >= 1.0, (view.rate(), planned)
    qtbot.waitUntil(lambda: view.latest.state == "uncertain" and "silent" in view.latest.reason, timeout=10000)
    assert view.state_label.text() == "uncertain: silent input"
    player.stop()
    qtbot.waitUntil(lambda: view.state_label.text() == "uncertain: no live audio", timeout=5000)
    qtbot.mouseClick(live.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not live.pipeline.running, timeout=10000)
    # Stopped: no latency of an input that is gone (issue 11 #10).
    qtbot.waitUntil(lambda: view.state_label.text() == "live input stopped", timeout=5000)
    assert view.latency_label.text() == "" and not any(bar.isEnabled() for bar in view.bars)


def test_live_bars_answer_among_the_classes_ticked_in_the_live_panel(qtbot, app_window):
    """The Live panel's "Among" button opens the Predict panel's menu (one choice for the table, the
    Audio panel and the bars): a buzz played while buzz is not ticked is never named, and no bar
    lists it; "Every class" names it again."""
    win, live, view = _live_on_playback(qtbot, app_window)
    panel = app_window[1]
    button = view.among_button
    assert button.isVisible() and button.isEnabled() and button.text() == "Among: every class"
    assert "Tick them" in button.toolTip()
    menu = panel.among_menu
    actions = {a.text(): a for a in menu.actions() if a.text()}
    seen = []

    def tick_in_the_open_menu():
        # The button's menu runs its own event loop until it closes: ticked from inside it.
        qtbot.waitUntil(menu.isVisible)
        for name in ("noise", "tone"):
            qtbot.mouseClick(menu, Qt.LeftButton, pos=menu.actionGeometry(actions[name]).center())
            seen.append(menu.isVisible() and actions[name].isChecked())
        menu.hide()

    QTimer.singleShot(0, tick_in_the_open_menu)
    qtbot.mouseClick(button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not menu.isVisible())
    assert seen == [True, True]
    assert button.text() == "Among: noise, tone" == panel.among_button.text()
    shown = []
    view.shown.connect(shown.append)
    player = win.ctx.player
    player.set_audio(note("buzz", seconds=8.0, freq=300.0, seed=7), SR)
    player.play()
    qtbot.waitUntil(lambda: len([p for p in shown if p.probabilities is not None]) >= 4, timeout=20000)
    answered = [p for p in shown if p.probabilities is not None]
    assert all(p.considered == ("noise", "tone") for p in answered)
    assert "buzz" not in {view.names[i].text() for i in range(len(view.names))}
    assert view.state_label.text() != "buzz"
    actions["Every class"].trigger()
    assert button.text() == "Among: every class"
    shown.clear()
    qtbot.waitUntil(lambda: any(p.state == "confident" for p in shown), timeout=20000)
    last = [p for p in shown if p.state == "confident"][-1]
    assert last.considered is None and last.ranked(1)[0][0] == "buzz"
    player.stop()
    qtbot.mouseClick(live.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not live.pipeline.running, timeout=10000)


def test_live_bars_stay_current_between_answers_spaced_by_their_cost(qtbot, app_window):
    """A model that takes 0.06 s an answer, with 4 % of a core: an answer every 1.5 s. The bars
    must not call the input "no live audio" in between (they did after 1 s), only once the next
    answer is overdue."""
    win, live, view = _live_on_playback(qtbot, app_window)
    view.live.cpu_share = 0.04
    slow_model(view.live, 0.06)
    states, shown = [], []
    view.shown.connect(shown.append)
    player = win.ctx.player
    player.set_audio(note("buzz", seconds=8.0, freq=300.0, seed=3), SR)
    player.play()
    qtbot.waitUntil(lambda: any(p.probabilities is not None for p in shown), timeout=20000)
    first = len(shown)
    deadline = time.monotonic() + 3.2
    while time.monotonic() < deadline:
        qtbot.wait(50)
        states.append(view.state_label.text())
    assert len(shown) - first in (1, 2, 3), len(shown) - first      # spaced, not six a second
    assert all(p.spacing >= 1.4 for p in [p for p in shown if p.probabilities is not None][1:])   # after the first
    assert "uncertain: no live audio" not in states, sorted(set(states))
    player.stop()
    qtbot.waitUntil(lambda: view.state_label.text() == "uncertain: no live audio", timeout=6000)
    qtbot.mouseClick(live.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not live.pipeline.running, timeout=10000)


# --- issue 11: a stand-in model (no TensorFlow) behind the real Predictor ----------------------
class VariabilityModel:
    """Says "banjo" for audio whose MFCCs vary a lot over time (a mix of sounds), and
    "acoustic guitar" (with "saxophone" second) for steady sound: any one second of a tone or
    of noise. Real features, real Predictor; only the network is replaced."""

    labels = ("banjo", "acoustic guitar", "saxophone")

    def __init__(self, threshold: float):
        from instrument_studio.core.config import FeatureConfig

        self.feature_config = FeatureConfig(kind="mfcc")
        self.threshold = threshold

    @staticmethod
    def variability(rows: np.ndarray) -> np.ndarray:
        n = rows.shape[1] // 3
        return rows[:, n:2 * n].mean(axis=1)       # the per-coefficient standard deviations

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        mixed = self.variability(np.asarray(rows)) > self.threshold
        return np.where(mixed[:, None], [0.9, 0.06, 0.04], [0.02, 0.6, 0.38])


def tone_then_noise(seconds: float) -> np.ndarray:
    half = seconds / 2
    return np.concatenate([note("tone", seconds=half, freq=440.0), note("noise", seconds=half, seed=3)])


@pytest.fixture
def stand_in_predictor(window):
    """The Predict panel's model: VariabilityModel, its threshold between the variability of the
    whole 4 s test file and that of any one-second window of it."""
    from instrument_studio.core.predict.inference import Predictor, taper

    model = VariabilityModel(threshold=0.0)
    predictor = Predictor(model)
    y = tone_then_noise(4.0)
    whole = model.variability(predictor.rows(y))[0]
    parts = [model.variability(predictor.rows(taper(y[i * SR:(i + 1) * SR], SR)))[0] for i in range(4)]
    assert whole > 1.5 * max(parts)
    model.threshold = (whole + max(parts)) / 2
    panel = window.panels["PredictPanel"]
    panel.predictor = predictor
    return predictor


def test_the_timeline_follows_a_new_longer_file(qtbot, window, stand_in_predictor, tmp_path):
    """Issue 11 (2): after a 3 s file, a long file's timeline stayed at 0-3 s (Ctrl+0 did not
    help), and the old answer stayed on screen while the new file decoded."""
    view = window.panels["PredictPanel"].file_view
    audio = window.audio_panel
    short = save_wav(tmp_path / "short.wav", note("tone", seconds=3.0), SR)
    long = save_wav(tmp_path / "long.wav", tone_then_noise(60.0), SR)
    with qtbot.waitSignal(view.predicted, timeout=30000):
        window.open_file(str(short))
    assert view.timeline.viewRange()[0][1] == pytest.approx(3.0, abs=0.05)
    assert "Whole file" in view.summary.text()
    seen = []
    audio.ctx.file_opened.connect(lambda _p: seen.append((view.summary.text(), len(view.timeline.timeline))))
    with qtbot.waitSignal(view.predicted, timeout=60000):
        window.open_file(str(long))
    summary_while_opening, rows_while_opening = seen[0]
    assert "Whole file" not in summary_while_opening and rows_while_opening == 0   # the old answer went
    wave = audio.waveform.viewRange()[0]
    assert wave[1] == pytest.approx(60.0, abs=0.1)
    assert view.timeline.viewRange()[0] == pytest.approx(wave, abs=0.05)
    assert view.timeline.timeline.shape[0] == 60
    # Zoom in and back out with Ctrl+0: all three views show the same time span.
    audio.zoom(0.25)
    assert view.timeline.viewRange()[0] == pytest.approx(audio.waveform.viewRange()[0], abs=0.05)
    audio.zoom_to_fit()
    assert view.timeline.viewRange()[0] == pytest.approx((0.0, 60.0), abs=0.1)


def test_the_whole_file_answer_agrees_with_the_timeline(qtbot, window, stand_in_predictor, tmp_path):
    """Issue 11 (9): the whole-file answer came from one window over the whole file and could name
    a class the timeline never shows ("banjo 91 %"); row labels were elided ("acou…itar")."""
    view = window.panels["PredictPanel"].file_view
    wav = save_wav(tmp_path / "mix.wav", tone_then_noise(4.0), SR)
    with qtbot.waitSignal(view.predicted, timeout=30000):
        window.open_file(str(wav))
    tl = view.timeline
    per_second = [tl.labels[i] for i in tl.timeline.argmax(axis=1)]
    assert per_second == ["acoustic guitar"] * 4
    assert view.prediction.label == "acoustic guitar"
    assert "<b>acoustic guitar</b> 60%" in view.summary.text() and "<b>banjo</b>" not in view.summary.text()
    ticks = [text for _pos, text in tl.getAxis("left")._tickLevels[0]]
    assert ticks == ["acoustic guitar", "saxophone"]                 # whole, not elided
    axis = tl.getAxis("left")
    needed = QFontMetrics(axis.style.get("tickFont") or tl.font()).horizontalAdvance("acoustic guitar")
    qtbot.waitUntil(lambda: axis.width() > needed, timeout=3000)
    # The time axes still line up: the waveform and spectrogram made the same room on their left.
    audio = window.audio_panel
    qtbot.waitUntil(lambda: audio.waveform.getAxis("left").width() == audio.spectrogram.getAxis("left").width()
                    == axis.width(), timeout=3000)
    assert tl.plotItem.vb.sceneBoundingRect().left() == pytest.approx(
        audio.waveform.plotItem.vb.sceneBoundingRect().left(), abs=1)


class LoudnessModel:
    """Says "trumpet" for loud seconds and "organ" (trumpet second) for quiet ones, by the first
    MFCC's mean (the level): as a trumpet over a soft organ would be answered."""

    labels = ("organ", "trumpet")

    def __init__(self, threshold: float):
        from instrument_studio.core.config import FeatureConfig

        self.feature_config = FeatureConfig(kind="mfcc")
        self.threshold = threshold

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        loud = np.asarray(rows)[:, 0] > self.threshold
        return np.where(loud[:, None], [0.05, 0.95], [0.7, 0.3])


def test_the_timelines_top_row_is_the_whole_file_answer(qtbot, window, tmp_path):
    """One loud second and three quiet ones: the whole file (louder seconds count more) is
    "trumpet", though "organ" leads the plain mean of the seconds; the timeline's top row is
    trumpet too, with organ brighter in the three quiet seconds."""
    from instrument_studio.core.predict.inference import Predictor

    y = np.concatenate([note("tone", seconds=1.0) / np.abs(note("tone", seconds=1.0)).max() * 0.8,
                        note("tone", seconds=3.0, seed=1) / np.abs(note("tone", seconds=3.0, seed=1)).max() * 0.03])
    model = LoudnessModel(threshold=0.0)
    predictor = Predictor(model)
    c0 = [predictor.rows(y[i * SR:(i + 1) * SR])[0, 0] for i in range(4)]
    assert c0[0] > max(c0[1:])
    model.threshold = (c0[0] + max(c0[1:])) / 2
    window.panels["PredictPanel"].predictor = predictor
    view = window.panels["PredictPanel"].file_view
    wav = save_wav(tmp_path / "trumpet_over_organ.wav", y, SR)
    with qtbot.waitSignal(view.predicted, timeout=30000):
        window.open_file(str(wav))
    tl = view.timeline
    assert [tl.labels[i] for i in tl.timeline.argmax(axis=1)] == ["trumpet", "organ", "organ", "organ"]
    assert tl.timeline.mean(axis=0)[0] > tl.timeline.mean(axis=0)[1]          # organ leads the plain mean
    assert view.prediction.label == "trumpet" and "<b>trumpet</b>" in view.summary.text()
    assert [text for _pos, text in tl.getAxis("left")._tickLevels[0]] == ["trumpet", "organ"]
    assert "louder seconds count more" in tl.toolTip()


class UnlikeAnythingModel:
    """Its unknown class wins every second (as for speech with the default model): 90 %, the
    nearest instrument voice at 7 %."""

    labels = ("trumpet", "voice", "unknown")

    def __init__(self):
        from instrument_studio.core.config import FeatureConfig

        self.feature_config = FeatureConfig(kind="mfcc")

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return np.tile([0.03, 0.07, 0.90], (len(rows), 1))


def test_an_unknown_whole_file_answer_gives_its_own_figure_and_the_nearest(qtbot, window, tmp_path):
    """The answer line said "unknown (nearest: voice 7%)" while the timeline's label beside it said
    "unknown 90%" and the Predict table 90 %: the unknown class's own figure now leads the line too."""
    from instrument_studio.core.predict.inference import Predictor

    window.panels["PredictPanel"].predictor = Predictor(UnlikeAnythingModel())
    view = window.panels["PredictPanel"].file_view
    wav = save_wav(tmp_path / "speech.wav", note("noise", seconds=3.0, seed=5), SR)
    with qtbot.waitSignal(view.predicted, timeout=30000):
        window.open_file(str(wav))
    summary = view.summary.text()
    assert "<b>unknown</b> 90% (nearest: voice 7%)" in summary, summary
    assert "trumpet 3%" in summary and "unknown 90%" not in summary.replace("<b>unknown</b> 90%", "")


def test_a_run_of_this_session_predicts_without_being_saved(qtbot, window, synth_model, tmp_path):
    """Issue 11 (18): a fresh run had to be saved as a bundle before the Predict panel could use it."""
    training, predict = window.panels["TrainingPanel"], window.panels["PredictPanel"]
    assert not predict.runs_combo.isEnabled()
    training.use_dataset_folder(str(synth_model[1]), "synthetic instruments")
    training.form.epochs_box.setValue(15)
    with qtbot.waitSignal(training.run_finished, timeout=120000) as finished:
        qtbot.mouseClick(training.train_button, Qt.LeftButton)
    run = finished.args[0]
    qtbot.waitUntil(lambda: not training.is_running(), timeout=10000)
    assert run.bundle_path is None                               # never saved
    window.tabs.setCurrentWidget(predict)
    assert predict.runs_combo.isEnabled() and predict.runs_combo.findText(run.name) > 0
    with qtbot.waitSignal(predict.predictor_changed, timeout=5000):
        predict.runs_combo.setCurrentIndex(predict.runs_combo.findText(run.name))
        predict.runs_combo.activated.emit(predict.runs_combo.currentIndex())
    assert run.name in predict.model_label.text() and "not saved" in predict.model_label.text()
    view = predict.file_view
    wav = save_wav(tmp_path / "noise.wav", note("noise", seconds=2.0, seed=11), SR)
    with qtbot.waitSignal(view.predicted, timeout=60000):      # a model is in use: predicted at once
        window.open_file(str(wav))
    assert f"Whole file ({run.name})" in view.summary.text()
    assert view.prediction.label == "noise"
    with qtbot.waitSignal(predict.folder_done, timeout=60000) as done:
        predict.predict_paths([str(wav)])
    assert done.args == [1, 0] and predict.table.item(0, 1).text() == "noise"


def test_a_released_run_is_no_longer_offered(qtbot, window):
    """A run whose model the Training panel released (superseded by newer runs) leaves the Predict
    and Evaluation panels' run lists, so nothing there holds its model or offers a model that is gone."""
    from types import SimpleNamespace

    training, predict = window.panels["TrainingPanel"], window.panels["PredictPanel"]
    evaluation = window.panels["EvaluationPanel"]
    run = SimpleNamespace(name="run 1: mlp", result=object(), data=object(), labels=("a", "b"), dataset="x")
    training.run_finished.emit(run)
    assert predict.runs_combo.findText(run.name) > 0 and predict.runs_combo.isEnabled()
    assert evaluation.source_combo.findText(run.name) >= 0
    run.result = run.data = None
    training.run_released.emit(run)
    assert predict.runs_combo.findText(run.name) < 0 and not predict.runs_combo.isEnabled()
    assert evaluation.source_combo.findText(run.name) < 0 and run.name not in evaluation.runs
