"""Screenshots of the Dataset panel, for the README and for review.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots_dataset.py OUT_DIR [PHILHARMONIA]

Saves dataset-starter.png (the starter set, a piano note's spectrogram), dataset-philharmonia.png
(PHILHARMONIA, default ../shared/data/philharmonia: 16 classes, the imbalance warning, a clip),
dataset-extracting.png (mel-patch extraction under way, then cancelled) and dataset-dark.png.
Settings, caches and imported projects go to a temporary folder; the data folder is not written.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def wait(app, seconds: float, until=None) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.01)
    return until is None


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    phil = Path(sys.argv[2]) if len(sys.argv) > 2 else REPO.parent / "shared" / "data" / "philharmonia"
    tmp = Path(tempfile.mkdtemp(prefix="is-shots-"))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        os.environ[var] = str(tmp / var.lower())
    sys.path.insert(0, str(REPO))
    from PySide6.QtCore import QSettings

    from instrument_studio.gui.app import create_app
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings
    from instrument_studio.gui.theme import apply_theme

    app = create_app()
    apply_theme(app, "light")
    ctx = AppContext(Settings(QSettings(str(tmp / "s.ini"), QSettings.IniFormat)))
    win = MainWindow(ctx)
    win.resize(1500, 950)
    win.show()
    panel = win.panels["DatasetPanel"]

    def show_clip(row: int) -> None:
        before = panel.clip_box.preview
        panel.table.selectRow(row)
        panel.show_clip(panel.proxy.data(panel.proxy.index(row, 0), 0x0100))  # Qt.UserRole
        wait(app, 30, until=lambda: panel.clip_box.preview is not None and panel.clip_box.preview is not before)
        wait(app, 0.3)

    win.tabs.setCurrentWidget(panel)  # nothing open: the starter set is shown
    wait(app, 120, until=lambda: panel.dataset is not None and panel._loading is None)
    panel.class_filter.setCurrentIndex(panel.class_filter.findData("piano"))
    show_clip(5)
    win.grab().save(str(out / "dataset-starter.png"))

    if not phil.is_dir():
        print(f"no {phil}: only the starter set was shot", file=sys.stderr)
        return 0
    panel.open_folder(phil)
    wait(app, 120, until=lambda: panel.dataset is not None and panel.dataset.layout == "philharmonia"
         and panel._loading is None)
    panel.class_filter.setCurrentIndex(panel.class_filter.findData("cello"))
    show_clip(12)
    win.grab().save(str(out / "dataset-philharmonia.png"))

    box = panel.features_box
    box.kind_combo.setCurrentIndex(box.kind_combo.findData("mel-patches"))
    box.start()
    wait(app, 300, until=lambda: box.progress.value() > 100 and "left" in box.eta_label.text())
    win.grab().save(str(out / "dataset-extracting.png"))
    box.cancel()
    wait(app, 60, until=lambda: not box.running)

    win.apply_preferences(output_device="", theme="dark")
    panel.class_filter.setCurrentIndex(panel.class_filter.findData("flute"))
    show_clip(3)
    win.grab().save(str(out / "dataset-dark.png"))
    win.close()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
