"""Time to first spectrogram for 10 s, 5 min and 60 min files, against bare librosa.

    .venv/bin/python bench/open_file.py [--lengths 10,300,3600] [--keep DIR]

For each length a 44.1 kHz mono 16-bit WAV is generated (a melody over noise), then timed:
  baseline  librosa.load(sr=22050) + melspectrogram + power_to_db (what a script would do)
  core      instrument_studio.core.features.analysis.analyse_file: first columns, and all columns + waveform
  window    the real Audio panel (offscreen Qt): first spectrogram drawn, and file fully open
Ratios < 1 mean the app is faster than the bare librosa path.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402


def make_file(path: Path, seconds: int, sr: int = 44100) -> Path:
    if path.exists() and sf.info(str(path)).duration == seconds:
        return path
    rng = np.random.default_rng(0)
    block = 10 * sr
    with sf.SoundFile(str(path), "w", sr, 1, subtype="PCM_16") as f:
        notes = 220.0 * 2 ** (np.arange(12) / 12)
        for start in range(0, seconds * sr, block):
            n = min(block, seconds * sr - start)
            t = (start + np.arange(n)) / sr
            freq = notes[(start // block) % 12]
            y = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(n)
            f.write(y.astype(np.float32))
    return path


def baseline(path: Path) -> float:
    import librosa

    t0 = time.perf_counter()
    y, sr = librosa.load(str(path), sr=22050)
    S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=128, fmax=8000)
    librosa.power_to_db(S, ref=np.max)
    return time.perf_counter() - t0


def core(path: Path) -> tuple[float, float]:
    from instrument_studio.core.config import MelConfig
    from instrument_studio.core.events import AudioReady, MelFrames
    from instrument_studio.core.features.analysis import analyse_file

    t0 = time.perf_counter()
    first = None
    for ev in analyse_file(path, MelConfig()):
        if first is None and isinstance(ev, MelFrames):
            first = time.perf_counter() - t0
        if isinstance(ev, AudioReady):
            break
    return first, time.perf_counter() - t0


def window(path: Path) -> tuple[float, float]:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from instrument_studio.core.audio.playback import Player
    from instrument_studio.gui.app import create_app
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings

    app = create_app()
    tmp = tempfile.mkdtemp()
    ctx = AppContext(Settings(QSettings(f"{tmp}/s.ini", QSettings.IniFormat)), player=Player())
    win = MainWindow(ctx)
    win.resize(1400, 900)
    win.show()
    settle = time.perf_counter() + 1.0  # let the window's first layout and paint happen first
    while time.perf_counter() < settle:
        app.processEvents()
        time.sleep(0.005)
    panel = win.audio_panel
    marks: dict[str, float] = {}
    original = panel.spectrogram.refresh

    def refresh(*, force=False):
        drew = original(force=force)
        if drew and "first" not in marks:
            marks["first"] = time.perf_counter()
        return drew

    panel.spectrogram.refresh = refresh
    panel.loaded.connect(lambda _p: marks.setdefault("loaded", time.perf_counter()))
    # The longest gap between ticks of a 5 ms timer is the longest the window was unresponsive.
    gaps = {"last": time.perf_counter(), "max": 0.0}

    def tick():
        now = time.perf_counter()
        gaps["max"] = max(gaps["max"], now - gaps["last"])
        gaps["last"] = now

    probe = QTimer()
    probe.timeout.connect(tick)
    probe.start(5)
    t0 = time.perf_counter()
    gaps["last"] = t0
    win.open_file(str(path))
    done = {"flag": False}

    def check():
        if "loaded" in marks and panel._worker is None:
            done["flag"] = True
            app.quit()

    poll = QTimer()
    poll.timeout.connect(check)
    poll.start(2)
    app.exec()
    probe.stop()
    poll.stop()
    win.close()
    QApplication.processEvents()
    return marks["first"] - t0, marks["loaded"] - t0, gaps["max"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="10,300,3600", help="file lengths in seconds")
    parser.add_argument("--keep", default=None, help="folder for the generated files (kept between runs)")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-open-"))
    folder.mkdir(parents=True, exist_ok=True)
    lengths = [int(x) for x in args.lengths.split(",")]
    warm = make_file(folder / "warm.wav", 2)
    baseline(warm)  # numba compiles librosa's kernels on first use
    core(warm)
    print(f"{'file':>8} | {'librosa load+mel':>16} | {'core: first cols':>16} | {'core: all':>10} | "
          f"{'window: first drawn':>19} | {'window: open':>12} | {'longest stall':>13} | {'first/librosa':>13} | "
          f"{'open/librosa':>12}")
    for seconds in lengths:
        path = make_file(folder / f"{seconds}s.wav", seconds)
        base = baseline(path)
        c_first, c_all = core(path)
        w_first, w_all, stall = window(path)
        label = f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"
        print(f"{label:>8} | {base:15.3f}s | {c_first:15.3f}s | {c_all:9.3f}s | {w_first:18.3f}s | "
              f"{w_all:11.3f}s | {stall * 1000:10.0f} ms | {w_first / base:13.3f} | {w_all / base:12.3f}", flush=True)


if __name__ == "__main__":
    main()
