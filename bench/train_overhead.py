"""What the app costs on top of a bare `model.fit`, and whether the window stays fluid meanwhile.

The same model, data and seed are trained (a) with a bare Keras `model.fit` (no callbacks, no GUI)
and (b) through the Training panel: its worker, the KerasBridge events, and live curves drawn on the
frame clock in an offscreen main window. Runs alternate (a, b, a, b, ...) to share the machine's
noise. Printed: fit wall times and their ratio (aim <= 1.05), end-to-end time of the app run (click
to run list), the longest GUI event-loop stall during training (aim < 50 ms, probed by a 5 ms timer),
and the device. The two paths must give the same curves (same seed), which is checked too.

    python bench/train_overhead.py [--rows 20000] [--dim 120] [--classes 10] [--epochs 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The benchmark's runs go to a run list of its own, not into the user's Training panel.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="train-overhead-")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def make_data(rows: int, dim: int, classes: int, seed: int):
    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.features.featureset import FeatureSet

    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (classes, dim))
    y = rng.integers(0, classes, rows)
    x = (centres[y] + rng.normal(0, 2.0, (rows, dim))).astype(np.float32)
    return FeatureSet(labels=tuple(f"c{i}" for i in range(classes)), config=FeatureConfig(kind="mfcc"),
                      x={"train": x}, y={"train": y})


def bare_fit(cfg, data) -> tuple[float, dict]:
    """Keras alone: the same split, standardisation, seed, model and optimizer as train()."""
    from instrument_studio.core.learn.backend import (
        custom_gradient_keys,
        detect_device,
        forget_custom_gradients,
        resolve_reproducible,
        seed_and_determinism,
    )
    from instrument_studio.core.learn.training import _standardisation, build_compiled, split_validation

    split = split_validation(data, cfg.validation_split, cfg.seed)
    mean, std = _standardisation(split.x_train, data)
    xt, xv = (split.x_train - mean) / std, (split.x_val - mean) / std
    seed_and_determinism(cfg.seed, resolve_reproducible(cfg.reproducible, detect_device()))
    model = build_compiled(cfg, data.input_shape, data.n_classes)
    t0 = time.perf_counter()
    before = custom_gradient_keys()
    history = model.fit(xt.astype(np.float32), split.y_train, batch_size=cfg.batch_size, epochs=cfg.epochs,
                        validation_data=(xv.astype(np.float32), split.y_val), shuffle=True, verbose=0)
    seconds = time.perf_counter() - t0
    # What the app does when it releases a run's model: else this model's traced graphs would stay
    # alive and slow every later collection in the app's rounds.
    forget_custom_gradients(custom_gradient_keys() - before)
    return seconds, {k: [float(v) for v in vals] for k, vals in history.history.items()}


class StallProbe:
    """A 5 ms repeating timer: the longest gap between its ticks, minus 5 ms, is the longest stall."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.last = None

    def _tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.gaps.append(now - self.last)
        self.last = now

    def start(self):
        self.gaps.clear()
        self.last = None
        self.timer.start()

    def stop(self):
        self.timer.stop()
        stalls = np.maximum(np.asarray(self.gaps) - 0.005, 0.0) * 1000
        return (float(stalls.max()) if len(stalls) else 0.0), (float(np.percentile(stalls, 99)) if len(stalls) else 0.0)


def pump(app, probe, *, seconds: float = 0.0, until=None) -> tuple[float, float]:
    """Run a real Qt event loop (as the app does) with the stall probe, for `seconds` or until
    until() is true (checked every 20 ms)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    check = QTimer()
    if until is None:
        check.setSingleShot(True)
        check.timeout.connect(loop.quit)
        check.start(int(seconds * 1000))
    else:
        check.timeout.connect(lambda: until() and loop.quit())
        check.start(20)
    probe.start()
    cpu = time.thread_time()
    loop.exec()
    check.stop()
    pump.gui_cpu = time.thread_time() - cpu
    return probe.stop()


def bare_fit_with_gui_idle(app, probe, cfg, data):
    """The bare fit on the TensorFlow thread while the GUI thread only runs the probe: the stalls
    TensorFlow alone causes (GIL, CPU), without the app's events or curves."""
    import threading

    from instrument_studio.core.learn.tfthread import run_in_tf_thread

    out = {}
    t = threading.Thread(target=lambda: out.update(r=run_in_tf_thread(bare_fit, cfg, data)))
    t.start()
    worst, p99 = pump(app, probe, until=lambda: "r" in out)
    t.join()
    return out["r"][0], out["r"][1], worst, p99, pump.gui_cpu


