"""The default model's recipe: head, hold-outs, calibration, the unknown threshold, the musicnn
Keras layers and the bundle they make (safe-mode load, "unknown" answers). No real audio needed."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.predict.answer import UNKNOWN, decide
from instrument_studio.core.recipe import default_model as R
from instrument_studio.core.recipe.embed import CACHED_PARTS, Embedded, part
from instrument_studio.core.recipe.sources import BACKGROUND, SOUNDFONT_SOURCE, Item

N_FEATURES = 12


def _data(seed=0, sources=("a", "b", "c"), classes=("flute", "violin", BACKGROUND), shift=0.6):
    """Embeddings of made-up recordings: each class a direction, each source its own offset (the
    'recording chain'), a few windows per file."""
    rng = np.random.default_rng(seed)
    centres = {c: rng.normal(0, 2, N_FEATURES) for c in classes}
    out = []
    for s in sources:
        offset = rng.normal(0, shift, N_FEATURES)
        for c in classes:
            for k in range(6):
                emb = centres[c] + offset + rng.normal(0, 0.7, (4, N_FEATURES))
                item = Item(f"/x/{s}/{c}/{k}.wav", c, s, "phrase", f"{s}{c}{k}")
                out.append(Embedded(item, emb.astype(np.float32), np.full(4, -20.0, dtype=np.float32)))
    return out


def features(e):
    return e.playing


def test_the_head_learns_and_background_becomes_unknown():
    data = _data()
    head = R.fit_head(data, C=1.0, features=features)
    assert UNKNOWN in head.labels and BACKGROUND not in head.labels
    right = [head.labels[int(np.argmax(head.proba(e.emb).mean(0)))] == R.label_of(e.item.label) for e in data]
    assert np.mean(right) > 0.9


def test_a_two_class_head_answers_both_classes():
    from sklearn.linear_model import LogisticRegression

    data = _data(classes=("flute", "violin"))
    head = R.fit_head(data, C=1.0, features=features)
    x = np.concatenate([e.emb for e in data])
    p = head.proba(x)
    assert p.shape == (len(x), 2) and np.allclose(p.sum(axis=1), 1.0)
    # the same probabilities as scikit-learn's own binary model on the same (standardised) windows
    y = np.concatenate([[e.item.label] * len(e.emb) for e in data])
    clf = LogisticRegression(C=1.0, max_iter=1000).fit((x - head.mean) / head.scale, y)
    assert np.allclose(p, clf.predict_proba((x - head.mean) / head.scale), atol=1e-4)


def test_silent_windows_are_not_learnt_from():
    item = Item("/x.wav", "flute", "a", "note", "g")
    e = Embedded(item, np.arange(6, dtype=np.float32).reshape(3, 2), np.array([-80.0, -20.0, -70.0], np.float32))
    assert e.playing.tolist() == [[2.0, 3.0]]
    quiet = Embedded(item, e.emb, np.array([-80.0, -90.0, -70.0], np.float32))
    assert quiet.playing.tolist() == [[4.0, 5.0]]            # the loudest window, never nothing
    np.testing.assert_allclose(e.playing_power, [1e-2])      # -20 dB: a mean square of 0.01
    np.testing.assert_allclose(quiet.playing_power, [1e-7])


def test_a_recording_is_answered_as_the_app_answers_a_file_louder_windows_weigh_more():
    p = np.array([[0.9, 0.1], [0.1, 0.9], [0.2, 0.8]])
    np.testing.assert_allclose(R.file_answer(p), p.mean(axis=0))
    power = 10 ** (np.array([-10.0, -30.0, -30.0]) / 10)    # a loud note, then its decay
    np.testing.assert_allclose(R.file_answer(p, power), (100 * p[0] + p[1] + p[2]) / 102)
    # hold-outs and calibration keep the weights: the loud window decides for the file
    item = Item("/x/a/flute/0.wav", "flute", "a", "phrase", "g")
    held = R.HeldOut("a", "flute", ("flute", "violin"), R.file_answer(p, power), np.log(p), power)
    again = R.calibrated([held], 1.0)[0]
    np.testing.assert_allclose(again.proba, held.proba, atol=1e-9)
    assert held.labels[int(np.argmax(held.proba))] == "flute" != held.labels[int(np.argmax(p.mean(axis=0)))]
    data = _data()
    data[0] = Embedded(item, data[0].emb, np.array([-10.0, -30.0, -30.0, -60.0], np.float32))
    out = R.holdouts(data, features=features, C=1.0, sources=("a",), progress=lambda m: None).results
    np.testing.assert_allclose(out[0].window_power, power)   # the silent window is not one of them


def test_holdouts_answer_each_source_with_a_head_that_never_saw_it():
    data = _data()
    held = R.holdouts(data, features=features, C=1.0, sources=("a", "b", "c", "absent"), progress=lambda m: None)
    table = held.table()
    assert set(table) == {"a", "b", "c"}
    assert set(table["a"]) == {"flute", "violin"}            # background is not an accuracy row
    assert all(files == 6 for cls in table.values() for _, files in cls.values())
    top1 = held.top1()
    assert set(top1) == {"a", "b", "c"} and all(0.0 <= v <= 1.0 for v in top1.values())


def test_temperature_scaling_lowers_calibration_error_of_an_overconfident_head():
    data = _data(shift=2.0)
    held = R.holdouts(data, features=features, C=100.0, sources=("a", "b", "c"), progress=lambda m: None)
    t = R.fit_temperature(held.results)
    assert t > 1.0                                           # over-confident across sources: soften
    assert R.expected_calibration_error(R.calibrated(held.results, t)) <= R.expected_calibration_error(held.results)


def test_the_threshold_keeps_known_rejections_within_budget():
    data = _data(shift=1.5)
    held = R.holdouts(data, features=features, C=1.0, sources=("a", "b", "c"), progress=lambda m: None)
    t, stats = R.choose_threshold(held.results, budget=0.2)
    assert 0.0 <= t < 1.0
    assert stats["known_rejected"] <= 0.2
    assert stats["background_files"] == 18


def _held(label, proba, labels=("flute", "unknown", "violin")):
    return R.HeldOut("a", label, labels, np.asarray(proba, dtype=float), np.zeros((1, len(labels))))


def test_the_threshold_turns_away_flat_answers_only_where_that_answers_more_files_right():
    sure = [_held("flute", [0.9, 0.05, 0.05])] * 20
    unsure_but_right = [_held("violin", [0.3, 0.25, 0.45])] * 3
    noise = [_held("unknown", [0.4, 0.3, 0.3])]               # named flute 0.40 unless turned away
    # One noise caught above 0.40; three right answers lost above 0.45 (within the budget all the way
    # to 0.90, where the largest threshold within it would have gone).
    t, stats = R.choose_threshold(sure + unsure_but_right + noise, budget=0.2)
    assert t == 0.45
    assert stats["background_rejected"] == 1.0 and stats["known_rejected"] == 0.0 and stats["known_right"] == 1.0
    # Four surer noises more (flute 0.60): now turning the three unsure answers away is worth it.
    louder = [_held("unknown", [0.6, 0.2, 0.2])] * 4
    t, stats = R.choose_threshold(sure + unsure_but_right + noise + louder, budget=0.2)
    assert t == 0.90 and stats["known_rejected"] == 3 / 23 and stats["background_rejected"] == 1.0
    # Never beyond the budget.
    t, stats = R.choose_threshold(sure + unsure_but_right + noise + louder, budget=0.1)
    assert t == 0.45 and stats["known_rejected"] <= 0.1


def test_the_confident_threshold_gives_live_windows_the_precision_asked_for():
    data = _data(shift=1.5)
    held = R.holdouts(data, features=features, C=1.0, sources=("a", "b", "c"), progress=lambda m: None)
    t, stats = R.choose_confident(held.results, 1.0, precision=0.9, sources=None)
    assert 0.15 <= t <= 0.95
    assert stats["precision"] >= 0.9 and 0.0 < stats["kept"] <= 1.0
    strict, strict_stats = R.choose_confident(held.results, 1.0, precision=0.99, sources=None)
    assert strict >= t and strict_stats["kept"] <= stats["kept"]   # asking more keeps fewer windows
    # Out of reach: the most precise threshold that still keeps a tenth of the windows, never one
    # that silences the Live panel.
    _, out_of_reach = R.choose_confident(held.results, 1.0, precision=1.01, sources=None)
    assert out_of_reach["kept"] >= 0.1
    # Only the sources asked for decide.
    _, only_a = R.choose_confident(held.results, 1.0, sources=("a",))
    assert only_a["windows"] == 6 * 2 * 4


def test_simulated_recording_chains_are_trained_on_but_never_tested_on():
    from dataclasses import replace

    data = _data()
    # An augmented copy of source "a" that says the opposite class: if it were tested on, the
    # held-out table of "a" would count twice as many files.
    augmented = [Embedded(replace(e.item, augment=1), e.emb, e.level_db) for e in data if e.item.source == "a"]
    held = R.holdouts(data + augmented, features=features, C=1.0, sources=("a",), progress=lambda m: None)
    assert all(files == 6 for _, files in held.table()["a"].values())


def test_phrases_built_from_notes_leave_with_their_source_and_are_never_tested_on():
    from dataclasses import replace

    data = _data()
    built = [Embedded(replace(e.item, kind=R.BUILT, path=e.item.path + ".built.flac"), e.emb, e.level_db)
             for e in data if e.item.source == "a"]
    held = R.holdouts(data + built, features=features, C=1.0, sources=("a",), progress=lambda m: None)
    assert all(files == 6 for _, files in held.table()["a"].values())


def test_a_soundfont_pair_weighs_render_weight_of_a_real_sources_pair():
    from dataclasses import replace

    # One real source and one SoundFont; the font's "flute" sits where the real violin is, so the
    # two pull a window between them in opposite directions.
    real = _data(sources=("a", "b"), classes=("flute", "violin", "cello"), shift=0.0)
    violin = np.mean([e.emb.mean(0) for e in real if e.item.label == "violin"], axis=0)
    rendered = [Embedded(replace(e.item, source=SOUNDFONT_SOURCE + "x", kind="render", path=e.item.path + ".sf.flac"),
                         (e.emb - e.emb.mean(0) + violin).astype(np.float32), e.level_db)
                for e in real if e.item.label == "flute"]

    def p_flute(render_weight):
        head = R.fit_head(real + rendered, C=1.0, features=features, render_weight=render_weight)
        return float(head.proba(violin[None])[0, head.labels.index("flute")])

    assert p_flute(0.1) < p_flute(1.0) - 0.1
    # Other made sounds (the generated background noise is a render too) keep a real source's weight.
    made = [Embedded(replace(e.item, source="generated-noise"), e.emb, e.level_db) for e in rendered]
    heads = [R.fit_head(real + made, C=1.0, features=features, render_weight=w) for w in (0.1, 1.0)]
    assert np.allclose(heads[0].weights, heads[1].weights)
    # holdouts passes the weight on to every fold's head
    full = R.holdouts(real + rendered, features=features, C=1.0, sources=("a",), progress=lambda m: None)
    light = R.holdouts(real + rendered, features=features, C=1.0, render_weight=0.1, sources=("a",),
                       progress=lambda m: None)
    assert not np.allclose(full.results[0].proba, light.results[0].proba)


def test_decide_keeps_the_nearest_class_when_the_answer_is_unknown():
    labels = ("flute", UNKNOWN, "violin")
    a = decide(np.array([0.3, 0.5, 0.2]), labels)
    assert (a.label, a.nearest) == (UNKNOWN, "flute") and a.nearest_probability == pytest.approx(0.3)
    # the unknown class won: its own probability, as its ranking shows it (not 1 - 0.3)
    assert a.probability == pytest.approx(0.5)
    b = decide(np.array([0.45, 0.1, 0.45 - 1e-9]), labels, threshold=0.5)
    assert b.unknown and b.nearest == "flute"
    assert b.probability == pytest.approx(0.1)       # below the threshold: the unknown class's own, low
    d = decide(np.array([0.45, 0.55]), ("flute", "violin"), threshold=0.6)
    assert (d.label, d.probability) == (UNKNOWN, pytest.approx(0.45))   # no unknown class: what violin leaves
    c = decide(np.array([0.8, 0.1, 0.1]), labels, threshold=0.5)
    assert (c.label, c.probability) == ("flute", pytest.approx(0.8))
    assert decide(np.array([0.2, 0.8]), ("cello", "piano")).label == "piano"   # no open set: arg-max


def test_card_table_lists_sources_and_classes():
    text = R.card_table({"freesound": {"flute": (3, 4), "violin": (1, 2)}})
    assert "| freesound | 3/4 | 1/2 | 0.67 (6) |" in text


def test_part_picks_columns_of_the_cached_parts():
    from instrument_studio.core.learn.musicnn import EMBEDDING_PARTS

    width = sum(EMBEDDING_PARTS[p] for p in CACHED_PARTS)
    emb = np.tile(np.arange(width, dtype=np.float32), (2, 1))
    got = part(emb, ("mean", "tags"))
    assert got.shape == (2, 753 + 50)
    assert got[0, 0] == 753 and got[0, 753] == 753 + 753 + 200


def test_the_spectrum_parts_are_each_bands_mean_and_maximum_over_the_window():
    """mel_mean / mel_max describe where in the spectrum the playing lies: per band, over the window's
    frames, after the input normalisation (untrained here: an affine map of scale 1/sqrt(1 + eps))."""
    from instrument_studio.core.learn.musicnn import N_FRAMES, N_MELS, build_embedding

    emb = build_embedding(parts=("mel_mean", "tags", "mel_max"))
    x = np.random.default_rng(0).uniform(0, 3, (3, N_FRAMES, N_MELS)).astype(np.float32)
    x[1, :, 10] = 0.0
    x[1, 40, 10] = 5.0                                # one loud frame in one band: its maximum
    out = np.asarray(emb(x, training=False))
    assert out.shape == (3, N_MELS + 50 + N_MELS)
    bn = emb.get_layer("batch_normalization")
    scale = 1 / np.sqrt(1 + bn.epsilon)
    np.testing.assert_allclose(out[:, :N_MELS], x.mean(axis=1) * scale, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[:, -N_MELS:], x.max(axis=1) * scale, rtol=1e-6)
    assert out[1, N_MELS + 50 + 10] == pytest.approx(5.0 * scale)
    assert out[1, 10] == pytest.approx(5.0 / N_FRAMES * scale)


def test_the_ripple_parts_are_the_profiles_fourier_magnitudes_and_move_little_with_the_pitch():
    """mel_mean_ripple / mel_max_ripple: |rfft| of each band profile along the bands, bins 1-48, made of
    standard layers (a fixed Dense transform, UnitNormalization for the magnitude). A profile moved
    along the bands (a note played higher) keeps them where the profile itself changes everywhere."""
    from instrument_studio.core.learn.musicnn import N_FRAMES, N_MELS, RIPPLE_BINS, build_embedding

    emb = build_embedding(parts=("mel_mean", "mel_mean_ripple", "mel_max_ripple"))
    rng = np.random.default_rng(1)
    bands = np.arange(N_MELS)
    # A note: partials every 9 bands over a sloping floor, flickering over time; the same moved up 6 bands.
    comb = np.maximum(0, np.cos(2 * np.pi * bands / 9)) * 2 + 0.01 * bands
    shifted = np.roll(comb, 6)
    shifted[:6] = comb[:6]
    x = np.stack([comb + rng.uniform(0, 0.05, (N_FRAMES, N_MELS)),
                  shifted + rng.uniform(0, 0.05, (N_FRAMES, N_MELS)),
                  np.zeros((N_FRAMES, N_MELS))]).astype(np.float32)
    out = np.asarray(emb(x, training=False))
    assert out.shape == (3, N_MELS + 2 * RIPPLE_BINS)
    scale = 1 / np.sqrt(1 + emb.get_layer("batch_normalization").epsilon)
    profile, peak = x.mean(axis=1) * scale, x.max(axis=1) * scale
    np.testing.assert_allclose(out[:, N_MELS:N_MELS + RIPPLE_BINS],
                               np.abs(np.fft.rfft(profile, axis=1))[:, 1:RIPPLE_BINS + 1], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out[:, N_MELS + RIPPLE_BINS:],
                               np.abs(np.fft.rfft(peak, axis=1))[:, 1:RIPPLE_BINS + 1], rtol=1e-4, atol=1e-4)
    assert np.all(out[2] == 0)                          # silence: no ripple, and no division by zero
    ripple = out[:, N_MELS:N_MELS + RIPPLE_BINS]
    moved_profile = np.abs(out[0, :N_MELS] - out[1, :N_MELS]).sum() / np.abs(out[0, :N_MELS]).sum()
    moved_ripple = np.abs(ripple[0] - ripple[1]).sum() / np.abs(ripple[0]).sum()
    assert moved_ripple < moved_profile / 3


def test_checkpoint_weights_leave_the_ripples_fixed_transform_alone():
    """load_weights fills the layers named after checkpoint variables; the ripple's own fixed layers
    are not in a checkpoint and keep their transform."""
    from instrument_studio.core.learn.musicnn import build_embedding, load_weights

    emb = build_embedding(parts=("mel_max_ripple",))
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in emb.layers}
    fake = {}
    for layer in emb.layers:
        if layer.name.endswith(("_dft", "_pair_sum")) or not layer.get_weights():
            continue
        kinds = (("gamma", "beta", "moving_mean", "moving_variance") if "batch_normalization" in layer.name
                 else ("kernel", "bias"))
        for kind, w in zip(kinds, layer.get_weights(), strict=True):
            fake[f"{layer.name}/{kind}"] = (np.zeros((*w.shape[:2], 1, w.shape[-1]), w.dtype)
                                            if kind == "kernel" and w.ndim == 3 else np.zeros_like(w))
    load_weights(emb, fake)
    for layer in emb.layers:
        if layer.name.endswith(("_dft", "_pair_sum")):
            for w, b in zip(layer.get_weights(), before[layer.name], strict=True):
                np.testing.assert_array_equal(w, b)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_musicnn_classifier_bundle_loads_in_safe_mode_and_answers_unknown(tmp_path):
    """The Keras model the recipe saves (untrained musicnn layers here: no checkpoint needed) is a
    normal bundle: loads with safe_mode, predicts through the musicnn feature kind, and says
    "unknown" with the nearest class kept."""
    from instrument_studio.core.config import MUSICNN_FEATURES
    from instrument_studio.core.learn.bundle import load_bundle, save_bundle
    from instrument_studio.core.learn.musicnn import build_classifier, build_embedding
    from instrument_studio.core.predict.inference import Predictor

    parts = ("mean", "tags")
    emb = build_embedding(parts=parts)
    n = 753 + 50
    labels = ("flute", UNKNOWN, "violin")
    # A head that always favours "unknown": the answer must be unknown, nearest kept.
    weights = np.zeros((n, 3), np.float32)
    model = build_classifier(emb, mean=np.zeros(n), scale=np.ones(n), weights=weights,
                             bias=np.array([0.0, 2.0, 0.5], np.float32), temperature=2.0)
    path = save_bundle(tmp_path / "b", model=model, labels=labels, feature_config=MUSICNN_FEATURES, mean=None,
                       std=None, unknown_threshold=0.3, confident_threshold=0.35)
    bundle = load_bundle(path)
    assert bundle.unknown_threshold == pytest.approx(0.3)
    assert bundle.confident_threshold == pytest.approx(0.35)
    assert Predictor(bundle).confident == pytest.approx(0.35)   # what the Live panel's "confident" uses
    pred = Predictor(bundle).predict(np.random.default_rng(0).normal(0, 0.1, 16000 * 4).astype(np.float32), 16000)
    assert pred.label == UNKNOWN
    row = pred.to_dict("x.wav")
    assert row["label"] == UNKNOWN and row["nearest"] == "violin"
    expected = np.exp([0.0, 1.0, 0.25]) / np.exp([0.0, 1.0, 0.25]).sum()   # bias / temperature
    assert row["nearest_probability"] == pytest.approx(expected[2], abs=1e-4)
    assert all(step["label"] == UNKNOWN for step in row["timeline"])


def test_temperature_fits_folds_whose_heads_know_different_classes():
    data = _data(sources=("a", "b", "c")) + [
        Embedded(Item(f"/x/d/oboe/{k}.wav", "oboe", "d", "phrase", f"d{k}"),
                 np.random.default_rng(k).normal(3, 1, (4, N_FEATURES)).astype(np.float32),
                 np.full(4, -20.0, dtype=np.float32)) for k in range(6)]
    held = R.holdouts(data, features=features, C=1.0, sources=("a", "d"), progress=lambda m: None)
    assert len({r.labels for r in held.results}) == 2       # fold "d" never saw an oboe
    assert 0.05 <= R.fit_temperature(held.results) <= 20.0


def test_subset_accuracy_restricts_answers_to_every_k_class_subset():
    labels = ("a", "b", "c")
    # A file of "a" that the head calls "b", with "a" second: right whenever "b" is left out.
    held = R.Holdouts([R.HeldOut("s", "a", labels, np.array([0.3, 0.6, 0.1]), np.zeros((1, 3))),
                       R.HeldOut("s", "b", labels, np.array([0.1, 0.8, 0.1]), np.zeros((1, 3))),
                       R.HeldOut("s", "c", labels, np.array([0.1, 0.2, 0.7]), np.zeros((1, 3)))])
    acc2 = held.subset_accuracy(2)["s"]
    # {a,b}: a wrong, b right -> 0.5; {a,c}: both right -> 1; {b,c}: both right -> 1
    assert acc2 == pytest.approx((0.5 + 1 + 1) / 3)
    assert held.subset_accuracy(3)["s"] == pytest.approx(2 / 3)
    assert held.subset_accuracy(4) == {}                 # fewer classes than k: no figure


def test_subset_accuracy_among_the_classes_each_source_lists():
    labels = ("a", "b", "c")
    held = R.Holdouts([R.HeldOut("s", "a", labels, np.array([0.3, 0.6, 0.1]), np.zeros((1, 3))),
                       R.HeldOut("s", "b", labels, np.array([0.1, 0.8, 0.1]), np.zeros((1, 3))),
                       R.HeldOut("s", "c", labels, np.array([0.1, 0.2, 0.7]), np.zeros((1, 3))),
                       R.HeldOut("t", "a", labels, np.array([0.9, 0.05, 0.05]), np.zeros((1, 3))),
                       R.HeldOut("t", "b", labels, np.array([0.9, 0.05, 0.05]), np.zeros((1, 3)))])
    # Without "b" the misheard "a" file has no wrong class left to go to; "t" is not asked about.
    assert held.subset_accuracy(2, among={"s": {"a", "c"}}) == {"s": 1.0}
    assert held.subset_accuracy(2, among={"s": {"a", "b"}}) == {"s": 0.5}
    assert held.subset_accuracy(2, among={"s": {"a"}}) == {}  # fewer classes than k


def test_a_source_of_fewer_classes_is_answered_among_its_own_and_the_models_others():
    """One instrument's library is always right among its own classes; among it and every choice
    of the head's other instruments it is right where its class beats those."""
    labels = ("a", "b", "c", "unknown")
    held = R.Holdouts([
        # "a" files: beaten by "b" once, by nothing else; the unknown class never counts.
        R.HeldOut("solo", "a", labels, np.array([0.3, 0.4, 0.1, 0.2]), np.zeros((1, 4))),
        R.HeldOut("solo", "a", labels, np.array([0.5, 0.1, 0.1, 0.3]), np.zeros((1, 4))),
        R.HeldOut("many", "a", labels, np.array([0.9, 0.05, 0.05, 0.0]), np.zeros((1, 4))),
        R.HeldOut("many", "b", labels, np.array([0.05, 0.9, 0.05, 0.0]), np.zeros((1, 4)))])
    assert held.table()["solo"]["a"] == (2, 2)                       # trivially right among its own
    # {a, b}: one of two right; {a, c}: both right.
    assert held.filled_subset_accuracy(2) == {"solo": pytest.approx((0.5 + 1.0) / 2)}
    assert held.filled_subset_accuracy(3) == {"solo": 0.5, "many": 1.0}
    assert held.filled_subset_accuracy(4) == {}                      # not enough classes to choose from
    text = R.filled_text({"holdout_filled_4": {"solo": 0.75}})
    assert "solo 0.75" in text and "k = 6: none" in text
    assert R.filled_text({}) == ""


