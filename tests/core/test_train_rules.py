"""TrainToAccuracy (the course assignment's rule) and best-epoch keeping, without training anything."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from instrument_studio.core.learn.callbacks import AccuracyTarget, BestTracker


def epochs_until_stop(rule: AccuracyTarget, accuracies) -> int | None:
    for epoch, acc in enumerate(accuracies, start=1):
        if rule.update(acc):
            return epoch
    return None


def test_stops_after_patience_epochs_above_in_a_row():
    assert epochs_until_stop(AccuracyTarget(0.98, 3), [0.90, 0.985, 0.99, 0.995, 0.999]) == 4


def test_a_dip_resets_the_count():
    accs = [0.99, 0.99, 0.97, 0.99, 0.99, 0.99]
    assert epochs_until_stop(AccuracyTarget(0.98, 3), accs) == 6


def test_equal_to_threshold_is_not_above():
    assert epochs_until_stop(AccuracyTarget(0.98, 1), [0.98, 0.98, 0.98]) is None
    assert epochs_until_stop(AccuracyTarget(0.98, 1), [0.98, 0.9801]) == 2


def test_patience_one_stops_on_first_epoch_above_and_nan_counts_as_below():
    assert epochs_until_stop(AccuracyTarget(0.5, 1), [0.4, 0.6]) == 2
    assert epochs_until_stop(AccuracyTarget(0.5, 2), [0.6, float("nan"), 0.6, 0.7]) == 4


@pytest.mark.parametrize("threshold, patience", [(0.0, 1), (1.5, 1), (0.9, 0)])
def test_bad_arguments_are_refused(threshold, patience):
    with pytest.raises(ValueError):
        AccuracyTarget(threshold, patience)


def test_best_tracker_prefers_accuracy_then_lower_loss_then_earlier():
    best = BestTracker()
    assert best.update(1, 0.5, 1.0)
    assert best.update(2, 0.7, 0.9)
    assert not best.update(3, 0.6, 0.1)
    assert best.update(4, 0.7, 0.5)          # tie on accuracy, lower loss
    assert not best.update(5, 0.7, 0.5)      # exact tie: keep the earlier
    assert not best.update(6, float("nan"), 0.1)
    assert best.best_epoch == 4


def test_keras_callback_sets_stop_training():
    from instrument_studio.core.learn.callbacks import TrainToAccuracy

    cb = TrainToAccuracy(0.9, 2)
    model = SimpleNamespace(stop_training=False)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, acc in enumerate([0.95, 0.5, 0.95]):
        cb.on_epoch_end(epoch, {"val_accuracy": acc})
    assert model.stop_training is False
    cb.on_epoch_end(3, {"val_accuracy": 0.96})
    assert model.stop_training is True and cb.stopped_epoch == 4
