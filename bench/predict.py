"""Prediction speed: live window -> displayed prediction latency, and batch throughput.

    .venv/bin/python bench/predict.py [--model BUNDLE] [--seconds 20] [--files N] [--folder DIR] [--windowed]

live    audio is fed in real time (512-sample blocks at 22,050 Hz, as the live pipeline hands them
        on) to core.predict.live_predict.LivePredictor; the real LivePredictionView draws the answers on the
        60 Hz frame clock (offscreen Qt). Latency = the moment the bars are drawn minus the moment
        the newest sample of the window reached the predictor; also the compute part alone
        (window -> result) and the answers per second. Aim: under 50 ms. A musicnn model answers
        from a stream (core.predict.streaming); --windowed: every answer from a window of its own.
batch   core.predict.inference.predict_files over N files (Philharmonia mp3s from ../shared/data when
        present, else generated 2 s WAVs): files per second and seconds of audio per second,
        against a bare loop doing only librosa.load + the model on the same files.
long    --long-minutes M: one generated recording of M minutes (a changing tone over quiet noise)
        through Predictor.predict: seconds, the resident memory before and its peak during it (what a
        long file costs on top of the loaded model).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

SR = 22050
BLOCK = 512


class FedPipeline:
    """The live pipeline's listener API, fed from a thread at real-time pace."""

    def __init__(self, y: np.ndarray):
        self.y = y
        self.listeners = []
        self.filled = 0
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        return not self._stop.is_set()

    def add_listener(self, fn):
        self.listeners.append(fn)

    def remove_listener(self, fn):
        if fn in self.listeners:
            self.listeners.remove(fn)

    def latest_audio(self, seconds):
        end = self.filled
        return self.y[max(0, end - int(seconds * SR)):end].copy()

    def run(self):
        t0 = time.monotonic()
        for i, start in enumerate(range(0, len(self.y) - BLOCK, BLOCK)):
            due = t0 + (i + 1) * BLOCK / SR
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            self.filled = start + BLOCK
            for fn in list(self.listeners):
                fn(self.y[start:start + BLOCK], SR, start)

    def stop(self):
        self._stop.set()


