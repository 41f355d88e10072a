"""Start-up: the window appears without TensorFlow, and with a file from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.audio_factory import tone, write

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import sys
from PySide6.QtCore import QTimer
from instrument_studio.gui.app import create_app, create_window
app = create_app()
w = create_window(app)
w.show()
files = sys.argv[1:]
if files:
    w.open_files(files)
def check():
    heavy = [m for m in ("tensorflow", "keras") if m in sys.modules]
    print("HEAVY", ",".join(heavy) or "-")
    print("TITLE", w.windowTitle())
    print("PANELS", ",".join(w.tabs.tabText(i) for i in range(w.tabs.count())))
    w.close()
    app.quit()
QTimer.singleShot(4000 if files else 300, check)
app.exec()
"""


def run(tmp_path, *files):
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", SCRIPT, *map(str, files)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)


def test_window_appears_without_importing_tensorflow(tmp_path):
    out = run(tmp_path)
    assert out["HEAVY"] == "-"
    assert out["TITLE"] == "Instrument Studio"
    assert "Audio" in out["PANELS"].split(",")


def test_file_named_on_the_command_line_is_opened(tmp_path):
    path = write(tmp_path / "cmdline.wav", tone(440, 1.0, 22050), 22050)
    out = run(tmp_path, path)
    assert out["TITLE"] == "Instrument Studio — cmdline.wav"
    assert out["HEAVY"] == "-"
