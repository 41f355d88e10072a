"""Threads and memory of training runs: features are extracted off the TensorFlow thread, and a
session's finished runs release their Keras models when newer runs supersede them."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from instrument_studio.core.errors import ModelError
from instrument_studio.core.features import extraction
from instrument_studio.core.learn import runs as runs_mod
from instrument_studio.core.learn import training
from instrument_studio.core.learn.runs import MODELS_KEPT, release_superseded, training_run
from instrument_studio.core.learn.tfthread import run_in_tf_thread
from instrument_studio.core.learn.training import TrainConfig
from tests.training_data import blobs


def test_extraction_runs_on_the_calling_thread_and_only_tensorflow_on_the_tf_thread(monkeypatch):
    seen = {}
    data = blobs(n_train=30, n_test=9)

    def load_feature_set(*_a, **_k):
        seen["features"] = threading.current_thread().name
        return data

    def train(*_a, **_k):
        seen["train"] = threading.current_thread().name
        return "result"

    def from_result(run_id, result, data, *, dataset):
        seen["metrics"] = threading.current_thread().name
        return (run_id, result, dataset)

    monkeypatch.setattr(extraction, "load_feature_set", load_feature_set)
    monkeypatch.setattr(training, "train", train)
    monkeypatch.setattr(runs_mod.SessionRun, "from_result", staticmethod(from_result))
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("run", training_run(
        run_id=1, source="somewhere", label="x", features=None, feature_config=data.config, config=TrainConfig(),
        emit=lambda e: None, should_stop=lambda: False, run_tf=run_in_tf_thread)), name="pool-worker")
    worker.start()
    worker.join(30)
    assert box["run"] == (1, "result", "x")
    assert seen["features"] == "pool-worker"
    assert seen["train"].startswith("tensorflow") and seen["metrics"].startswith("tensorflow")


@pytest.mark.timeout(240)
def test_superseded_runs_release_their_keras_model():
    data = blobs(n_train=60, n_test=15)
    cfg = TrainConfig(model="mlp", epochs=1, batch_size=32, model_params={"units": 8})
    runs, models = [], []
    for i in range(MODELS_KEPT + 2):
        run = training_run(run_id=i + 1, source=None, label="blobs", features=data, feature_config=data.config,
                           config=cfg, emit=lambda e: None, should_stop=lambda: False)
        runs.append(run)
        models.append(weakref.ref(run.result.model))
        release_superseded(runs)
        del run
    gc.collect()
    alive = [m() is not None for m in models]
    assert alive == [False, False] + [True] * MODELS_KEPT
    assert [r.holds_model for r in runs] == alive
    assert all(r.history and r.metrics for r in runs)          # the figures stay
    with pytest.raises(ModelError, match="no longer in memory"):
        runs[0].save_bundle("/nonexistent/never-written")
    assert runs[-1].result.predict_proba(data.x["test"]).shape == (15, 3)   # the kept ones still work


def _traced_graphs() -> int:
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    # type(), not isinstance(): a dead weakref.proxy among the objects raises on isinstance.
    return sum(issubclass(type(o), FuncGraph) for o in gc.get_objects())


@pytest.mark.timeout(240)
def test_released_runs_let_go_of_their_traced_graphs_too():
    # TensorFlow keeps every custom-gradient closure a fit traces in a global registry, and with it
    # the fit's whole graph (issue #97697): released models still left ~17,000 objects each behind,
    # which every later collection at a run's end scanned (the Training panel's GUI share grew per run).
    from instrument_studio.core.learn.backend import backend_name, custom_gradient_keys

    if backend_name() != "tensorflow":
        pytest.skip("the registry that holds traced graphs is TensorFlow's")
    data = blobs(n_train=60, n_test=15)
    cfg = TrainConfig(model="mlp", epochs=1, batch_size=32, model_params={"units": 8})
    runs, counts = [], []
    for i in range(MODELS_KEPT + 4):
        runs.append(training_run(run_id=i + 1, source=None, label="blobs", features=data,
                                 feature_config=data.config, config=cfg, emit=lambda e: None,
                                 should_stop=lambda: False))
        released = release_superseded(runs)
        if i >= MODELS_KEPT:
            assert len(released) == 1
            counts.append(_traced_graphs())
    kept = [r for r in runs if r.holds_model]
    assert len(kept) == MODELS_KEPT
    assert all(r.result.traced_gradients for r in kept)        # a fit traced some (else nothing tested)
    assert all(r.result.traced_gradients <= custom_gradient_keys() for r in kept)
    # As many traced graphs alive after the seventh run as after the fourth: only the kept runs'.
    assert counts[-1] <= counts[0], counts
