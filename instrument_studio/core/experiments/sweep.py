"""Hyper-parameter sweeps: the same model trained once per value (and repeat) of one parameter.

The course assignment: learning rates 0.1 ... 0.0001 and batch sizes 64 ... 8192, first for a fixed
number of epochs (compare the curves), then each trained to a target validation accuracy
(compare time, energy, test accuracy and epochs). `run_sweep` is a generator that trains the runs
one after another and yields each finished run at once, so a GUI table fills as the sweep goes
and a cancelled sweep keeps everything already finished.

Energy is measured around the training call only (not feature extraction, not the test
evaluation); `energy_joules` is the GPU's, None with the reason in `energy_source` where there is
no GPU, and CPU package energy (RAPL) is reported separately, labelled as such.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import FeatureConfig
from ..errors import Cancelled, ConfigError
from ..events import SweepRunFinished, SweepRunStarted
from ..features.featureset import FeatureSet
from ..learn.backend import forget_custom_gradients
from .energy import CPU, GPU, EnergyMonitor, EnergyReading, reading_of
from .sweep_results import SweepRun, ValueSummary, aggregate, reached_target  # noqa: F401  (public here too)

MODES = ("fixed-epochs", "train-to-accuracy")
LR_VALUES = (0.1, 0.01, 0.001, 0.0001)
BATCH_SIZE_VALUES = tuple(2**k for k in range(6, 14))          # 64 ... 8192
# The swept parameter's name as the user says it -> the TrainConfig field it sets.
PARAM_FIELDS = {"lr": "learning_rate", "batch_size": "batch_size", "optimizer": "optimizer"}
PARAM_LABELS = {"lr": "learning rate", "batch_size": "batch size", "optimizer": "optimizer"}


def optimizer_values() -> tuple[str, ...]:
    from ..learn.training import OPTIMIZERS

    return tuple(OPTIMIZERS)


def default_values(param: str) -> tuple:
    if param == "lr":
        return LR_VALUES
    if param == "batch_size":
        return BATCH_SIZE_VALUES
    if param == "optimizer":
        return optimizer_values()
    return ()


def train_config_class() -> type:
    from ..learn.training import TrainConfig

    return TrainConfig


def param_field(param: str) -> str:
    return PARAM_FIELDS.get(param, param)


def param_label(param: str) -> str:
    return PARAM_LABELS.get(param, param.replace("_", " "))


def parse_values(param: str, text: str | Sequence[Any], *, base: Any) -> tuple:
    """'0.1, 0.01' -> (0.1, 0.01), typed like the base configuration's current value."""
    items = [s.strip() for s in text.replace(";", ",").split(",")] if isinstance(text, str) else list(text)
    items = [s for s in items if not (isinstance(s, str) and s == "")]
    if not items:
        raise ConfigError(f"no values given for the {param_label(param)} sweep")
    name = param_field(param)
    if not hasattr(base, name):
        known = ", ".join(sorted(PARAM_FIELDS) + [f.name for f in dataclasses.fields(base)])
        raise ConfigError(f"cannot sweep {param!r}: not a training setting (one of {known})")
    current = getattr(base, name)
    kind = type(current) if isinstance(current, (bool, int, float, str)) else str
    out = []
    for item in items:
        try:
            if kind is bool:
                value = item if isinstance(item, bool) else str(item).lower() in ("1", "true", "yes", "on")
            elif kind is int:
                number = float(item)
                if number != int(number):
                    raise ValueError("not a whole number")
                value = int(number)
            else:
                value = kind(item)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{param_label(param)} value {item!r} is not a {kind.__name__} ({exc})") from exc
        if value in out:
            raise ConfigError(f"{param_label(param)} value {item!r} is listed twice")
        out.append(value)
    return tuple(out)


