"""Screenshots of the Live panel with the virtual microphone playing Philharmonia recordings.

    .venv/bin/python docs/screenshots_live.py OUT_DIR        # offscreen; or under xvfb-run

Starts the virtual PulseAudio microphone (tests/mic.py), converts two Philharmonia mp3s from
../shared/data to 48 kHz WAVs in a temporary folder (the recordings are never copied into the
repository), plays them into the microphone while the Live panel records two takes, and saves:
live-recording-{light,dark}.png (mid-take), live-takes-{light,dark}.png (both takes listed) and
live-no-device.png (what a computer without a microphone shows).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SANDBOX = Path(tempfile.mkdtemp(prefix="is-live-shots-"))
os.environ["XDG_CONFIG_HOME"] = str(SANDBOX / "config")

from _spin import spin  # noqa: E402 - docs/ is on sys.path when run as a script
from PySide6.QtCore import QSettings  # noqa: E402

PHILHARMONIA = REPO.parent / "shared" / "data" / "philharmonia"
FILES = [("flute", "flute/flute_A4_very-long_cresc-decresc_normal.mp3"),
         ("cello", "cello/cello_C2_phrase_forte_non-vibrato.mp3")]


def make_window(app, theme: str):
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings
    from instrument_studio.gui.theme import apply_theme

    apply_theme(app, theme)
    ctx = AppContext(Settings(QSettings(str(SANDBOX / f"{theme}.ini"), QSettings.IniFormat)))
    win = MainWindow(ctx)
    win.resize(1400, 900)
    win.show()
    panel = win.panels["LivePanel"]
    win.tabs.setCurrentWidget(panel)
    spin(5, lambda: panel.device_combo.count() > 0 or panel.stack.currentIndex() == 1)
    return win, panel


def recording(app, out: Path, theme: str, mic, wavs) -> None:
    win, panel = make_window(app, theme)
    panel.device_combo.setCurrentIndex(max(0, panel.device_combo.findData(mic.device)))
    panel.takes.set_dataset(str(SANDBOX / f"dataset-{theme}"))
    (first_label, first), (second_label, second) = wavs
    panel.takes.label_combo.setEditText(first_label)
    panel.takes.length_spin.setValue(3.0)
    panel.takes.record_button.click()
    spin(10, lambda: panel.takes.recording)
    mic.play(first)
    spin(4)
    panel.takes.label_combo.setEditText(second_label)
    panel.takes.length_spin.setValue(0.0)  # until Stop
    mic.play(second)
    spin(0.3)
    panel.takes.record_button.click()
    spin(3.5)
    win.grab().save(str(out / f"live-recording-{theme}.png"))
    panel.takes.record_button.click()
    spin(10, lambda: panel.takes.take_list.count() == 2)
    win.grab().save(str(out / f"live-takes-{theme}.png"))
    win.close()
    mic.wait_players(10)


def no_device(app, out: Path) -> None:
    import instrument_studio.gui.panels.live as live_panel
    from instrument_studio.core.errors import AudioDeviceError

    def none():
        raise AudioDeviceError("no audio input device found",
                               hint="connect one, or check that the sound server is running")

    live_panel.input_devices = none
    win, panel = make_window(app, "light")
    spin(0.5)
    win.grab().save(str(out / "live-no-device.png"))
    win.close()


def main() -> int:
    from instrument_studio.core.audio.audiofile import load, save_wav
    from instrument_studio.gui.app import create_app
    from tests.mic import VirtualMic

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "shots")
    out.mkdir(parents=True, exist_ok=True)
    if not PHILHARMONIA.is_dir():
        print(f"needs the Philharmonia recordings in {PHILHARMONIA}", file=sys.stderr)
        return 2
    wavs = []
    for label, rel in FILES:
        y, sr = load(PHILHARMONIA / rel, sr=48000)
        wavs.append((label, save_wav(SANDBOX / f"{label}.wav", y, sr)))
    app = create_app()
    mic = VirtualMic().start()
    try:
        for theme in ("light", "dark"):
            recording(app, out, theme, mic, wavs)
    finally:
        mic.stop()
    no_device(app, out)
    print(f"screenshots in {out}/")
    return 0


if __name__ == "__main__":
    import shutil

    try:
        code = main()
    finally:
        shutil.rmtree(SANDBOX, ignore_errors=True)
    sys.exit(code)
