"""A fast stand-in for core.learn.training.train, for sweep tests that are about the sweep, not Keras.

It "learns" deterministically: validation accuracy climbs at a rate set by the learning rate and
the batch size, and it honours the stop rule the sweep asks for, so the tests can tell whether the
sweep passed the right configuration through. Tests of the real trainer use core.learn.training.train.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.errors import Cancelled
from instrument_studio.core.events import EpochEnd
from instrument_studio.core.features.featureset import FeatureSet
from instrument_studio.core.learn.training import TrainConfig  # noqa: F401  (re-exported for tests)


@dataclass
class FakeResult:
    history: dict
    epochs_run: int
    train_seconds: float
    device: str = "CPU (fake)"
    model: object = None
    config: object = None


@dataclass
class FakeTrainer:
    seconds_per_epoch: float = 0.0
    hold_call: int | None = None      # this call (1-based) trains until should_stop(), like a long run
    hold_epoch: int = 0               # ... after reporting this many epochs
    calls: list = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)

    def rate(self, cfg) -> float:
        # 0.01 learns fastest; 0.1 overshoots; small batches take more steps per epoch.
        lr_term = math.exp(-abs(math.log10(cfg.learning_rate) + 2.0))
        return 0.4 * lr_term * (64.0 / cfg.batch_size) ** 0.5

    def __call__(self, cfg, features, *, on_event, should_stop):
        self.calls.append(cfg)
        self.started.set()
        t0 = time.perf_counter()
        history = {"loss": [], "val_loss": [], "accuracy": [], "val_accuracy": []}
        above = 0
        for epoch in range(cfg.epochs):
            if len(self.calls) == self.hold_call and epoch == self.hold_epoch:
                while not should_stop():
                    time.sleep(0.01)
            if should_stop():
                raise Cancelled("training stopped")
            if self.seconds_per_epoch:
                time.sleep(self.seconds_per_epoch)
            acc = 1.0 - math.exp(-self.rate(cfg) * (epoch + 1)) + 0.001 * (cfg.seed % 3)
            acc = min(acc, 0.999)
            history["accuracy"].append(min(acc + 0.01, 1.0))
            history["val_accuracy"].append(acc)
            history["loss"].append(-math.log(max(acc, 1e-3)) + 0.01)
            history["val_loss"].append(-math.log(max(acc, 1e-3)) + 0.02)
            on_event(EpochEnd(epoch=epoch + 1, loss=history["loss"][-1], accuracy=history["accuracy"][-1],
                              val_loss=history["val_loss"][-1], val_accuracy=acc, seconds=0.0,
                              elapsed=time.perf_counter() - t0, best_epoch=epoch + 1))
            if cfg.stop_rule == "target-accuracy":
                above = above + 1 if acc > cfg.threshold else 0
                if above >= cfg.patience:
                    break
        return FakeResult(history, len(history["loss"]), time.perf_counter() - t0, config=cfg)


def fake_evaluate(result, features) -> float:
    """Test accuracy of a fake run: its last validation accuracy minus a little."""
    return round(result.history["val_accuracy"][-1] - 0.005, 6)


def tiny_features(n_classes: int = 3, per_class: int = 20, dim: int = 8, seed: int = 0) -> FeatureSet:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(n_classes, dim))
    x, y = {}, {}
    for split, n in (("train", per_class), ("val", per_class // 4), ("test", per_class // 2)):
        labels = np.repeat(np.arange(n_classes), n)
        x[split] = (centres[labels] + rng.normal(0, 1, size=(len(labels), dim))).astype(np.float32)
        y[split] = labels.astype(np.int64)
    fs = FeatureSet(labels=tuple(f"class{i}" for i in range(n_classes)), config=FeatureConfig(), x=x, y=y)
    fs.fit_standardisation()
    return fs



def tiny_npy_dataset(folder, *, n_classes: int = 3, per_class: int = 30, dim: int = 12, seed: int = 0):
    """A dataset project over the labs' array layout (<prefix>_train_data.npy ...): real importer,
    no audio, so the real trainer can run a sweep in seconds."""
    from pathlib import Path

    from instrument_studio.core.datasets import import_dataset

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(n_classes, dim))
    for split, n in (("train", per_class), ("test", per_class // 3)):
        labels = np.repeat(np.arange(n_classes), n)
        x = (centres[labels] + rng.normal(0, 1, size=(len(labels), dim))).astype(np.float32)
        np.save(folder / f"tiny_{split}_data.npy", x)
        np.save(folder / f"tiny_{split}_labels.npy", labels.astype(np.int64))
    import_dataset(folder, layout="npy").save(folder)
    return folder
