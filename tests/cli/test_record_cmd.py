"""`instrument-studio record`: arguments, one-line errors, and a real recording through the virtual mic."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from instrument_studio.cli import main, parse_args
from instrument_studio.core.audio.ringbuffer import RingBuffer
from tests.core.test_live_pipeline import FakeSource
from tests.mic import TONE_HZ, TONE_SPAN, align, known_signal, peak_hz

REPO = Path(__file__).resolve().parents[2]


def check_recording(path: Path) -> None:
    """The saved WAV holds the known signal: correlation with the source and the tone's frequency."""
    import soxr

    source, sr = known_signal()
    rec, rec_sr = sf.read(path, dtype="float32")
    rec = soxr.resample(rec, rec_sr, sr) if rec_sr != sr else rec
    lag, corr = align(rec, source)
    assert corr > 0.95, f"recording does not match the played file (correlation {corr:.3f})"
    a, b = (int((TONE_SPAN[0] + 0.2) * sr) + lag, int((TONE_SPAN[1] - 0.2) * sr) + lag)
    assert peak_hz(rec[a:b], sr) == pytest.approx(TONE_HZ, abs=2.0)


def test_parse_args_record():
    args = parse_args(["record", "--seconds", "2.5", "--label", "violin", "--dataset", "d", "--device", "3"])
    assert (args.command, args.seconds, args.label, args.dataset, args.device) == ("record", 2.5, "violin", "d", "3")
    args = parse_args(["record", "--label", "x", "--dataset", "d"])
    assert args.seconds is None and args.device is None


def test_missing_label_is_a_one_line_error(capsys):
    assert main(["record", "--dataset", "d", "--seconds", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--label" in err and "Traceback" not in err


def test_unknown_device_is_a_one_line_error_naming_it(tmp_path):
    res = subprocess.run([sys.executable, "-m", "instrument_studio", "record", "--seconds", "1",
                          "--label", "x", "--dataset", str(tmp_path), "--device", "no-such-mic-xyz"],
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    # One line from us (libasound/PortAudio may add their own diagnostics on some systems).
    ours = [line for line in res.stderr.splitlines() if line.startswith("instrument-studio:")]
    assert len(ours) == 1 and "Traceback" not in res.stderr
    assert "no-such-mic-xyz" in res.stderr or "no audio input device" in res.stderr
    assert not any(tmp_path.rglob("*.wav"))


@pytest.mark.mic
def test_record_command_saves_what_the_microphone_heard(virtual_mic, known_wav, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "instrument_studio", "record", "--seconds", "5",
                             "--label", "tone", "--dataset", str(tmp_path), "--device", virtual_mic.device],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Play once the take is being written (its .part file exists): start-up time varies a lot.
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("tone/.*.part")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    virtual_mic.play(known_wav)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    path = Path(out.strip())
    assert path.parent == tmp_path / "tone" and path.suffix == ".wav" and path.exists()
    assert sf.info(path).duration == pytest.approx(5.0, abs=0.01)
    assert not list((tmp_path / "tone").glob(".*.part"))
    check_recording(path)


@pytest.mark.mic
def test_record_into_a_read_only_folder_says_so_and_writes_nothing(virtual_mic, tmp_path, read_only_folder,
                                                                   capsys):
    target = tmp_path / "ro"
    target.mkdir()
    if os.geteuid() != 0:
        target.chmod(0o500)
    else:  # root writes anywhere: make the folder refuse as a read-only mount would
        read_only_folder(target)
    try:
        code = main(["record", "--seconds", "1", "--label", "tone", "--dataset", str(target),
                     "--device", virtual_mic.device])
    finally:
        target.chmod(0o700)
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "read-only" in err and str(target / "tone") in err
    assert not any(target.rglob("*.wav*"))


UNPLUG = r"""
import os, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, os.getcwd())
from tests.mic import VirtualMic
mic = VirtualMic().start()
dataset = Path(sys.argv[1])
try:
    p = subprocess.Popen([sys.executable, "-m", "instrument_studio", "record", "--label", "x",
                          "--dataset", str(dataset), "--device", mic.device],
                         env={**os.environ, "PYTHONPATH": os.getcwd()}, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not list(dataset.glob("x/.*.part")) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(1.0)
    subprocess.run(["pulseaudio", "--kill"], check=True)  # the sound server (and the device) vanish
    out, err = p.communicate(timeout=30)
    print(p.returncode)
    print(out.strip())
    print(err.strip().splitlines()[-1])
finally:
    mic.stop()
"""


@pytest.mark.mic
def test_losing_the_device_mid_take_keeps_what_was_recorded(tmp_path):
    import shutil

    if shutil.which("pulseaudio") is None:
        pytest.skip("virtual microphone unavailable: pulseaudio is not installed")
    # Its own PulseAudio in a child process, so that killing it leaves the session's mic alone.
    res = subprocess.run([sys.executable, "-c", UNPLUG, str(tmp_path)], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 0, res.stderr[-2000:]
    code, path, last_err = res.stdout.strip().splitlines()[-3:]
    assert code == "1"
    assert "stopped" in last_err or "no audio" in last_err
    assert "kept in" in last_err and path in last_err
    assert sf.info(path).duration > 0.5
    assert not list(tmp_path.glob("x/.*.part"))


@pytest.mark.mic
def test_list_devices_shows_the_microphone_and_marks_the_default(virtual_mic, capsys):
    assert main(["record", "--list-devices"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(virtual_mic.device in line for line in lines)
    assert sum(line.startswith("*") for line in lines) == 1 and all("Hz" in line for line in lines)


class ToneSource(FakeSource):
    """A microphone stand-in whose 'audio thread' plays a stereo tone into the ring in real time,
    then (lose=True) fails as an unplugged device does."""

    def __init__(self, *, seconds: float = 0.6, lose: bool = False, samplerate: int = 16000):
        super().__init__(samplerate)
        self.ring = RingBuffer(samplerate * 4, channels=2)
        tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * samplerate)) / samplerate))
        self.audio = np.stack([tone, tone], axis=1).astype(np.float32)
        self.lose = lose

    def start(self):
        def play():
            self.feed(self.audio, block=512, realtime=True)
            if self.lose:
                self.lost = "the input device 'tone' stopped"

        threading.Thread(target=play, daemon=True).start()


def test_record_goes_through_the_live_pipeline_and_its_take_writer(monkeypatch, tmp_path, capsys):
    from instrument_studio.cli import record_cmd

    monkeypatch.setattr(record_cmd, "MicSource", lambda device: ToneSource())
    assert main(["record", "--seconds", "0.5", "--label", "tone", "--dataset", str(tmp_path)]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == tmp_path / "tone" and sf.info(path).duration == pytest.approx(0.5, abs=1e-3)
    data, _sr = sf.read(path, dtype="float32")
    assert data.ndim == 1 and abs(float(data.max()) - 0.5) < 0.01      # the one mono mix-down


def test_record_keeps_the_take_when_the_device_is_lost(monkeypatch, tmp_path, capsys):
    from instrument_studio.cli import record_cmd

    monkeypatch.setattr(record_cmd, "MicSource", lambda device: ToneSource(lose=True))
    assert main(["record", "--label", "tone", "--dataset", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    path = captured.out.strip()
    assert "stopped" in captured.err and f"kept in {path}" in captured.err and captured.err.count("\n") == 1
    assert sf.info(path).duration == pytest.approx(0.6, abs=0.05)
