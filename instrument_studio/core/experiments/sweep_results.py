"""What a sweep produces: one SweepRun per training run, and the per-value summaries (mean and
spread over repeats) that the bar charts and the reports show."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError


@dataclass
class SweepRun:
    """One finished training run of a sweep."""

    value: Any
    repeat: int
    seed: int
    epochs: int
    train_seconds: float                 # training wall time only
    energy_joules: float | None          # GPU energy over the training window; None: unmeasurable
    energy_source: str
    test_accuracy: float
    cpu_energy_joules: float | None = None
    cpu_energy_source: str = ""
    reached_target: bool | None = None   # train-to-accuracy: did validation accuracy reach it
    final_loss: float | None = None
    final_val_loss: float | None = None
    final_accuracy: float | None = None
    final_val_accuracy: float | None = None
    device: str = ""
    history: dict[str, list[float]] = field(default_factory=dict)
    gpu_energy: dict[str, float] = field(default_factory=dict)   # joules per GPU trained on ("GPU 0: name (uuid)")

    SUMMARY_FIELDS = ("value", "repeat", "seed", "epochs", "train_seconds", "energy_joules", "energy_source",
                      "cpu_energy_joules", "cpu_energy_source", "test_accuracy", "reached_target",
                      "final_loss", "final_val_loss", "final_accuracy", "final_val_accuracy", "device",
                      "gpu_energy")

    def summary(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.SUMMARY_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "history": self.history}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepRun:
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise ConfigError(f"sweep run: {exc}") from exc


def reached_target(val_accuracy: Sequence[float], *, threshold: float, patience: int) -> bool:
    """TrainToAccuracy's condition: validation accuracy above the threshold `patience` epochs in a row."""
    in_a_row = 0
    for acc in val_accuracy:
        in_a_row = in_a_row + 1 if acc > threshold else 0
        if in_a_row >= patience:
            return True
    return False


@dataclass(frozen=True)
class ValueSummary:
    """Mean and spread (sample standard deviation; 0 with one run) of a value's repeats."""

    value: Any
    n: int
    train_seconds: tuple[float, float]
    energy_joules: tuple[float, float] | None     # None when any run's energy is unavailable
    cpu_energy_joules: tuple[float, float] | None
    test_accuracy: tuple[float, float]
    epochs: tuple[float, float]
    reached: int                                   # runs that reached the target


def _mean_std(xs: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(xs, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def _mean_std_or_none(xs: Sequence[float | None]) -> tuple[float, float] | None:
    if not xs or any(x is None or (isinstance(x, float) and math.isnan(x)) for x in xs):
        return None
    return _mean_std([float(x) for x in xs])  # type: ignore[arg-type]


def aggregate(runs: Sequence[SweepRun], values: Sequence[Any] | None = None) -> list[ValueSummary]:
    """One summary per swept value (in sweep order), over that value's finished repeats."""
    order = list(values) if values is not None else []
    for r in runs:
        if r.value not in order:
            order.append(r.value)
    out = []
    for value in order:
        rs = [r for r in runs if r.value == value]
        if not rs:
            continue
        out.append(ValueSummary(
            value=value, n=len(rs),
            train_seconds=_mean_std([r.train_seconds for r in rs]),
            energy_joules=_mean_std_or_none([r.energy_joules for r in rs]),
            cpu_energy_joules=_mean_std_or_none([r.cpu_energy_joules for r in rs]),
            test_accuracy=_mean_std([r.test_accuracy for r in rs]),
            epochs=_mean_std([r.epochs for r in rs]),
            reached=sum(1 for r in rs if r.reached_target),
        ))
    return out
