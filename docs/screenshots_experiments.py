"""Screenshots of the Experiments panel with a saved sweep reopened, in the whole window.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots_experiments.py \
        SWEEP.json OUT.png [curves|bars] [light|dark]

SWEEP.json is a sweep saved by the panel, `instrument-studio sweep --out`, or
bench/sweep_assignment.py.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QSettings  # noqa: E402

from instrument_studio.gui.app import create_app  # noqa: E402
from instrument_studio.gui.context import AppContext  # noqa: E402
from instrument_studio.gui.main_window import MainWindow  # noqa: E402
from instrument_studio.gui.settings import Settings  # noqa: E402
from instrument_studio.gui.theme import apply_theme  # noqa: E402


def main() -> int:
    sweep, out = sys.argv[1], Path(sys.argv[2])
    view = sys.argv[3] if len(sys.argv) > 3 else "curves"
    theme = sys.argv[4] if len(sys.argv) > 4 else "light"
    app = create_app()
    tmp = Path(tempfile.mkdtemp())
    ctx = AppContext(Settings(QSettings(str(tmp / "s.ini"), QSettings.IniFormat)))
    apply_theme(app, theme)
    win = MainWindow(ctx)
    win.resize(1500, 1000)
    win.show()
    panel = win.panels["ExperimentsPanel"]
    win.tabs.setCurrentWidget(panel)
    opened = []
    panel.reopened.connect(opened.append)
    panel.open_sweep(sweep)
    end = time.monotonic() + 30
    while not opened and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    panel.views.setCurrentWidget(panel.bars if view == "bars" else panel.curves)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    out.parent.mkdir(parents=True, exist_ok=True)
    win.grab().save(str(out))
    win.close()
    return 0 if opened else 1


if __name__ == "__main__":
    sys.exit(main())
