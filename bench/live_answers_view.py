"""The Live panel's answer view alone: GUI-thread CPU per live answer drawn (no audio, no model).

    .venv/bin/python bench/live_answers_view.py [--answers 400] [--states steady|mixed]

Opens the real main window (1400x900, offscreen Qt unless DISPLAY is set) on the Live panel and
draws made-up answers into its LivePredictionView one after another, each followed by the event
processing that lays out and paints it, as the app does several times a second. Prints the main
thread's CPU time per answer. `--states mixed` flips between confident and uncertain answers
(a new style sheet for the state label each time); `steady` keeps one state, as a held note does.
At 5 answers a second, 1 ms an answer is 0.5 % of a core.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_SANDBOX = Path(tempfile.mkdtemp(prefix="is-bench-answers-"))
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX / "config")  # leave the user's settings alone

import numpy as np  # noqa: E402

LABELS = ("cello", "violin", "flute", "oboe", "double-bass", "unknown", "saxophone")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=400)
    ap.add_argument("--states", choices=("steady", "mixed"), default="steady")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QSettings

    from instrument_studio.core.events import LivePrediction
    from instrument_studio.gui.app import create_app
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings
    from instrument_studio.gui.widgets.live_prediction import LivePredictionView

    app = create_app()
    ctx = AppContext(Settings(QSettings(str(_SANDBOX / "settings.ini"), QSettings.IniFormat)))
    win = MainWindow(ctx)
    win.resize(1400, 900)
    win.show()
    win.tabs.setCurrentWidget(win.panels["LivePanel"])
    for _ in range(50):
        app.processEvents()
        time.sleep(0.01)
    view = win.findChild(LivePredictionView)
    rng = np.random.default_rng(0)

    def draw_one() -> None:
        p = rng.dirichlet(np.ones(len(LABELS)) * 0.5).astype(np.float32)
        confident = args.states == "steady" or p.max() > 0.35
        now = time.monotonic()
        view.show_prediction(LivePrediction(LABELS, p, "confident" if confident else "uncertain",
                                            f"low confidence (top {p.max():.0%})", -20.0, now - 0.03,
                                            now - 0.01, 3.0, 0.2))
        app.processEvents()

    for _ in range(50):  # first paints, caches
        draw_one()
    started = time.thread_time()
    for _ in range(args.answers):
        draw_one()
    per_answer = (time.thread_time() - started) / args.answers
    print(f"Live answer view ({args.states} states, {args.answers} answers): "
          f"{per_answer * 1000:.2f} ms of GUI-thread CPU per answer drawn "
          f"({per_answer * 5 * 100:.1f} % of a core at 5 answers/s)")
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
