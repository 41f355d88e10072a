"""Screenshots of the Training panel paused mid-run (Pause / Step epoch), and the run report's PDF
pages as PNG.

    .venv/bin/python docs/screenshots_classroom.py OUT_DIR [light|dark]

Trains the labs' MLP on a generated three-class feature set (no data needed): two epochs, a Step
epoch, then the shot while paused; the run's report is written as HTML and PDF into OUT_DIR, and
the PDF's pages become report-page-N.png (pdftoppm, from poppler-utils).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp())
os.environ["XDG_DATA_HOME"] = str(_TMP / "data")     # a run list of its own

from PySide6.QtCore import QSettings  # noqa: E402

from instrument_studio.gui.app import create_app  # noqa: E402
from instrument_studio.gui.context import AppContext  # noqa: E402
from instrument_studio.gui.main_window import MainWindow  # noqa: E402
from instrument_studio.gui.settings import Settings  # noqa: E402
from instrument_studio.gui.theme import apply_theme  # noqa: E402
from tests.training_data import blobs  # noqa: E402


def pump(app, until, timeout=600.0):
    end = time.monotonic() + timeout
    while not until() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    if not until():
        raise SystemExit("timed out")


def wait(app, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    out = Path(sys.argv[1])
    theme = sys.argv[2] if len(sys.argv) > 2 else "light"
    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    ctx = AppContext(Settings(QSettings(str(_TMP / "s.ini"), QSettings.IniFormat)))
    apply_theme(app, theme)
    win = MainWindow(ctx)
    win.resize(1280, 720)
    win.show()
    panel = win.panels["TrainingPanel"]
    win.tabs.setCurrentWidget(panel)
    data = blobs(n_train=1600, n_test=300, n_classes=4, dim=40, seed=3, spread=6.0)   # hard enough to learn slowly
    data.labels = ("flute", "trumpet", "violin", "piano")
    panel.use_feature_set(data, "generated 4-class set")
    panel.form.epochs_box.setValue(20)
    panel.form.batch_box.setValue(32)
    panel.train_button.click()
    pump(app, lambda: panel._last_epoch is not None and panel._last_epoch.epoch >= 3)
    panel.extras.pause_button.click()
    wait(app, 1.0)
    panel.extras.step_button.click()
    pump(app, lambda: panel.extras.pause_button.isChecked() and panel._control.holding)
    wait(app, 1.0)
    win.grab().save(str(out / f"training-paused{'-dark' if theme == 'dark' else ''}.png"))
    panel.stop_training()
    pump(app, lambda: not panel.is_running())
    run = panel.runs[-1]
    for suffix in ("html", "pdf"):
        done = []
        panel.extras.report_written.connect(done.append)
        panel.extras.write_report(run, str(out / f"report-example.{suffix}"))
        pump(app, lambda done=done: done)
        panel.extras.report_written.disconnect(done.append)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(out / "report-example.pdf"), str(out / "report-page")],
                       check=True)
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
