"""The sweep runner with a fast fake trainer: configuration pass-through, results, cancel, files."""

from __future__ import annotations

import csv
import io
import json

import pytest

from instrument_studio.core.errors import Cancelled, ConfigError
from instrument_studio.core.events import SweepRunFinished, SweepRunStarted
from instrument_studio.core.experiments.energy import EnergyMonitor, NvmlMeter
from instrument_studio.core.experiments.sweep import (
    BATCH_SIZE_VALUES,
    LR_VALUES,
    SweepConfig,
    aggregate,
    parse_values,
    reached_target,
    run_sweep,
)
from instrument_studio.core.experiments.sweep_io import SweepRecord
from tests.sweep_fakes import FakeTrainer, TrainConfig, fake_evaluate, tiny_features


class NoGpu:
    """NVML as it behaves on a machine without an NVIDIA driver."""

    def nvmlInit(self):
        raise RuntimeError("NVML Shared Library Not Found")


def no_gpu_monitor() -> EnergyMonitor:
    return EnergyMonitor([NvmlMeter(nvml=NoGpu())])


def finished_runs(events):
    return [e.run for e in events if isinstance(e, SweepRunFinished)]


def test_defaults_are_the_assignments_values():
    assert LR_VALUES == (0.1, 0.01, 0.001, 0.0001)
    assert BATCH_SIZE_VALUES == (64, 128, 256, 512, 1024, 2048, 4096, 8192)
    sweep = SweepConfig(base=TrainConfig())
    assert (sweep.mode, sweep.epochs, sweep.target_accuracy, sweep.patience, sweep.max_epochs,
            sweep.validation_split) == ("fixed-epochs", 20, 0.98, 3, 500, 0.2)


def test_parse_values_types_like_the_base_setting():
    base = TrainConfig()
    assert parse_values("lr", "0.1, 0.01,1e-3", base=base) == (0.1, 0.01, 0.001)
    assert parse_values("batch_size", "64,128", base=base) == (64, 128)
    assert parse_values("optimizer", "adam, sgd", base=base) == ("adam", "sgd")
    with pytest.raises(ConfigError, match="not a int"):
        parse_values("batch_size", "64, 12.5", base=base)
    with pytest.raises(ConfigError, match="not a float"):
        parse_values("lr", "0.1, fast", base=base)
    with pytest.raises(ConfigError, match="no values"):
        parse_values("lr", " , ", base=base)
    with pytest.raises(ConfigError, match="cannot sweep 'colour'"):
        parse_values("colour", "red", base=base)


def test_fixed_epochs_sweep_runs_every_value_and_repeat_in_order():
    trainer = FakeTrainer()
    sweep = SweepConfig(base=TrainConfig(seed=7), param="lr", values=(0.1, 0.01), repeats=2, epochs=5)
    events = list(run_sweep(sweep, tiny_features(), train_fn=trainer, evaluate_fn=fake_evaluate,
                            monitor=no_gpu_monitor()))
    starts = [e for e in events if isinstance(e, SweepRunStarted)]
    assert [(e.value, e.repeat) for e in starts] == [(0.1, 0), (0.01, 0), (0.1, 1), (0.01, 1)]
    runs = finished_runs(events)
    assert [(r.value, r.repeat, r.seed) for r in runs] == [(0.1, 0, 7), (0.01, 0, 7), (0.1, 1, 8), (0.01, 1, 8)]
    # what the trainer was asked to do
    assert [c.learning_rate for c in trainer.calls] == [0.1, 0.01, 0.1, 0.01]
    assert all(c.epochs == 5 and c.stop_rule == "none" for c in trainer.calls)
    for run in runs:
        assert run.epochs == 5 and len(run.history["loss"]) == 5
        assert run.final_loss == run.history["loss"][-1]
        assert run.final_val_accuracy == run.history["val_accuracy"][-1]
        assert run.test_accuracy == pytest.approx(run.final_val_accuracy - 0.005)
        assert run.reached_target is None
        assert run.energy_joules is None and run.energy_source.startswith("unavailable:")


def test_train_to_accuracy_uses_the_stop_rule_and_reports_time_and_epochs():
    trainer = FakeTrainer()
    sweep = SweepConfig(base=TrainConfig(), param="batch_size", values=(64, 8192), mode="train-to-accuracy",
                        target_accuracy=0.9, patience=3, max_epochs=40)
    runs = finished_runs(run_sweep(sweep, tiny_features(), train_fn=trainer, evaluate_fn=fake_evaluate,
                                   monitor=no_gpu_monitor()))
    assert all(c.stop_rule == "target-accuracy" and c.threshold == 0.9 and c.patience == 3
               and c.epochs == 40 and c.validation_split == 0.2 for c in trainer.calls)
    small, huge = runs
    assert small.reached_target is True and small.epochs < 40          # fast learner stops early
    assert huge.reached_target is False and huge.epochs == 40          # 8192: too few steps, hits the cap
    assert small.train_seconds >= 0 and huge.train_seconds >= 0


def test_reached_target_needs_patience_epochs_strictly_above():
    assert reached_target([0.99, 0.99, 0.99], threshold=0.98, patience=3)
    assert not reached_target([0.99, 0.98, 0.99, 0.99], threshold=0.98, patience=3)
    assert not reached_target([], threshold=0.98, patience=1)