def test_taught_elsewhere_keeps_the_classes_another_note_library_has():
    def note(source, label, augment=0, kind="note"):
        return Item(f"/x/{source}/{label}.wav", label, source, kind, f"{source}:{label}", augment=augment)

    items = [note("lib1", "oboe"), note("lib1", "flute"), note("lib1", "cello"),
             note("lib2", "flute"), note("lib2", "trumpet"),
             note("lib3", "cello", augment=1),          # a simulated chain is not another library
             note("phr", "oboe", kind="phrase")]        # nor is a phrase source
    assert R.taught_elsewhere(items, sources=("lib1", "lib2", "none")) == {"lib1": {"flute"}, "lib2": {"flute"}}


def test_nuisance_projection_stops_the_head_learning_a_recording_chain_as_a_class():
    """Flutes were only ever heard through one chain and violins through another (sources f, v),
    while two sources that have both classes show how chains differ. A flute through the violins'
    chain fools the plain head; the head with the chain direction projected out answers it."""
    rng = np.random.default_rng(3)
    axes = np.eye(N_FEATURES)
    centre = {"flute": 0.5 * axes[0], "violin": -0.5 * axes[0], BACKGROUND: 2.0 * axes[2]}

    def rec(source, label, chain, k):
        emb = centre[label] + chain * axes[1] + rng.normal(0, 0.5, (4, N_FEATURES))
        return Embedded(Item(f"/x/{source}/{label}/{k}.wav", label, source, "phrase", f"{source}{k}"),
                        emb.astype(np.float32), np.full(4, -20.0, np.float32))

    train = [rec(s, c, chain, k) for s, chain in (("both1", 1.0), ("both2", -1.0))
             for c in ("flute", "violin", BACKGROUND) for k in range(8)]
    train += [rec("f", "flute", 4.0, k) for k in range(30)] + [rec("v", "violin", -4.0, k) for k in range(30)]
    test = [rec("new", "flute", -4.0, k) for k in range(20)]
    v = R.nuisance_directions(np.concatenate([e.emb for e in train]),
                              [(e.item.source, e.item.label) for e in train for _ in e.emb], 1)
    assert abs(v[1, 0]) > 0.9                                  # the chain axis is what was found

    def accuracy(head):
        return np.mean([head.labels[int(np.argmax(head.proba(e.emb).mean(0)))] == "flute" for e in test])

    plain = R.fit_head(train, C=1.0, features=features)
    projected = R.fit_head(train, C=1.0, features=features, nuisance=1)
    assert accuracy(plain) < 0.5
    assert accuracy(projected) >= 0.9
    # The projection lives in the weights: the head keeps its shape (it becomes the same Keras
    # layers), and moving a window along the chain direction changes none of its logits.
    assert projected.weights.shape == plain.weights.shape
    x = test[0].emb
    v = R.nuisance_directions(((np.concatenate([e.emb for e in train]) - projected.mean) / projected.scale),
                              [(e.item.source, e.item.label) for e in train for _ in e.emb], 1)[:, 0]
    moved = x + 3.0 * v * projected.scale
    np.testing.assert_allclose(projected.logits(moved), projected.logits(x), atol=1e-4)
    assert not np.allclose(plain.logits(moved), plain.logits(x), atol=1e-2)


