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
    print("CURRENT", w.tabs.tabText(w.tabs.currentIndex()))
    print("PREDICT", w.panels["PredictPanel"].status.text())
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


def test_folder_named_on_the_command_line_is_predicted_in_the_predict_table(tmp_path):
    folder = tmp_path / "takes"
    folder.mkdir()
    write(folder / "a.wav", tone(440, 1.0, 22050), 22050)
    out = run(tmp_path, folder)
    assert out["CURRENT"] == "Predict" and out["TITLE"] == "Instrument Studio"
    assert out["PREDICT"] in {"Loading the model…", "Predicting…"} or out["PREDICT"].startswith("1 file predicted (")


FIRST_OPEN = r"""
import sys, time
from PySide6.QtCore import QTimer
from instrument_studio.gui import workers
from instrument_studio.gui.app import create_app, create_window, start_warm_up
from instrument_studio.core.features.analysis import analyse_file

app = create_app()
window = create_window(app)
window.show()
worker = start_warm_up(window)
end = time.monotonic() + 60
while workers.active_workers() and time.monotonic() < end:
    app.processEvents(); time.sleep(0.01)
assert not workers.active_workers(), "warm-up did not finish"
before = set(sys.modules)
for ev in analyse_file(sys.argv[1], window.audio_panel.mel_cfg):
    pass
late = sorted(m for m in set(sys.modules) - before if not m.startswith("instrument_studio"))
print("LATE", late)
"""


def test_the_first_file_open_finds_its_imports_already_done(tmp_path):
    # Issue 11 #13: the first open after launch took ~4-7 s, importing librosa.filters (and with it
    # scipy.signal), scipy.fft, scipy.sparse and soxr in its worker. The window warms them now.
    path = write(tmp_path / "a.wav", tone(440, 1.0, 44100), 44100)
    script = tmp_path / "first_open.py"
    script.write_text(FIRST_OPEN)
    env = {"PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run([sys.executable, str(script), str(path)], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "LATE []" in result.stdout, result.stdout


QUIT_DURING_A_JOB = r"""
import time
from PySide6.QtCore import QTimer
from instrument_studio.gui import workers
from instrument_studio.gui.app import create_app, run_until_quit
app = create_app()
workers.start_worker(lambda: time.sleep(1.5), on_error=lambda _exc: None)   # a job stop_all cannot stop
QTimer.singleShot(100, lambda: (workers.stop_all(timeout_ms=100), app.quit()))
raise SystemExit(run_until_quit(app))
"""


def test_quitting_while_a_job_is_still_running_ends_cleanly(tmp_path):
    """A job that outlives the window's stop_all (a model still loading when the window is closed)
    finishes before Python tears its worker down: no traceback at quit."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", QUIT_DURING_A_JOB], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]

