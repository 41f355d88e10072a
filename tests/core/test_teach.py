"""Teach (issue 13): a personal model from takes on top of the default model.

The takes are made-up instruments (tests/synth_instruments.py): a pure tone and a buzzy sawtooth
that the default model has no class for. The slow tests run the real default model (TensorFlow),
once per module."""

from __future__ import annotations

import json

import numpy as np
import pytest

from instrument_studio.core.audio.audiofile import save_wav
from instrument_studio.core.errors import DatasetError
from instrument_studio.core.events import Progress
from instrument_studio.core.personal import head as H
from instrument_studio.core.personal.takes import check_takes
from tests.synth_instruments import SR, note


def write_takes(root, label, n, *, kind=None, seconds=3.5, first=0, freqs=(220.0, 262.0, 330.0, 392.0)):
    for i in range(first, first + n):
        y = note(kind or label, seconds=seconds, freq=freqs[i % len(freqs)], seed=i)
        save_wav(root / label / f"take-{i:02d}.wav", y, SR)
    return root


def silent(root, label, name="silent.wav", seconds=3.0):
    save_wav(root / label / name, 1e-5 * np.random.default_rng(0).standard_normal(int(seconds * SR)), SR)


def clipped(root, label, name="clipped.wav"):
    y = np.clip(3.0 * note("tone", seconds=3.0, freq=440.0), -1.0, 1.0)
    save_wav(root / label / name, y, SR)


# --- checks: no TensorFlow ------------------------------------------------------------------------
def test_check_names_what_to_record_next(tmp_path):
    write_takes(tmp_path, "tone", 3)
    write_takes(tmp_path, "buzz", 2)
    silent(tmp_path, "buzz")
    clipped(tmp_path, "buzz")
    (tmp_path / ".trash" / "tone").mkdir(parents=True)     # not a class
    plan = check_takes(tmp_path)
    assert plan.classes == ["buzz", "tone"]
    assert [t.path.name for t in plan.left_out] == ["clipped.wav", "silent.wav"]
    blockers = plan.blockers()
    assert blockers == ["“buzz” has 2 usable takes: record 1 more take of buzz"]
    warnings = " ".join(plan.warnings())
    assert "silent.wav is left out: it is silent" in warnings and "closer to the microphone" in warnings
    assert "clipped.wav is left out: it clips" in warnings and "input level lower" in warnings
    with pytest.raises(DatasetError, match="record 1 more take of buzz"):
        plan.raise_if_blocked()
    write_takes(tmp_path, "buzz", 1, first=5)
    assert check_takes(tmp_path).ready