@dataclass(frozen=True)
class SweepConfig:
    """A sweep: the base training configuration, what varies, how many repeats, how each run stops."""

    base: Any                                   # core.learn.training.TrainConfig
    param: str = "lr"
    values: tuple = LR_VALUES
    repeats: int = 1
    mode: str = "fixed-epochs"
    epochs: int = 20                            # fixed-epochs mode
    target_accuracy: float = 0.98               # train-to-accuracy mode
    patience: int = 3
    max_epochs: int = 500
    validation_split: float = 0.2               # of the training rows, for the stop rule
    dataset: str = ""                           # where the features came from (for the record)
    features: FeatureConfig = FeatureConfig()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"sweep mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not self.values:
            raise ConfigError("a sweep needs at least one value")
        if self.repeats < 1:
            raise ConfigError(f"repeats must be at least 1, got {self.repeats}")
        if self.epochs < 1 or self.max_epochs < 1:
            raise ConfigError("epochs must be at least 1")
        if not 0.0 < self.target_accuracy <= 1.0:
            raise ConfigError(f"target accuracy must be in (0, 1], got {self.target_accuracy}")
        if self.patience < 1:
            raise ConfigError(f"patience must be at least 1, got {self.patience}")
        if not 0.0 < self.validation_split < 1.0:
            raise ConfigError(f"validation split must be between 0 and 1, got {self.validation_split}")
        if not hasattr(self.base, param_field(self.param)):
            raise ConfigError(f"cannot sweep {self.param!r}: the training configuration has no such setting")

    @property
    def n_runs(self) -> int:
        return len(self.values) * self.repeats

    def order(self) -> list[tuple[int, int]]:
        """(value index, repeat) of every run, in the sweep's order: each repeat goes through every
        value. A run's place in it is its index in events and records, wherever it trained."""
        return [(v, r) for r in range(self.repeats) for v in range(len(self.values))]

    def place(self, run: Any) -> int:
        """A finished run's index in order() (runs on several devices finish in any order)."""
        return self.order().index((self.values.index(run.value), run.repeat))

    def seed(self, repeat: int) -> int:
        # Repeat r uses the same seed for every value, so values are compared on equal footing.
        return int(self.base.seed) + repeat

    def run_config(self, value: Any, repeat: int) -> Any:
        """The TrainConfig of one run: the base with the swept value, the seed and the stop rule."""
        changes = {param_field(self.param): value, "seed": self.seed(repeat)}
        if self.mode == "fixed-epochs":
            changes.update(epochs=self.epochs, stop_rule="none")
        else:
            changes.update(epochs=self.max_epochs, stop_rule="target-accuracy", threshold=self.target_accuracy,
                           patience=self.patience, validation_split=self.validation_split)
        return dataclasses.replace(self.base, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base.to_dict(), "param": self.param, "values": list(self.values),
            "repeats": self.repeats, "mode": self.mode, "epochs": self.epochs,
            "target_accuracy": self.target_accuracy, "patience": self.patience,
            "max_epochs": self.max_epochs, "validation_split": self.validation_split,
            "dataset": self.dataset, "features": self.features.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, train_config: type | None = None) -> SweepConfig:
        if not isinstance(data, dict):
            raise ConfigError("sweep configuration: expected a JSON object")
        data = dict(data)
        try:
            base = (train_config or train_config_class()).from_dict(data.pop("base"))
            features = FeatureConfig.from_dict(data.pop("features", {}))
            data["values"] = tuple(data.get("values", ()))
            return cls(base=base, features=features, **data)
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"sweep configuration: {exc}") from exc


TrainFn = Callable[..., Any]
EvaluateFn = Callable[[Any, FeatureSet], float]


def _last(history: dict[str, list[float]], key: str) -> float | None:
    values = history.get(key) or []
    return float(values[-1]) if values else None


def _clean_history(history: dict[str, Sequence[float]]) -> dict[str, list[float]]:
    return {str(k): [float(v) for v in vs] for k, vs in history.items()}


def evaluate_test_accuracy(result: Any, features: FeatureSet) -> float:
    """Accuracy of the trained model on the test split, computed once after training."""
    from ..learn.training import evaluate_split

    return float(evaluate_split(result, features, "test")["test_accuracy"])


