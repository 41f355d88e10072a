"""Training a registry model on a FeatureSet: `train(cfg, data, *, on_event, should_stop)`.

The run knows nothing of Qt: it reports through core.events (on_event) and listens through
should_stop(), so the GUI worker, the CLI and the benchmark drive the same function. Keras is
imported inside the functions, on the backend core/learn/backend.py chose (TensorFlow, JAX or
PyTorch); nothing here is specific to one backend.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import FeatureConfig, JsonConfig
from ..errors import Cancelled, ConfigError, ModelError
from ..events import Progress, TrainFinished, TrainStarted
from ..features.featureset import FeatureSet, standardise
from .backend import (
    TITLES,
    backend_name,
    custom_gradient_keys,
    forget_custom_gradients,
    import_keras,
    resolve_reproducible,
    seed_and_determinism,
    training_errors,
)
from .backend import detect_device as detect_device
from .control import TrainingControl, pause_gate_class
from .distribute import cluster_configured, distributed_scope, fit_multi_worker, strategy_for_run
from .inputs import (
    Split,
    predict_rows,
    prepare_inputs,
    rows_and_labels,
    split_validation,  # noqa: F401 - re-exported: evaluation and tests import it from here
    standardisation_of,
)
from .models import MODELS, build_model

OPTIMIZERS = ("adam", "sgd", "adadelta", "rmsprop")
STOP_RULES = ("none", "target-accuracy", "early-stopping")
MIXED_PRECISION = ("off", "bfloat16", "float16")

# Why a run ended (TrainedModel.stop_reason, TrainFinished.stop_reason).
COMPLETED = "completed"
REACHED_TARGET = "target-accuracy"
EARLY_STOPPED = "early-stopping"
USER_STOPPED = "stopped by user"


@dataclass(frozen=True)
class TrainConfig(JsonConfig):
    """Everything that decides a run. Saved in every bundle; same config + seed -> same curves on the CPU.

    validation_split: fraction of the training rows held out for validation (whole clips, stratified)
    when the FeatureSet has no "val" split. stop_rule "target-accuracy" is the course's TrainToAccuracy
    (val accuracy above `threshold` for `patience` epochs in a row); "early-stopping" stops when val
    accuracy has not improved for `patience` epochs. restore_best: end with the weights of the epoch
    with the best validation accuracy.
    """

    model: str = "mlp"
    model_params: dict[str, Any] = field(default_factory=dict)
    optimizer: str = "adam"
    learning_rate: float = 0.001
    batch_size: int = 128
    epochs: int = 10
    validation_split: float = 0.2
    class_weights: bool = False
    seed: int = 0
    stop_rule: str = "none"
    threshold: float = 0.98
    patience: int = 3
    restore_best: bool = True
    # None: on for the CPU (free there), off for a GPU (deterministic kernels are slower); see
    # backend.REPRODUCIBLE_WHY. The device decides, so a config means the same on every machine.
    reproducible: bool | None = None
    mixed_precision: str = "off"     # "bfloat16"/"float16" compute for the CNNs (weights stay float32)
    steps_per_execution: int = 1     # training steps per compiled call; batch ends are reported per block

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ConfigError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}")
        if not isinstance(self.model_params, dict):
            raise ConfigError(f"model_params must be a mapping, got {type(self.model_params).__name__}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ConfigError(f"learning rate must be positive, got {self.learning_rate}")
        if int(self.batch_size) < 1:
            raise ConfigError(f"batch size must be at least 1, got {self.batch_size}")
        if int(self.epochs) < 1:
            raise ConfigError(f"epochs must be at least 1, got {self.epochs}")
        if not 0.0 <= self.validation_split < 1.0:
            raise ConfigError(f"validation split must be in [0, 1), got {self.validation_split}")
        if self.stop_rule not in STOP_RULES:
            raise ConfigError(f"stop rule must be one of {', '.join(STOP_RULES)}, got {self.stop_rule!r}")
        if self.stop_rule == "target-accuracy" and not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"target accuracy must be in (0, 1], got {self.threshold}")
        if self.stop_rule != "none" and int(self.patience) < 1:
            raise ConfigError(f"patience must be at least 1 epoch, got {self.patience}")
        if self.mixed_precision not in MIXED_PRECISION:
            raise ConfigError(f"mixed precision must be one of {', '.join(MIXED_PRECISION)}, got {self.mixed_precision!r}")
        if self.mixed_precision != "off" and MODELS[self.model].feature_kind != "mel-patches":
            raise ConfigError(f"mixed precision is offered for the CNNs only, not {self.model}")
        if int(self.steps_per_execution) < 1:
            raise ConfigError(f"steps per execution must be at least 1, got {self.steps_per_execution}")

    def __hash__(self) -> int:  # model_params is a dict; hash its JSON form instead
        return hash(self.to_json())


@dataclass
class TrainedModel:
    """What train() returns: the Keras model (best weights when restore_best) with the labels,
    feature config and standardisation it needs to predict, its curves and how training ended."""

    model: Any
    config: TrainConfig
    history: dict[str, list[float]]
    epochs_run: int
    train_seconds: float
    device: str
    stop_reason: str
    best_epoch: int | None
    mean: np.ndarray | None
    std: np.ndarray | None
    labels: tuple[str, ...]
    feature_config: FeatureConfig
    n_train: int
    n_val: int
    restored_best: bool = False
    backend: str = ""
    reproducible: bool = True
    # TensorFlow's custom-gradient entries its training traced: released with the model
    # (backend.forget_custom_gradients).
    traced_gradients: frozenset[str] = frozenset()

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return standardise(x, self.mean, self.std)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input row (as Bundle.input_shape: inference.Predictor checks it)."""
        return tuple(int(d) for d in self.model.input_shape[1:])

    def predict_proba(self, x: np.ndarray, *, batch_size: int | None = None) -> np.ndarray:
        from .bundle import rows_per_call

        batch_size = batch_size or rows_per_call(self.input_shape)
        return np.asarray(self.model.predict(self.standardise(x), batch_size=batch_size, verbose=0))

    def final_metrics(self) -> dict[str, float]:
        """Last epoch's figures and the best epoch's validation accuracy."""
        out = {k: v[-1] for k, v in self.history.items() if v}
        if self.best_epoch:
            out["best_val_accuracy"] = self.history["val_accuracy"][self.best_epoch - 1]
        return out


