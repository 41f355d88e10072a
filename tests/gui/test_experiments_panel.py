"""The Experiments panel driven as a user would: settings typed, Run clicked, results in the table
and the charts, Cancel, reopening a saved sweep. Training is the fast fake (tests/sweep_fakes.py);
tests/gui/test_experiments_real.py runs the real trainer once."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from instrument_studio.core.experiments.sweep_io import SweepRecord
from instrument_studio.gui.context import AppContext
from instrument_studio.gui.panels.experiments import ExperimentsPanel
from tests.sweep_fakes import FakeTrainer, TrainConfig, fake_evaluate, tiny_features


@pytest.fixture
def panel(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr("instrument_studio.gui.panels.experiments.sweeps_dir", lambda: tmp_path / "sweeps")
    ctx = AppContext()
    errors = []
    ctx.error.connect(lambda title, text: errors.append((title, text)))
    p = ExperimentsPanel(ctx)
    p.errors = errors
    qtbot.addWidget(p)
    p.resize(1400, 900)
    p.show()
    p.train_fn = FakeTrainer()
    p.evaluate_fn = fake_evaluate
    p.set_base(TrainConfig(seed=1), tiny_features(), dataset="tiny")
    yield p
    p.shutdown()
    ctx.player.close()


def _type(qtbot, widget, text):
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def test_run_is_disabled_until_there_is_a_base_configuration(qtbot):
    ctx = AppContext()
    p = ExperimentsPanel(ctx)
    qtbot.addWidget(p)
    assert not p.run_button.isEnabled()
    assert "Training panel" in p.base_label.text()
    p.shutdown()
    ctx.player.close()


def test_fixed_epoch_sweep_fills_table_and_overlays_curves(qtbot, panel):
    assert panel.form.values_edit.text() == "0.1, 0.01, 0.001, 0.0001"     # the assignment's defaults
    _type(qtbot, panel.form.values_edit, "0.1, 0.01")
    panel.form.epochs_spin.setValue(6)
    assert panel.progress.text() == "idle"          # not an empty box that reads as a text field
    with qtbot.waitSignal(panel.sweep_done, timeout=20000) as done:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert done.args == ["finished"]
    assert panel.progress.text() == "2 of 2 runs"
    runs = panel.record.runs
    assert [r.value for r in runs] == [0.1, 0.01]
    assert panel.table.rowCount() == 2
    for row, run in enumerate(runs):
        assert panel.table.cell_text(row, "value") == f"{run.value:g}"
        assert panel.table.cell_text(row, "epochs") == "6"
        assert panel.table.cell_text(row, "test accuracy") == f"{run.test_accuracy:.4f}"
        assert panel.table.cell_text(row, "GPU energy (J)") == "unavailable"     # no GPU here: never 0
    assert panel.table.horizontalHeaderItem(0).text() == "learning rate"
    qtbot.waitUntil(lambda: panel.curves.legend_labels == ["learning rate 0.1", "learning rate 0.01"], timeout=3000)
    assert panel.views.currentWidget() is panel.curves
    # one loss curve per run for training + validation, accuracies one each
    assert len(panel.curves.loss.getPlotItem().listDataItems()) == 4
    assert panel.curves.loss.getPlotItem().ctrl.logYCheck.isChecked()
    assert "Sweep finished: 2 of 2 runs" in panel.status_label.text()
    qtbot.waitUntil(lambda: panel.saved_path is not None, timeout=5000)
    assert json.loads(panel.saved_path.read_text())["status"] == "finished"
    assert not panel.errors


def test_train_to_accuracy_bars_match_the_runs(qtbot, panel):
    panel.form.param_combo.setCurrentIndex(panel.form.param_combo.findData("batch_size"))
    assert panel.form.values_edit.text().startswith("64, 128, 256")
    _type(qtbot, panel.form.values_edit, "64, 1024")
    panel.form.repeats_spin.setValue(2)
    panel.form.mode_combo.setCurrentIndex(panel.form.mode_combo.findData("train-to-accuracy"))
    panel.form.target_spin.setValue(0.9)
    panel.form.max_epochs_spin.setValue(60)
    assert panel.views.currentWidget() is panel.bars
    with qtbot.waitSignal(panel.sweep_done, timeout=20000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    runs = panel.record.runs
    assert len(runs) == 4 and panel.table.rowCount() == 4
    assert all(c.stop_rule == "target-accuracy" and c.epochs == 60 for c in panel.train_fn.calls)
    qtbot.waitUntil(lambda: len(panel.bars.epochs.heights) == 2, timeout=3000)
    for i, value in enumerate((64, 1024)):
        mine = [r for r in runs if r.value == value]
        assert panel.bars.epochs.heights[i] == pytest.approx(sum(r.epochs for r in mine) / 2)
        assert panel.bars.time.heights[i] == pytest.approx(sum(r.train_seconds for r in mine) / 2)
        assert panel.bars.test_acc.heights[i] == pytest.approx(sum(r.test_accuracy for r in mine) / 2)
    assert len(panel.bars.test_acc.points) == 4           # every repeat drawn as a dot
    assert panel.bars.energy.heights == []                  # no bar pretending to be a measurement
    assert "unavailable" in panel.bars.energy.message
    assert panel.bars.time.plotItem.titleLabel.text == "Time to accuracy"
    assert panel.table.cell_text(0, "reached target") in ("yes", "no")


def test_cancel_keeps_finished_runs_and_reopen_round_trips(qtbot, panel):
    trainer = FakeTrainer(hold_call=3)
    panel.train_fn = trainer
    panel.form.epochs_spin.setValue(4)
    finished = []
    panel.run_finished.connect(finished.append)
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    qtbot.waitUntil(lambda: len(finished) == 2 and len(trainer.calls) == 3, timeout=20000)
    with qtbot.waitSignal(panel.sweep_done, timeout=20000) as done:
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    assert done.args == ["cancelled"]
    assert [r.value for r in panel.record.runs] == [0.1, 0.01]
    assert panel.table.rowCount() == 2
    assert "Sweep cancelled: 2 of 4 runs" in panel.status_label.text()
    assert panel.run_button.isEnabled() and panel.csv_button.isEnabled()
    assert not panel.errors
    qtbot.waitUntil(lambda: panel.saved_path is not None, timeout=5000)
    saved = panel.saved_path
    runs_before = [r.to_dict() for r in panel.record.runs]

    panel.table.setRowCount(0)
    with qtbot.waitSignal(panel.reopened, timeout=5000):
        panel.open_sweep(saved)
    assert panel.record.status == "cancelled"
    assert [r.to_dict() for r in panel.record.runs] == runs_before
    assert panel.table.rowCount() == 2
    assert panel.form.values_edit.text() == "0.1, 0.01, 0.001, 0.0001"


def test_export_csv_and_json_from_the_panel(qtbot, panel, tmp_path):
    _type(qtbot, panel.form.values_edit, "0.01")
    panel.form.epochs_spin.setValue(2)
    with qtbot.waitSignal(panel.sweep_done, timeout=20000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    with qtbot.waitSignal(panel.ctx.status, timeout=5000):
        panel.export(tmp_path / "s.csv", "csv")
    with qtbot.waitSignal(panel.ctx.status, timeout=5000):
        panel.export(tmp_path / "s.json", "json")
    assert (tmp_path / "s.csv").read_text().splitlines()[0].startswith("lr,repeat,seed,epochs")
    rows = json.loads((tmp_path / "s.json").read_text())
    assert rows[0]["value"] == 0.01 and rows[0]["energy_joules"] is None


def test_bad_values_are_reported_not_run(qtbot, panel):
    _type(qtbot, panel.form.values_edit, "0.1, fast")
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert not panel.running
    assert panel.errors and "fast" in panel.errors[-1][1]


def test_reopening_a_broken_file_says_why(qtbot, panel, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    with qtbot.waitSignal(panel.ctx.error, timeout=5000) as sig:
        panel.open_sweep(bad)
    assert "not valid JSON" in sig.args[1]
    assert SweepRecord is not None


def test_real_trainer_sweep_in_the_worker(qtbot, panel, tmp_path):
    """The real core.learn.training.train (TensorFlow) inside the panel's worker, on tiny arrays."""
    from instrument_studio.core.features.extraction import load_feature_set
    from tests.sweep_fakes import tiny_npy_dataset

    features = load_feature_set(tiny_npy_dataset(tmp_path / "d"), save=False)
    panel.train_fn = panel.evaluate_fn = None          # the real ones
    panel.set_base(TrainConfig(model="mlp", batch_size=32), features, dataset="tiny arrays")
    _type(qtbot, panel.form.values_edit, "0.01, 0.001")
    panel.form.epochs_spin.setValue(3)
    with qtbot.waitSignal(panel.sweep_done, timeout=120000) as done:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert done.args == ["finished"], panel.errors
    assert [r.value for r in panel.record.runs] == [0.01, 0.001]
    assert all(r.epochs == 3 and r.device for r in panel.record.runs)
    assert panel.table.rowCount() == 2
    assert panel.table.cell_text(0, "device") == panel.record.runs[0].device


