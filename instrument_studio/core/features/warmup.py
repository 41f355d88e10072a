"""Imported once by the feature worker server (forkserver preload): runs every feature kind on a
short signal so librosa's numba kernels are compiled or loaded from their cache before the workers
are forked from it. Each worker then starts warm instead of paying this per process.

It also limits BLAS to one thread: the workers are the parallelism, and a clip's small matrix
products run several times slower with threads fighting over the cores (measured: 3.3 s against
0.9 s for 114 files on this 2-core machine under load)."""

from __future__ import annotations

import numpy as np

from ..config import FeatureConfig
from .clip import clip_features


def single_threaded_blas() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def warm() -> None:
    y = (0.1 * np.random.default_rng(0).standard_normal(16384)).astype(np.float32)
    for cfg in (FeatureConfig(kind="mfcc"), FeatureConfig(kind="sequence"),
                FeatureConfig(kind="mel-patches", hpss=True, multires=True)):
        clip_features(y, cfg)


single_threaded_blas()
warm()
