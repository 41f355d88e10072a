"""The sweep with the real trainer (core.learn.training.train) on tiny arrays: a few seconds."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.events import EpochEnd, SweepRunFinished
from instrument_studio.core.experiments.sweep import SweepConfig, run_sweep, training_data
from instrument_studio.core.features.extraction import load_feature_set
from instrument_studio.core.learn.training import TrainConfig
from tests.sweep_fakes import tiny_features, tiny_npy_dataset


def test_real_training_sweep_reports_epochs_time_and_test_accuracy(tmp_path):
    features = load_feature_set(tiny_npy_dataset(tmp_path / "d"), save=False)
    sweep = SweepConfig(base=TrainConfig(model="mlp", batch_size=16, seed=3), param="lr", values=(0.01, 0.0001),
                        mode="train-to-accuracy", target_accuracy=0.9, patience=2, max_epochs=15)
    epochs_seen = []
    runs = [e.run for e in run_sweep(sweep, features, on_event=lambda e: isinstance(e, EpochEnd) and epochs_seen.append(e))
            if isinstance(e, SweepRunFinished)]
    fast, slow = runs
    assert fast.reached_target and fast.epochs < 15               # well-separated classes, lr 0.01
    assert not slow.reached_target and slow.epochs == 15          # lr 1e-4 cannot get there in 15 epochs
    assert fast.test_accuracy > slow.test_accuracy
    assert len(fast.history["val_accuracy"]) == fast.epochs and len(epochs_seen) == fast.epochs + slow.epochs
    assert fast.device and fast.train_seconds > 0
    assert fast.energy_joules is None or fast.energy_joules > 0


def test_train_to_accuracy_validates_on_a_share_of_all_training_rows():
    fs = tiny_features()
    sweep = SweepConfig(base=TrainConfig(), mode="train-to-accuracy")
    data = training_data(sweep, fs)
    assert "val" not in data.x and data.n("train") == fs.n("train") + fs.n("val")
    assert np.array_equal(data.x["test"], fs.x["test"])
    assert training_data(SweepConfig(base=TrainConfig()), fs) is fs     # fixed epochs: the dataset's own split


def test_every_default_optimizer_is_a_real_choice():
    from instrument_studio.core.experiments.sweep import default_values, parse_values

    base = TrainConfig()
    for name in default_values("optimizer"):
        assert TrainConfig(optimizer=name).optimizer == name
    assert parse_values("optimizer", "adam,sgd", base=base) == ("adam", "sgd")
    with pytest.raises(Exception, match="optimizer"):
        SweepConfig(base=base, param="optimizer", values=("adamw",)).run_config("adamw", 0)
