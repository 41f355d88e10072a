"""The Live panel against its targets: 60 fps, < 50 ms audio-to-pixel latency, < 15 % of one core.

    .venv/bin/python bench/live.py [--seconds 60] [--file some.mp3] [--shot shots/live.png]

Starts the virtual PulseAudio microphone (tests/mic.py: a null sink whose monitor is the default
source), plays a recording into it in a loop (a Philharmonia phrase from ../shared/data when
present, else a generated melody), opens the real main window (offscreen Qt unless DISPLAY is
set), starts the Live panel on the microphone, and measures over --seconds:

  frames/s     ticks of the one frame clock (each redraws the meter; the image when columns came)
  image/s      spectrogram image updates per second (bounded by the column rate, sr / hop = 43/s)
  latency      from a sample's arrival in the PortAudio callback to the paint of the first column
               that contains it (median, p95): the image item records paint time - arrival time
  CPU          this process's user + system time over wall time (100 % = one core busy)
  callbacks    PortAudio callbacks, of which dropped (input overflow) and late (input underflow),
               plus ring-buffer overruns (the pipeline thread fell a whole ring behind)
  predictions  live answers per second of the default model (measuring starts once they flow)
  memory       resident set size at the start and end of the measurement, and its growth in %
               (the soak test: --seconds 3600), with a line every --report seconds meanwhile
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
_SANDBOX = Path(tempfile.mkdtemp(prefix="is-bench-live-"))
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX / "config")  # leave the user's settings alone

import numpy as np  # noqa: E402
from _memory import rss_mb  # noqa: E402 - bench/ is on sys.path when run as a script

DEFAULT_FILE = REPO.parent / "shared" / "data" / "philharmonia" / "cello" / \
    "cello_C2_phrase_forte_non-vibrato.mp3"


def source_wav(path: Path | None, out: Path) -> tuple[Path, str]:
    """A 48 kHz WAV for paplay: the given/default recording, or a generated melody."""
    from instrument_studio.core.audio.audiofile import load, save_wav

    if path is not None and path.exists():
        y, sr = load(path, sr=48000)
        save_wav(out, y, sr)
        return out, path.name
    sr = 48000
    notes = 220.0 * 2 ** (np.array([0, 4, 7, 12, 7, 4]) / 12)
    t = np.arange(int(0.5 * sr)) / sr
    y = np.concatenate([0.4 * np.sin(2 * np.pi * f * t) * np.exp(-2 * t) for f in notes])
    save_wav(out, y.astype(np.float32), sr)
    return out, "generated melody"


class Looper(threading.Thread):
    """Plays the WAV into the virtual microphone again and again until stopped."""

    def __init__(self, mic, wav: Path):
        super().__init__(daemon=True)
        self.mic, self.wav = mic, wav
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            p = self.mic.play(self.wav)
            while p.poll() is None and not self.stop_event.is_set():
                time.sleep(0.05)
            if p.poll() is None:
                p.kill()
            self.mic.wait_players(1)

    def stop(self):
        self.stop_event.set()
        self.join(5)


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread name (Linux /proc; empty elsewhere)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    py_names = {t.native_id: t.name for t in threading.enumerate()}
    for task in Path("/proc/self/task").glob("*"):
        try:
            name = py_names.get(int(task.name)) or (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def malloc_trim() -> float | None:
    """RSS after asking glibc to hand its free heap pages back (None where there is no glibc):
    tells a leak (live data) from memory that threads freed but the allocator kept."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is None or not hasattr(libc, "malloc_trim"):
            return None
        libc.malloc_trim(0)
    except OSError:
        return None
    return rss_mb()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="measurement length (default 60)")
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE, help="recording to play into the microphone")
    ap.add_argument("--shot", type=Path, default=None, help="save a PNG of the window at the end")
    ap.add_argument("--warmup", type=float, default=5.0,
                    help="seconds after the first live answer before measuring (default 5)")
    ap.add_argument("--no-predict", action="store_true", help="the live view alone, without live prediction")
    ap.add_argument("--trace-memory", type=int, default=0, metavar="FRAMES",
                    help="trace Python allocations (tracemalloc, this many frames deep) and print the sites "
                         "that grew most over the measurement (slower: for finding a leak, not for figures)")
    ap.add_argument("--report", type=float, default=300.0,
                    help="print running figures every this many seconds on long runs (default 300)")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QSettings

    from instrument_studio.gui.app import create_app
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings
    from tests.mic import VirtualMic, VirtualMicUnavailable

    mic = VirtualMic()
    try:
        mic.start()
    except VirtualMicUnavailable as exc:
        print(f"bench/live.py: cannot run: {exc}", file=sys.stderr)
        return 2
    looper = None
    try:
        wav, name = source_wav(args.file, _SANDBOX / "source.wav")
        _app = create_app()  # held for the whole run
        ctx = AppContext(Settings(QSettings(str(_SANDBOX / "settings.ini"), QSettings.IniFormat)))
        win = MainWindow(ctx)
        win.resize(1400, 900)
        win.show()
        panel = win.panels["LivePanel"]
        win.tabs.setCurrentWidget(panel)

        from PySide6.QtCore import QEventLoop, QTimer

        def pump(seconds: float, until=None) -> bool:
            """Run the real event loop (no busy polling: it would distort the CPU figure)."""
            loop = QEventLoop()
            if until is None:
                QTimer.singleShot(int(seconds * 1000), loop.quit)
                loop.exec()
                return True
            deadline = time.monotonic() + seconds
            timer = QTimer()
            timer.setInterval(20)

            def check():
                if (until is not None and until()) or time.monotonic() >= deadline:
                    loop.quit()

            timer.timeout.connect(check)
            timer.start()
            loop.exec()
            timer.stop()
            return until()

        if not pump(60, lambda: panel.device_combo.count() > 0):
            print("bench/live.py: no input device listed", file=sys.stderr)
            return 2
        panel.device_combo.setCurrentIndex(max(0, panel.device_combo.findData(mic.device)))
        predict = win.panels.get("PredictPanel")
        if predict is not None and not args.no_predict:
            # Load the model before the input starts: TensorFlow's import holds the interpreter for
            # seconds, and on a loaded machine the audio callbacks then starve past the input's
            # 2.5 s no-audio watchdog (seen here at load 10-20). Loading is not what we measure.
            predict.with_predictor(lambda _p: None)
            if not pump(600, lambda: predict.predictor is not None):
                print("bench/live.py: the default model did not load in 600 s", file=sys.stderr)
                return 2
        panel.start()
        if not pump(120, lambda: panel.pipeline.running):  # librosa's first import: slow on a loaded machine
            print("bench/live.py: the live input did not start", file=sys.stderr)
            return 2
        looper = Looper(mic, wav)
        looper.start()
        live_view = getattr(predict, "live_view", None)
        if args.no_predict:
            if live_view is not None:
                # The Live panel's start loads the default model in a worker and attaches live
                # prediction when it is ready: wait for that, then take it away for good.
                pump(600, lambda: live_view.live is not None)
                if live_view.live is not None:
                    live_view.live.detach()
                    live_view.live = None
            pump(1.0)
        elif live_view is not None:
            # The model loads in a worker (seconds: TensorFlow); loading is not what we measure.
            answered = pump(600, lambda: (live_view.live is not None and live_view.live.count > 0)
                            or not panel.pipeline.running)
            if not panel.pipeline.running:
                print(f"bench/live.py: the live input stopped: {panel.info_label.text()}", file=sys.stderr)
                return 2
            if not answered:
                print("bench/live.py: live prediction gave no answer in 600 s", file=sys.stderr)
                return 2
        pump(args.warmup)

        view, pipe = panel.view, panel.pipeline
        # callback -> column computed (pipeline thread); bounded, or an hour's soak would measure
        # this list's own growth (~100k small arrays) as the app's
        computed: deque[np.ndarray] = deque(maxlen=20000)
        pipe.add_frames_listener(lambda ev: computed.append(time.monotonic() - ev.arrival))
        view.latencies.clear()
        tick_count = [0]
        ctx.clock.ticked.connect(lambda _t: tick_count.__setitem__(0, tick_count[0] + 1))
        draws0, cols0 = view.draws, view.total
        st0 = pipe.stats()
        th0 = thread_cpu()
        answers0 = live_view.live.count if (live_view is not None and live_view.live is not None) else 0
        import gc
        gc.collect()
        if args.trace_memory:
            import tracemalloc
            tracemalloc.start(args.trace_memory)
            snap0 = tracemalloc.take_snapshot()
        rss0 = rss_mb()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        done = 0.0
        while done < args.seconds:
            step = min(args.report, args.seconds - done)
            pump(step)
            done += step
            if done < args.seconds:
                ru = resource.getrusage(resource.RUSAGE_SELF)
                el = time.monotonic() - t0
                st = pipe.stats()
                print(f"  ... {el:6.0f} s: CPU {100 * (ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime) / el:4.1f} %, "
                      f"{tick_count[0] / el:4.1f} fps, RSS {rss_mb():.1f} MB, "
                      f"{st['dropped'] - st0['dropped']} dropped, {st['overruns'] - st0['overruns']} overruns",
                      flush=True)
        wall = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        answers1 = live_view.live.count if (live_view is not None and live_view.live is not None) else 0
        gc.collect()
        rss1 = rss_mb()
        th1 = thread_cpu()
        st1 = pipe.stats()
        grown = []
        if args.trace_memory:
            grown = tracemalloc.take_snapshot().compare_to(snap0, "traceback")
            traced = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        lat = np.array(view.latencies) * 1000.0
        if args.shot is not None:
            args.shot.parent.mkdir(parents=True, exist_ok=True)
            win.grab().save(str(args.shot))
        looper.stop()
        looper = None
        panel.pipeline.stop()

        print(f"Live panel, virtual microphone playing {name}, {wall:.1f} s measured "
              f"(input device {panel.pipeline.source.name!r}, {panel.pipeline.source.samplerate} Hz, "
              f"analysed at {pipe.sr} Hz)")
        print(f"  frames drawn        {tick_count[0] / wall:6.1f} /s   (target 60)")
        print(f"  image updates       {(view.draws - draws0) / wall:6.1f} /s   "
              f"(columns arrive at {(view.total - cols0) / wall:.1f} /s)")
        if len(lat):
            print(f"  audio-to-pixel      median {np.median(lat):5.1f} ms, p95 {np.percentile(lat, 95):5.1f} ms, "
                  f"max {lat.max():5.1f} ms over {len(lat)} columns   (target < 50 ms)")
            comp = np.concatenate(computed) * 1000.0 if computed else np.array([np.nan])
            print(f"    of which computing  median {np.nanmedian(comp):5.1f} ms, p95 {np.nanpercentile(comp, 95):5.1f} ms "
                  "(callback -> column ready: resampler delay, pipeline wake-up)")
        else:
            print("  audio-to-pixel      no column was painted (is the window exposed?)")
        print(f"  CPU (this process)  {100 * cpu / wall:5.1f} % of one core   (target < 15 %)")
        print(f"  live prediction     {(answers1 - answers0) / wall:5.1f} answers/s"
              + ("   (switched off: --no-predict)" if args.no_predict else ""))
        print(f"  memory (RSS)        start {rss0:.1f} MB, end {rss1:.1f} MB, growth {100 * (rss1 - rss0) / rss0:+.2f} %"
              "   (soak target < 5 % over an hour)")
        trimmed = malloc_trim()
        if trimmed is not None:
            print(f"    after malloc_trim  {trimmed:.1f} MB: {rss1 - trimmed:.1f} MB of it was freed memory the C heap "
                  "had kept, not live data")
        busy = sorted(((th1[k] - th0.get(k, 0.0)) / wall * 100, k) for k in th1)[::-1]
        print("  CPU by thread       " + ", ".join(f"{name} {pct:.1f} %" for pct, name in busy[:8] if pct >= 0.1))
        print(f"  callbacks           {st1['callbacks'] - st0['callbacks']} in {wall:.0f} s: "
              f"{st1['dropped'] - st0['dropped']} dropped, {st1['late'] - st0['late']} late, "
              f"{st1['overruns'] - st0['overruns']} ring overruns")
        if args.trace_memory:
            print(f"  Python allocations  {traced / 1e6:.1f} MB traced now; grew most over the measurement:")
            for stat in grown[:12]:
                frames = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback)
                print(f"    {stat.size_diff / 1e6:+8.3f} MB {stat.count_diff:+8d} blocks  {frames}")
        win.close()
        return 0
    finally:
        if looper is not None:
            looper.stop()
        mic.stop()
        shutil.rmtree(_SANDBOX, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
