"""File, folder and window prediction with a real bundle trained in the session."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from instrument_studio.core.errors import Cancelled, StudioError
from instrument_studio.core.predict.inference import (
    Predictor,
    judge_window,
    load_predictor,
    predict_files,
    taper,
    write_predictions_csv,
)
from tests.synth_instruments import LABELS, SR, note


@pytest.fixture(scope="module")
def predictor(synth_model) -> Predictor:
    return load_predictor(synth_model[0])


def test_whole_file_and_timeline(predictor, synth_model):
    from instrument_studio.core.audio.audiofile import load
    from instrument_studio.core.features.clip import clip_features

    path = synth_model[1] / "tone" / "tone_06.wav"  # 1.2 s
    y, sr = load(path)
    pred = predictor.predict_file(path)
    assert pred.label == "tone" and pred.probability > 0.8
    assert [label for label, _ in pred.ranked()] [0] == "tone"
    assert pred.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    # The whole-file answer comes from the timeline's windows (issue 11, item 9): their mean,
    # each step weighted by the seconds it covers (1 s and 0.2 s here) and by its power.
    at_model_rate, _ = load(path, sr=predictor.sr)
    power = [np.mean(np.square(at_model_rate[a:a + predictor.sr], dtype=np.float64)) for a in (0, predictor.sr)]
    w = np.array([1.0 * power[0], 0.2 * power[1]])
    np.testing.assert_allclose(pred.probabilities, (w[0] * pred.timeline[0] + w[1] * pred.timeline[1]) / w.sum(),
                               atol=1e-4)
    # Each step is the bundle's model on clip_features with the bundle's statistics.
    ref = predictor.bundle.predict_proba(clip_features(taper(y[:SR], SR), predictor.config)).mean(axis=0)
    np.testing.assert_allclose(pred.timeline[0], ref, atol=1e-5)
    # 1.2 s -> two one-second steps, the second one short.
    assert pred.timeline.shape == (2, 3)
    assert pred.times.tolist() == [0.0, 1.0]
    d = pred.to_dict(str(path))
    assert set(d) == {"path", "label", "probability", "nearest", "nearest_probability", "probabilities", "timeline",
                    "warnings"}
    assert d["timeline"][1]["end"] == pytest.approx(1.2, abs=1e-3)


def test_the_whole_answer_weighs_each_second_by_its_power():
    from instrument_studio.core.predict.inference import whole_from_timeline

    timeline = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    silent = np.array([False, False, True])
    # the second step 20 dB quieter (a decay, a breath): it counts a hundredth; the silent one not at all
    whole = whole_from_timeline(timeline, silent, step=1.0, duration=3.0, power=np.array([1.0, 0.01, 1e-9]))
    np.testing.assert_allclose(whole, (timeline[0] + 0.01 * timeline[1]) / 1.01)
    # equal power: the plain mean of the playing steps, as without power
    level = whole_from_timeline(timeline, silent, step=1.0, duration=3.0, power=np.ones(3))
    np.testing.assert_allclose(level, whole_from_timeline(timeline, silent, step=1.0, duration=3.0))
    np.testing.assert_allclose(level, timeline[:2].mean(axis=0))
    # all quiet: every step by its seconds, whatever the power
    quiet = whole_from_timeline(timeline, np.ones(3, bool), step=1.0, duration=2.5, power=np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(quiet, (timeline[0] + timeline[1] + 0.5 * timeline[2]) / 2.5)


def test_resamples_to_the_bundle_rate(predictor):
    import soxr

    y = note("buzz", seconds=2.0, freq=330.0, seed=3)
    at_48k = soxr.resample(y, SR, 48000)
    a = predictor.predict(y, SR)
    b = predictor.predict(at_48k, 48000)
    assert a.label == b.label
    np.testing.assert_allclose(a.probabilities, b.probabilities, atol=0.05)


def test_timeline_follows_a_change_of_instrument(predictor):
    y = np.concatenate([note("tone", seconds=2.0, freq=440.0), note("noise", seconds=2.0, seed=4)])
    pred = predictor.predict(y, SR)
    top = [pred.labels[i] for i in pred.timeline.argmax(axis=1)]
    assert top[:2].count("tone") >= 1 and top[2:] == ["noise", "noise"], top


def test_folder_with_a_corrupt_file(predictor, synth_model, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    import shutil

    for label in LABELS:
        shutil.copy(synth_model[1] / label / f"{label}_07.wav", folder / f"{label}.wav")
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (folder / "notes.txt").write_text("not audio, not listed")
    results = list(predict_files(predictor, [folder]))
    assert [r.index for r in results] == [0, 1, 2, 3] and all(r.total == 4 for r in results)
    by_name = {r.path.rsplit("/", 1)[1]: r for r in results}
    assert not by_name["broken.wav"].ok and "broken.wav" not in by_name["broken.wav"].error
    assert by_name["broken.wav"].error
    for label in LABELS:
        assert by_name[f"{label}.wav"].ok and by_name[f"{label}.wav"].prediction.label == label
    out = write_predictions_csv(tmp_path / "p.csv", results)
    rows = {r["path"].rsplit("/", 1)[1]: r for r in csv.DictReader(out.open())}
    assert rows["broken.wav"]["error"] and not rows["broken.wav"]["label"]
    assert rows["tone.wav"]["label"] == "tone" and rows["tone.wav"]["top3"].startswith("tone:")


def test_folder_prediction_can_be_cancelled(predictor, synth_model):
    seen = []
    with pytest.raises(Cancelled):
        for r in predict_files(predictor, [synth_model[1]], should_stop=lambda: len(seen) >= 2):
            seen.append(r)
    assert len(seen) == 2


def test_window_verdicts_are_honest(predictor):
    silent = judge_window(predictor, np.zeros(SR, dtype=np.float32))
    assert silent.state == "uncertain" and "silent" in silent.reason and silent.probabilities is None
    clipping = judge_window(predictor, np.clip(note("tone", seconds=1.0) * 10, -1, 1))
    assert clipping.state == "uncertain" and "clips" in clipping.reason
    clear = judge_window(predictor, note("tone", seconds=1.0, freq=440.0))
    assert clear.state == "confident" and predictor.labels[int(np.argmax(clear.probabilities))] == "tone"
    doubtful = judge_window(predictor, note("tone", seconds=1.0, freq=440.0), confident=1.01)
    assert doubtful.state == "uncertain" and "low confidence" in doubtful.reason


def test_a_window_answered_among_some_classes_never_names_another(predictor):
    """Live answers among the classes chosen: a tone, asked among buzz and noise, is judged on
    those two (rescaled, so they sum to 1), and confidence is judged on that answer."""
    from instrument_studio.core.predict.inference import among_mask

    y = note("tone", seconds=1.0, freq=440.0)
    every = judge_window(predictor, y)
    kept = among_mask(predictor.labels, ["buzz", "noise"])
    among = judge_window(predictor, y, among=kept)
    tone = predictor.labels.index("tone")
    assert every.probabilities[tone] > 0.5
    assert among.probabilities[tone] == 0.0 and among.probabilities.sum() == pytest.approx(1.0)
    others = every.probabilities[kept] / every.probabilities[kept].sum()
    np.testing.assert_allclose(among.probabilities[kept], others, rtol=1e-5)
    assert among_mask(predictor.labels, None) is None
    assert among_mask(predictor.labels, predictor.labels) is None   # every class: left as it is
    with pytest.raises(StudioError, match="it knows: buzz, noise, tone"):
        among_mask(predictor.labels, ["viola"])


def test_long_windows_overlap_by_half_and_every_step_is_covered():
    """A model whose window is longer than a step (musicnn: ~3 s) gets windows every half window,
    as in training, not one per step (three times the work); each step reads the windows that
    hold its centre; a short signal is one window."""
    from instrument_studio.core.predict.inference import covering, window_starts

    sr, width = 16000, 47872
    starts = window_starts(60 * sr, width, stride=width // 2)
    assert len(starts) == 40 and starts[-1] + width == 60 * sr          # 60 steps would cost 60 windows
    assert all(b - a == width // 2 for a, b in zip(starts[:-2], starts[1:-1], strict=True))
    for i in range(60):
        centre = i * sr + sr // 2
        used = covering(starts, width, centre, stride=width // 2)
        assert used and all(starts[k] <= centre < starts[k] + width for k in used)
    assert window_starts(sr, width, stride=width // 2) == [0]
    # Windows as long as a step: exactly one per step, the tail window only for the last step.
    starts = window_starts(int(2.5 * sr), sr, stride=sr)
    assert starts == [0, sr, int(1.5 * sr)]
    assert [covering(starts, sr, i * sr + sr // 2, stride=sr) for i in range(3)] == [[0], [1], [2]]


def test_musicnn_files_are_answered_from_windows_of_the_whole_spectrogram():
    """musicnn models learnt from windows cut out of a clip's spectrogram, and the live stream gives
    them the same: a file is answered from that cut too, not from audio windows faded at their ends
    (which held-out real phrases answered worse); each second reads the windows that hold it."""
    from instrument_studio.core.config import MUSICNN_FEATURES
    from instrument_studio.core.features.clip import clip_features

    sr = MUSICNN_FEATURES.mel.sr
    seen = []

    class Bundle:  # answers "high" by the share of the window's level in the upper mel bands
        feature_config = MUSICNN_FEATURES
        labels = ("low", "high")

        def predict_proba(self, rows):
            seen.append(np.array(rows))
            high = rows[:, :, 48:].mean(axis=(1, 2)) / rows.mean(axis=(1, 2))
            return np.stack([1 - high / 2, high / 2], axis=1)

    t = np.arange(10 * sr) / sr
    y = np.where(t < 5, np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 3520 * t)).astype(np.float32) * 0.3
    pred = Predictor(Bundle()).predict(y, sr)
    assert np.array_equal(np.concatenate(seen), clip_features(y, MUSICNN_FEATURES))
    steps = [a.label for a in pred.step_answers()]
    assert steps[:3] == ["low"] * 3 and steps[-3:] == ["high"] * 3
    assert len(steps) == 10


def test_a_long_file_reaches_the_model_a_few_windows_at_a_time():
    """Every window of a long file at once held gigabytes of activations (10 min: 5.5 GB above the
    app); the predictor hands the model at most rows_per_call windows per call, and the answers
    are the same as one window at a time."""
    from instrument_studio.core.config import MUSICNN_FEATURES
    from instrument_studio.core.learn.bundle import rows_per_call

    calls = []

    class Bundle:
        feature_config = MUSICNN_FEATURES
        labels = ("a", "b")
        input_shape = (MUSICNN_FEATURES.patch_frames, MUSICNN_FEATURES.mel.n_mels)
        mean = std = None

        @staticmethod
        def model(x, training=False):
            calls.append(len(x))
            level = np.asarray(x).mean(axis=(1, 2))[:, None] / 10
            return np.concatenate([1 / (1 + np.exp(-level)), 1 - 1 / (1 + np.exp(-level))], axis=1)

        def standardise(self, x):
            return x

    sr = MUSICNN_FEATURES.mel.sr
    y = (0.1 * np.random.default_rng(0).standard_normal(60 * sr)).astype(np.float32)
    predictor = Predictor(Bundle())
    predictor._forward = lambda model: model        # the fake model needs no compiling
    whole = predictor.predict(y, sr)
    rows, n = predictor.rows(y), rows_per_call(Bundle.input_shape)
    assert sum(calls) == len(rows) > n and max(calls) <= n and len(calls) == -(-len(rows) // n)
    one_by_one = np.concatenate([predictor.proba_of_rows(rows[i:i + 1]) for i in range(len(rows))])
    np.testing.assert_allclose(predictor.proba_of_rows(rows), one_by_one, rtol=1e-6)
    assert whole.timeline.shape == (60, 2)


def test_answering_among_a_few_classes_rescales_the_file_and_every_second():
    """What a user who knows the recording is one of a few instruments asks (`predict --only`, the
    Predict panel's "Among" menu): the likeliest of those, the model's unknown class still there."""
    from instrument_studio.core.predict.inference import Prediction, check_classes

    labels = ("cello", "flute", "violin", "unknown")
    whole = np.array([0.5, 0.3, 0.1, 0.1])
    steps = np.array([[0.5, 0.3, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7], [0.45, 0.15, 0.1, 0.3]])
    pred = Prediction(labels, whole, np.array([0.0, 1.0, 2.0]), steps, np.zeros(3, dtype=bool), duration=3.0,
                      unknown_threshold=0.2)
    assert pred.label == "cello"
    among = pred.among(["Violin", " flute"])      # names as typed: case and spaces do not matter
    assert among.considered == ("flute", "violin", "unknown")
    # Cello's 0.5 goes to flute and violin (3 : 1); unknown keeps its 0.1.
    assert among.probabilities == pytest.approx([0.0, 0.675, 0.225, 0.1])
    assert among.label == "flute" and among.probability == pytest.approx(0.675)
    assert among.timeline.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0]) and among.timeline[:, 0].max() == 0.0
    # The second that sounded like nothing the model knows is still unknown, its nearest among the choice.
    answers = among.step_answers()
    assert (answers[1].label, answers[1].nearest) == ("unknown", "flute")
    # A second more like the cello ruled out than like anything else is flute, not unknown: had
    # unknown shared the cello's probability, it would have had 0.55 of it.
    assert among.timeline[2] == pytest.approx([0.0, 0.42, 0.28, 0.3])
    assert answers[2].label == "flute"
    assert [label for label, _ in among.ranked()] == ["flute", "violin", "unknown"]
    row = among.to_dict("x.wav")
    assert row["considered"] == ["flute", "violin", "unknown"] and "cello" not in row["probabilities"]
    assert "considered" not in pred.to_dict("x.wav")
    # Every class, or none given: the prediction as it was.
    assert pred.among(None) is pred and pred.among(["cello", "flute", "violin"]) is pred
    with pytest.raises(StudioError, match="not a class of this model: kazoo .*it knows: cello, flute, violin"):
        check_classes(labels, ["violin", "kazoo"])
    with pytest.raises(StudioError, match="no classes"):
        check_classes(labels, [" ", ""])
    assert check_classes(labels, ["VIOLIN", "violin", "cello"]) == ["violin", "cello"]