def test_base_configuration_comes_from_the_training_panel(qtbot, monkeypatch, tmp_path):
    from instrument_studio.gui.main_window import MainWindow

    monkeypatch.setattr("instrument_studio.gui.panels.experiments.sweeps_dir", lambda: tmp_path / "sweeps")
    ctx = AppContext()
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    training, experiments = window.panels["TrainingPanel"], window.panels["ExperimentsPanel"]
    training.use_feature_set(tiny_features(), "tiny set")
    training.form.batch_box.setValue(48)
    training.form.lr_box.setValue(0.005)
    qtbot.mouseClick(experiments.refresh_button, Qt.LeftButton)
    assert experiments.base.batch_size == 48 and experiments.base.learning_rate == pytest.approx(0.005)
    assert experiments.features is training.source().features
    assert "tiny set" in experiments.base_label.text() and "batch size <b>48</b>" in experiments.base_label.text()
    assert experiments.run_button.isEnabled()
    # the sweep changes only the swept setting: the batch size stays the Training panel's
    experiments.train_fn, experiments.evaluate_fn = FakeTrainer(), fake_evaluate
    _type(qtbot, experiments.form.values_edit, "0.01")
    experiments.form.epochs_spin.setValue(2)
    with qtbot.waitSignal(experiments.sweep_done, timeout=20000):
        qtbot.mouseClick(experiments.run_button, Qt.LeftButton)
    (cfg,) = experiments.train_fn.calls
    assert (cfg.batch_size, cfg.learning_rate, cfg.epochs) == (48, 0.01, 2)
    window.close()


