"""The Predict panel's table: GUI-thread time to fill it and to re-answer it among a few classes.

    .venv/bin/python bench/predict_table.py [--rows 500 2000 5000]

Opens the real main window (1280x720, offscreen Qt unless DISPLAY is set) on the Predict panel and
puts made-up predictions (20 classes and "unknown", 30 one-second steps each) into its table, as a
folder's run does; then times what ticking classes in its "Among" menu does (every row answered
among 3 classes, the table repainted) and undoing it. All of it runs on the GUI thread, so each
figure is how long the window is unresponsive after one click.
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
_SANDBOX = Path(tempfile.mkdtemp(prefix="is-bench-table-"))
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX / "config")  # leave the user's settings alone

import numpy as np  # noqa: E402

LABELS = ("acoustic-guitar", "banjo", "bassoon", "cello", "clarinet", "double-bass", "electric-guitar", "flute",
          "french-horn", "harp", "mandolin", "oboe", "organ", "piano", "saxophone", "trombone", "trumpet", "tuba",
          "unknown", "violin", "voice")
AMONG = ["violin", "cello", "double-bass"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--stream", type=int, nargs="+", default=[1, 8], metavar="K",
                        help="also add --rows' last count of results as a run does, K every 10 ms "
                             "(1: 100 files/s; 8: 800 files/s, many worker processes)")
    args = parser.parse_args(argv)
    from PySide6.QtCore import QSettings

    from instrument_studio.core.predict.inference import FileResult, Prediction
    from instrument_studio.gui.app import create_app
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings

    app = create_app()
    win = MainWindow(AppContext(Settings(QSettings(str(_SANDBOX / "settings.ini"), QSettings.IniFormat))))
    win.resize(1280, 720)
    win.show()
    panel = win.panels["PredictPanel"]
    win.tabs.setCurrentWidget(panel)
    panel._offer_classes(LABELS)             # what a loaded model's classes do
    rng = np.random.default_rng(0)

    def made_up(n: int) -> list:
        out = []
        for i in range(n):
            timeline = rng.dirichlet(np.full(len(LABELS), 0.3), size=30).astype(np.float32)
            p = Prediction(LABELS, timeline.mean(axis=0), np.arange(30.0), timeline, np.zeros(30, bool),
                           duration=30.0, unknown_threshold=0.23)
            out.append(FileResult(path=f"/music/take_{i:05d}.wav", index=i, total=n, prediction=p))
        return out

    for n in args.rows:
        panel.answer_among(None)
        panel.table.setRowCount(0)
        panel.results = made_up(n)
        started = time.perf_counter()
        panel.table.setRowCount(n)
        for row, r in enumerate(panel.results):
            panel._fill_row(row, row, r)
        app.processEvents()
        fill = time.perf_counter() - started
        started = time.perf_counter()
        panel.answer_among(AMONG)
        app.processEvents()
        among = time.perf_counter() - started
        started = time.perf_counter()
        panel.answer_among(None)
        app.processEvents()
        every = time.perf_counter() - started
        print(f"{n} rows: filled in {fill * 1000:.0f} ms; answered among {len(AMONG)} classes in "
              f"{among * 1000:.0f} ms ({among / n * 1e6:.0f} us a row); back to every class in {every * 1000:.0f} ms")
    n = args.rows[-1]
    for k in args.stream:
        panel.answer_among(None)
        panel.table.setRowCount(0)
        panel.results = []
        results = made_up(n)
        # Results arrive k at a time, 100 batches a second (a worker's queued signals); the GUI
        # thread's time is what adding them costs, waits excluded.
        spent, due = 0.0, time.perf_counter()
        for i in range(0, n, k):
            due += 0.01
            time.sleep(max(0.0, due - time.perf_counter()))
            started = time.perf_counter()
            for r in results[i:i + k]:
                panel._add_row(r)
            app.processEvents()
            spent += time.perf_counter() - started
        started = time.perf_counter()
        panel._finished()
        spent += time.perf_counter() - started
        assert panel.table.rowCount() == n
        print(f"{n} results, {k} every 10 ms ({k * 100} files/s): {spent / n * 1000:.2f} ms of GUI thread a file, "
              f"{spent / (n / (k * 100)):.0%} of it")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
