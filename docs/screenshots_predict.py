"""Screenshots of the default model naming real recordings, live and in the Audio panel.

    xvfb-run -a -s "-screen 0 1280x720x24" .venv/bin/python docs/screenshots_predict.py OUT_DIR \
        [--among-only | --live-among-only | --folder-only | --unknown-only | --audio FILE]

Reads real recordings from ../shared/data (they are never copied into the repository; the live
phrase is converted to a 48 kHz WAV in a temporary folder) and saves, at 1280x720:

- live-predict-{light,dark}.png: the Live panel mid-phrase while the virtual microphone
  (tests/mic.py) plays a real solo phrase and live prediction runs (taken at the first confident
  answer after the phrase's middle, if one comes within 2 s). Every answer the live bars
  show is recorded, and the script prints how many were confident and how many of those named
  the right instrument (the "steadily" figure);
- live-predict-among.png: the same phrase (light theme) answered among the four brass classes
  (the Live panel's "Among" button), with the same figures printed for it;
- predict-among.png: the Predict panel after the brass phrases of the web-app recordings (never
  trained on) with the "Among" menu open, the four brass classes ticked, the table answering among them
- predict-folder.png: the Predict panel after a folder of web-app recordings (and one damaged file)
  is dropped on the window, sorted by probability (the least sure answers first);
- audio-predict.png: the Audio panel with a real phrase opened and "Name the instrument" run
  (the whole-file answer and the per-second timeline);
- audio-unknown.png: the same for speech, which should read "unknown NN% (nearest: ...)".

--unknown-only: only audio-unknown.png. --audio FILE: only audio-predict.png, for FILE (any recording).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SANDBOX = Path(tempfile.mkdtemp(prefix="is-predict-shots-"))
os.environ["XDG_CONFIG_HOME"] = str(SANDBOX / "config")

from _spin import spin  # noqa: E402 - docs/ is on sys.path when run as a script
from PySide6.QtCore import QSettings  # noqa: E402

DATA = REPO.parent / "shared" / "data"
# (right class, recording): a validation-only real phrase for the live test, not trained on.
LIVE = ("trumpet", "real-unverified/thiblejack/trumpet/thiblejack_trompette.ogg")
FILE = ("violin", "real/cmmsd-vibrato/violin/cmmsd_Violin_Bach_Kagan.ogg")
UNKNOWN = "real/sms-tools/speech/speech-male.flac"
SIZE = (1280, 720)
LIVE_SECONDS = 12.0


# A brass section: the validation-only web-app phrases of four brass instruments (not trained on).
AMONG = ("french-horn", "trombone", "trumpet", "tuba")


def make_window(app, theme: str):
    from instrument_studio.gui.context import AppContext
    from instrument_studio.gui.main_window import MainWindow
    from instrument_studio.gui.settings import Settings
    from instrument_studio.gui.theme import apply_theme

    apply_theme(app, theme)
    ctx = AppContext(Settings(QSettings(str(SANDBOX / f"{theme}.ini"), QSettings.IniFormat)))
    win = MainWindow(ctx)
    win.resize(*SIZE)
    win.show()
    return win


def among(app, out: Path) -> None:
    """The Predict panel answering a folder among the four instruments it is known to hold."""
    from PySide6.QtCore import QPoint

    win = make_window(app, "light")
    panel = win.panels["PredictPanel"]
    win.tabs.setCurrentWidget(panel)
    done = []
    panel.folder_done.connect(lambda ok, failed: done.append((ok, failed)))
    files = sorted(str(f) for label in AMONG for f in (DATA / "real-unverified").glob(f"*/{label}/*.ogg"))
    panel.predict_paths(files)
    spin(600, lambda: bool(done))
    rows = [(r.path, r.prediction.label) for r in panel.results if r.ok]
    every = sum(Path(p).parent.name == label for p, label in rows)
    for act in panel.among_menu.actions():
        if act.text() in AMONG:
            act.trigger()
    rows = [(r.path, panel.shown(r).prediction.label) for r in panel.results if r.ok]
    right = sum(Path(p).parent.name == label for p, label in rows)
    print(f"predict-among: {len(rows)} files, right {every} over every class, {right} among {', '.join(AMONG)}")
    panel.among_menu.popup(panel.among_button.mapToGlobal(QPoint(0, panel.among_button.height())))
    spin(1.0)
    app.primaryScreen().grabWindow(0).copy(win.geometry()).save(str(out / "predict-among.png"))
    panel.among_menu.hide()
    win.close()


def folder(app, out: Path) -> None:
    """The Predict panel after a folder is dropped on the window: every 8th of the web-app recordings
    (validation only, never trained on; some of instruments outside the model's classes) and one
    damaged file, sorted by probability, the least sure answers first."""
    import shutil

    from PySide6.QtCore import Qt

    from instrument_studio.core.recipe.sources import label_for

    win = make_window(app, "light")
    panel = win.panels["PredictPanel"]
    takes = SANDBOX / "Recordings to sort"
    takes.mkdir()
    truth = {}
    for f in sorted((DATA / "real-unverified").glob("*/*/*.ogg"))[::8]:
        shutil.copy(f, takes / f.name)
        truth[f.name] = label_for(f.parent.name)
    (takes / "damaged take.wav").write_bytes(b"RIFF....WAVEfmt not audio")
    done = []
    panel.folder_done.connect(lambda ok, failed: done.append((ok, failed)))
    win.open_files([str(takes)])                 # what a drop of the folder does
    spin(600, lambda: bool(done))
    known = [r for r in panel.results if r.ok and truth[Path(r.path).name] in r.prediction.labels]
    right = sum(r.prediction.label == truth[Path(r.path).name] for r in known)
    print(f"predict-folder: {done[0][0]} recordings ({len(known)} of the model's classes: {right} right over "
          f"every class), {done[0][1]} unreadable")
    panel.table.sortByColumn(2, Qt.AscendingOrder)   # the table shows its top after sorting, by itself
    spin(1.0)
    app.primaryScreen().grabWindow(0).copy(win.geometry()).save(str(out / "predict-folder.png"))
    win.close()


def live(app, out: Path, theme: str, mic, wav: Path, right: str, among: tuple[str, ...] | None = None) -> list:
    """The Live panel while `wav` plays into the virtual microphone; answered among `among` (the
    Live panel's Among menu) when given, saved as live-predict-among.png."""
    win = make_window(app, theme)
    panel = win.panels["LivePanel"]
    view = win.panels["PredictPanel"].live_view
    win.tabs.setCurrentWidget(panel)
    spin(5, lambda: panel.device_combo.count() > 0 or panel.stack.currentIndex() == 1)
    panel.device_combo.setCurrentIndex(max(0, panel.device_combo.findData(mic.device)))
    panel.start_button.click()
    # The first start loads the model (TensorFlow import, embedding network): wait for it.
    spin(120, lambda: panel.pipeline.running and view.live is not None)
    if view.live is None:
        print(f"[{theme}] live prediction did not start: {view.state_label.text()}", file=sys.stderr)
    if among:
        win.panels["PredictPanel"].answer_among(list(among))   # what ticking them in the menu does
    spin(1.5)
    answers: list = []
    t0 = time.monotonic()
    view.shown.connect(answers.append)
    mic.play(wav)
    spin(LIVE_SECONDS / 2)
    # Mid-phrase, at the next confident answer if one comes within 2 s (else as it stands).
    spin(2, lambda: view.latest is not None and view.latest.state == "confident")
    win.grab().save(str(out / (f"live-predict-{theme}.png" if not among else "live-predict-among.png")))
    spin(max(0.5, LIVE_SECONDS + 1.5 - (time.monotonic() - t0)))
    view.shown.disconnect(answers.append)
    panel.stop()
    spin(5, lambda: not panel.pipeline.running)
    win.close()
    mic.wait_players(10)
    report(theme if not among else f"{theme}, among {', '.join(among)}", answers, t0, right)
    return answers


def report(theme: str, answers: list, t0: float, right: str) -> None:
    """Print the "steadily" figure: of the confident answers, how many named the right class; and
    which class the top bar showed, confident or not. Twice: for every answer while the phrase
    played, and for those whose whole window lies inside the phrase (the first ones also hear
    the silence before it)."""
    inside = [a for a in answers if a.window_time - a.window_seconds >= t0]
    for name, group in (("every answer", answers), ("windows inside the phrase", inside)):
        confident = [a for a in group if a.state == "confident"]
        named = Counter(a.ranked(1)[0][0] for a in confident)
        top = Counter(a.ranked(1)[0][0] for a in group if a.probabilities is not None)
        reasons = Counter(a.reason.split(" (")[0] for a in group if a.state != "confident")
        hits = named.get(right, 0)
        share = f" ({hits / len(confident):.0%})" if confident else ""
        # Answers come less often while the answer holds: what the musician sees is each answer for
        # as long as it stays on screen (until the next one).
        shown = [b.result_time - a.result_time for a, b in zip(group, group[1:], strict=False)]
        shown += [group[-1].spacing] if group else []
        on = sum(t for a, t in zip(group, shown, strict=True) if a.state == "confident")
        on_right = sum(t for a, t in zip(group, shown, strict=True)
                       if a.state == "confident" and a.ranked(1)[0][0] == right)
        seen = f", on screen {on_right / on:.0%} of the confident time" if on else ""
        print(f"[{theme}] {name}: {len(group)} answers; {right} {hits} of {len(confident)} confident "
              f"answers{share}{seen}; confident named {dict(named.most_common())}; top bar "
              f"{dict(top.most_common())}; uncertain because {dict(reasons.most_common())}; windows "
              f"{min((a.window_seconds for a in group), default=0):.2f}-"
              f"{max((a.window_seconds for a in group), default=0):.2f} s")


def audio(app, out: Path, path: Path, name: str, seek_fraction: float = 0.45) -> None:
    win = make_window(app, "light")
    panel = win.audio_panel
    view = win.panels["PredictPanel"].file_view
    win.open_file(str(path))
    spin(60, lambda: panel.ready is not None and panel._worker is None)
    if view.prediction is None:
        view.predict_button.click()
    spin(180, lambda: view.prediction is not None)
    if view.prediction is None:
        print(f"{name}: no prediction: {view.summary.text()}", file=sys.stderr)
    else:
        p = view.prediction
        a = p.answer
        per_second = Counter(s.label for s in p.step_answers())
        print(f"{name}: {path.name}: answer {a.label} (unknown={a.unknown}, nearest={a.nearest}); "
              f"top {[(label, round(q, 2)) for label, q in p.ranked(3)]}; "
              f"per-second answers {dict(per_second.most_common())}")
    panel.seek(panel.ready.info.duration * seek_fraction if panel.ready is not None else 0.0)
    spin(0.8)
    win.grab().save(str(out / name))
    win.close()


def main() -> int:
    from instrument_studio.core.audio.audiofile import load, save_wav
    from instrument_studio.gui.app import create_app
    from tests.mic import VirtualMic, VirtualMicUnavailable

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "shots")
    out.mkdir(parents=True, exist_ok=True)
    if not DATA.is_dir():
        print(f"needs the real recordings in {DATA}", file=sys.stderr)
        return 2
    app = create_app()
    if "--among-only" in sys.argv:   # (no virtual microphone started for it)
        among(app, out)
        return 0
    if "--folder-only" in sys.argv:
        folder(app, out)
        return 0
    if "--unknown-only" in sys.argv:
        audio(app, out, DATA / UNKNOWN, "audio-unknown.png")
        return 0
    if "--audio" in sys.argv:
        rest = sys.argv[sys.argv.index("--audio") + 1:]
        if not rest:
            print("--audio needs the recording to open: --audio FILE", file=sys.stderr)
            return 2
        audio(app, out, Path(rest[0]), "audio-predict.png")
        return 0
    right, rel = LIVE
    y, sr = load(DATA / rel, sr=48000)
    wav = save_wav(SANDBOX / f"{right}.wav", y[: int(LIVE_SECONDS * sr)], sr)
    try:
        mic = VirtualMic().start()
    except VirtualMicUnavailable as exc:
        print(f"no live screenshots: {exc}", file=sys.stderr)
        mic = None
    if mic is not None:
        try:
            if "--live-among-only" in sys.argv:
                live(app, out, "light", mic, Path(wav), right)
                live(app, out, "light", mic, Path(wav), right, among=AMONG)
                return 0
            for theme in ("light", "dark"):
                live(app, out, theme, mic, Path(wav), right)
            live(app, out, "light", mic, Path(wav), right, among=AMONG)
        finally:
            mic.stop()
    among(app, out)
    folder(app, out)
    audio(app, out, DATA / FILE[1], "audio-predict.png")
    audio(app, out, DATA / UNKNOWN, "audio-unknown.png")
    print(f"screenshots in {out}/")
    return 0


if __name__ == "__main__":
    import shutil

    try:
        code = main()
    finally:
        shutil.rmtree(SANDBOX, ignore_errors=True)
    sys.exit(code)