def _require_tensorboard() -> None:
    """Before the run, not at its first epoch end: TensorFlow writes the logs through the optional
    tensorboard package."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError("TensorBoard logs need the tensorboard package: "
                          "pip install 'instrument-studio[tensorboard]'")


def make_optimizer(name: str, learning_rate: float):
    keras = import_keras()

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)
    if name == "adadelta":
        return keras.optimizers.Adadelta(learning_rate=learning_rate)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate)
    raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")


# Kept importable from here: callers and tests knew them by these names.
_Split = Split
_standardisation = standardisation_of


def build_compiled(cfg: TrainConfig, input_shape, n_classes: int):
    """cfg's model, compiled as train() compiles it (bench/gpu_train.py times this same model bare).
    Mixed precision is a global Keras policy: set for the build only, so nothing else inherits it."""
    keras = import_keras()
    policy = keras.config.dtype_policy()
    if cfg.mixed_precision != "off":
        keras.config.set_dtype_policy(f"mixed_{cfg.mixed_precision}")
    try:
        model = build_model(cfg.model, input_shape, n_classes, **cfg.model_params)
    finally:
        keras.config.set_dtype_policy(policy)
    # float16 needs loss scaling: Keras 3 wraps the optimizer in a LossScaleOptimizer for that policy.
    model.compile(optimizer=make_optimizer(cfg.optimizer, cfg.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=int(cfg.steps_per_execution))
    return model


def train(cfg: TrainConfig, data: FeatureSet, *, on_event: Callable[[object], None] | None = None,
          should_stop: Callable[[], bool] | None = None, inputs: str = "auto",
          control: TrainingControl | None = None, tensorboard_dir: str | None = None,
          event_interval: float = 1 / 60) -> TrainedModel:
    """Train cfg.model on data's training rows, validating on its "val" split or a held-out part.

    Events: Progress (preparing), TrainStarted, BatchEnd at most every `event_interval` seconds
    (each with the batch points since the last; 0: one per batch end), EpochEnd per epoch,
    TrainFinished. should_stop() is asked at every batch end (every steps_per_execution steps); a
    stop ends the run there and keeps the best weights so far. Raises Cancelled when stopped before
    the first epoch finished.
    `data` may be a FeatureStore (features/store.py): inputs="auto" streams it when it is large
    (learn/inputs.py), "memory" or "stream" force one path.
    `control` (core.learn.control) adds pause / resume / step one epoch, and stands in for
    should_stop when that is not given; paused time is not counted in train_seconds.
    `tensorboard_dir`: also write TensorBoard logs there (keras.callbacks.TensorBoard).
    """
    emit = on_event or (lambda event: None)
    stop = should_stop or (control.should_stop if control is not None else (lambda: False))
    if tensorboard_dir:
        _require_tensorboard()
    if data.n("train") == 0:
        raise ModelError("the feature set has no training rows")
    emit(Progress("training", 0, None, "preparing data"))
    if cluster_configured():
        strategy_for_run()   # a cluster's collectives must exist before any TensorFlow op (a stream's tf.data)
    prepared = prepare_inputs(data, cfg, inputs=inputs)
    if prepared.n_val == 0 and cfg.stop_rule != "none":
        raise ConfigError(f"stop rule {cfg.stop_rule} needs validation data; set a validation split above 0")
    mean, std, y_train = prepared.mean, prepared.std, prepared.y_train

    backend = backend_name()
    emit(Progress("training", 0, None, f"starting {TITLES.get(backend, backend)}"))
    keras = import_keras()

    from .callbacks import _classes

    kind, strategy = strategy_for_run()   # several GPUs or machines: learn/distribute.py
    classes = _classes()
    device = detect_device()
    if stop():
        raise Cancelled("training stopped before it started")
    # Same seed + config -> same initial weights, shuffles and dropout masks -> same curves (when
    # reproducible: deterministic kernels too).
    reproducible = resolve_reproducible(cfg.reproducible, device)
    seed_and_determinism(cfg.seed, reproducible)
    with distributed_scope(strategy):
        model = build_compiled(cfg, data.input_shape, data.n_classes)
    if strategy is not None:
        device = f"{device}, {strategy.num_replicas_in_sync} replicas ({kind})"

    class_weight = None
    if cfg.class_weights:
        from sklearn.utils.class_weight import compute_class_weight

        present = np.unique(y_train)
        weights = compute_class_weight("balanced", classes=present, y=y_train)
        class_weight = {int(c): float(w) for c, w in zip(present, weights, strict=True)}

    keep = classes["KeepBest"]()
    bridge = classes["KerasBridge"](on_event=emit, should_stop=stop, n_train=prepared.n_train,
                                    batch_size=cfg.batch_size, best=keep.tracker,
                                    steps_per_execution=cfg.steps_per_execution, min_interval=event_interval)
    callbacks = [keep]  # before the bridge, so EpochEnd carries this epoch's best
    rule = None
    if cfg.stop_rule == "target-accuracy":
        rule = classes["TrainToAccuracy"](cfg.threshold, cfg.patience)
    elif cfg.stop_rule == "early-stopping":
        rule = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=int(cfg.patience),
                                             restore_best_weights=False)
    if rule is not None:
        callbacks.append(rule)
    if tensorboard_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(tensorboard_dir), histogram_freq=0))
    callbacks.append(bridge)
    if control is not None:   # last: an epoch's events are out before a step pauses after it
        callbacks.append(pause_gate_class()(control))

    batches = math.ceil(prepared.n_train / cfg.batch_size)
    emit(TrainStarted(model=cfg.model, n_train=prepared.n_train, n_val=prepared.n_val, batch_size=int(cfg.batch_size),
                      batches_per_epoch=batches, epochs=int(cfg.epochs), device=device,
                      n_params=int(model.count_params()), config=cfg.to_dict(),
                      backend=keras.backend.backend(), reproducible=reproducible))
    from .callbacks import UserStop

    gradients_before = custom_gradient_keys()
    t0 = time.perf_counter()
    paused_before = control.paused_seconds if control is not None else 0.0
    reason = COMPLETED
    try:
        x, y = prepared.train if isinstance(prepared.train, tuple) else (prepared.train, None)
        if kind == "multi-worker":
            fit_multi_worker(model, strategy, train=prepared.train, val=prepared.val, epochs=int(cfg.epochs),
                             batch=int(cfg.batch_size), seed=int(cfg.seed), callbacks=callbacks,
                             class_weight=class_weight)
        else:
            model.fit(x, y, epochs=int(cfg.epochs), validation_data=prepared.val, class_weight=class_weight,
                      callbacks=callbacks, verbose=0, **prepared.fit_kwargs)
    except UserStop:
        reason = USER_STOPPED
    except training_errors() as exc:
        forget_custom_gradients(custom_gradient_keys() - gradients_before)   # no model is kept
        raise ModelError(f"training {cfg.model} failed: {exc}") from exc
    seconds = time.perf_counter() - t0
    traced_gradients = custom_gradient_keys() - gradients_before
    if control is not None:
        seconds = max(0.0, seconds - (control.paused_seconds - paused_before))
    epochs_run = len(keep.history["loss"])
    if reason == USER_STOPPED and epochs_run == 0:
        # No finished epoch: no validated weights worth keeping, and no curve to list.
        forget_custom_gradients(traced_gradients)
        raise Cancelled("training stopped before its first epoch finished")
    if reason == COMPLETED and rule is not None and getattr(rule, "stopped_epoch", 0):
        reason = REACHED_TARGET if cfg.stop_rule == "target-accuracy" else EARLY_STOPPED
    restored = bool(cfg.restore_best) and keep.restore()
    if kind == "multi-worker":
        # The same weights in a model outside the cluster: predicting, evaluating and saving must
        # not wait on workers that have finished (a mirrored model's calls are collective).
        plain = build_model(cfg.model, data.input_shape, data.n_classes, **cfg.model_params)
        plain.set_weights(model.get_weights())
        model = plain
    result = TrainedModel(model=model, config=cfg, history={k: list(v) for k, v in keep.history.items()},
                         epochs_run=epochs_run, train_seconds=seconds, device=device, stop_reason=reason,
                         best_epoch=keep.tracker.best_epoch, mean=mean, std=std, labels=tuple(data.labels),
                         feature_config=data.config, n_train=prepared.n_train, n_val=prepared.n_val,
                         restored_best=restored, backend=keras.backend.backend(), reproducible=reproducible,
                         traced_gradients=traced_gradients)
    emit(TrainFinished(epochs_run=epochs_run, stop_reason=reason, best_epoch=result.best_epoch,
                       train_seconds=seconds, device=device, history=result.history))
    return result


def evaluate_split(result: TrainedModel, data: FeatureSet, split: str = "test") -> dict[str, float]:
    """Accuracy on a split: per row and, where rows are patches of clips, per clip (mean probability)."""
    from sklearn.metrics import accuracy_score

    if data.n(split) == 0:
        return {}
    y, groups = rows_and_labels(data, split)
    proba = predict_rows(result, data, split)
    out = {f"{split}_accuracy": float(accuracy_score(y, proba.argmax(axis=1)))}
    if groups is not None and len(groups) == len(y) and len(np.unique(groups)) < len(y):
        unique, index = np.unique(groups, return_inverse=True)
        sums = np.zeros((len(unique), proba.shape[1]))
        np.add.at(sums, index, proba)
        clip_y = np.zeros(len(unique), dtype=y.dtype)
        clip_y[index] = y
        out[f"{split}_clip_accuracy"] = float(accuracy_score(clip_y, sums.argmax(axis=1)))
    return out