def app_fit(window, app, panel, data, cfg, probe) -> dict:
    from PySide6.QtCore import QEventLoop, Qt
    from PySide6.QtTest import QTest

    panel.form.set_config(cfg)
    done = []
    loop = QEventLoop()
    panel.run_finished.connect(done.append)
    panel.run_finished.connect(loop.quit)
    probe.start()
    t0 = time.perf_counter()
    cpu = time.thread_time()
    QTest.mouseClick(panel.train_button, Qt.LeftButton)
    loop.exec()
    wall = time.perf_counter() - t0
    gui_cpu = time.thread_time() - cpu
    worst, p99 = probe.stop()
    while panel.is_running():
        app.processEvents()
    panel.run_finished.disconnect(done.append)
    panel.run_finished.disconnect(loop.quit)
    run = done[0]
    return {"fit": run.duration, "wall": wall, "stall_max": worst, "stall_p99": p99, "gui_cpu": gui_cpu, "history": run.history,
            "device": run.device, "draws": panel.curves.draws, "points": panel.curves.point_counts(run.id)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--dim", type=int, default=120)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--backend", choices=("tensorflow", "jax", "torch"), default=None,
                    help="Keras backend (default: KERAS_BACKEND, else TensorFlow)")
    args = ap.parse_args(argv)
    from instrument_studio.core.learn.backend import choose_backend

    backend = choose_backend(args.backend)

    from PySide6.QtCore import QSettings

    from instrument_studio.core.learn.tfthread import run_in_tf_thread
    from instrument_studio.core.learn.training import TrainConfig, detect_device
    from instrument_studio.gui.app import create_app
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings

    app = create_app()
    settings = Settings(QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) / "bench-train.ini"),
                                  QSettings.IniFormat))
    window = MainWindow(AppContext(settings))
    window.resize(1500, 900)
    window.show()
    panel = window.panels["TrainingPanel"]
    window.tabs.setCurrentWidget(panel)
    data = make_data(args.rows, args.dim, args.classes, seed=1)
    panel.use_feature_set(data, "benchmark blobs")
    cfg = TrainConfig(model="mlp", epochs=args.epochs, batch_size=args.batch_size, seed=7)
    probe = StallProbe()

    print(f"backend: {backend}; device: {run_in_tf_thread(detect_device)}")
    print(f"data: {args.rows} x {args.dim}, {args.classes} classes; mlp, batch {args.batch_size}, "
          f"{args.epochs} epochs, {int(args.rows * 0.8 / args.batch_size + 0.999)} batches per epoch")
    run_in_tf_thread(bare_fit, cfg.__class__(**{**cfg.to_dict(), "epochs": 1}), data)   # warm-up: imports, tracing
    idle_max, idle_p99 = pump(app, probe, seconds=3.0)
    print(f"event loop with nothing running (the machine's noise floor): stall max {idle_max:.1f} ms, "
          f"p99 {idle_p99:.1f} ms")
    bare_times, bare_stalls, bare_gui, app_runs, same = [], [], [], [], True
    for i in range(args.repeats):
        t_bare, h_bare, b_max, b_p99, b_gui = bare_fit_with_gui_idle(app, probe, cfg, data)
        bare_times.append(t_bare)
        bare_gui.append(b_gui / t_bare)
        bare_stalls.append(b_max)
        r = app_fit(window, app, panel, data, cfg, probe)
        app_runs.append(r)
        same &= all(np.allclose(h_bare[k], r["history"][k], rtol=0, atol=1e-6) for k in h_bare)
        print(f"  round {i + 1}: bare fit {t_bare:6.2f} s (stall max {b_max:5.1f} ms, p99 {b_p99:5.1f} ms) | "
              f"app fit {r['fit']:6.2f} s (click to run list {r['wall']:6.2f} s; stall max {r['stall_max']:5.1f} ms, "
              f"p99 {r['stall_p99']:5.1f} ms) | GUI thread {100 * b_gui / t_bare:4.1f} % of a core vs "
              f"{100 * r['gui_cpu'] / r['wall']:4.1f} %")
    bare, fit = statistics.median(bare_times), statistics.median(r["fit"] for r in app_runs)
    wall = statistics.median(r["wall"] for r in app_runs)
    print(f"median bare model.fit:           {bare:.2f} s")
    paired = statistics.median(r["fit"] / b for r, b in zip(app_runs, bare_times, strict=True))
    print(f"median app fit (worker+curves):  {fit:.2f} s   ratio {fit / bare:.3f}  (aim <= 1.05); "
          f"median of the rounds' own ratios {paired:.3f}")
    print(f"median app click-to-run-list:    {wall:.2f} s   ratio {wall / bare:.3f}")
    print(f"longest GUI stall during app training: {max(r['stall_max'] for r in app_runs):.1f} ms (aim < 50 ms); "
          f"p99 {max(r['stall_p99'] for r in app_runs):.1f} ms; during a bare fit with an idle GUI: "
          f"{max(bare_stalls):.1f} ms")
    print(f"median over runs of each run's longest GUI stall: app {statistics.median(r['stall_max'] for r in app_runs):.1f} ms, "
          f"bare fit {statistics.median(bare_stalls):.1f} ms (one-off hiccups of this shared machine show in the max)")
    print(f"GUI thread CPU (median, % of one core): idle window during the bare fit "
          f"{100 * statistics.median(bare_gui):.1f} %, Training panel during its fit "
          f"{100 * statistics.median(r['gui_cpu'] / r['wall'] for r in app_runs):.1f} % (what the panel takes "
          f"from the training, less noisy than the wall-time ratio)")
    print(f"curves: {app_runs[-1]['points']} points in the last run; same curves as bare fit: {'yes' if same else 'NO'}")
    print(f"device in use: {app_runs[-1]['device']}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
