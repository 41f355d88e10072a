"""Extracted features of a dataset, ready for a model: the hand-over between datasets and training.

Stored as one .npz (arrays only, loaded with allow_pickle=False) and one JSON file (labels,
FeatureConfig, per-split clip lists), never pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import FeatureConfig
from ..errors import FeatureError
from ..fileio import atomic_path, atomic_write_text

SPLITS = ("train", "val", "test")


def standardise(x: np.ndarray, mean: np.ndarray | None, std: np.ndarray | None) -> np.ndarray:
    """(x - mean) / std as float32 with statistics fitted on training rows; unchanged without them.
    The one place features are standardised: for training, for a saved bundle and for a run."""
    x = np.asarray(x, dtype=np.float32)
    if mean is None or std is None:
        return x
    return ((x - mean) / std).astype(np.float32)


@dataclass
class FeatureSet:
    """x[split]: (rows, ...) float32 model input; y[split]: (rows,) int class indices.

    For patch features several rows come from one clip: groups[split][row] is the index of that
    clip in clips[split] (clip-level aggregation and leakage-free splits rely on it). `mean` and
    `std` are fitted on the training rows only; `standardise()` applies them.
    """

    labels: tuple[str, ...]
    config: FeatureConfig
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    clips: dict[str, list[str]] = field(default_factory=dict)
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        return len(self.labels)

    @property
    def input_shape(self) -> tuple[int, ...]:
        for split in SPLITS:
            if split in self.x and len(self.x[split]):
                return tuple(self.x[split].shape[1:])
        raise FeatureError("the feature set holds no rows")

    def n(self, split: str) -> int:
        return int(len(self.x.get(split, ())))

    def fit_standardisation(self) -> None:
        """Per-feature mean/std over the training rows (never validation or test)."""
        train = self.x["train"]
        axes = tuple(range(train.ndim - 1)) if self.config.kind == "sequence" else (0,)
        self.mean = train.mean(axis=axes).astype(np.float32)
        std = train.std(axis=axes).astype(np.float32)
        self.std = np.where(std < 1e-8, 1.0, std).astype(np.float32)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return standardise(x, self.mean, self.std)

    # --- files --------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for split in self.x:
            arrays[f"x_{split}"] = self.x[split]
            arrays[f"y_{split}"] = self.y[split]
            if split in self.groups:
                arrays[f"groups_{split}"] = self.groups[split]
        if self.mean is not None:
            arrays["mean"], arrays["std"] = self.mean, self.std
        with atomic_path(folder / "features.npz", suffix=".npz.part") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        meta = {"labels": list(self.labels), "config": self.config.to_dict(), "clips": self.clips,
                "splits": list(self.x)}
        atomic_write_text(folder / "features.json", json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> FeatureSet:
        folder = Path(folder)
        try:
            meta = json.loads((folder / "features.json").read_text(encoding="utf-8"))
            with np.load(folder / "features.npz", allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, KeyError) as exc:
            raise FeatureError(f"cannot read features: {exc}", path=folder) from exc
        splits = meta.get("splits", [s for s in SPLITS if f"x_{s}" in arrays])
        return cls(
            labels=tuple(meta["labels"]), config=FeatureConfig.from_dict(meta["config"]),
            x={s: arrays[f"x_{s}"] for s in splits}, y={s: arrays[f"y_{s}"] for s in splits},
            groups={s: arrays[f"groups_{s}"] for s in splits if f"groups_{s}" in arrays},
            clips={k: list(v) for k, v in meta.get("clips", {}).items()},
            mean=arrays.get("mean"), std=arrays.get("std"),
        )