def test_a_single_class_or_no_takes_is_refused_with_advice(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "record at least 3 takes of each of two or more sounds" in check_takes(tmp_path / "empty").blockers()[0]
    write_takes(tmp_path / "one", "tone", 3)
    assert "only one class (“tone”): record at least 3 takes of a second sound" in \
        check_takes(tmp_path / "one").blockers()[0]
    # Kept beside the default classes, one new class is enough.
    assert check_takes(tmp_path / "one", keep_default=True).ready


def test_teach_refuses_before_loading_any_model(tmp_path, monkeypatch):
    from instrument_studio.core.learn import bundle
    from instrument_studio.core.personal import teach

    monkeypatch.setattr(bundle, "load_bundle", lambda *_a, **_k: pytest.fail("loaded a model for nothing"))
    write_takes(tmp_path / "d", "tone", 3)
    silent(tmp_path / "d", "buzz", "a.wav")
    silent(tmp_path / "d", "buzz", "b.wav")
    silent(tmp_path / "d", "buzz", "c.wav")
    with pytest.raises(DatasetError) as err:
        teach.teach(tmp_path / "d", tmp_path / "out")
    assert "“buzz” has 0 usable takes: record 3 more takes of buzz" in str(err.value)
    assert "a.wav is left out: it is silent" in str(err.value)
    assert not (tmp_path / "out").exists()


# --- the head's arithmetic ---------------------------------------------------------------------------
def test_layout_keeps_or_folds_the_default_classes():
    default = ("cello", "flute", "unknown", "violin")
    raw, trainable, labels, merge = H.layout(default, ["ocarina", "violin"], keep_default=False)
    assert raw == ("cello", "flute", "unknown", "violin", "ocarina")
    assert trainable.tolist() == [False, False, False, True, True]
    assert labels == ("ocarina", "unknown", "violin")
    # cello, flute and unknown all become "unknown"; the taught ones stay themselves.
    assert merge.argmax(axis=1).tolist() == [1, 1, 1, 2, 0] and merge.sum() == 5
    raw, _, labels, merge = H.layout(default, ["ocarina"], keep_default=True)
    assert labels == ("cello", "flute", "ocarina", "unknown", "violin")
    assert np.array_equal(merge.sum(axis=0), np.ones(5))
    # Kept, a taught default class (the user's violin) stays the default model's column.
    raw, trainable, labels, _ = H.layout(default, ["ocarina", "violin"], keep_default=True)
    assert trainable.tolist() == [False, False, False, False, True]


def test_fit_with_nothing_new_to_learn_is_the_default_head():
    w0, b0 = np.ones((4, 3)), np.array([0.1, 0.2, 0.3])
    w, b = H.fit(np.zeros((5, 4)), np.zeros(5, int), np.ones(5), w0=w0, b0=b0, trainable=np.zeros(3, bool))
    assert np.array_equal(w, w0) and np.array_equal(b, b0)


def test_source_folds_keep_each_source_in_one_half():
    labels = np.array(["a"] * 6 + ["b"] * 4 + ["c"] * 4)
    sources = np.array(["s1", "s1", "s2", "s2", "s3", "s3", "t1", "t1", "t2", "t2", "u", "u", "u", "u"])
    fold = H.source_folds(labels, sources)
    for s in set(sources.tolist()) - {"u"}:
        assert len(set(fold[sources == s].tolist())) == 1
    for c in "abc":                       # both halves hold every class
        assert set(fold[labels == c].tolist()) == {0, 1}


def anchored_problem(seed=0, overlap=1.0):
    """Three default classes (frozen columns) and one new column fitted to takes that lie between
    the default classes' clusters and class 0's (overlap: how close to it), as an ocarina lies near
    real flutes."""
    rng = np.random.default_rng(seed)
    d = 8
    centres = 4.0 * rng.standard_normal((3, d))
    w0 = np.zeros((d, 4))
    w0[:, :3] = centres.T / 4.0
    b0 = np.zeros(4)
    anchors = np.concatenate([c + 1.5 * rng.standard_normal((60, d)) for c in centres])
    a_labels = np.repeat([0, 1, 2], 60)
    taught_centre = centres[0] + (1.0 - overlap) * 4.0 * rng.standard_normal(d) + overlap * 1.5
    takes = taught_centre + 0.8 * rng.standard_normal((40, d))
    fit_rows = np.arange(len(anchors)) % 2 == 0      # half the anchors fit, the other half held out
    z = np.concatenate([takes, anchors[fit_rows]])
    y = np.concatenate([np.full(len(takes), 3), a_labels[fit_rows]])
    w = np.concatenate([np.full(len(takes), 3.0), np.ones(int(fit_rows.sum()))])
    weights, bias = H.fit(z, y, w, w0=w0, b0=b0, trainable=np.array([False, False, False, True]))
    return weights, bias, takes, anchors[~fit_rows]


def won(weights, bias, rows, j):
    return float(np.mean(np.argmax(rows @ weights + bias, axis=1) == j))


def test_a_new_column_is_held_to_the_budget_on_held_out_anchors():
    weights, bias, takes, held_out = anchored_problem(overlap=0.7)
    before = won(weights, bias, held_out, 3)
    shift = H.claim_shifts(weights, bias, [3], held_out=held_out, own={3: takes}, budget=0.02, keep=0.5)
    after_bias = bias.copy()
    after_bias[3] += shift[0]
    assert shift[0] <= 0.0
    assert before > 0.02, "the problem must make the fit claim too many held-out anchors"
    assert won(weights, after_bias, held_out, 3) <= 0.02
    assert won(weights, after_bias, takes, 3) >= 0.5


def test_the_shift_never_costs_the_new_column_its_own_takes():
    weights, bias, takes, held_out = anchored_problem(overlap=1.0, seed=1)
    shift = H.claim_shifts(weights, bias, [3], held_out=held_out, own={3: takes}, budget=0.0, keep=0.95)
    after_bias = bias.copy()
    after_bias[3] += shift[0]
    assert won(weights, after_bias, takes, 3) >= 0.95
    # Here the budget alone would cost it its takes: the takes' bound wins, some claims remain.
    free = H.claim_shifts(weights, bias, [3], held_out=held_out, own={3: takes}, budget=0.0, keep=0.0)
    free_bias = bias.copy()
    free_bias[3] += free[0]
    assert won(weights, free_bias, takes, 3) < 0.95 and won(weights, free_bias, held_out, 3) == 0.0
    assert free[0] < shift[0] <= 0.0


def test_fit_moves_only_the_trainable_columns_and_learns_them():
    rng = np.random.default_rng(0)
    d = 6
    w0 = rng.standard_normal((d, 3))
    b0 = np.array([0.1, -0.2, 0.0])
    centres = 3.0 * rng.standard_normal((3, d))
    z = np.concatenate([c + 0.3 * rng.standard_normal((20, d)) for c in centres])
    y = np.repeat([0, 1, 2], 20)
    trainable = np.array([False, False, True])
    w, b = H.fit(z, y, np.ones(len(y)), w0=w0, b0=b0, trainable=trainable)
    assert np.array_equal(w[:, :2], w0[:, :2]) and np.array_equal(b[:2], b0[:2])
    pred = H.softmax(z @ w + b).argmax(axis=1)
    assert np.mean(pred[y == 2] == 2) == 1.0


def test_threshold_lets_through_all_but_the_budget():
    labels = ("a", "b", "unknown")
    best = np.linspace(0.2, 0.99, 100)
    proba = np.stack([best, 1 - best, np.zeros(100)], axis=1)
    t = H.choose_threshold(proba, labels, budget=0.05)
    assert np.mean(np.maximum(best, 1 - best) < t) <= 0.05
    assert H.THRESHOLD_RANGE[0] <= t <= H.THRESHOLD_RANGE[1]


# --- the real thing (TensorFlow, the default model) ---------------------------------------------------
# TensorFlow and the default model: a few tens of CPU seconds, minutes of wall time on a busy machine.
SLOW = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def taught(tmp_path_factory):
    from instrument_studio.core.personal.teach import teach

    root = tmp_path_factory.mktemp("teach")
    dataset = write_takes(root / "takes", "tone", 4)
    write_takes(dataset, "buzz", 4, freqs=(150.0, 196.0, 247.0, 294.0))
    silent(dataset, "tone")
    events = []
    result = teach(dataset, root / "personal", on_event=events.append)
    return result, events, root


@SLOW
def test_teach_makes_a_bundle_that_names_the_taught_sounds(taught):
    from instrument_studio.core.predict.inference import load_predictor

    result, events, root = taught
    assert result.labels == ("buzz", "tone", "unknown")
    assert result.takes == 8 and any("silent.wav" in w for w in result.left_out)
    stages = [e.stage for e in events if isinstance(e, Progress)]
    for stage in ("checking takes", "embedding", "leave-one-take-out", "saving", "done"):
        assert stage in stages
    assert result.loto_accuracy >= 0.75
    predictor = load_predictor(root / "personal")      # from disk, as `predict --model` loads it
    assert predictor.labels == result.labels and predictor.unknown_threshold == result.threshold
    # New notes at pitches no take had.
    assert predictor.predict(note("buzz", seconds=3.0, freq=175.0, seed=40), SR).label == "buzz"
    assert predictor.predict(note("tone", seconds=3.0, freq=294.0, seed=41), SR).label == "tone"


def drums(seconds: float = 3.0) -> np.ndarray:
    """Noise bursts decaying in 30 ms, four a second: percussion."""
    rng = np.random.default_rng(1)
    y = np.zeros(int(seconds * SR), np.float32)
    for s in range(0, len(y), SR // 4):
        n = min(len(y) - s, SR // 5)
        y[s:s + n] += 0.5 * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.03 * SR))
    return y


@SLOW
def test_sounds_unlike_the_taught_ones_are_unknown(taught):
    from instrument_studio.core.predict.inference import Predictor

    result, _, _ = taught
    predictor = Predictor(result.bundle)
    t = np.arange(3 * SR) / SR
    chirp = (0.3 * np.sin(2 * np.pi * (200 * t + 400 * t ** 2))).astype(np.float32)
    for sound in (drums(), chirp):
        answer = predictor.predict(sound, SR).answer
        assert answer.label == "unknown" and answer.nearest in ("buzz", "tone")


@SLOW
def test_real_instruments_and_speech_are_unknown_to_a_model_of_made_up_sounds(taught, shared_data):
    """The default classes were dropped: a real violin or guitar is "unknown", not "tone" or "buzz"."""
    from instrument_studio.core.audio.audiofile import load
    from instrument_studio.core.predict.inference import Predictor

    predictor = Predictor(taught[0].bundle)
    files = [sorted((shared_data / "real" / "freesound" / c).glob("*"))[0] for c in ("violin", "acoustic-guitar")]
    files += sorted((shared_data / "real" / "sms-tools" / "speech").glob("*"))[:1]
    for path in files:
        y, sr = load(path, sr=16000)
        assert predictor.predict(y[:10 * sr], sr).label == "unknown", path


@SLOW
def test_model_card_lists_takes_and_held_out_accuracy(taught):
    result, _, root = taught
    card = (root / "personal" / "MODEL_CARD.md").read_text("utf-8")
    assert f"Leave-one-take-out accuracy: {result.loto_accuracy:.0%}" in card
    for i in range(4):
        assert f"tone/take-{i:02d}.wav" in card and f"buzz/take-{i:02d}.wav" in card
    assert "silent.wav is left out" in card
    meta = json.loads((root / "personal" / "bundle.json").read_text("utf-8"))
    assert len(meta["metrics"]["teach"]["takes"]) == 8
    assert meta["metrics"]["teach"]["parity"] < 1e-4


def test_card_of_a_kept_model_says_what_the_recorded_default_classes_and_new_ones_became(tmp_path):
    from instrument_studio.core.personal.takes import TeachPlan
    from instrument_studio.core.personal.teach import TeachResult, model_card

    result = TeachResult(tmp_path / "m", ("flute", "ocarina", "unknown"), ("flute", "ocarina"), True, 0.14, 1.0,
                         1.0, {"flute": (5, 5), "ocarina": (10, 10)}, 15, [], 99, 25.0, 30.0,
                         anchor_claims={"ocarina": 0.013})
    card = model_card(result, TeachPlan(tmp_path, [], True), parity=1e-7, base=tmp_path / "default")
    assert "flute included: the default model keeps naming it as before" in card
    assert f"winning at most {H.ANCHOR_CLAIM_BUDGET:.0%}" in card and "ocarina 1.3%" in card
    result.keep_default, result.anchor_claims = False, {}
    assert "winning at most" not in model_card(result, TeachPlan(tmp_path, [], False), parity=1e-7,
                                               base=tmp_path / "default")
