"""Pause / resume / step one epoch / stop (core.learn.control), with a real Keras run."""

from __future__ import annotations

import threading
import time

import pytest

from instrument_studio.core.events import BatchEnd, EpochEnd, TrainStarted
from instrument_studio.core.learn.control import TrainingControl
from instrument_studio.core.learn.training import TrainConfig, train
from tests.training_data import blobs

FAST = dict(model="mlp", model_params={"units": 16}, batch_size=32, learning_rate=0.01)


def test_control_states_without_keras():
    c = TrainingControl()
    assert not c.paused and not c.should_stop()
    c.pause()
    assert c.paused and c.wait_while_paused(timeout=0.05) is False     # still paused: no stop
    c.step_epoch()
    assert not c.paused and c.stepping
    answer = []
    waiter = threading.Thread(target=lambda: answer.append(c.epoch_ended()))
    waiter.start()                                                       # the step ended: paused again, waiting
    waiter.join(0.2)
    assert waiter.is_alive() and c.paused and not c.stepping
    c.resume()
    waiter.join(5)
    assert answer == [False] and not c.paused
    c.step_epoch()
    assert c.epoch_ended(final=True) is False and not c.paused          # never pauses after the last epoch
    c.pause()
    c.stop()
    assert c.should_stop() and not c.paused and c.wait_while_paused(timeout=1) is True


def test_paused_time_is_counted():
    c = TrainingControl()
    c.pause()
    time.sleep(0.05)
    c.resume()
    assert 0.04 <= c.paused_seconds < 1.0


def _run_in_thread(control, events, epochs=4):
    out = {}

    def work():
        # One BatchEnd per batch (no frame-rate throttling): the test counts batches.
        out["result"] = train(TrainConfig(epochs=epochs, **FAST), blobs(n_train=200), on_event=events.append,
                              control=control, event_interval=0)

    t = threading.Thread(target=work)
    t.start()
    return t, out


def _wait(pred, timeout=300.0):   # generous: the shared CI machine can be slow to start TensorFlow
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_pause_holds_the_run_and_step_runs_exactly_one_epoch():
    control = TrainingControl()
    control.pause()               # paused before it starts: the gate holds the first batch
    events: list = []
    t, out = _run_in_thread(control, events)
    _wait(lambda: any(isinstance(e, TrainStarted) for e in events))
    time.sleep(1.0)               # model.fit has had time to start; nothing may have trained
    try:
        assert not any(isinstance(e, BatchEnd) for e in events)
        control.step_epoch()
        _wait(lambda: any(isinstance(e, EpochEnd) for e in events))
        _wait(lambda: control.paused)
        time.sleep(0.5)
        epochs = [e for e in events if isinstance(e, EpochEnd)]
        batches = [e for e in events if isinstance(e, BatchEnd)]
        assert [e.epoch for e in epochs] == [1] and len(batches) == 5      # one epoch of 160 rows / 32
        control.resume()
        t.join(300)
    finally:
        control.stop()
        t.join(300)
    result = out["result"]
    assert result.epochs_run == 4 and result.stop_reason == "completed"
    assert result.train_seconds < sum(e.seconds for e in events if isinstance(e, EpochEnd)) + 1.5


def test_stop_while_paused_ends_the_run_with_its_finished_epochs():
    control = TrainingControl()
    events: list = []
    control.step_epoch()          # run one epoch, then pause
    t, out = _run_in_thread(control, events, epochs=50)
    _wait(lambda: control.paused and any(isinstance(e, EpochEnd) for e in events))
    control.stop()
    t.join(300)
    assert not t.is_alive()
    result = out["result"]
    assert result.epochs_run == 1 and result.stop_reason == "stopped by user"


def test_tensorboard_logs_are_written(tmp_path, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        pytest.skip("TensorBoard logs need the optional tensorboard package ([tensorboard] extra)")
    train(TrainConfig(epochs=1, **FAST), blobs(n_train=100), tensorboard_dir=str(tmp_path / "tb"))
    assert list((tmp_path / "tb").rglob("events.out.tfevents.*"))


def test_tensorboard_without_the_package_says_what_to_install(tmp_path, monkeypatch):
    import importlib.util

    from instrument_studio.core.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    with pytest.raises(ConfigError, match=r"pip install 'instrument-studio\[tensorboard\]'"):
        train(TrainConfig(epochs=1, **FAST), blobs(n_train=100), tensorboard_dir=str(tmp_path / "tb"))
