"""Live prediction: several answers a second from the most recent window, honest about silence,
and through the virtual microphone it names the instrument of a file played into it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from instrument_studio.core.events import LivePrediction
from instrument_studio.core.predict.inference import load_predictor
from instrument_studio.core.predict.live_predict import LivePredictor
from tests.fakes import slow_model
from tests.synth_instruments import SR, note


@pytest.fixture(scope="module")
def predictor(synth_model):
    return load_predictor(synth_model[0])


class FakePipeline:
    """The live pipeline's listener API, fed by hand at real-time pace."""

    def __init__(self):
        self.listeners = []
        self.audio = np.zeros(0, dtype=np.float32)

    def add_listener(self, fn):
        self.listeners.append(fn)

    def remove_listener(self, fn):
        self.listeners.remove(fn)

    def latest_audio(self, seconds):
        return self.audio[-int(seconds * SR):].copy()

    def feed(self, y, *, block=1024):
        for i in range(0, len(y), block):
            b = y[i:i + block]
            first = len(self.audio)
            self.audio = np.concatenate([self.audio, b])
            for fn in list(self.listeners):
                fn(b, SR, first)
            time.sleep(len(b) / SR)


def test_rate_latency_and_states(predictor):
    live = LivePredictor(predictor, steady_rate_hz=None)      # the full rate throughout
    results = _answers(live, np.zeros(SR // 2, dtype=np.float32), note("tone", seconds=3.0, freq=440.0))
    # At least 4 answers a second over the 3.5 s fed (minus start-up).
    assert len(results) >= 12, len(results)
    assert any(r.state == "uncertain" and "silent" in r.reason for r in results[:3])
    # Windows still half silent belong to no class the model knows; once the window is all
    # tone, the answer is the tone.
    heard = [r.ranked(1)[0][0] for r in results if r.state == "confident"][-8:]
    assert len(heard) == 8 and heard.count("tone") >= 6, heard
    assert all(r.latency >= 0 for r in results)


@pytest.mark.mic
def test_virtual_microphone_names_the_played_instrument(predictor, virtual_mic, tmp_path):
    from instrument_studio.core.audio.audiofile import save_wav
    from instrument_studio.core.live.pipeline import LivePipeline, MicSource

    wav = save_wav(tmp_path / "buzz.wav", np.concatenate([note("buzz", seconds=1.5, freq=330.0, seed=s)
                                                          for s in range(3)]), SR)
    pipeline = LivePipeline()
    live = LivePredictor(predictor)
    pipeline.start(MicSource(virtual_mic.device))
    live.attach(pipeline)
    try:
        time.sleep(0.3)
        virtual_mic.play(wav)
        virtual_mic.wait_players(timeout=30)
    finally:
        live.detach()
        pipeline.stop()
    results = [r for r in live.poll() if isinstance(r, LivePrediction)]
    heard = [r.ranked(1)[0][0] for r in results if r.state == "confident"]
    assert heard, [(r.state, r.reason) for r in results]
    assert max(set(heard), key=heard.count) == "buzz", heard


def test_audio_at_the_pipeline_rate_is_resampled_to_the_model_rate(predictor):
    """The live pipeline keeps 22,050 Hz audio; a model trained at another rate (the musicnn
    default model: 16 kHz) must hear its own rate, or every pitch and band is off."""
    seen = []

    class Model16k:
        sr = 16000

    class Pipe(FakePipeline):
        sr = 22050

    live = LivePredictor(predictor)
    live.predictor.sr = Model16k.sr
    live.predictor.predict_window = lambda y: seen.append(len(y)) or np.full(len(live.predictor.labels),
                                                                             1.0 / len(live.predictor.labels))
    pipe = Pipe()
    pipe.audio = note("tone", seconds=2.0, freq=440.0)
    live._pipeline = pipe
    live._predict_once()
    assert seen and abs(seen[0] - int(live.window_seconds * 16000)) <= 2


def _answers(live, *signals):
    """Feed `signals` through a fake pipeline at real-time pace; the LivePredictions given."""
    pipe = FakePipeline()
    live.attach(pipe)
    try:
        for y in signals:
            pipe.feed(y)
    finally:
        live.detach()
    assert not pipe.listeners and not live.running
    return [r for r in live.poll() if isinstance(r, LivePrediction)]


def test_a_costly_model_answers_within_its_cpu_share(predictor):
    """0.1 s an answer with a quarter of a core: one answer every 0.4 s, not six a second."""
    live = LivePredictor(predictor, cpu_share=0.25)
    calls = slow_model(live, 0.1)
    results = _answers(live, note("tone", seconds=3.0, freq=440.0))
    assert 4 <= len(calls) <= 9, len(calls)          # 3 s / 0.4 s, give or take the start
    # The first answer compiles the graph: it is no measure of the cost and spaces nothing.
    first, *spent = [r for r in results if r.probabilities is not None]
    assert first.spacing < 0.2, first.spacing
    assert spent and all(r.spacing >= 0.4 for r in spent), [r.spacing for r in spent]
    starts = [r.result_time for r in spent]
    assert min(np.diff(starts)) >= 0.35, np.diff(starts)


def test_silence_costs_no_budget_and_is_answered_at_the_full_rate(predictor):
    live = LivePredictor(predictor, cpu_share=0.05)
    calls = slow_model(live, 0.1)
    results = _answers(live, np.zeros(2 * SR, dtype=np.float32))
    assert not calls
    assert len(results) >= 6 and all(r.reason == "silent input" for r in results), len(results)


def test_a_steady_answer_comes_less_often_and_a_change_brings_the_full_rate_back(predictor):
    from instrument_studio.core.predict.live_predict import STEADY_AFTER

    live = LivePredictor(predictor, cpu_share=1.0)   # the rate, not the CPU budget, spaces these answers
    assert live.steady_period > live.period
    results = _answers(live, note("tone", seconds=4.0, freq=440.0), note("buzz", seconds=4.0, freq=330.0, seed=1))
    run, last, steady, full = 0, None, [], []
    for r in results:
        top = r.ranked(1)[0][0] if r.state == "confident" else None
        run = 0 if top is None else run + 1 if top == last else 1
        last = top
        (steady if run >= STEADY_AFTER else full).append(r.spacing)
    # Answers come at the full rate until the same class has been named STEADY_AFTER times running,
    # then at the steady rate; any other answer brings the full rate back at once.
    assert steady and min(steady) >= live.steady_period - 1e-9, steady
    assert full and max(full) < live.steady_period, full
    named = [r.ranked(1)[0][0] for r in results if r.state == "confident"]
    assert "tone" in named and named[-1] == "buzz", named
    # The first answer naming "buzz" ends the steady run: the next answer comes at the full rate.
    first_buzz = named.index("buzz")
    confident = [r for r in results if r.state == "confident"]
    assert confident[first_buzz].spacing < live.steady_period
    # Over 8 s, fewer answers than the full rate would give.
    assert len(results) < 8.0 / live.period - 8, len(results)


def test_live_answers_among_the_classes_chosen_and_back_to_every_class(predictor):
    """A tone played while the musician says it is buzz or noise: no answer names the tone (nor
    lists it), until every class is asked for again."""
    from instrument_studio.core.errors import StudioError

    live = LivePredictor(predictor, steady_rate_hz=None)
    with pytest.raises(StudioError, match="not a class of this model: viola"):
        live.answer_among(["viola"])
    live.answer_among(["buzz", "noise"])
    among = [r for r in _answers(live, note("tone", seconds=2.0, freq=440.0)) if r.probabilities is not None]
    assert among and all(r.considered == ("buzz", "noise") for r in among)
    assert all(name != "tone" for r in among for name, _p in r.ranked())
    assert all(r.probabilities[predictor.labels.index("tone")] == 0.0 for r in among)
    live.answer_among(None)
    every = [r for r in _answers(live, note("tone", seconds=2.0, freq=440.0)) if r.state == "confident"]
    assert every and every[-1].considered is None and every[-1].ranked(1)[0][0] == "tone"
