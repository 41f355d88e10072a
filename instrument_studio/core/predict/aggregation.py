"""Deciding per clip and per class: clip-level aggregation of patch predictions (Han et al.'s
strategies) and class-wise decision thresholds tuned on validation items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError

# Han et al. (2017) aggregate patch predictions over a clip by averaging or taking the maximum
# of the class probabilities; majority voting over patch decisions is the third common choice.
AGGREGATIONS = ("mean", "max", "vote")
AGGREGATION_NAMES = {"mean": "mean of probabilities", "max": "maximum probability", "vote": "majority vote"}


@dataclass
class Aggregated:
    """Row (patch) predictions folded into one prediction per clip."""

    clip_index: np.ndarray  # which clip (an index into FeatureSet.clips[split]) each row here is
    y_true: np.ndarray
    scores: np.ndarray      # mean / max probability, or vote share, per class
    pred: np.ndarray


def aggregate(proba, y_true, groups, *, strategy: str = "mean") -> Aggregated:
    """One prediction per clip from the predictions of its patches (rows with the same group).

    mean: average probability; max: the highest probability each class reached in any patch;
    vote: share of patches whose argmax is the class, ties going to the higher mean probability.
    """
    if strategy not in AGGREGATIONS:
        raise ModelError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {strategy!r}")
    proba = np.asarray(proba, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    groups = np.asarray(groups, dtype=np.int64)
    if not (len(proba) == len(y_true) == len(groups)):
        raise ModelError(f"{len(proba)} predictions, {len(y_true)} labels and {len(groups)} group ids")
    clips, inverse = np.unique(groups, return_inverse=True)
    n, k = len(clips), proba.shape[1]
    counts = np.bincount(inverse, minlength=n).astype(np.float64)[:, None]
    mean = np.zeros((n, k))
    np.add.at(mean, inverse, proba)
    mean /= counts
    if strategy == "mean":
        scores = mean
        pred = np.argmax(scores, axis=1)
    elif strategy == "max":
        scores = np.full((n, k), -np.inf)
        np.maximum.at(scores, inverse, proba)
        pred = np.argmax(scores, axis=1)
    else:
        scores = np.zeros((n, k))
        np.add.at(scores, (inverse, np.argmax(proba, axis=1)), 1.0)
        scores /= counts
        tied = scores == scores.max(axis=1, keepdims=True)
        pred = np.argmax(np.where(tied, mean, -np.inf), axis=1)
    # Every row of a clip carries the clip's label; take the first.
    first = np.zeros(n, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    return Aggregated(clip_index=clips, y_true=y_true[first], scores=scores, pred=pred)


# --- class-wise decision thresholds ---------------------------------------------------------
DEFAULT_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def tune_thresholds(y_true, scores, *, grid: Sequence[float] | None = None) -> np.ndarray:
    """Per class, the threshold on its score that maximises that class's one-vs-rest F1
    (scikit-learn's f1_score) on these items: meant for the validation split."""
    from sklearn.metrics import f1_score

    scores = np.asarray(scores, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    out = np.empty(scores.shape[1])
    for c in range(scores.shape[1]):
        truth = y_true == c
        f1s = [f1_score(truth, scores[:, c] >= t, zero_division=0) for t in grid]
        # The first best grid point: the lowest threshold among equals keeps recall.
        out[c] = grid[int(np.argmax(f1s))]
    return out


def apply_thresholds(scores, thresholds) -> np.ndarray:
    """Decide the class that clears its own threshold by the widest margin (if none clears
    one, the one that misses by the least)."""
    return np.argmax(np.asarray(scores) - np.asarray(thresholds)[None, :], axis=1)