def bench_live(predictor, seconds: float) -> dict:
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication

    from instrument_studio.gui.frame_clock import FrameClock
    from instrument_studio.gui.widgets.live_prediction import LivePredictionView

    app = QApplication.instance() or QApplication(sys.argv)

    class Ctx:
        clock = FrameClock(fps=60.0)

    class LiveStub(QObject):
        started = Signal()
        stopped = Signal(str)

    class Models(QObject):
        predictor_changed = Signal(object)
        model_name = "bench"

        def with_predictor(self, fn, on_error=None):
            fn(predictor)

    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    # A melody of harmonic tones with a little noise: real work for the features and the model.
    freq = 220.0 * 2 ** (np.floor(t * 2) % 12 / 12)
    y = sum(np.sin(2 * np.pi * k * np.cumsum(freq) / SR) / k for k in range(1, 6))
    y = (0.2 * y + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    pipe = FedPipeline(y)
    live, models = LiveStub(), Models()
    live.pipeline = pipe
    view = LivePredictionView(Ctx(), live, models)
    view.show()
    live.started.emit()
    feeder = threading.Thread(target=pipe.run, daemon=True)
    feeder.start()
    # Qt's own event loop, idle between frames as in the app (a busy processEvents loop would
    # steal the CPU the predictor needs).
    loop = QEventLoop()
    check = QTimer()
    check.timeout.connect(lambda: None if feeder.is_alive() else loop.quit())
    check.start(100)
    loop.exec()
    check.stop()
    app.processEvents()  # the last answers drawn
    view.shutdown()
    Ctx.clock.stop()
    shown = np.array(view.displayed_latency) * 1000
    compute = np.array(view.live.latencies) * 1000
    warm = shown[2:] if len(shown) > 4 else shown  # the first answers pay one-off start-up costs
    return {
        "answers": len(view.live.latencies), "answers_per_s": len(view.live.latencies) / seconds,
        "displayed_median_ms": float(np.median(warm)), "displayed_p95_ms": float(np.percentile(warm, 95)),
        "compute_median_ms": float(np.median(compute[2:])), "compute_p95_ms": float(np.percentile(compute[2:], 95)),
        "window_s": view.live.window_seconds,
    }


def bench_batch(predictor, files: list[Path]) -> dict:
    import librosa

    from instrument_studio.core.predict.inference import predict_files

    t0 = time.perf_counter()
    results = list(predict_files(predictor, files))
    app_s = time.perf_counter() - t0
    audio_s = sum(r.prediction.duration for r in results if r.ok)
    from instrument_studio.core.features.clip import clip_features

    # Baseline: what a script would do at least: librosa.load, the model's features of the whole
    # file once, and the model on them (no per-second timeline).
    cfg = predictor.config
    t0 = time.perf_counter()
    for f in files:
        y, _ = librosa.load(str(f), sr=cfg.mel.sr)
        predictor.proba_of_rows(clip_features(y, cfg))
    base_s = time.perf_counter() - t0
    return {"files": len(files), "ok": sum(r.ok for r in results), "seconds": app_s,
            "files_per_s": len(files) / app_s, "audio_s_per_s": audio_s / app_s,
            "baseline_files_per_s": len(files) / base_s, "ratio_vs_baseline": app_s / base_s}


def batch_files(folder: str | None, n: int) -> list[Path]:
    from instrument_studio.core.audio.audiofile import AUDIO_EXTENSIONS, save_wav

    shared = Path(folder) if folder else REPO.parent / "shared" / "data" / "philharmonia"
    if not shared.is_dir():
        shared = Path("/work/shared/data/philharmonia")
    if shared.is_dir():
        files = sorted(p for p in shared.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
        step = max(1, len(files) // n)
        return files[::step][:n]
    out = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    t = np.arange(2 * SR) / SR
    for i in range(n):
        save_wav(out / f"tone_{i:03d}.wav", (0.3 * np.sin(2 * np.pi * (200 + 10 * i) * t)).astype(np.float32), SR)
    return sorted(out.glob("*.wav"))


def bench_long(predictor, minutes: float) -> dict:
    from _memory import peak_rss_mb, reset_peak, rss_mb

    n = int(minutes * 60 * SR)
    y = np.empty(n, np.float32)
    rng = np.random.default_rng(0)
    phase, step = 0.0, int(0.5 * SR)
    for k, a in enumerate(range(0, n, step)):          # a new semitone every half second, over quiet noise
        f = 220.0 * 2 ** ((k % 12) / 12)
        t = np.arange(min(step, n - a)) / SR
        y[a:a + len(t)] = 0.2 * np.sin(phase + 2 * np.pi * f * t) + 0.01 * rng.standard_normal(len(t))
        phase += 2 * np.pi * f * len(t) / SR
    reset_peak()
    before = rss_mb()
    start = time.perf_counter()
    predictor.predict(y, SR)
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    return {"seconds": seconds, "audio_s_per_s": minutes * 60 / seconds, "rss_before_mb": before, "peak_mb": peak}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="bundle (default: the app's default model)")
    parser.add_argument("--seconds", type=float, default=20.0, help="live audio fed (default %(default)s; 0: no live test)")
    parser.add_argument("--files", type=int, default=200, help="files for the batch test (default %(default)s)")
    parser.add_argument("--folder", help="folder of audio for the batch test")
    parser.add_argument("--long-minutes", type=float, default=0.0,
                        help="also predict one generated recording this long (peak memory; default: none)")
    parser.add_argument("--windowed", action="store_true",
                        help="live answers each from a window of their own, as before the streamed musicnn front end")
    args = parser.parse_args()
    if args.windowed:
        import functools

        from instrument_studio.core.predict.live_predict import LivePredictor
        from instrument_studio.gui.widgets import live_prediction

        live_prediction.LivePredictor = functools.partial(LivePredictor, streaming=False)

    from instrument_studio.core.predict.inference import load_predictor

    predictor = load_predictor(args.model)
    predictor.predict(np.zeros(SR, np.float32) + 0.01, SR)  # warm librosa/numba and the model
    if args.seconds > 0:
        live = bench_live(predictor, args.seconds)
        print(f"live: {live['answers']} answers in {args.seconds:g} s ({live['answers_per_s']:.1f}/s) from "
              f"{live['window_s']:g} s windows")
        print(f"  window -> displayed: median {live['displayed_median_ms']:.1f} ms, p95 {live['displayed_p95_ms']:.1f} ms "
              f"(aim < 50 ms: {'met' if live['displayed_p95_ms'] < 50 else 'NOT met'})")
        print(f"  window -> result (compute only): median {live['compute_median_ms']:.1f} ms, "
              f"p95 {live['compute_p95_ms']:.1f} ms; answers {'each from a window of their own' if args.windowed else 'from the stream (musicnn models)'}")
    if args.long_minutes > 0:
        long = bench_long(predictor, args.long_minutes)
        print(f"long recording: {args.long_minutes:g} min predicted in {long['seconds']:.1f} s "
              f"({long['audio_s_per_s']:.0f} s of audio per second); resident memory {long['rss_before_mb']:.0f} MB "
              f"before, peak {long['peak_mb']:.0f} MB (+{long['peak_mb'] - long['rss_before_mb']:.0f} MB)")
    if args.files <= 0:
        return 0
    files = batch_files(args.folder, args.files)
    batch = bench_batch(predictor, files)
    print(f"batch: {batch['ok']}/{batch['files']} files in {batch['seconds']:.1f} s: {batch['files_per_s']:.1f} files/s, "
          f"{batch['audio_s_per_s']:.0f} s of audio per second (whole-file answer + per-second timeline)")
    print(f"  baseline (librosa.load + the model's features + model, no timeline): {batch['baseline_files_per_s']:.1f} files/s; "
          f"ratio app/baseline time {batch['ratio_vs_baseline']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
