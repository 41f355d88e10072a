"""The Evaluation panel: a run evaluated in a worker, the matrix drawn, a cell click listing the
right clips (most confident first), aggregation switching, runs exported to CSV."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.features.featureset import FeatureSet


class TableModel:
    """A stand-in model: a fixed probability row per input row (feature 0 is the row id)."""

    def __init__(self, labels, table):
        self.labels = tuple(labels)
        self.table = np.asarray(table)
        self.feature_config = FeatureConfig(kind="mel-patches")
        self.train_config = {"model": "table", "validation_split": 0.25, "seed": 0}

    def predict_proba(self, x):
        return self.table[np.asarray(x)[:, 0].astype(int)]


@pytest.fixture
def ctx(qapp, tmp_path):
    from instrument_studio.core.audio.playback import Player
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.settings import Settings

    class Silent:
        def __init__(self, **kw):
            pass

        def start(self):
            pass

        stop = close = start

    return AppContext(Settings(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)),
                      player=Player(stream_factory=lambda **kw: Silent()))


def _data(per=2):
    rng = np.random.default_rng(5)
    labels = ("cello", "flute", "oboe")
    n_clips = 18
    y_clip = np.arange(n_clips) % 3
    groups = np.repeat(np.arange(n_clips), per)
    rows = np.arange(n_clips * per)
    table = rng.dirichlet(np.ones(3), size=len(rows))
    table[rows, y_clip[groups]] += rng.uniform(0.0, 0.7, size=len(rows))
    table /= table.sum(axis=1, keepdims=True)
    x = np.stack([rows, rows], axis=1).astype(np.float32)
    clips = [f"/data/{labels[y_clip[i]]}/clip_{i:02d}.wav" for i in range(n_clips)]
    fs = FeatureSet(labels=labels, config=FeatureConfig(kind="mel-patches"), x={"train": x, "test": x},
                    y={"train": y_clip[groups], "test": y_clip[groups]},
                    groups={"train": groups, "test": groups}, clips={"train": clips, "test": clips})
    return TableModel(labels, table), fs


@pytest.fixture
def panel(qtbot, ctx):
    from instrument_studio.gui.panels.evaluation import EvaluationPanel

    p = EvaluationPanel(ctx)
    qtbot.addWidget(p)
    p.resize(1300, 900)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()


def _evaluate(qtbot, panel, model, fs, name="run 1"):
    panel.add_run(name, model, fs)
    with qtbot.waitSignal(panel.evaluated, timeout=10000):
        qtbot.mouseClick(panel.evaluate_button, Qt.LeftButton)


def test_cell_click_lists_the_right_clips(qtbot, panel):
    model, fs = _data()
    _evaluate(qtbot, panel, model, fs)
    report = panel.report
    assert "accuracy" in panel.summary.text()
    assert panel.aggregation_combo.isVisible()  # patches: the clip decision is selectable
    # Pick an off-diagonal cell with clips in it, and click it as a user would.
    cells = [(t, p) for t in range(3) for p in range(3) if t != p and report.confusion[t, p] > 0]
    t, p = cells[0]
    pos = panel.confusion.cell_scene_pos(t, p)
    QTest.mouseClick(panel.confusion.graphics.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    qtbot.waitUntil(lambda: panel.clips.table.rowCount() > 0, timeout=2000)
    expected = [i for i in range(report.n) if report.y_true[i] == t and report.pred[i] == p]
    names = panel.clips.names()
    assert sorted(names) == sorted(report.items[i] for i in expected)
    conf = [report.confidence()[report.items.index(n)] for n in names]
    assert conf == sorted(conf, reverse=True)
    assert panel.confusion.cell_text(t, p) == str(report.confusion[t, p])
    # Selecting a clip names its true and predicted class and its top 3.
    panel.clips.select_row(0)
    text = panel.clips.verdict.text()
    assert f"true <b>{report.labels[t]}</b>" in text and report.labels[p] in text and "top 3" in text


def test_aggregation_and_normalised_toggle_redraw(qtbot, panel):
    model, fs = _data(per=3)
    _evaluate(qtbot, panel, model, fs)
    mean_acc = panel.report.accuracy
    panel.aggregation_combo.setCurrentIndex(panel.aggregation_combo.findData("vote"))
    from instrument_studio.core.evaluation.report import aggregate

    ref = aggregate(model.table, fs.y["test"], fs.groups["test"], strategy="vote")
    assert panel.report.accuracy == pytest.approx(np.mean(ref.pred == ref.y_true))
    panel.aggregation_combo.setCurrentIndex(panel.aggregation_combo.findData("mean"))
    assert panel.report.accuracy == pytest.approx(mean_acc)
    qtbot.mouseClick(panel.confusion.norm_button, Qt.LeftButton)
    row0 = panel.report.confusion_normalised[0]
    assert panel.confusion.cell_text(0, 0) == (f"{row0[0]:.2f}" if row0[0] else "0")
    # Thresholds tuned on the run's held-out validation clips are shown beside argmax.
    assert panel.threshold_table.rowCount() == 3 + 2
    assert "validation" in panel.threshold_note.text()


def test_runs_table_and_csv(qtbot, panel, tmp_path):
    model, fs = _data()
    _evaluate(qtbot, panel, model, fs, "first")
    _evaluate(qtbot, panel, model, fs, "second")
    assert panel.runs_table.rowCount() == 2
    out = tmp_path / "runs.csv"
    panel.export_runs(str(out))
    rows = list(csv.DictReader(out.open()))
    assert [r["run"] for r in rows] == ["first", "second"]
    assert float(rows[0]["accuracy"]) == pytest.approx(panel.report.accuracy, abs=1e-6)


def test_bundle_source_needs_both_paths(qtbot, panel):
    panel.source_combo.setCurrentIndex(0)
    panel.set_bundle_and_dataset("", "")
    assert not panel.evaluate_button.isEnabled()
    assert "no model chosen" in panel.paths_label.text()


def test_a_run_from_the_training_panel_is_offered_and_evaluated(qtbot, window):
    """The Training panel's run list feeds the Evaluation panel: train, then evaluate that run."""
    from tests.training_data import blobs

    training = window.panels["TrainingPanel"]
    evaluation = window.panels["EvaluationPanel"]
    training.use_feature_set(blobs(n_train=240, n_classes=3, dim=12, with_val=True), "tiny generated set")
    training.form.epochs_box.setValue(2)
    training.form.batch_box.setValue(16)
    with qtbot.waitSignal(training.run_finished, timeout=90000) as blocker:
        qtbot.mouseClick(training.train_button, Qt.LeftButton)
    run = blocker.args[0]
    qtbot.waitUntil(lambda: not training.is_running(), timeout=10000)
    assert evaluation.source_combo.currentText() == run.name
    window.tabs.setCurrentWidget(evaluation)
    with qtbot.waitSignal(evaluation.evaluated, timeout=60000):
        qtbot.mouseClick(evaluation.evaluate_button, Qt.LeftButton)
    r = evaluation.report
    assert r.n == 80 and r.labels == ("class0", "class1", "class2")
    assert r.accuracy == pytest.approx(run.metrics["test_accuracy"], abs=1e-6)
    assert evaluation.threshold_table.rowCount() == 3 + 2


