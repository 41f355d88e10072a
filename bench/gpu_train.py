"""GPU training check: the app's training path vs a bare `model.fit`, per model, with NVML energy.

Each model trains for a few epochs on generated features (MLP on 120-value vectors, Han 2017 CNN on
128 x 43 mel-like patches), two ways, alternating, on the same data, seed and compiled model:

  bare  Keras alone: build_compiled() (the model and optimizer train() uses), `model.fit` for one
        compiling epoch + --epochs, with no callback but an epoch clock (on_epoch_end only).
  app   core.learn.training.train(): split, standardisation, seeding, the KerasBridge events (drained
        by a consumer, as the GUI's frame clock does), KeepBest, Stop polling; timed from the end of
        its first epoch (compilation) to the end of its last, from its own EpochEnd events.

Printed: backend, device (as `train --json` names it), the GPU NVML measures (only the one Keras
trains on: CUDA_VISIBLE_DEVICES is honoured), samples/s of each path, their ratio (aim >= 0.95 on a
GPU, <= 1.05x the time on a CPU), and joules per run and per sample. Needs no TensorFlow: with
KERAS_BACKEND (or --backend) jax or torch nothing imports it. No GUI, no audio.

    python bench/gpu_train.py --backend jax [--models mlp,han2017] [--batch-size 128] [--epochs 3]
                              [--repeats 2] [--json OUT.json]
    python bench/gpu_train.py --small ...    # CPU-sized data, for a laptop or CI smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

SHAPES = {"mlp": (120,), "han2017": (128, 43), "han2017-leaky": (128, 43), "cnn": (128, 43), "lstm": (130, 21)}
KINDS = {"mlp": "mfcc", "lstm": "sequence"}


def make_data(model: str, rows: int, classes: int = 10, seed: int = 1):
    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.features.featureset import FeatureSet

    rng = np.random.default_rng(seed)
    shape = SHAPES[model]
    centres = rng.normal(0, 1, (classes, *shape)).astype(np.float32)
    y = rng.integers(0, classes, rows)
    x = centres[y] + rng.normal(0, 2.0, (rows, *shape)).astype(np.float32)
    return FeatureSet(labels=tuple(f"c{i}" for i in range(classes)),
                      config=FeatureConfig(kind=KINDS.get(model, "mel-patches")), x={"train": x}, y={"train": y})


class Energy:
    """NVML energy of the GPU Keras trains on (core/experiments/energy.py), or None with the reason."""

    def __init__(self):
        from instrument_studio.core.experiments.energy import NvmlMeter

        self.meter = NvmlMeter()

    @property
    def label(self) -> str:
        return self.meter.label if self.meter.available else f"unavailable: {self.meter.reason}"

    def start(self):
        if self.meter.available:
            self.meter.start()

    def stop(self):
        if not self.meter.available:
            return None, ()
        joules = self.meter.stop()
        return joules, self.meter.per_device


def bare(cfg, data, epochs: int, energy: Energy) -> dict:
    """Keras alone: the data train() would see (no validation split here), no callbacks of the app.
    Timed like app(): from the end of the first (compiling) epoch to the end of the last, by a clock
    that only implements on_epoch_end (Keras keeps async dispatch for it: no batch-end method)."""
    import keras

    from instrument_studio.core.learn.backend import detect_device, seed_and_determinism
    from instrument_studio.core.learn.training import _standardisation, build_compiled, resolve_reproducible

    x, y = data.x["train"], np.asarray(data.y["train"])
    mean, std = _standardisation(x, data)
    x = ((x - mean) / std).astype(np.float32)
    y = y.astype(np.int64)
    seed_and_determinism(cfg.seed, resolve_reproducible(cfg.reproducible, detect_device()))
    model = build_compiled(cfg, data.input_shape, data.n_classes)
    marks: dict[int, float] = {}

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            marks[epoch + 1] = time.perf_counter()
            if epoch == 0:
                energy.start()

    model.fit(x, y, batch_size=cfg.batch_size, epochs=epochs + 1, shuffle=True, verbose=0, callbacks=[EpochClock()])
    joules, per_gpu = energy.stop()
    return {"seconds": marks[epochs + 1] - marks[1], "samples": epochs * len(x), "joules": joules, "per_gpu": per_gpu}


def app(cfg, data, epochs: int, energy: Energy) -> dict:
    """train() as the GUI and CLI call it; its events go to a deque drained by another thread."""
    import collections
    import threading

    from instrument_studio.core.events import EpochEnd, TrainStarted
    from instrument_studio.core.learn.training import train

    queue: collections.deque = collections.deque()
    marks: dict[int, float] = {}
    started: list = []
    stop = threading.Event()
    done = threading.Event()

    def drain():   # the GUI's frame clock, at 60 Hz
        while not done.wait(1 / 60):
            while queue:
                queue.popleft()

    def on_event(ev):
        queue.append(ev)
        if isinstance(ev, EpochEnd):
            marks[ev.epoch] = time.perf_counter()
            if ev.epoch == 1:
                energy.start()    # from the end of the compiling epoch, as bare()
        elif isinstance(ev, TrainStarted):
            started.append(ev)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        result = train(cfg.__class__(**{**cfg.to_dict(), "epochs": epochs + 1}), data, on_event=on_event,
                       should_stop=stop.is_set)
    finally:
        done.set()
        drainer.join()
    joules, per_gpu = energy.stop()
    return {"seconds": marks[epochs + 1] - marks[1], "samples": epochs * result.n_train, "joules": joules,
            "per_gpu": per_gpu, "device": result.device, "backend": result.backend,
            "reproducible": result.reproducible}


def _joules(value: float | None) -> str:
    return f"{value:8.1f}" if value is not None else "     n/a"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=("tensorflow", "jax", "torch"), default=None,
                    help="Keras backend (default: KERAS_BACKEND, else TensorFlow when installed)")
    ap.add_argument("--models", default="mlp,han2017")
    ap.add_argument("--batch-size", type=int, action="append", default=None, help="repeatable (default 128)")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs after a compiling one (default 3)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rows-mlp", type=int, default=200_000)
    ap.add_argument("--rows-cnn", type=int, default=24_576)
    ap.add_argument("--small", action="store_true", help="CPU-sized: 20,000 MLP rows, 1,024 CNN rows")
    ap.add_argument("--steps-per-execution", type=int, default=1)
    ap.add_argument("--mixed-precision", choices=("off", "bfloat16", "float16"), default="off",
                    help="for the CNNs (both paths)")
    ap.add_argument("--json", metavar="OUT", help="write the figures as JSON too")
    args = ap.parse_args(argv)
    if args.small:
        args.rows_mlp, args.rows_cnn = 20_000, 1_024

    from instrument_studio.core.learn.backend import choose_backend, detect_device, versions

    choose_backend(args.backend)
    from instrument_studio.core.learn.training import TrainConfig

    device = detect_device()
    import keras

    energy = Energy()
    info = {"backend": keras.backend.backend(), "keras": keras.__version__, **versions(), "device": device,
            "nvml": energy.label, "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "tensorflow_imported": "tensorflow" in sys.modules}
    print(f"backend {info['backend']} ({', '.join(f'{k} {v}' for k, v in versions().items() if k != 'keras_backend')}), "
          f"Keras {keras.__version__}; device: {device}")
    print(f"energy: {energy.label}")
    rows = []
    print(f"{'model':<10}{'batch':>6}{'rows':>8} | {'bare samples/s':>15}{'app samples/s':>15}{'ratio':>7} | "
          f"{'bare J':>8}{'app J':>8}{'app mJ/sample':>14}")
    for model in args.models.split(","):
        n = args.rows_mlp if model in ("mlp",) else args.rows_cnn
        data = make_data(model, n)
        for batch in args.batch_size or [128]:
            mp = args.mixed_precision if KINDS.get(model, "mel-patches") == "mel-patches" else "off"
            cfg = TrainConfig(model=model, batch_size=batch, epochs=args.epochs, seed=7, validation_split=0.0,
                              mixed_precision=mp, steps_per_execution=args.steps_per_execution)
            b_runs, a_runs = [], []
            for _ in range(args.repeats):
                b_runs.append(bare(cfg, data, args.epochs, energy))
                a_runs.append(app(cfg, data, args.epochs, energy))
            b_sps = statistics.median(r["samples"] / r["seconds"] for r in b_runs)
            a_sps = statistics.median(r["samples"] / r["seconds"] for r in a_runs)
            joules = [r["joules"] for r in a_runs]
            b_j = statistics.median(r["joules"] for r in b_runs) if b_runs[0]["joules"] is not None else None
            a_j = statistics.median(joules) if joules[0] is not None else None
            row = {"model": model, "batch_size": batch, "rows": n, "epochs": args.epochs, "mixed_precision": mp,
                   "steps_per_execution": args.steps_per_execution,
                   "bare_samples_per_s": [r["samples"] / r["seconds"] for r in b_runs],
                   "app_samples_per_s": [r["samples"] / r["seconds"] for r in a_runs],
                   "ratio": a_sps / b_sps, "bare_joules": b_j, "app_joules": a_j,
                   "app_joules_per_gpu": [list(p) for p in a_runs[-1]["per_gpu"]],
                   "app_device": a_runs[-1]["device"], "app_reproducible": a_runs[-1]["reproducible"]}
            rows.append(row)
            per_sample = f"{1000 * a_j / a_runs[0]['samples']:14.4f}" if a_j is not None else "           n/a"
            print(f"{model:<10}{batch:>6}{n:>8} | {b_sps:>15,.0f}{a_sps:>15,.0f}{a_sps / b_sps:>7.3f} | "
                  f"{_joules(b_j)}{_joules(a_j)}{per_sample}", flush=True)
            for label, j in a_runs[-1]["per_gpu"]:
                print(f"{'':<24}app run energy on {label}: {j:.1f} J")
    print("ratio = app samples/s / bare samples/s (aim >= 0.95); medians of "
          f"{args.repeats} alternating runs, compilation excluded")
    if "tensorflow" in sys.modules and info["backend"] != "tensorflow":
        print("WARNING: TensorFlow was imported on a non-TensorFlow backend")
    if args.json:
        Path(args.json).write_text(json.dumps({**info, "tensorflow_imported": "tensorflow" in sys.modules,
                                               "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