def test_the_run_in_progress_is_drawn_live(qtbot, panel):
    panel.train_fn = FakeTrainer(hold_call=2, hold_epoch=4)
    _type(qtbot, panel.form.values_edit, "0.1, 0.003")
    panel.form.epochs_spin.setValue(10)
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(panel.curves.live_items) == 3
                    and all(len(item.xData) == 4 for _, item in panel.curves.live_items)
                    and panel.curves.legend_labels == ["learning rate 0.1"], timeout=10000)
    assert "running: learning rate 0.003" in panel.curves.legend.text()
    assert "Run 2 of 2: learning rate 0.003, repeat 1 — epoch 4" in panel.status_label.text()
    with qtbot.waitSignal(panel.sweep_done, timeout=10000):
        qtbot.mouseClick(panel.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not panel.curves.live_items, timeout=3000)    # the abandoned run is not kept
    assert [r.value for r in panel.record.runs] == [0.1]


def test_features_are_extracted_in_the_worker_when_only_a_folder_is_known(qtbot, panel, tmp_path):
    from instrument_studio.core.config import FeatureConfig
    from tests.sweep_fakes import tiny_npy_dataset

    folder = tiny_npy_dataset(tmp_path / "arrays")
    panel.set_base(TrainConfig(), None, dataset="arrays", source=str(folder), feature_config=FeatureConfig())
    assert "extracted when the sweep starts" in panel.base_label.text()
    assert panel.run_button.isEnabled()
    _type(qtbot, panel.form.values_edit, "0.01")
    panel.form.epochs_spin.setValue(2)
    with qtbot.waitSignal(panel.sweep_done, timeout=20000) as done:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert done.args == ["finished"], panel.errors
    (cfg,) = panel.train_fn.calls
    assert panel.record.runs[0].epochs == 2 and cfg.learning_rate == 0.01


