"""The TensorFlow thread rule, as changed and tested here (core/learn/tfthread.py):

TensorFlow runs only on long-lived plain Python threads, never on a reused Qt pool thread: the one
TensorFlow thread does every build, fit, load, save and summary; the live predictor's own thread
only *calls* a model that is already loaded. The two may run at the same moment: a fit and live
answers do not share a model, and calling a built model touches none of Keras' global state."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from instrument_studio.core.learn.tfthread import import_tensorflow, run_in_tf_thread


def _models():
    import_tensorflow()
    import keras

    keras.utils.set_random_seed(0)

    def mlp():
        return keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="relu"),
                                 keras.layers.Dense(3, activation="softmax")])

    trained, live = mlp(), mlp()
    trained.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return trained, live


@pytest.mark.timeout(240)
def test_live_inference_on_its_own_thread_while_a_fit_runs_on_the_tf_thread():
    trained, live = run_in_tf_thread(_models)
    rng = np.random.default_rng(0)
    x_live = rng.normal(size=(4, 12)).astype(np.float32)
    expected = run_in_tf_thread(lambda: np.asarray(live(x_live, training=False)))
    x_fit = rng.normal(size=(2000, 12)).astype(np.float32)
    y_fit = rng.integers(0, 3, 2000)

    stop, answers, errors = threading.Event(), [], []

    def live_thread():
        try:
            while not stop.is_set():
                answers.append(np.asarray(live(x_live, training=False)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=live_thread, name="live-predictor", daemon=True)
    t.start()
    try:
        history = run_in_tf_thread(lambda: trained.fit(x_fit, y_fit, epochs=3, batch_size=32, verbose=0).history)
    finally:
        stop.set()
        t.join(30)
    assert not errors, errors
    assert len(history["loss"]) == 3 and np.all(np.isfinite(history["loss"]))
    assert len(answers) >= 5
    for a in answers:
        np.testing.assert_allclose(a, expected, rtol=1e-5, atol=1e-6)
