"""A fast stand-in for core.training.train, for sweep tests that are about the sweep, not Keras.

It "learns" deterministically: validation accuracy climbs at a rate set by the learning rate and
the batch size, and it honours the stop rule the sweep asks for, so the tests can tell whether the
sweep passed the right configuration through. Tests of the real trainer use core.training.train.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.errors import Cancelled
from instrument_studio.core.featureset import FeatureSet


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
            on_event(("epoch", epoch))
            if cfg.stop == "target-accuracy":
                above = above + 1 if acc > cfg.target_accuracy else 0
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


try:  # the real training configuration once issue 5 is merged
    from instrument_studio.core.training import TrainConfig
except ImportError:  # pragma: no cover - interim until core.training lands
    from dataclasses import dataclass as _dc

    from instrument_studio.core.config import JsonConfig

    @_dc(frozen=True)
    class TrainConfig(JsonConfig):
        model: str = "mlp"
        optimizer: str = "adam"
        learning_rate: float = 0.001
        batch_size: int = 128
        epochs: int = 10
        validation_split: float = 0.0
        seed: int = 0
        stop: str = "none"
        target_accuracy: float = 0.98
        patience: int = 3