def test_a_missing_dataset_folder_is_reported(qtbot, panel, tmp_path):
    from instrument_studio.core.config import FeatureConfig

    panel.set_base(TrainConfig(), None, dataset="gone", source=str(tmp_path / "gone"), feature_config=FeatureConfig())
    with qtbot.waitSignal(panel.sweep_done, timeout=20000) as done:
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert done.args == ["failed"]
    assert panel.errors and "no such dataset folder" in panel.errors[-1][1]
    assert panel.run_button.isEnabled()


def test_a_dataset_imported_in_the_dataset_panel_can_be_swept(qtbot, window, tmp_path):
    """Issue 11 (1): the Dataset panel's dataset has no folder path; Run sweep used to stay grey."""
    from tests.sweep_fakes import tiny_npy_dataset

    dataset_panel, experiments = window.panels["DatasetPanel"], window.panels["ExperimentsPanel"]
    with qtbot.waitSignal(dataset_panel.dataset_loaded, timeout=30000):
        dataset_panel.open_folder(tiny_npy_dataset(tmp_path / "imported"))
    qtbot.waitUntil(lambda: dataset_panel._loading is None, timeout=10000)
    training = window.panels["TrainingPanel"]
    assert training.source().label.startswith("Dataset panel:")
    window.tabs.setCurrentWidget(experiments)
    assert not experiments.run_button.isEnabled() and "Training panel" in experiments.run_button.toolTip()
    qtbot.mouseClick(experiments.refresh_button, Qt.LeftButton)
    assert "Dataset panel:" in experiments.base_label.text()
    assert experiments.run_button.isEnabled()
    experiments.train_fn, experiments.evaluate_fn = FakeTrainer(), fake_evaluate
    _type(qtbot, experiments.form.values_edit, "0.01")
    experiments.form.epochs_spin.setValue(2)
    with qtbot.waitSignal(experiments.sweep_done, timeout=30000) as done:
        qtbot.mouseClick(experiments.run_button, Qt.LeftButton)
    assert done.args == ["finished"]
    assert experiments.table.rowCount() == 1