def test_cancel_within_a_run_keeps_the_finished_runs():
    trainer = FakeTrainer()
    state = {"finished": 0}

    def should_stop():
        return state["finished"] >= 2 and len(trainer.calls) >= 3

    sweep = SweepConfig(base=TrainConfig(), values=LR_VALUES, epochs=3)
    kept = []
    with pytest.raises(Cancelled, match="during run 3 of 4"):
        for event in run_sweep(sweep, tiny_features(), train_fn=trainer, evaluate_fn=fake_evaluate,
                               monitor=no_gpu_monitor(), should_stop=should_stop):
            if isinstance(event, SweepRunFinished):
                kept.append(event.run)
                state["finished"] += 1
    assert [r.value for r in kept] == [0.1, 0.01]


def test_stop_after_run_finishes_the_current_one():
    trainer = FakeTrainer()
    runs = []
    sweep = SweepConfig(base=TrainConfig(), values=LR_VALUES, epochs=3)
    for event in run_sweep(sweep, tiny_features(), train_fn=trainer, evaluate_fn=fake_evaluate,
                           monitor=no_gpu_monitor(), stop_after_run=lambda: len(runs) >= 1):
        if isinstance(event, SweepRunFinished):
            runs.append(event.run)
    assert len(runs) == 1 and len(trainer.calls) == 1


def test_aggregate_mean_and_spread_per_value():
    trainer = FakeTrainer()
    sweep = SweepConfig(base=TrainConfig(seed=0), values=(0.01, 0.001), repeats=3, epochs=4)
    runs = finished_runs(run_sweep(sweep, tiny_features(), train_fn=trainer, evaluate_fn=fake_evaluate,
                                   monitor=no_gpu_monitor()))
    summaries = aggregate(runs, sweep.values)
    assert [s.value for s in summaries] == [0.01, 0.001] and all(s.n == 3 for s in summaries)
    accs = [r.test_accuracy for r in runs if r.value == 0.01]
    mean = sum(accs) / 3
    std = (sum((a - mean) ** 2 for a in accs) / 2) ** 0.5
    assert summaries[0].test_accuracy == pytest.approx((mean, std))
    assert std > 0                       # the seeds differ, so the repeats differ
    assert summaries[0].energy_joules is None     # unavailable stays unavailable, never averaged to 0


def test_energy_window_restarts_at_train_started(tmp_path):
    """Energy counts only between the trainer's TrainStarted and TrainFinished events."""
    from tests.core.test_energy import FakeNvml

    nvml = FakeNvml(counter=True)

    class TrainStarted:
        pass

    class TrainFinished:
        pass

    def trainer(cfg, features, *, on_event, should_stop):
        nvml.energy_mj += 5000          # 5 J before training proper (imports, model build)
        on_event(TrainStarted())
        nvml.energy_mj += 2000          # 2 J training
        on_event(TrainFinished())
        nvml.energy_mj += 7000          # 7 J after (saving...)
        return FakeTrainer()(cfg, features, on_event=lambda e: None, should_stop=should_stop)

    sweep = SweepConfig(base=TrainConfig(), values=(0.01,), epochs=2)
    (run,) = finished_runs(run_sweep(sweep, tiny_features(), train_fn=trainer, evaluate_fn=fake_evaluate,
                                     monitor=EnergyMonitor([NvmlMeter(nvml=nvml)])))
    assert run.energy_joules == pytest.approx(2.0)
    assert "Fake H100" in run.energy_source


def test_save_reopen_and_exports(tmp_path):
    trainer = FakeTrainer()
    sweep = SweepConfig(base=TrainConfig(), param="batch_size", values=(64, 128), epochs=3, dataset="/data/x")
    record = SweepRecord(config=sweep)
    record.runs = finished_runs(run_sweep(sweep, tiny_features(), train_fn=trainer, evaluate_fn=fake_evaluate,
                                          monitor=no_gpu_monitor()))
    record.status = "finished"
    path = record.save(tmp_path / "sweep.json")
    assert b"pickle" not in path.read_bytes()
    again = SweepRecord.load(path, train_config=TrainConfig)
    assert again.config == sweep
    assert again.status == "finished"
    assert [r.to_dict() for r in again.runs] == [r.to_dict() for r in record.runs]

    rows = json.loads(record.export_json(tmp_path / "runs.json"))
    assert [row["value"] for row in rows] == [64, 128]
    assert all(row["energy_joules"] is None for row in rows)            # null, not 0
    for key in ("value", "repeat", "epochs", "train_seconds", "energy_joules", "energy_source", "test_accuracy"):
        assert key in rows[0]
    table = list(csv.DictReader(io.StringIO(record.export_csv(tmp_path / "runs.csv"))))
    assert [row["batch_size"] for row in table] == ["64", "128"]
    assert table[0]["energy_joules"] == "" and table[0]["energy_source"].startswith("unavailable")
    assert (tmp_path / "runs.csv").read_text() == record.export_csv()


def test_reopening_a_non_sweep_file_says_so(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(ConfigError, match="not an Instrument Studio sweep file"):
        SweepRecord.load(bad, train_config=TrainConfig)
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        SweepRecord.load(bad, train_config=TrainConfig)
