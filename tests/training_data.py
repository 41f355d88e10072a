"""Tiny generated FeatureSets for training tests: learnable in a few epochs, in a fraction of a second."""

from __future__ import annotations

import numpy as np

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.features.featureset import FeatureSet


def blobs(*, n_train: int = 240, n_test: int = 80, n_classes: int = 3, dim: int = 12, seed: int = 0,
          spread: float = 0.8, with_val: bool = False) -> FeatureSet:
    """MFCC-like vectors: one Gaussian blob per class (kind "mfcc")."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.5, (n_classes, dim)) + 10.0   # offset: standardisation matters

    def make(n):
        y = np.arange(n) % n_classes
        rng.shuffle(y)
        return (centres[y] + rng.normal(0.0, spread, (n, dim))).astype(np.float32), y.astype(np.int64)

    splits = {"train": make(n_train), "test": make(n_test)}
    if with_val:
        splits["val"] = make(max(n_classes, n_train // 4))
    labels = tuple(f"class{i}" for i in range(n_classes))
    return FeatureSet(labels=labels, config=FeatureConfig(kind="mfcc", n_mfcc=dim),
                      x={k: v[0] for k, v in splits.items()}, y={k: v[1] for k, v in splits.items()})


def patches(*, n_clips: int = 24, per_clip: int = 3, n_classes: int = 3, shape=(16, 8), seed: int = 0) -> FeatureSet:
    """Mel-patch-like arrays, several rows per clip (kind "mel-patches"), class = which band is loud."""
    rng = np.random.default_rng(seed)
    rows, ys, groups = [], [], []
    for clip in range(n_clips):
        label = clip % n_classes
        for _ in range(per_clip):
            x = rng.normal(0.0, 0.3, shape).astype(np.float32)
            band = slice(label * shape[0] // n_classes, (label + 1) * shape[0] // n_classes)
            x[band] += 2.0
            rows.append(x)
            ys.append(label)
            groups.append(clip)
    x, y, g = np.stack(rows), np.array(ys, dtype=np.int64), np.array(groups)
    test = g >= n_clips * 3 // 4
    labels = tuple(f"class{i}" for i in range(n_classes))
    return FeatureSet(labels=labels, config=FeatureConfig(kind="mel-patches"),
                      x={"train": x[~test], "test": x[test]}, y={"train": y[~test], "test": y[test]},
                      groups={"train": g[~test], "test": g[test] - g[test].min()})
