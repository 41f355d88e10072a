"""Run in a subprocess by tests/core/test_backends.py, with KERAS_BACKEND set: Keras picks its backend
once per process, so each backend needs a process of its own.

    python -m tests.backend_job train OUT_JSON          train the MLP twice (same seed), report both curves
    python -m tests.backend_job bundles FOLDER          train the MLP and a CNN once, save FOLDER/<model> bundles
                                                        and their predictions of the probe rows
    python -m tests.backend_job predict FOLDER          load FOLDER/<model>, predict the probe rows

Prints nothing; writes JSON (train) or .npy (predict) for the test to check.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def probe_rows(shape) -> np.ndarray:
    return np.random.default_rng(123).normal(0.0, 1.0, (16, *shape)).astype(np.float32)


MODELS = ("mlp", "han2017")


def config_and_data(model: str):
    from instrument_studio.core.learn.training import TrainConfig
    from tests.training_data import blobs, patches

    if model == "mlp":
        return (TrainConfig(model="mlp", model_params={"units": 16}, batch_size=32, learning_rate=0.01, epochs=2,
                            seed=5), blobs(n_train=160))
    # a CNN: convolutions, pooling and their layouts must agree across backends too
    return TrainConfig(model="han2017", model_params={"filters": 2, "dense_units": 8}, batch_size=8, epochs=1,
                       seed=5), patches()


def train(out_json: str) -> None:
    from instrument_studio.core.learn.training import train as train_run

    cfg, data = config_and_data("mlp")
    a = train_run(cfg, data)
    b = train_run(cfg, data)
    report = {"backend": a.backend, "device": a.device, "reproducible": a.reproducible,
              "history": a.history, "history_again": b.history,
              "tensorflow_imported": "tensorflow" in sys.modules}
    with open(out_json, "w") as fh:
        json.dump(report, fh)


def bundles(folder: str) -> None:
    from instrument_studio.core.learn.bundle import save_bundle
    from instrument_studio.core.learn.training import train as train_run

    for model in MODELS:
        cfg, data = config_and_data(model)
        a = train_run(cfg, data)
        path = f"{folder}/{model}"
        save_bundle(path, model=a.model, labels=a.labels, feature_config=a.feature_config, mean=a.mean,
                    std=a.std, train_config=cfg, history=a.history)
        np.save(path + ".here.npy", np.asarray(a.model.predict(probe_rows(data.input_shape), verbose=0)))


def predict(folder: str) -> None:
    from instrument_studio.core.learn.bundle import load_bundle

    for model in MODELS:
        bundle = load_bundle(f"{folder}/{model}")
        np.save(f"{folder}/{model}.there.npy",
                np.asarray(bundle.model.predict(probe_rows(bundle.input_shape), verbose=0)))


if __name__ == "__main__":
    {"train": train, "bundles": bundles, "predict": predict}[sys.argv[1]](sys.argv[2])
