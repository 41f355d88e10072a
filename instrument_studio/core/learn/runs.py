"""A finished training run as the app keeps it: the run list of the Training panel, and what the
evaluation and experiment panels read (config, history, final metrics, duration, the trained model
and the features it was trained on).

In the GUI, anything that calls into the run's Keras model (predict, save) goes through
core.learn.tfthread.run_in_tf_thread, like the training itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import FeatureConfig
from ..errors import ModelError
from .backend import forget_custom_gradients
from .training import TrainConfig, TrainedModel, evaluate_split


@dataclass
class SessionRun:
    """One entry of this session's run list (Training panel; offered to Evaluation and Predict):
    its settings and figures, and while kept in memory its TrainedModel and training data."""

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
    result: TrainedModel | None = None   # the model in memory (None once released)
    data: Any = None                    # the FeatureSet trained on (its test split for evaluation)
    bundle_path: str | None = None
    # For the run report and the persisted run list: the test split's metrics report
    # (core.evaluation EvaluationReport.to_dict(), attached by core.evaluation.run_report), the
    # model summary as text, and the data set's facts (rows per split, classes, input shape).
    evaluation: dict | None = None
    model_summary: str | None = None
    data_facts: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        c = self.config
        return f"run {self.id}: {c.model}, {c.optimizer} lr {c.learning_rate:g}, batch {c.batch_size}"

    @classmethod
    def from_result(cls, run_id: int, result: TrainedModel, data, *, dataset: str) -> SessionRun:
        from .models import summarise

        metrics = {**result.final_metrics(), **evaluate_split(result, data, "test")}
        facts = {"train_rows": int(result.n_train), "validation_rows": int(result.n_val),
                 "test_rows": int(data.n("test")), "classes": len(result.labels),
                 "feature_kind": result.feature_config.kind, "input_shape": list(result.input_shape),
                 "clips": {split: len(c) for split, c in getattr(data, "clips", {}).items()}}
        return cls(id=run_id, config=result.config, feature_config=result.feature_config, dataset=dataset,
                   labels=result.labels, history=result.history, metrics=metrics, duration=result.train_seconds,
                   device=result.device, stop_reason=result.stop_reason, best_epoch=result.best_epoch,
                   epochs_run=result.epochs_run, result=result, data=data,
                   model_summary=summarise(result.model, result.config.model).as_text(), data_facts=facts)

    @property
    def holds_model(self) -> bool:
        return self.result is not None

    def release_model(self) -> None:
        """Drop this run's Keras model and training data (its curves and figures stay). Saving it
        as a bundle afterwards says the model is no longer in memory."""
        if self.result is not None:
            forget_custom_gradients(self.result.traced_gradients)
        self.result = None
        self.data = None

    def save_bundle(self, path) -> str:
        """Write this run's model as a bundle (core.learn.bundle); remembers where."""
        from .bundle import save_bundle

        if self.result is None:
            raise ModelError("this run's model is no longer in memory; train it again to save it")
        r = self.result
        out = save_bundle(path, model=r.model, labels=r.labels, feature_config=r.feature_config, mean=r.mean,
                          std=r.std, train_config=r.config, history=r.history,
                          metrics={**self.metrics, "train_seconds": self.duration, "device": self.device,
                                   "epochs_run": self.epochs_run, "stop_reason": self.stop_reason},
                          report={"evaluation": self.evaluation, "model_summary": self.model_summary,
                                  "data_facts": self.data_facts, "dataset": self.dataset})
        self.bundle_path = str(out)
        return self.bundle_path


# How many finished runs keep their Keras model in memory (to save as a bundle or evaluate); an
# older one is superseded when a newer run finishes: without this a session's memory grew per run.
MODELS_KEPT = 3


def release_superseded(runs: list[SessionRun], *, keep: int = MODELS_KEPT) -> list[SessionRun]:
    """Release the models of all but the `keep` newest runs that still hold one (oldest first);
    returns the runs released. Whoever else holds a released model (the Evaluation panel's run
    list) must drop it too for the memory to come back."""
    holding = [r for r in runs if r.holds_model]
    released = holding[:max(0, len(holding) - keep)]
    for run in released:
        run.release_model()
    if released:
        import gc

        # A model's layers hold reference cycles. Cheap (ms) because what was alive when Keras
        # loaded is frozen out of the collector's sight (backend._freeze_long_lived).
        gc.collect()
    return released


def feature_shape(cfg: FeatureConfig) -> tuple[int, ...]:
    """The input shape `cfg` gives a model, found by running the real feature code on a quiet clip."""
    import numpy as np

    from ..features.clip import clip_features

    seconds = max(cfg.clip_seconds, cfg.patch_seconds) + 0.1
    quiet = np.random.default_rng(0).normal(0.0, 1e-3, int(seconds * cfg.mel.sr)).astype(np.float32)
    return tuple(int(d) for d in clip_features(quiet, cfg).shape[1:])


def describe_model(*, name: str, feature_config: FeatureConfig, input_shape=None, n_classes: int = 10,
                   params: dict | None = None) -> str:
    """The model summary as text, for an input of the given shape (or the one the features give)."""
    from .models import model_summary

    shape = tuple(input_shape) if input_shape is not None else feature_shape(feature_config)
    summary = model_summary(name, shape, n_classes, **(params or {}))
    return f"input {shape}, {n_classes} classes\n{summary.as_text()}"


def _here(fn: Callable, /, *args, **kwargs):
    return fn(*args, **kwargs)


def training_run(*, run_id: int, source, label: str, features, feature_config: FeatureConfig,
                 config: TrainConfig, emit: Callable, should_stop: Callable[[], bool],
                 run_tf: Callable = _here, control=None, tensorboard_dir: str | None = None) -> SessionRun:
    """Everything a Training-panel run does off the GUI thread: features (unless given), training,
    test metrics. Returns the SessionRun for the run list.

    Features are extracted on the calling thread; only the TensorFlow work goes through
    `run_tf(fn, *args)` (the GUI passes tfthread.run_in_tf_thread), so a long extraction never holds
    the one TensorFlow thread that model loading and summaries wait for."""
    from ..features.extraction import load_feature_set
    from .training import train

    data = features if features is not None else load_feature_set(source, feature_config, on_event=emit,
                                                                  should_stop=should_stop)
    result = run_tf(train, config, data, on_event=emit, should_stop=should_stop, control=control,
                    tensorboard_dir=tensorboard_dir)
    return run_tf(SessionRun.from_result, run_id, result, data, dataset=label)


def save_run(run: SessionRun, path: str) -> str:
    return run.save_bundle(path)
