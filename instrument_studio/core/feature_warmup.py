"""Imported once by the feature worker server (forkserver preload): runs every feature kind on a
short signal so librosa's numba kernels are compiled or loaded from their cache before the workers
are forked from it. Each worker then starts warm instead of paying this per process."""

from __future__ import annotations

import numpy as np

from .config import FeatureConfig
from .features import clip_features


def warm() -> None:
    y = (0.1 * np.random.default_rng(0).standard_normal(16384)).astype(np.float32)
    for cfg in (FeatureConfig(kind="mfcc"), FeatureConfig(kind="sequence"),
                FeatureConfig(kind="mel-patches", hpss=True, multires=True)):
        clip_features(y, cfg)


warm()