def test_bundle_and_data_set_clip_spectrogram_and_playback(qtbot, panel, synth_model, monkeypatch):
    """A saved bundle on a data set folder; a clip of a cell is shown and played on the panel's
    own player (the Audio panel's file stays loaded in ctx.player)."""
    from instrument_studio.core.audio.playback import Player
    from tests.fakes import FakeStream

    # This machine may have no output device: once the panel has looked, pretend it has one.
    qtbot.waitUntil(lambda: panel._play_block != "checking the audio output…", timeout=10000)
    panel._set_play_block(None)
    panel.player = Player(stream_factory=lambda **kw: FakeStream(**kw))
    bundle, dataset = synth_model
    panel.set_bundle_and_dataset(str(bundle), str(dataset))
    assert panel.evaluate_button.isEnabled()
    with qtbot.waitSignal(panel.evaluated, timeout=60000):
        qtbot.mouseClick(panel.evaluate_button, Qt.LeftButton)
    r = panel.report
    assert r.labels == ("buzz", "noise", "tone") and r.n == len(r.items)
    t = int(np.argmax(np.bincount(r.y_true)))
    panel.confusion.select_cell(t, t)
    assert panel.clips.table.rowCount() == r.confusion[t, t]
    panel.clips.select_row(0)
    qtbot.waitUntil(lambda: panel.clips.play_button.isEnabled(), timeout=10000)
    assert panel.clips.spectrogram.data is not None
    assert r.labels[t] in panel.clips.verdict.text()
    qtbot.mouseClick(panel.clips.play_button, Qt.LeftButton)
    assert panel.player.playing and not panel.ctx.player.playing
    panel.player.stop()
    panel.player.close()


