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

from ..errors import ModelError
from ..fileio import atomic_path
from ..predict.aggregation import (
    AGGREGATION_NAMES,
    AGGREGATIONS,
    Aggregated,
    aggregate,
    apply_thresholds,
    tune_thresholds,
)

__all__ = ["AGGREGATIONS", "AGGREGATION_NAMES", "Aggregated", "ClassMetrics", "EvaluationReport", "ModelEvaluation",
           "ComparisonRow", "ThresholdComparison", "aggregate", "apply_thresholds", "compare_thresholds",
           "evaluate_model", "make_report", "tune_thresholds", "write_comparison_csv"]


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
    # Imported here: scikit-learn costs about a second, which the window must not wait for.
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

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
class ComparisonRow:
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


def write_comparison_csv(path: str | Path, runs: Sequence[ComparisonRow]) -> Path:
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


# --- a model on a feature set ----------------------------------------------------------------
@dataclass
class ModelEvaluation:
    """Row probabilities of a model on one split (and on validation rows, for thresholds).

    Reports are derived on demand, per aggregation, without running the model again."""

    labels: tuple[str, ...]
    split: str
    feature_kind: str
    proba: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    clips: list[str]
    val_proba: np.ndarray | None = None
    val_y: np.ndarray | None = None
    val_groups: np.ndarray | None = None

    @property
    def is_patch(self) -> bool:
        """Several rows per clip: aggregation and its choice matter."""
        return len(np.unique(self.groups)) < len(self.groups)

    def _clip_level(self, proba, y, groups, aggregation: str) -> Aggregated:
        return aggregate(proba, y, groups, strategy=aggregation if self.is_patch else "mean")

    def report(self, aggregation: str = "mean") -> EvaluationReport:
        agg = self._clip_level(self.proba, self.y, self.groups, aggregation)
        items = [self.clips[i] if 0 <= i < len(self.clips) else f"clip {i}" for i in agg.clip_index]
        return make_report(self.labels, agg.y_true, agg.scores, pred=agg.pred, items=items)

    def row_report(self) -> EvaluationReport:
        """Per row (per patch), before any aggregation."""
        return make_report(self.labels, self.y, self.proba)

    def threshold_comparison(self, aggregation: str = "mean") -> ThresholdComparison | None:
        """Thresholds tuned on validation clips, applied to this split's clips; None without
        validation rows."""
        if self.val_proba is None or not len(self.val_proba):
            return None
        val = self._clip_level(self.val_proba, self.val_y, self.val_groups, aggregation)
        test = self._clip_level(self.proba, self.y, self.groups, aggregation)
        items = [self.clips[i] if 0 <= i < len(self.clips) else f"clip {i}" for i in test.clip_index]
        thresholds = tune_thresholds(val.y_true, val.scores)
        return ThresholdComparison(
            thresholds=thresholds,
            argmax=make_report(self.labels, test.y_true, test.scores, pred=test.pred, items=items),
            thresholded=make_report(self.labels, test.y_true, test.scores,
                                    pred=apply_thresholds(test.scores, thresholds), items=items))


def _groups(data, split: str) -> np.ndarray:
    groups = data.groups.get(split)
    if groups is None or len(groups) != data.n(split):
        return np.arange(data.n(split))
    return np.asarray(groups)


def _validation_rows(model, data) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The validation rows the run used: the "val" split, or the training clips training held out
    (recomputed with training's own split_validation and the run's seed)."""
    if data.n("val") > 0:
        return data.x["val"], np.asarray(data.y["val"]), _groups(data, "val")
    cfg = getattr(model, "config", None) or getattr(model, "train_config", None)
    if cfg is None or data.n("train") == 0:
        return None
    cfg = cfg if isinstance(cfg, dict) else cfg.to_dict()
    fraction, seed = float(cfg.get("validation_split", 0.0)), int(cfg.get("seed", 0))
    if fraction <= 0:
        return None
    from ..features.featureset import FeatureSet
    from ..learn.training import split_validation

    groups = _groups(data, "train")
    # Split row indices exactly as training split the rows: same function, same seed.
    index = FeatureSet(labels=data.labels, config=data.config, x={"train": np.arange(len(groups))[:, None]},
                       y={"train": data.y["train"]}, groups={"train": groups})
    try:
        rows = split_validation(index, fraction, seed).x_val[:, 0]
    except ModelError:
        return None
    return data.x["train"][rows], np.asarray(data.y["train"])[rows], groups[rows]


def evaluate_model(model, data, *, split: str = "test") -> ModelEvaluation:
    """Run `model` (a Bundle or a TrainedModel: anything with labels and predict_proba(raw rows))
    over `data`'s split and the validation rows. The rows are standardised by the model's own
    statistics inside predict_proba."""
    if tuple(model.labels) != tuple(data.labels):
        raise ModelError(f"the model knows {', '.join(model.labels)} but the data set has "
                         f"{', '.join(data.labels)}: evaluate on data with the model's classes")
    if data.n(split) == 0:
        raise ModelError(f"the data set has no {split!r} items to evaluate on")
    proba = np.asarray(model.predict_proba(data.x[split]), dtype=np.float64)
    val = _validation_rows(model, data)
    val_proba = np.asarray(model.predict_proba(val[0]), dtype=np.float64) if val is not None and len(val[0]) else None
    return ModelEvaluation(
        labels=tuple(data.labels), split=split, feature_kind=data.config.kind, proba=proba,
        y=np.asarray(data.y[split], dtype=np.int64), groups=_groups(data, split),
        clips=[str(c) for c in data.clips.get(split, [])],
        val_proba=val_proba, val_y=None if val_proba is None else val[1].astype(np.int64),
        val_groups=None if val_proba is None else val[2])


def evaluate_bundle_on_dataset(bundle_path, dataset_dir, *, split: str = "test", on_event=None,
                               should_stop=None, run_tf=None):
    """Load a bundle (None: the shipped default model) and a data set (anything
    core.datasets.library.resolve_dataset names, "starter" included), extract the data set's
    features with the bundle's own FeatureConfig (cached per file), and evaluate:
    (bundle, dataset, ModelEvaluation).

    `run_tf(fn, *args)` runs the TensorFlow steps (loading, predicting) elsewhere (the GUI passes
    tfthread.run_in_tf_thread); the extraction stays on the calling thread."""
    from ..datasets.library import resolve_dataset
    from ..features.extraction import load_feature_set
    from ..learn.bundle import load_bundle
    from ..predict.inference import model_path

    def here(fn, /, *args, **kwargs):
        return fn(*args, **kwargs)

    run_tf = run_tf or here
    bundle = run_tf(load_bundle, model_path(bundle_path))
    dataset = resolve_dataset(dataset_dir, on_event=on_event)
    fs = load_feature_set(dataset, bundle.feature_config, on_event=on_event, should_stop=should_stop, save=False)
    return bundle, dataset, run_tf(evaluate_model, bundle, fs, split=split)