def training_data(sweep: SweepConfig, features: FeatureSet) -> FeatureSet:
    """What the runs train on. Train-to-accuracy validates on `validation_split` of the training
    data, as the assignment does, so a dataset's own "val" rows join the training rows first (the
    trainer holds out whole clips, stratified); the test split is never touched."""
    if sweep.mode != "train-to-accuracy" or features.n("val") == 0:
        return features
    x = np.concatenate([features.x["train"], features.x["val"]])
    y = np.concatenate([np.asarray(features.y["train"]), np.asarray(features.y["val"])])
    groups = {}
    if "train" in features.groups and "val" in features.groups:
        g_train, g_val = np.asarray(features.groups["train"]), np.asarray(features.groups["val"])
        offset = int(g_train.max()) + 1 if len(g_train) else 0
        groups["train"] = np.concatenate([g_train, g_val + offset])
    for split in features.groups:
        if split not in ("train", "val"):
            groups[split] = features.groups[split]
    xs = {k: v for k, v in features.x.items() if k != "val"}
    ys = {k: v for k, v in features.y.items() if k != "val"}
    xs["train"], ys["train"] = x, y
    clips = {k: v for k, v in features.clips.items() if k not in ("train", "val")}
    if "train" in features.clips and "val" in features.clips:
        clips["train"] = list(features.clips["train"]) + list(features.clips["val"])
    return FeatureSet(labels=features.labels, config=features.config, x=xs, y=ys, groups=groups, clips=clips)


def sweep_job(sweep: SweepConfig, *, features: FeatureSet | None = None, source: object = None,
              should_stop: Callable[[], bool] | None = None, on_event: Callable[[object], None] | None = None,
              devices: Sequence[Any] | str | None = None, **kwargs: Any) -> Iterator[object]:
    """run_sweep on `features`, or on the features of `source` (a dataset folder, a saved feature
    set, "starter", or a Dataset object as the GUI's Dataset panel holds; extracted with the sweep's FeatureConfig, Progress through on_event).
    With `devices` (core.experiments.devices.Device, or a `--devices` text such as "dask:tcp://...",
    resolved here, in the worker), the runs go to them in parallel, each in a process of its own
    (sweep_on_devices: the real trainer; train_fn and the like are for one process)."""
    if features is None:
        if not source:
            raise ConfigError("a sweep needs a dataset: no features and no dataset folder given")
        from ..features.extraction import load_feature_set

        features = load_feature_set(source, sweep.features, on_event=on_event, should_stop=should_stop)
        if should_stop is not None and should_stop():
            raise Cancelled("sweep cancelled while preparing the features")
    if devices:
        from .devices import parse_devices, sweep_on_devices

        if isinstance(devices, str):
            devices = parse_devices(devices)

        yield from sweep_on_devices(sweep, features, devices, should_stop=should_stop,
                                    stop_after_run=kwargs.get("stop_after_run"))
        return
    yield from run_sweep(sweep, features, should_stop=should_stop, on_event=on_event, **kwargs)


def run_sweep(sweep: SweepConfig, features: FeatureSet, *, train_fn: TrainFn | None = None,
              evaluate_fn: EvaluateFn | None = None, monitor: EnergyMonitor | None = None,
              should_stop: Callable[[], bool] | None = None,
              stop_after_run: Callable[[], bool] | None = None,
              on_event: Callable[[object], None] | None = None) -> Iterator[object]:
    """Train every (value, repeat) in turn; yield SweepRunStarted, then SweepRunFinished per run.

    should_stop(): stop now (the current run is abandoned, finished runs are kept).
    stop_after_run(): let the current run finish, then stop.
    on_event: SweepRunStarted and then training's own events (epoch ends...), called from this thread.
    Raises Cancelled after the last kept run when stopped by should_stop.
    """
    if train_fn is None:
        from ..learn.training import train as train_fn
    evaluate_fn = evaluate_fn or evaluate_test_accuracy
    monitor = monitor if monitor is not None else EnergyMonitor()
    should_stop = should_stop or (lambda: False)
    stop_after_run = stop_after_run or (lambda: False)
    if features.n("test") == 0:
        raise ConfigError("the feature set has no test split: a sweep reports test accuracy")
    data = training_data(sweep, features)
    total = sweep.n_runs
    for index, (value_index, repeat) in enumerate(sweep.order()):
        value = sweep.values[value_index]
        if should_stop():
            raise Cancelled(f"sweep cancelled after {index} of {total} runs")
        if index and stop_after_run():
            return
        started = SweepRunStarted(index=index, total=total, value=value, repeat=repeat)
        if on_event is not None:  # in this thread, so listeners see it before the run's epochs
            on_event(started)
        yield started
        try:
            run = train_run(sweep, data, features, value=value, repeat=repeat, train_fn=train_fn,
                            evaluate_fn=evaluate_fn, monitor=monitor, should_stop=should_stop,
                            on_event=on_event)
        except Cancelled:
            raise Cancelled(f"sweep cancelled during run {index + 1} of {total}") from None
        yield SweepRunFinished(index=index, total=total, run=run)


