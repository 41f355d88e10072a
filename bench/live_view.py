"""The live spectrogram widget alone (no audio, no model): CPU per frame of the drawing itself.

    .venv/bin/python bench/live_view.py [--seconds 15] [--widget MODULE]

A 1400x560 window holds the level meter and the live spectrogram (8 s, 128 mel bands), driven by
the app's frame clock at 60 fps; mel columns of random dB values arrive at the live rate
(22,050 / 512 = 43 a second) and the meter gets a new level every frame, as in the Live panel.
Prints this process's CPU share (user + system time over wall time), frames and image updates per
second and CPU milliseconds per frame. On a loaded machine the frame rate falls and with it the
CPU share: compare CPU per frame. `--widget` names another module with a LiveSpectrogramView
(e.g. a copy of an older version) to compare two implementations back to back.
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--widget", default="instrument_studio.gui.widgets.live_spectrogram")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    app = QApplication.instance() or QApplication([])
    from instrument_studio.gui.frame_clock import FrameClock
    from instrument_studio.gui.widgets.level_meter import LevelMeter

    view_cls = importlib.import_module(args.widget).LiveSpectrogramView
    box = QWidget()
    lay = QVBoxLayout(box)
    meter, view = LevelMeter(), view_cls()
    lay.addWidget(meter)
    lay.addWidget(view, 1)
    box.resize(1400, 560)
    box.show()
    clock = FrameClock(60)
    rng = np.random.default_rng(0)
    state = {"t0": None, "sent": 0, "ticks": 0}

    def frame(now):
        if state["t0"] is None:
            state["t0"] = now
        state["ticks"] += 1
        due = int((now - state["t0"]) * 22050 / 512)
        k = due - state["sent"]
        if k > 0:
            view.add_columns((rng.random((128, k), dtype=np.float32) * -80.0), np.full(k, now))
            state["sent"] = due
        meter.set_level(peak_dbfs=-10.0 - 10.0 * np.sin(now), rms_dbfs=-20.0, clipped=False, now=now)
        view.draw()
        meter.tick(now)

    def pump(seconds):
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    clock.subscribe(frame)
    pump(2.0)
    view.latencies.clear()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    w0, ticks0, draws0 = time.monotonic(), state["ticks"], view.draws
    pump(args.seconds)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic() - w0
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    ticks, draws = state["ticks"] - ticks0, view.draws - draws0
    lat = np.array(view.latencies) * 1000.0
    print(f"{args.widget}: CPU {100 * cpu / wall:.1f} % of one core, {ticks / wall:.1f} frames/s, "
          f"{draws / wall:.1f} image updates/s, {1000 * cpu / max(1, ticks):.2f} ms CPU per frame, "
          f"column to paint p95 {np.percentile(lat, 95) if len(lat) else float('nan'):.1f} ms")
    clock.stop()
    box.close()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