@pytest.mark.parametrize("checkpoint, named, not_named", [("MTT_musicnn", "MagnaTagATune", "Million Song"),
                                                          ("MSD_musicnn", "Million Song Dataset", "MagnaTagATune")])
def test_the_model_card_names_the_checkpoint_it_was_built_with(checkpoint, named, not_named):
    data = _data()
    held = R.holdouts(data, features=features, C=1.0, sources=("a", "b"), progress=lambda m: None)
    metrics = {"temperature": 1.5, "unknown": {}, "holdout_top1": held.top1(), "unverified_restricted": 0.5,
               "unverified_top1": 0.5, "ece_before": 0.2, "ece_after": 0.1}
    args = {"checkpoint": checkpoint, "parts": "max,mean", "C": 1.0, "nuisance": 0, "augment": 0, "subsample": 4,
            "max_windows": 8}
    card = R.model_card(args=args, labels=("flute", "violin", UNKNOWN), items=[e.item for e in data],
                        table=held.table(), unv_table={}, metrics=metrics, threshold=0.2, size=1e6,
                        parity=1e-7, date="2026-11-29")
    assert card.count(named) == 2 and not_named not in card
    assert f"--checkpoint {checkpoint}" in card


def test_the_model_card_names_synthetic_speech_only_when_trained_on_it():
    from dataclasses import replace

    from instrument_studio.core.recipe.speech import SOURCE

    data = _data()
    held = R.holdouts(data, features=features, C=1.0, sources=("a", "b"), progress=lambda m: None)
    metrics = {"temperature": 1.5, "unknown": {}, "holdout_top1": held.top1(), "unverified_restricted": 0.5,
               "unverified_top1": 0.5, "ece_before": 0.2, "ece_after": 0.1}
    args = {"checkpoint": "MTT_musicnn", "parts": "max,mean", "C": 1.0, "nuisance": 0, "augment": 0,
            "subsample": 4, "max_windows": 8}
    items = [e.item for e in data]

    def card(its):
        return R.model_card(args=args, labels=("flute", "violin", UNKNOWN), items=its, table=held.table(),
                            unv_table={}, metrics=metrics, threshold=0.2, size=1e6, parity=1e-7, date="2026-11-30")

    assert "espeak-ng" not in card(items)
    spoken = replace(items[0], label=BACKGROUND, source=SOURCE, kind="render", path="/cache/speech/espeak-ng_000.flac")
    assert "Synthetic speech (source `generated-speech`" in card(items + [spoken])


def test_the_model_card_gives_the_validation_recordings_restricted_to_k_classes_when_measured():
    data = _data()
    held = R.holdouts(data, features=features, C=1.0, sources=("a", "b"), progress=lambda m: None)
    metrics = {"temperature": 1.5, "unknown": {}, "holdout_top1": held.top1(), "unverified_restricted": 0.5,
               "unverified_top1": 0.5, "ece_before": 0.2, "ece_after": 0.1}
    args = {"checkpoint": "MTT_musicnn", "parts": "max,mean", "C": 1.0, "nuisance": 0, "augment": 0, "subsample": 4,
            "max_windows": 8}

    def card(m):
        return R.model_card(args=args, labels=("flute", "violin", UNKNOWN), items=[e.item for e in data],
                            table=held.table(), unv_table={}, metrics=m, threshold=0.2, size=1e6, parity=1e-7,
                            date="2026-11-30")

    assert "k = 6" not in card(metrics).split("## Validation only")[1].split("##")[0]
    measured = card({**metrics, "unverified_restricted_4": 0.916, "unverified_restricted_6": 0.875})
    assert "k = 4: 0.92, k = 6: 0.88." in measured.split("## Validation only")[1]
