"""Screenshots of the Live panel's Teach: rendered takes of an ocarina and a kalimba (and a flute and
a violin), taught, then a new ocarina phrase played live through the Audio panel's playback.

    .venv/bin/python docs/screenshots_teach.py OUT_DIR        # offscreen; or under xvfb-run

Saves teach-ready.png (takes counted, Teach ready), teach-running.png (progress), teach-live.png
(the live bars naming the taught classes) and teach-too-few.png (what a missing take says).
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
sys.path.insert(0, str(REPO / "bench"))
SANDBOX = Path(tempfile.mkdtemp(prefix="is-teach-shots-"))
for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
    os.environ[var] = str(SANDBOX / var.lower())

from _spin import spin  # noqa: E402 - docs/ is on sys.path when run as a script
from PySide6.QtCore import QSettings  # noqa: E402

TAKES = {"ocarina": (79, 6), "kalimba": (108, 6), "flute": (73, 4), "violin": (40, 4)}


def main() -> int:
    from teach import render_takes

    import instrument_studio.gui.panels.live as live_module
    from instrument_studio.core.audio.audiofile import load
    from instrument_studio.core.audio.devices import DeviceInfo
    from instrument_studio.core.audio.playback import Player
    from instrument_studio.gui.app import create_app
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings
    from tests.fakes import FakeStream

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "shots")
    out.mkdir(parents=True, exist_ok=True)
    dataset = SANDBOX / "my-sounds"
    for k, (label, (prog, n)) in enumerate(TAKES.items()):
        render_takes(dataset, label, prog, n=n, seed=100 + k)
    played = render_takes(SANDBOX / "played", "ocarina", 79, n=1, seed=999, offset=5, velocities=(110,),
                          seconds=(40.0, 40.0))[0]
    mic = DeviceInfo(index=0, name="USB microphone", hostapi="ALSA", max_input_channels=1, max_output_channels=0,
                     default_samplerate=48000.0, is_default=True)
    live_module.input_devices = lambda: [mic]
    _app = create_app()  # kept alive while the window lives
    # No sound card here: the Audio panel's playback plays into a stand-in stream that consumes the
    # audio in real time (the live view sees it exactly as it would through a speaker).
    ctx = AppContext(Settings(QSettings(str(SANDBOX / "s.ini"), QSettings.IniFormat)),
                     player=Player(stream_factory=lambda **kw: FakeStream(**kw)))
    win = MainWindow(ctx)
    win.resize(1280, 720)
    win.show()
    live = win.panels["LivePanel"]
    win.tabs.setCurrentWidget(live)
    live.views.setSizes([300, 200, 220])
    teach = live.takes.teach
    live.takes.set_dataset(str(dataset))
    live.takes.label_combo.setEditText("ocarina")
    spin(10, lambda: "Ready" in teach.status.text())
    win.grab().save(str(out / "teach-ready.png"))
    teach.start()
    spin(600, lambda: teach.progress.format().startswith("leave-one-take-out"))
    spin(300, lambda: teach.progress.value() >= 8)
    spin(1.0)
    win.grab().save(str(out / "teach-running.png"))
    spin(900, lambda: not teach.running)
    print(teach.status.text())
    live.source_combo.setCurrentIndex(live.source_combo.findData("playback"))
    live.start()
    predict = win.panels["PredictPanel"]
    spin(120, lambda: predict.live_view.live is not None)
    y, sr = load(played, sr=22050)
    ctx.player.set_audio(y, sr)
    ctx.player.play()
    view = predict.live_view
    spin(60, lambda: view.latest is not None and view.latest.state == "confident")
    spin(1.5)
    win.grab().save(str(out / "teach-live.png"))
    ctx.player.stop()
    live.stop()
    spin(2)
    # Too few takes: all but two kalimba takes deleted on disk.
    for p in sorted((dataset / "kalimba").iterdir())[2:]:
        p.unlink()
    teach.refresh()
    spin(5, lambda: "more of kalimba" in teach.status.text())
    teach.start()
    spin(60, lambda: not teach.running)
    spin(1)
    win.grab().save(str(out / "teach-too-few.png"))
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
