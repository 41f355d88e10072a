"""Run in a subprocess by tests/core/test_backends.py, with KERAS_BACKEND set: Keras picks its backend
once per process, so each backend needs a process of its own.

    python -m tests.backend_job train OUT_JSON [BUNDLE_DIR]   train twice (same seed), save a bundle
    python -m tests.backend_job predict BUNDLE_DIR OUT_NPY    load a bundle, predict the probe rows

Prints nothing; writes JSON (train) or .npy (predict) for the test to check.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def probe_rows(shape) -> np.ndarray:
    return np.random.default_rng(123).normal(0.0, 1.0, (16, *shape)).astype(np.float32)


def train(out_json: str, bundle_dir: str | None, model: str) -> None:
    from instrument_studio.core.learn.bundle import save_bundle
    from instrument_studio.core.learn.training import TrainConfig, train as train_run
    from tests.training_data import blobs, patches

    if model == "mlp":
        data = blobs(n_train=160)
        cfg = TrainConfig(model="mlp", model_params={"units": 16}, batch_size=32, learning_rate=0.01, epochs=2, seed=5)
    else:  # a CNN: convolutions and pooling must agree across backends too
        data = patches()
        cfg = TrainConfig(model="han2017", model_params={"filters": 2, "dense_units": 8}, batch_size=8, epochs=1,
                          seed=5)
    a = train_run(cfg, data)
    b = train_run(cfg, data)
    report = {"backend": a.backend, "device": a.device, "reproducible": a.reproducible,
              "history": a.history, "history_again": b.history,
              "tensorflow_imported": "tensorflow" in sys.modules}
    if bundle_dir:
        save_bundle(bundle_dir, model=a.model, labels=a.labels, feature_config=a.feature_config, mean=a.mean,
                    std=a.std, train_config=cfg.to_dict(), history=a.history)
        proba = np.asarray(a.model.predict(probe_rows(data.input_shape), verbose=0))
        np.save(bundle_dir + ".trained.npy", proba)
    with open(out_json, "w") as fh:
        json.dump(report, fh)


def predict(bundle_dir: str, out_npy: str) -> None:
    from instrument_studio.core.learn.bundle import load_bundle

    bundle = load_bundle(bundle_dir)
    proba = np.asarray(bundle.model.predict(probe_rows(bundle.input_shape), verbose=0))
    np.save(out_npy, proba)


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None, sys.argv[4] if len(sys.argv) > 4 else "mlp")
    else:
        predict(sys.argv[2], sys.argv[3])