def test_a_new_sweep_starts_with_an_empty_table(qtbot, panel):
    """Issue 11 (4): a batch-size sweep after a learning-rate sweep kept the old rows."""
    _type(qtbot, panel.form.values_edit, "0.1, 0.01, 0.001")
    panel.form.epochs_spin.setValue(2)
    with qtbot.waitSignal(panel.sweep_done, timeout=20000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert panel.table.rowCount() == 3
    panel.form.param_combo.setCurrentIndex(panel.form.param_combo.findData("batch_size"))
    _type(qtbot, panel.form.values_edit, "64, 128")
    with qtbot.waitSignal(panel.sweep_done, timeout=20000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    assert panel.table.horizontalHeaderItem(0).text() == "batch size"
    assert [panel.table.cell_text(r, "value") for r in range(panel.table.rowCount())] == ["64", "128"]


def test_with_two_gpus_a_sweep_can_run_one_run_per_gpu_at_once(qtbot, monkeypatch, tmp_path):
    """"Run on": shown only where there is a choice (two GPUs or more, or a Dask scheduler in
    Preferences); its runs go to child processes pinned to the devices (here two stand-ins that
    train on the CPU: this machine has no GPU)."""
    from instrument_studio.core.experiments.devices import Device
    from instrument_studio.core.features.extraction import load_feature_set
    from tests.sweep_fakes import tiny_npy_dataset

    monkeypatch.setattr("instrument_studio.gui.panels.experiments.sweeps_dir", lambda: tmp_path / "sweeps")
    monkeypatch.setattr("instrument_studio.gui.panels.experiments.local_gpus", lambda: [])
    without = ExperimentsPanel(AppContext())
    qtbot.addWidget(without)
    without.show()
    assert not without.run_on.isVisible()                 # one GPU or none, no scheduler: no choice to offer
    stand_ins = [Device(name=f"GPU {i}", env={"CUDA_VISIBLE_DEVICES": "-1"}) for i in range(2)]
    monkeypatch.setattr("instrument_studio.gui.panels.experiments.local_gpus", lambda: stand_ins)
    ctx = AppContext()
    p = ExperimentsPanel(ctx)
    qtbot.addWidget(p)
    p.show()
    assert p.run_on.isVisible()
    assert [p.run_on.itemText(i) for i in range(p.run_on.count())] == ["One run after another",
                                                                       "On all 2 GPUs at once"]
    p.set_base(TrainConfig(model="mlp", batch_size=32), load_feature_set(tiny_npy_dataset(tmp_path / "d"), save=False),
               dataset="tiny arrays")
    _type(qtbot, p.form.values_edit, "0.01, 0.001, 0.0001")
    p.form.epochs_spin.setValue(2)
    p.run_on.setCurrentIndex(1)
    with qtbot.waitSignal(p.sweep_done, timeout=180000) as done:
        qtbot.mouseClick(p.run_button, Qt.LeftButton)
    assert done.args == ["finished"]
    assert not p.run_on.isEnabled() or not p.running
    assert [r.value for r in p.record.runs] == [0.01, 0.001, 0.0001]     # the sweep's order, whatever finished first
    assert all(r.epochs == 2 and r.device == "CPU" for r in p.record.runs)
    assert p.table.rowCount() == 3 and "3 of 3 runs" in p.status_label.text()
    p.shutdown()
    without.shutdown()
    ctx.player.close()


@pytest.mark.timeout(600)
def test_a_sweep_on_the_dask_clusters_gpus_set_in_preferences(qtbot, monkeypatch, tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed is not installed (extra [dask])")
    from distributed import LocalCluster

    from instrument_studio.core.features.extraction import load_feature_set
    from tests.sweep_fakes import tiny_npy_dataset

    monkeypatch.setattr("instrument_studio.gui.panels.experiments.sweeps_dir", lambda: tmp_path / "sweeps")
    monkeypatch.setattr("instrument_studio.gui.panels.experiments.local_gpus", lambda: [])
    ctx = AppContext()
    errors = []
    ctx.error.connect(lambda title, text: errors.append((title, text)))
    p = ExperimentsPanel(ctx)
    qtbot.addWidget(p)
    p.show()
    p.set_base(TrainConfig(model="mlp", batch_size=32), load_feature_set(tiny_npy_dataset(tmp_path / "d"), save=False),
               dataset="tiny arrays")
    _type(qtbot, p.form.values_edit, "0.01, 0.001")
    p.form.epochs_spin.setValue(2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      resources={"GPU": 1}) as cluster:
        ctx.settings.set("compute/scheduler", cluster.scheduler_address)   # as Preferences sets it
        p.hide()
        p.show()
        assert p.run_on.isVisible()
        assert p.run_on.itemText(1) == f"On the GPUs of the Dask cluster at {cluster.scheduler_address}"
        p.run_on.setCurrentIndex(1)
        with qtbot.waitSignal(p.sweep_done, timeout=300000) as done:
            qtbot.mouseClick(p.run_button, Qt.LeftButton)
    assert done.args == ["finished"], errors
    assert [r.value for r in p.record.runs] == [0.01, 0.001] and all(r.epochs == 2 for r in p.record.runs)
    p.shutdown()
    ctx.player.close()
