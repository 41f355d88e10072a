"""How good is a trained model: accuracy, per-class accuracy, precision/recall/F1, the confusion
matrix, clip-level aggregation for patch models, class-wise thresholds and a runs comparison.

Every metric comes from scikit-learn; this module only arranges its results so the GUI, the CLI
and the tests read the same numbers. Items (clips) stay attached to their predictions, so a cell
of the confusion matrix can list the clips behind it.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .errors import ModelError
from .fileio import atomic_path

# Han et al. (2017) aggregate patch predictions over a clip by averaging or taking the maximum
# of the class probabilities; majority voting over patch decisions is the third common choice.
AGGREGATIONS = ("mean", "max", "vote")
AGGREGATION_NAMES = {"mean": "mean of probabilities", "max": "maximum probability", "vote": "majority vote"}


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    accuracy: float  # share of this class's items predicted as this class (the confusion row's diagonal)
    support: int


@dataclass
class EvaluationReport:
    """Predictions of one model on one set of items, and every metric derived from them.

    scores: (items, classes) probabilities (or vote shares); pred: the decided class per item;
    items: what each row is (a clip path), so the confusion matrix can name the clips in a cell.
    """

    labels: tuple[str, ...]
    y_true: np.ndarray
    pred: np.ndarray
    scores: np.ndarray
    items: list[str]
    accuracy: float
    micro: tuple[float, float, float]   # precision, recall, F1
    macro: tuple[float, float, float]
    per_class: dict[str, ClassMetrics]
    confusion: np.ndarray               # counts: true classes on rows, predicted on columns
    confusion_normalised: np.ndarray    # each row divided by its total (rows without items: 0)

    @property
    def n(self) -> int:
        return int(len(self.y_true))

    @property
    def macro_f1(self) -> float:
        return self.macro[2]

    @property
    def micro_f1(self) -> float:
        return self.micro[2]

    def confidence(self) -> np.ndarray:
        """The score of the decided class per item."""
        return self.scores[np.arange(self.n), self.pred] if self.n else np.zeros(0)

    def cell_items(self, true_class: int, predicted_class: int) -> list[int]:
        """Indices of the items of true class `true_class` predicted as `predicted_class`,
        most confident first."""
        idx = np.flatnonzero((self.y_true == true_class) & (self.pred == predicted_class))
        conf = self.confidence()[idx]
        return [int(i) for i in idx[np.argsort(-conf, kind="stable")]]

    def top_k(self, item: int, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.scores[item], kind="stable")[:k]
        return [(self.labels[c], float(self.scores[item, c])) for c in order]

    def to_dict(self) -> dict:
        """The JSON shape of `instrument-studio evaluate --json`."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "micro_f1": self.micro_f1,
            "macro_precision": self.macro[0], "macro_recall": self.macro[1],
            "micro_precision": self.micro[0], "micro_recall": self.micro[1],
            "n": self.n,
            "labels": list(self.labels),
            "per_class": {label: {"precision": m.precision, "recall": m.recall, "f1": m.f1,
                                  "accuracy": m.accuracy, "support": m.support}
                          for label, m in self.per_class.items()},
            "confusion_matrix": self.confusion.astype(int).tolist(),
        }


def make_report(labels: Sequence[str], y_true, scores, *, pred=None,
                items: Sequence[str] | None = None) -> EvaluationReport:
    """Metrics of `pred` (default: the argmax of `scores`) against `y_true`, all from scikit-learn."""
    labels = tuple(labels)
    k = len(labels)
    scores = np.asarray(scores, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    if scores.ndim != 2 or scores.shape != (len(y_true), k):
        raise ModelError(f"expected scores of shape ({len(y_true)}, {k}), got {scores.shape}")
    if len(y_true) == 0:
        raise ModelError("nothing to evaluate: the split holds no items")
    pred = np.argmax(scores, axis=1) if pred is None else np.asarray(pred, dtype=np.int64).reshape(-1)
    classes = list(range(k))
    per = precision_recall_fscore_support(y_true, pred, labels=classes, average=None, zero_division=0)
    micro = precision_recall_fscore_support(y_true, pred, labels=classes, average="micro", zero_division=0)
    macro = precision_recall_fscore_support(y_true, pred, labels=classes, average="macro", zero_division=0)
    counts = confusion_matrix(y_true, pred, labels=classes)
    normalised = np.nan_to_num(confusion_matrix(y_true, pred, labels=classes, normalize="true"))
    per_class = {
        labels[c]: ClassMetrics(precision=float(per[0][c]), recall=float(per[1][c]), f1=float(per[2][c]),
                                accuracy=float(normalised[c, c]), support=int(per[3][c]))
        for c in classes
    }
    return EvaluationReport(
        labels=labels, y_true=y_true, pred=pred, scores=scores,
        items=list(items) if items is not None else [str(i) for i in range(len(y_true))],
        accuracy=float(accuracy_score(y_true, pred)),
        micro=tuple(float(v) for v in micro[:3]), macro=tuple(float(v) for v in macro[:3]),
        per_class=per_class, confusion=counts, confusion_normalised=normalised,
    )


# --- clip-level aggregation -----------------------------------------------------------------
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


@dataclass
class ThresholdComparison:
    thresholds: np.ndarray
    argmax: EvaluationReport
    thresholded: EvaluationReport


def compare_thresholds(labels: Sequence[str], *, val_true, val_scores, test_true, test_scores,
                       items: Sequence[str] | None = None) -> ThresholdComparison:
    """Tune thresholds on validation items, then report test items with plain argmax and with them."""
    thresholds = tune_thresholds(val_true, val_scores)
    return ThresholdComparison(
        thresholds=thresholds,
        argmax=make_report(labels, test_true, test_scores, items=items),
        thresholded=make_report(labels, test_true, test_scores, pred=apply_thresholds(test_scores, thresholds),
                                items=items),
    )


# --- comparing runs --------------------------------------------------------------------------
COMPARISON_COLUMNS = ("run", "model", "features", "split", "items", "accuracy", "macro_f1", "micro_f1",
                      "macro_precision", "macro_recall")


@dataclass
class RunSummary:
    """One line of the runs comparison table."""

    run: str
    model: str
    features: str
    split: str
    report: EvaluationReport = field(repr=False)

    def row(self) -> dict[str, object]:
        r = self.report
        return {"run": self.run, "model": self.model, "features": self.features, "split": self.split,
                "items": r.n, "accuracy": r.accuracy, "macro_f1": r.macro_f1, "micro_f1": r.micro_f1,
                "macro_precision": r.macro[0], "macro_recall": r.macro[1]}


def write_comparison_csv(path: str | Path, runs: Sequence[RunSummary]) -> Path:
    """The runs comparison table as CSV (written atomically)."""
    path = Path(path)
    with atomic_path(path, suffix=".csv.part") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COMPARISON_COLUMNS)
            writer.writeheader()
            for run in runs:
                row = run.row()
                writer.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in row.items()})
    return path
