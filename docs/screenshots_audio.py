"""Screenshots of the app as a user sees it, for the README and for review.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots_audio.py OUT_DIR [FILE]

Opens FILE (default: a generated test tone) in the Audio panel and saves the window in the light
and dark themes, plus the empty state and an error state.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from instrument_studio.gui.app import create_app  # noqa: E402
from instrument_studio.gui.context import AppContext  # noqa: E402
from instrument_studio.gui.main_window import MainWindow  # noqa: E402
from instrument_studio.gui.settings import Settings  # noqa: E402
from instrument_studio.gui.theme import apply_theme  # noqa: E402


def wait(app: QApplication, seconds: float, until=None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.01)


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    tmp = Path(tempfile.mkdtemp())
    ctx = AppContext(Settings(QSettings(str(tmp / "s.ini"), QSettings.IniFormat)))
    apply_theme(app, "light")
    win = MainWindow(ctx)
    win.resize(1400, 860)
    win.show()
    wait(app, 1.0)
    win.grab().save(str(out / "audio-empty.png"))
    if len(sys.argv) > 2:
        path = sys.argv[2]
    else:
        import numpy as np
        import soundfile as sf

        t = np.arange(5 * 44100) / 44100
        path = str(tmp / "tone.wav")
        sf.write(path, (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 44100)
    panel = win.audio_panel
    win.open_file(path)
    wait(app, 60, until=lambda: panel.ready is not None and panel._worker is None)
    panel.seek(panel.ready.info.duration * 0.3)
    wait(app, 0.5)
    win.grab().save(str(out / "audio-panel.png"))
    win.apply_preferences(output_device=ctx.settings.get("audio/output_device", ""), theme="dark")
    wait(app, 0.5)
    win.grab().save(str(out / "audio-panel-dark.png"))
    bad = tmp / "notes.wav"
    bad.write_text("not audio")
    win.open_file(str(bad))
    wait(app, 5, until=lambda: win.last_error is not None)
    wait(app, 0.5)
    QApplication.primaryScreen().grabWindow(0).save(str(out / "audio-error.png"))
    win.grab().save(str(out / "audio-error-window.png"))
    win.close()


if __name__ == "__main__":
    main()