def train_run(sweep: SweepConfig, data: FeatureSet, features: FeatureSet, *, value: Any, repeat: int,
              train_fn: TrainFn | None = None, evaluate_fn: EvaluateFn | None = None,
              monitor: EnergyMonitor | None = None, should_stop: Callable[[], bool] | None = None,
              on_event: Callable[[object], None] | None = None) -> SweepRun:
    """One run of the sweep: train on `data` (training_data of the sweep), energy over the training
    window, test accuracy on `features`' test split. Raises Cancelled when should_stop() says so.
    What run_sweep does for each run, and what a device's child process does for its one run
    (core.experiments.devices.sweep_on_devices)."""
    if train_fn is None:
        from ..learn.training import train as train_fn
    evaluate_fn = evaluate_fn or evaluate_test_accuracy
    should_stop = should_stop or (lambda: False)
    cfg = sweep.run_config(value, repeat)
    window = _TrainingWindow(monitor if monitor is not None else EnergyMonitor(), on_event)
    t0 = time.perf_counter()
    try:
        result = train_fn(cfg, data, on_event=window.on_event, should_stop=should_stop)
    finally:
        readings = window.close()
    wall = time.perf_counter() - t0
    if should_stop():
        raise Cancelled("cancelled during the run")
    test_accuracy = evaluate_fn(result, features)
    # Only the figures outlive the run: let TensorFlow's registry go of the graphs its fit traced.
    forget_custom_gradients(getattr(result, "traced_gradients", ()))
    return _run_result(sweep, value=value, repeat=repeat, cfg=cfg, result=result, wall=wall,
                       readings=readings, test_accuracy=test_accuracy)


class _TrainingWindow:
    """Energy over exactly the training window: the meters restart when training reports
    TrainStarted (after TensorFlow's import and the model build) and stop at TrainFinished;
    a trainer that reports neither is measured around its whole call."""

    def __init__(self, monitor: EnergyMonitor, forward: Callable[[object], None] | None):
        self.monitor = monitor
        self.forward = forward
        self.readings: list | None = None
        self.device = ""
        monitor.start()

    def on_event(self, event: object) -> None:
        name = type(event).__name__
        if name == "TrainStarted" and self.readings is None:
            self.device = str(getattr(event, "device", "") or "")
            self.monitor.stop()
            self.monitor.start()
        elif name == "TrainFinished" and self.readings is None:
            self.readings = self._own(self.monitor.stop())
        if self.forward is not None:
            self.forward(event)

    def close(self) -> list:
        if self.readings is None:
            self.readings = self._own(self.monitor.stop())
        return self.readings

    def _own(self, readings: list) -> list:
        """A run the backend trained on the CPU used no GPU: what a GPU drew meanwhile is not its cost."""
        if self.device != "CPU":
            return readings
        return [EnergyReading(GPU, None, "unavailable: this run trained on the CPU") if r.kind == GPU else r
                for r in readings]


def _run_result(sweep: SweepConfig, *, value: Any, repeat: int, cfg: Any, result: Any, wall: float,
                readings: Sequence[Any], test_accuracy: float) -> SweepRun:
    history = _clean_history(getattr(result, "history", {}) or {})
    gpu, cpu = reading_of(readings, GPU), reading_of(readings, CPU)
    seconds = getattr(result, "train_seconds", None)
    val_acc = _last(history, "val_accuracy")
    reached = None
    if sweep.mode == "train-to-accuracy":
        reached = reached_target(history.get("val_accuracy", []), threshold=sweep.target_accuracy,
                                 patience=sweep.patience)
    return SweepRun(
        value=value, repeat=repeat, seed=int(cfg.seed),
        epochs=int(getattr(result, "epochs_run", len(history.get("loss", [])))),
        train_seconds=float(seconds if seconds is not None else wall),
        energy_joules=gpu.joules, energy_source=gpu.source, gpu_energy=dict(gpu.per_device),
        cpu_energy_joules=cpu.joules, cpu_energy_source=cpu.source,
        test_accuracy=float(test_accuracy), reached_target=reached,
        final_loss=_last(history, "loss"), final_val_loss=_last(history, "val_loss"),
        final_accuracy=_last(history, "accuracy"), final_val_accuracy=val_acc,
        device=str(getattr(result, "device", "") or ""), history=history,
    )
