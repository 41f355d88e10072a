"""Evaluation metrics equal scikit-learn's; aggregation and thresholds do what they say."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

from instrument_studio.core.errors import ModelError
from instrument_studio.core.evaluation.report import (
    ComparisonRow,
    aggregate,
    apply_thresholds,
    compare_thresholds,
    make_report,
    tune_thresholds,
    write_comparison_csv,
)

LABELS = ("cello", "flute", "oboe", "trumpet")


def _known():
    rng = np.random.default_rng(7)
    y_true = rng.integers(0, 4, size=200)
    scores = rng.dirichlet(np.ones(4), size=200)
    # Make it a decent but imperfect classifier so every metric is non-trivial.
    scores[np.arange(200), y_true] += rng.uniform(0, 0.8, size=200)
    scores /= scores.sum(axis=1, keepdims=True)
    return y_true, scores


def test_metrics_equal_scikit_learn():
    y_true, scores = _known()
    y_pred = scores.argmax(axis=1)
    r = make_report(LABELS, y_true, scores)
    assert r.accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert r.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert r.micro_f1 == pytest.approx(f1_score(y_true, y_pred, average="micro"))
    assert r.macro[0] == pytest.approx(precision_score(y_true, y_pred, average="macro"))
    assert r.macro[1] == pytest.approx(recall_score(y_true, y_pred, average="macro"))
    ref = classification_report(y_true, y_pred, target_names=LABELS, output_dict=True)
    cm = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(r.confusion, cm)
    np.testing.assert_allclose(r.confusion_normalised, cm / cm.sum(axis=1, keepdims=True))
    for c, label in enumerate(LABELS):
        m = r.per_class[label]
        assert m.precision == pytest.approx(ref[label]["precision"])
        assert m.recall == pytest.approx(ref[label]["recall"])
        assert m.f1 == pytest.approx(ref[label]["f1-score"])
        assert m.support == ref[label]["support"] == (y_true == c).sum()
        assert m.accuracy == pytest.approx(cm[c, c] / cm[c].sum())


def test_hand_checked_small_case_and_json_shape():
    # true:  0 0 0 1 1 2 ; pred: 0 0 1 1 2 2
    y = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 2, 2]
    r = make_report(LABELS[:3], y, np.eye(3)[pred])
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.confusion.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert r.per_class["cello"].accuracy == pytest.approx(2 / 3)
    assert r.per_class["flute"].precision == pytest.approx(1 / 2)
    d = r.to_dict()
    assert {"accuracy", "macro_f1", "micro_f1", "per_class", "labels", "confusion_matrix"} <= set(d)
    assert set(d["per_class"]["oboe"]) == {"precision", "recall", "f1", "accuracy", "support"}
    assert d["labels"] == ["cello", "flute", "oboe"]


def test_absent_class_is_zero_not_nan():
    r = make_report(LABELS, [0, 1, 1], np.eye(4)[[0, 1, 0]])
    assert r.per_class["trumpet"].support == 0
    assert r.per_class["trumpet"].accuracy == 0.0
    assert not np.isnan(r.confusion_normalised).any()


def test_cell_items_sorted_by_confidence():
    y = np.array([0, 0, 0, 1, 0])
    scores = np.array([[0.2, 0.8], [0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.1, 0.9]])
    r = make_report(("a", "b"), y, scores, items=["c0", "c1", "c2", "c3", "c4"])
    assert r.cell_items(0, 1) == [4, 0, 2]
    assert r.cell_items(0, 0) == [1]
    assert r.cell_items(1, 0) == []
    assert r.top_k(2, 2) == [("b", 0.6), ("a", 0.4)]


def test_shape_mismatch_and_empty_are_errors():
    with pytest.raises(ModelError, match="shape"):
        make_report(LABELS, [0, 1], np.zeros((2, 3)))
    with pytest.raises(ModelError, match="nothing to evaluate"):
        make_report(LABELS, [], np.zeros((0, 4)))


# --- aggregation ----------------------------------------------------------------------------
PATCH_PROBA = np.array([
    [0.6, 0.4, 0.0],   # clip 5: three patches
    [0.6, 0.4, 0.0],
    [0.0, 0.1, 0.9],
    [0.3, 0.7, 0.0],   # clip 2: two patches, a tie in votes
    [0.55, 0.45, 0.0],
])
PATCH_GROUPS = np.array([5, 5, 5, 2, 2])
PATCH_Y = np.array([2, 2, 2, 1, 1])


def test_aggregate_mean():
    a = aggregate(PATCH_PROBA, PATCH_Y, PATCH_GROUPS, strategy="mean")
    assert a.clip_index.tolist() == [2, 5]
    assert a.y_true.tolist() == [1, 2]
    np.testing.assert_allclose(a.scores[1], [0.4, 0.3, 0.3])
    np.testing.assert_allclose(a.scores[0], [0.425, 0.575, 0.0])
    assert a.pred.tolist() == [1, 0]


def test_aggregate_max():
    a = aggregate(PATCH_PROBA, PATCH_Y, PATCH_GROUPS, strategy="max")
    np.testing.assert_allclose(a.scores[1], [0.6, 0.4, 0.9])
    assert a.pred.tolist() == [1, 2]


def test_aggregate_vote_with_tie_broken_by_mean():
    a = aggregate(PATCH_PROBA, PATCH_Y, PATCH_GROUPS, strategy="vote")
    np.testing.assert_allclose(a.scores[1], [2 / 3, 0, 1 / 3])
    np.testing.assert_allclose(a.scores[0], [0.5, 0.5, 0.0])
    # Clip 2: one vote each for classes 0 and 1; class 1 has the higher mean probability.
    assert a.pred.tolist() == [1, 0]


def test_aggregate_rejects_unknown_strategy():
    with pytest.raises(ModelError, match="aggregation"):
        aggregate(PATCH_PROBA, PATCH_Y, PATCH_GROUPS, strategy="median")


# --- thresholds -----------------------------------------------------------------------------
def test_tune_thresholds_maximises_one_vs_rest_f1():
    # Class 1 is under-confident: its items score 0.3-0.4, others 0.1 for it.
    y = np.array([0, 0, 1, 1, 1])
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.65, 0.35], [0.6, 0.4], [0.7, 0.3]])
    t = tune_thresholds(y, scores, grid=[0.1, 0.25, 0.3, 0.5])
    assert t[1] == 0.25  # 0.3 also separates, but the first best keeps more recall; 0.5 catches none
    for c in range(2):
        best = max(f1_score(y == c, scores[:, c] >= g) for g in [0.1, 0.25, 0.3, 0.5])
        assert f1_score(y == c, scores[:, c] >= t[c]) == best


def test_apply_thresholds_picks_widest_margin():
    scores = np.array([[0.6, 0.4], [0.8, 0.2], [0.5, 0.5]])
    assert apply_thresholds(scores, [0.7, 0.3]).tolist() == [1, 0, 1]
    assert apply_thresholds(scores, [0.5, 0.5]).tolist() == scores.argmax(axis=1).tolist()


def test_thresholds_tuned_on_val_improve_biased_test():
    rng = np.random.default_rng(3)

    def biased(n):
        y = rng.integers(0, 3, n)
        s = rng.dirichlet(np.ones(3) * 2, size=n)
        s[np.arange(n), y] += 0.35
        s[:, 0] += 0.3  # a model that over-predicts class 0
        return y, s / s.sum(axis=1, keepdims=True)

    yv, sv = biased(300)
    yt, st = biased(300)
    cmp = compare_thresholds(("a", "b", "c"), val_true=yv, val_scores=sv, test_true=yt, test_scores=st)
    assert cmp.argmax.accuracy == pytest.approx(accuracy_score(yt, st.argmax(axis=1)))
    assert cmp.thresholded.accuracy == pytest.approx(accuracy_score(yt, apply_thresholds(st, cmp.thresholds)))
    assert cmp.thresholds[0] > cmp.thresholds[1]
    assert cmp.thresholded.macro_f1 > cmp.argmax.macro_f1


def test_comparison_csv(tmp_path):
    y, s = _known()
    runs = [ComparisonRow(run="run-1", model="mlp", features="mfcc", split="test", report=make_report(LABELS, y, s)),
            ComparisonRow(run="run-2", model="cnn", features="mel-patches", split="test",
                       report=make_report(LABELS, y, np.roll(s, 1, axis=1)))]
    out = write_comparison_csv(tmp_path / "runs.csv", runs)
    rows = list(csv.DictReader(out.open()))
    assert [r["run"] for r in rows] == ["run-1", "run-2"]
    assert float(rows[0]["accuracy"]) == pytest.approx(accuracy_score(y, s.argmax(axis=1)), abs=1e-6)
    assert float(rows[1]["macro_f1"]) == pytest.approx(
        f1_score(y, np.roll(s, 1, axis=1).argmax(axis=1), average="macro"), abs=1e-6)
    assert rows[0]["items"] == "200"


# --- a model over a FeatureSet ---------------------------------------------------------------
class _TableModel:
    """Answers with a fixed probability row per input row (the first feature is the row id)."""

    def __init__(self, labels, table, config=None):
        self.labels = tuple(labels)
        self.table = np.asarray(table)
        self.config = config

    def predict_proba(self, x):
        return self.table[np.asarray(x)[:, 0].astype(int)]


def _patch_featureset():
    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.features.featureset import FeatureSet

    rng = np.random.default_rng(1)
    n_clips, per = 12, 3
    y_clip = np.arange(n_clips) % 3
    groups = np.repeat(np.arange(n_clips), per)
    rows = np.arange(n_clips * per)
    table = rng.dirichlet(np.ones(3), size=len(rows))
    table[rows, y_clip[groups]] += rng.uniform(0, 0.6, size=len(rows))
    table /= table.sum(axis=1, keepdims=True)
    x = np.stack([rows, np.zeros(len(rows))], axis=1).astype(np.float32)
    fs = FeatureSet(labels=("a", "b", "c"), config=FeatureConfig(kind="mel-patches"),
                    x={"train": x, "test": x}, y={"train": y_clip[groups], "test": y_clip[groups]},
                    groups={"train": groups, "test": groups},
                    clips={"train": [f"tr{i}.wav" for i in range(n_clips)], "test": [f"te{i}.wav" for i in range(n_clips)]})
    return fs, table, y_clip, groups


def test_evaluate_model_aggregates_patches_per_clip():
    from instrument_studio.core.evaluation.report import evaluate_model

    fs, table, y_clip, groups = _patch_featureset()
    ev = evaluate_model(_TableModel(fs.labels, table), fs, split="test")
    assert ev.is_patch
    for strategy in ("mean", "max", "vote"):
        r = ev.report(strategy)
        ref = aggregate(table, y_clip[groups], groups, strategy=strategy)
        assert r.n == 12
        assert r.items == [f"te{i}.wav" for i in range(12)]
        assert r.accuracy == pytest.approx(accuracy_score(y_clip, ref.pred))
    assert ev.row_report().n == 36


def test_evaluate_model_recovers_training_validation_clips():
    from instrument_studio.core.evaluation.report import evaluate_model
    from instrument_studio.core.learn.training import TrainConfig

    fs, table, y_clip, groups = _patch_featureset()
    cfg = TrainConfig(validation_split=0.25, seed=3)
    ev = evaluate_model(_TableModel(fs.labels, table, config=cfg), fs, split="test")
    # 25 % of 12 training clips, whole clips only (all three patches of each).
    assert len(ev.val_proba) == 9
    assert len(np.unique(ev.val_groups)) == 3
    cmp = ev.threshold_comparison("mean")
    assert cmp is not None and cmp.thresholds.shape == (3,)
    assert cmp.argmax.accuracy == pytest.approx(ev.report("mean").accuracy)


def test_evaluate_model_refuses_other_classes():
    from instrument_studio.core.evaluation.report import evaluate_model

    fs, table, *_ = _patch_featureset()
    with pytest.raises(ModelError, match="knows"):
        evaluate_model(_TableModel(("x", "y", "z"), table), fs)
