"""train(): events in order, reproducible curves, stopping rules, Stop mid-run, validation splits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from instrument_studio.core.errors import Cancelled, ConfigError
from instrument_studio.core.events import BatchEnd, EpochEnd, Progress, TrainFinished, TrainStarted
from instrument_studio.core.learn import training
from instrument_studio.core.learn.backend import custom_gradient_keys
from instrument_studio.core.learn.callbacks import AccuracyTarget
from instrument_studio.core.learn.training import TrainConfig, evaluate_split, split_validation, train
from tests.training_data import blobs, patches

FAST = dict(model="mlp", model_params={"units": 16}, batch_size=32, learning_rate=0.01)


def test_event_sequence_and_epoch_axis():
    data = blobs(n_train=200)
    events = []
    result = train(TrainConfig(epochs=2, **FAST), data, on_event=events.append, event_interval=0)
    kinds = [type(e) for e in events]
    assert all(k is Progress for k in kinds[:kinds.index(TrainStarted)])
    started = events[kinds.index(TrainStarted)]
    assert (started.n_train, started.n_val) == (160, 40) and started.batches_per_epoch == 5
    assert started.device == "CPU" and started.epochs == 2 and started.n_params > 0
    body = kinds[kinds.index(TrainStarted) + 1:]
    assert body == [BatchEnd] * 5 + [EpochEnd] + [BatchEnd] * 5 + [EpochEnd] + [TrainFinished]
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert [b.step for b in batches] == list(range(10))
    # x axis in epochs: step * batch_size / n_train, reaching whole epochs at epoch ends
    assert batches[0].epoch_float == pytest.approx(32 / 160) and batches[4].epoch_float == pytest.approx(1.0)
    assert batches[-1].epoch_float == pytest.approx(2.0)
    assert all(a.epoch_float < b.epoch_float for a, b in zip(batches, batches[1:], strict=False))
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2]
    assert [e.val_accuracy for e in epochs] == result.history["val_accuracy"]
    finished = events[-1]
    assert finished.epochs_run == 2 and finished.stop_reason == "completed" and finished.history == result.history
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_throttled_events_still_carry_every_batch():
    """At the frame rate, each BatchEnd carries the batches since the previous one: the curves keep
    batch resolution with fewer events (the first batch and each epoch's last are always sent)."""
    data = blobs(n_train=400)
    every, throttled = [], []
    train(TrainConfig(epochs=2, **FAST), data, on_event=every.append, event_interval=0)
    train(TrainConfig(epochs=2, **FAST), data, on_event=throttled.append, event_interval=3600)
    per_batch = [e for e in every if isinstance(e, BatchEnd)]
    blocks = [e for e in throttled if isinstance(e, BatchEnd)]
    # with an hour between events: the run's first batch at once, then each epoch's last
    assert len(blocks) == 3 < len(per_batch) == 20
    assert [x for b in blocks for x in b.block_x] == [b.epoch_float for b in per_batch]
    assert [v for b in blocks for v in b.block_loss] == [b.loss for b in per_batch]    # same seed
    assert [(b.epoch, b.batch) for b in blocks] == [(0, 0), (0, 9), (1, 9)]


def test_steps_per_execution_reports_blocks():
    data = blobs(n_train=400)   # 320 training rows: 10 batches of 32, blocks of 4 -> 3, 7, 9
    events = []
    result = train(TrainConfig(epochs=1, steps_per_execution=4, **FAST), data, on_event=events.append,
                   event_interval=0)
    assert [e.batch for e in events if isinstance(e, BatchEnd)] == [3, 7, 9]
    assert result.epochs_run == 1 and np.isfinite(result.history["loss"][0])


def test_learns_and_standardises_with_training_statistics():
    data = blobs()
    result = train(TrainConfig(epochs=3, **FAST), data)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert evaluate_split(result, data)["test_accuracy"] > 0.9
    assert np.all(np.abs(result.mean - 10) < 2)   # fitted on the (offset) training rows


def test_same_seed_same_curves_other_seed_other_curves():
    data = blobs()
    a = train(TrainConfig(epochs=2, seed=3, **FAST), data)
    b = train(TrainConfig(epochs=2, seed=3, **FAST), data)
    c = train(TrainConfig(epochs=2, seed=4, **FAST), data)
    assert a.history == b.history
    assert a.history != c.history


def test_target_accuracy_stops_after_patience_epochs_above():
    data = blobs(spread=0.3)
    result = train(TrainConfig(epochs=20, stop_rule="target-accuracy", threshold=0.5, patience=2, **FAST), data)
    rule = AccuracyTarget(0.5, 2)
    expected = next(i for i, acc in enumerate(result.history["val_accuracy"], 1) if rule.update(acc))
    assert result.stop_reason == "target-accuracy" and result.epochs_run == expected < 20


def test_early_stopping_ends_a_plateau():
    data = blobs(spread=0.1)   # reaches 100 % at once, then cannot improve
    result = train(TrainConfig(epochs=30, stop_rule="early-stopping", patience=2, **FAST), data)
    assert result.stop_reason == "early-stopping" and result.epochs_run < 30


def test_stop_mid_run_ends_within_a_batch_and_keeps_best_weights():
    data = blobs(n_train=320)
    events = []
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return any(isinstance(e, BatchEnd) and e.epoch == 2 and e.batch == 2 for e in events[-1:])

    result = train(TrainConfig(epochs=50, **FAST), data, on_event=events.append, should_stop=should_stop,
                   event_interval=0)
    last_batch = [e for e in events if isinstance(e, BatchEnd)][-1]
    assert (last_batch.epoch, last_batch.batch) == (2, 2)       # no batch after the stop
    assert result.stop_reason == "stopped by user" and result.epochs_run == 2
    assert result.restored_best and result.best_epoch in (1, 2)
    assert isinstance(events[-1], TrainFinished) and events[-1].stop_reason == "stopped by user"
    # the model now holds the best epoch's weights: its val accuracy is the best one recorded
    assert max(result.history["val_accuracy"]) == result.history["val_accuracy"][result.best_epoch - 1]


def test_stop_before_start_or_within_the_first_epoch_is_cancelled():
    with pytest.raises(Cancelled):
        train(TrainConfig(epochs=1, **FAST), blobs(), should_stop=lambda: True)
    events = []
    before = custom_gradient_keys()
    with pytest.raises(Cancelled, match="first epoch"):
        train(TrainConfig(epochs=3, **FAST), blobs(), on_event=events.append, event_interval=0,
              should_stop=lambda: any(isinstance(e, BatchEnd) for e in events))
    assert sum(isinstance(e, BatchEnd) for e in events) == 1
    # Nothing of the cancelled run is kept, its traced graphs included (backend.forget_custom_gradients).
    assert custom_gradient_keys() <= before


def test_validation_split_keeps_clips_whole_and_uses_dataset_val_when_present():
    data = patches()
    split = split_validation(data, 0.25, seed=0)
    train_clips = set(data.groups["train"][np.isin(data.x["train"], split.x_train).all(axis=(1, 2))])
    val_clips = set(data.groups["train"][np.isin(data.x["train"], split.x_val).all(axis=(1, 2))])
    assert train_clips and val_clips and not train_clips & val_clips
    with_val = blobs(with_val=True)
    split = split_validation(with_val, 0.25, seed=0)
    assert len(split.x_train) == with_val.n("train") and len(split.x_val) == with_val.n("val")


def test_patch_model_with_class_weights_and_clip_accuracy():
    data = patches()
    cfg = TrainConfig(model="cnn", model_params={"filters": [4], "dense_units": 8}, epochs=2, batch_size=8,
                      class_weights=True, optimizer="sgd", learning_rate=0.05)
    result = train(cfg, data)
    metrics = evaluate_split(result, data)
    assert {"test_accuracy", "test_clip_accuracy"} <= set(metrics)


@pytest.mark.parametrize("name", training.OPTIMIZERS)
def test_optimizers(name):
    opt = training.make_optimizer(name, 0.01)
    assert math.isclose(float(opt.learning_rate), 0.01, rel_tol=1e-6)
    if name == "sgd":
        assert opt.nesterov and opt.momentum == 0.9


def test_config_round_trip_and_validation():
    cfg = TrainConfig(model="han2017-leaky", model_params={"filters": 8}, optimizer="rmsprop",
                      stop_rule="target-accuracy", threshold=0.9, patience=2, seed=7)
    assert TrainConfig.from_json(cfg.to_json()) == cfg
    for bad in ({"optimizer": "lbfgs"}, {"model": "resnet"}, {"validation_split": 1.0}, {"epochs": 0},
                {"stop_rule": "target-accuracy", "threshold": 1.5}, {"learning_rate": -1.0}):
        with pytest.raises(ConfigError):
            TrainConfig(**bad)
    with pytest.raises(ConfigError, match="validation"):
        train(TrainConfig(validation_split=0.0, stop_rule="early-stopping"), blobs())


def test_gpu_is_named_when_tensorflow_sees_one(monkeypatch):
    from instrument_studio.core.learn.backend import backend_name
    from instrument_studio.core.learn.tfthread import import_tensorflow

    if backend_name() != "tensorflow":
        pytest.skip("TensorFlow's device listing; tests/core/test_backends.py covers the others")
    tf = import_tensorflow()
    fake = [type("Dev", (), {"name": "/physical_device:GPU:0", "device_type": "GPU"})()]
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: fake if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda dev: {"device_name": "NVIDIA H100 80GB HBM3", "compute_capability": (9, 0)})
    assert training.detect_device() == "GPU: NVIDIA H100 80GB HBM3"
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda dev: {})
    assert training.detect_device() == "GPU: /physical_device:GPU:0"


@pytest.mark.parametrize("model, params", [
    ("lstm", {"units": [8, 4], "dense_units": 4}),
    ("han2017-leaky", {"filters": 2, "dense_units": 8}),
    ("han2017", {"filters": 2, "dense_units": 8}),
])
def test_every_model_trains_on_its_kind_of_features(model, params):
    from instrument_studio.core.config import FeatureConfig

    data = patches(shape=(12, 21) if model == "lstm" else (16, 8))
    if model == "lstm":
        data.config = FeatureConfig(kind="sequence")
    result = train(TrainConfig(model=model, model_params=params, epochs=1, batch_size=8), data)
    assert result.epochs_run == 1 and np.isfinite(result.history["loss"][0])
    assert result.predict_proba(data.x["test"]).shape == (data.n("test"), 3)