def test_a_long_clip_is_shown_whole_and_play_turns_into_pause(qtbot, panel, tmp_path):
    """Issue 11 (5): a 7 s clip showed its first ~1.1 s only, and Play neither became Pause nor
    moved a playhead."""
    from dataclasses import replace

    from instrument_studio.core.audio.audiofile import save_wav
    from instrument_studio.core.audio.playback import Player
    from tests.fakes import FakeStream

    qtbot.waitUntil(lambda: panel._play_block != "checking the audio output…", timeout=10000)
    panel._set_play_block(None)
    panel.player = Player(stream_factory=lambda **kw: FakeStream(**kw))
    model, fs = _data()
    sr, seconds = 22050, 7.1
    t = np.arange(int(sr * seconds)) / sr
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)   # sound throughout
    clips = [str(save_wav(tmp_path / f"clip_{i:02d}.wav", tone, sr)) for i in range(len(fs.clips["test"]))]
    fs = replace(fs, clips={"train": clips, "test": clips})
    _evaluate(qtbot, panel, model, fs)
    panel.confusion.select_cell(0, 0)
    panel.clips.select_row(0)
    view = panel.clips.spectrogram
    qtbot.waitUntil(lambda: panel.clips.play_button.isEnabled(), timeout=20000)
    qtbot.waitUntil(lambda: view.render_count > 0 and not view._dirty, timeout=3000)
    shown = view.image.mapRectToParent(view.image.boundingRect())
    assert shown.left() == pytest.approx(0.0, abs=0.05)
    assert shown.right() == pytest.approx(seconds, abs=0.1)       # the whole clip is drawn
    assert view.viewRange()[0][1] == pytest.approx(seconds, abs=0.1)
    button = panel.clips.play_button
    assert button.text() == "Play clip"
    qtbot.mouseClick(button, Qt.LeftButton)
    assert panel.player.playing and button.text() == "Pause clip"
    qtbot.waitUntil(lambda: view.playhead.value() > 0.2, timeout=5000)
    assert view.playhead.isVisible()
    qtbot.mouseClick(button, Qt.LeftButton)
    assert not panel.player.playing and button.text() == "Play clip"
    panel.player.close()


LONG_CLASSES = ("banjo", "bass clarinet", "bassoon", "cello", "clarinet", "contrabassoon", "cor anglais",
                "double bass", "flute", "french horn", "guitar", "mandolin", "oboe", "percussion",
                "saxophone", "trombone", "trumpet", "tuba", "viola", "violin")


def test_a_long_error_message_wraps_and_the_window_keeps_its_width(qtbot, window):
    """Issue 11 (3): a model evaluated on a data set with other classes gave one long red line,
    and the window grew from 1280 to 1796 px, in every panel, for good."""
    from instrument_studio.gui.widgets.message_label import MESSAGE_PROPERTY

    window.resize(1280, 720)
    evaluation = window.panels["EvaluationPanel"]
    window.tabs.setCurrentWidget(evaluation)
    qtbot.waitUntil(lambda: window.width() == 1280)
    model, fs = _data()
    model.labels = LONG_CLASSES                      # a model trained on other classes
    evaluation.add_run("Philharmonia model", model, fs)
    with qtbot.waitSignal(evaluation.failed, timeout=10000) as failed:
        qtbot.mouseClick(evaluation.evaluate_button, Qt.LeftButton)
    assert "the model knows banjo" in failed.args[0]
    assert "the model knows banjo" in evaluation.summary.text()
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1280 and window.width() == 1280
    line = evaluation.summary.fontMetrics().height()
    assert evaluation.summary.height() > 1.5 * line            # wrapped, not cut off
    # Every label that shows messages, in every panel, holding a long one with a long path in it.
    path = "/home/someone/" + "/".join(["recordings-of-the-philharmonia-orchestra"] * 6) + "/x.wav"
    long = ("the data set cannot be read because " * 12) + path
    labels = [w for w in window.findChildren(QLabel) if w.property(MESSAGE_PROPERTY)]
    names = {w.objectName() for w in labels}
    assert {"eval_summary", "eval_paths", "sweep_status", "train_status", "predict_status", "info_label",
            "prediction_summary"} <= names
    for label in labels:
        label.setText(long)
    qtbot.wait(50)
    # The panels are pages of one stack, whose minimum is the largest page's: this is every panel's.
    assert window.minimumSizeHint().width() <= 1280 and window.width() == 1280


def test_runs_table_sorts_numbers_as_numbers(qtbot):
    """Two runs evaluated on 480 and 1,000 clips: sorted by items, 480 comes first (as text, "1000"
    would)."""
    from instrument_studio.core.evaluation.report import COMPARISON_COLUMNS, ComparisonRow, make_report
    from instrument_studio.gui.widgets.metric_views import RunsTable

    rng = np.random.default_rng(0)
    runs = []
    for name, n in (("big", 1000), ("small", 480)):
        y = rng.integers(0, 3, n)
        runs.append(ComparisonRow(name, "mlp", "mfcc", "test", make_report(["a", "b", "c"], y, rng.random((n, 3)))))
    table = RunsTable()
    qtbot.addWidget(table)
    table.set_runs(runs)
    items = COMPARISON_COLUMNS.index("items")
    table.sortByColumn(items, Qt.AscendingOrder)
    assert [table.item(r, items).text() for r in range(2)] == ["480", "1000"]
    assert [table.item(r, 0).text() for r in range(2)] == ["small", "big"]
