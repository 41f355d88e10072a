"""A finished training run as the app keeps it: the run list of the Training panel, and what the
evaluation and experiment panels read (config, history, final metrics, duration, the trained model
and the features it was trained on)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .config import FeatureConfig
from .errors import ModelError
from .training import TrainConfig, TrainResult, evaluate_split


@dataclass
class TrainingRun:
    id: int
    config: TrainConfig
    feature_config: FeatureConfig
    dataset: str                    # what it was trained on, in words (a path or a name)
    labels: tuple[str, ...]
    history: dict[str, list[float]]
    metrics: dict[str, float]       # last epoch's figures, best val accuracy, test accuracy
    duration: float                 # seconds of model.fit
    device: str
    stop_reason: str
    best_epoch: int | None
    epochs_run: int
    finished_at: float = field(default_factory=time.time)
    result: TrainResult | None = None   # the model in memory (None once released)
    data: Any = None                    # the FeatureSet trained on (its test split for evaluation)
    bundle_path: str | None = None

    @property
    def name(self) -> str:
        c = self.config
        return f"run {self.id}: {c.model}, {c.optimizer} lr {c.learning_rate:g}, batch {c.batch_size}"

    @classmethod
    def from_result(cls, run_id: int, result: TrainResult, data, *, dataset: str) -> TrainingRun:
        metrics = {**result.final_metrics(), **evaluate_split(result, data, "test")}
        return cls(id=run_id, config=result.config, feature_config=result.feature_config, dataset=dataset,
                   labels=result.labels, history=result.history, metrics=metrics, duration=result.train_seconds,
                   device=result.device, stop_reason=result.stop_reason, best_epoch=result.best_epoch,
                   epochs_run=result.epochs_run, result=result, data=data)

    def save_bundle(self, path) -> str:
        """Write this run's model as a bundle (core.bundle); remembers where."""
        from .bundle import save_bundle

        if self.result is None:
            raise ModelError("this run's model is no longer in memory; train it again to save it")
        r = self.result
        out = save_bundle(path, model=r.model, labels=r.labels, feature_config=r.feature_config, mean=r.mean,
                          std=r.std, train_config=r.config, history=r.history,
                          metrics={**self.metrics, "train_seconds": self.duration, "device": self.device,
                                   "epochs_run": self.epochs_run, "stop_reason": self.stop_reason})
        self.bundle_path = str(out)
        return self.bundle_path
