"""A real, virtual microphone: PulseAudio with a null sink whose monitor is the default source.

Recipe from ../shared/ENVIRONMENT.md: a private PulseAudio (its own XDG_RUNTIME_DIR), a null sink
`virt` (played into with paplay) whose monitor is the default source, and a loopback into a
second null sink so that the monitor delivers small blocks instead of 2 s bursts. PortAudio
reaches it through ALSA's `pulse`/`default` devices.

`virtual_mic` is a session fixture (loaded from tests/conftest.py); it skips, with the reason,
where PulseAudio or PortAudio is missing, and stops its PulseAudio at the end. bench/live.py
uses the VirtualMic class directly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

SINK = "virt"
RATE = 48000


class VirtualMicUnavailable(RuntimeError):
    pass


class VirtualMic:
    device = "pulse"  # the ALSA device PortAudio lists for PulseAudio

    def __init__(self, *, rate: int = RATE):
        self.rate = rate
        self.runtime_dir: Path | None = None
        self._saved_env: dict[str, str | None] = {}
        self._players: list[subprocess.Popen] = []

    # --- life cycle ---------------------------------------------------------------------------
    def start(self) -> VirtualMic:
        for tool in ("pulseaudio", "pactl", "paplay"):
            if shutil.which(tool) is None:
                raise VirtualMicUnavailable(f"{tool} is not installed (Debian: apt install pulseaudio "
                                            "pulseaudio-utils)")
        try:
            import sounddevice  # noqa: F401
        except OSError as exc:
            raise VirtualMicUnavailable(f"PortAudio is missing: {exc}") from exc
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="is-pulse-"))
        self.runtime_dir.chmod(0o700)
        # This process (PortAudio -> ALSA -> libpulse) finds the server through XDG_RUNTIME_DIR.
        # PULSE_SERVER must not be set: pulseaudio refuses to start where it is.
        for key, value in (("XDG_RUNTIME_DIR", str(self.runtime_dir)), ("PULSE_SERVER", None)):
            self._saved_env[key] = os.environ.get(key)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        try:
            self._run("pulseaudio", "--start", "--exit-idle-time=-1", "--disallow-exit")
            self._run("pactl", "load-module", "module-null-sink", f"sink_name={SINK}",
                      f"rate={self.rate}", "channels=1")
            self._run("pactl", "load-module", "module-null-sink", "sink_name=drain",
                      f"rate={self.rate}", "channels=1")
            self._run("pactl", "load-module", "module-loopback", f"source={SINK}.monitor",
                      "sink=drain", "latency_msec=20")
            self._run("pactl", "set-default-source", f"{SINK}.monitor")
            self._run("pactl", "set-default-sink", SINK)
        except Exception:
            self.stop()
            raise
        time.sleep(0.5)
        self._reinit_portaudio()
        self._warm_up()
        return self

    def _warm_up(self) -> None:
        # The first stream after the server starts waits ~1.4 s for its first block; let that
        # happen here rather than inside a test's recording.
        import sounddevice as sd

        got = []
        with sd.InputStream(device=self.device, channels=1, samplerate=self.rate,
                            callback=lambda *a: got.append(1)):
            deadline = time.monotonic() + 5
            while len(got) < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
        if not got:
            self.stop()
            raise VirtualMicUnavailable("PulseAudio started but the microphone delivered no audio")

    def stop(self) -> None:
        for p in self._players:
            with contextlib.suppress(Exception):
                p.kill()
                p.wait(timeout=5)
        self._players.clear()
        if self.runtime_dir is not None:
            with contextlib.suppress(Exception):
                subprocess.run(["pulseaudio", "--kill"], env=dict(os.environ), timeout=10,
                               capture_output=True)
            # Wait for the daemon to be gone before removing its socket folder.
            deadline = time.monotonic() + 5
            while (self.runtime_dir / "pulse" / "pid").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        if self.runtime_dir is not None:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None
        self._reinit_portaudio()

    # --- playing into the microphone ----------------------------------------------------------
    def play(self, wav: str | Path) -> subprocess.Popen:
        """Start playing a WAV into the microphone (returns the paplay process)."""
        p = subprocess.Popen(["paplay", "-d", SINK, str(wav)], env=dict(os.environ),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._players.append(p)
        return p

    def wait_players(self, timeout: float = 30) -> None:
        for p in self._players:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=timeout)
        self._players = [p for p in self._players if p.poll() is None]

    # --- internals ------------------------------------------------------------------------------
    def _run(self, *cmd: str) -> None:
        res = subprocess.run(cmd, env=dict(os.environ), capture_output=True, text=True, timeout=20)
        if res.returncode != 0:
            raise VirtualMicUnavailable(f"`{' '.join(cmd)}` failed: {res.stderr.strip() or res.stdout.strip()}")

    @staticmethod
    def _reinit_portaudio() -> None:
        # PortAudio lists devices once, at initialisation: make it look again.
        try:
            import sounddevice as sd
        except OSError:
            return
        with contextlib.suppress(Exception):
            sd._terminate()
        with contextlib.suppress(Exception):
            sd._initialize()


def known_signal(sr: int = RATE) -> tuple[np.ndarray, int]:
    """The known file: 0.2 s silence, 1.2 s of a 1 kHz tone, 0.6 s chirp 300->3000 Hz, 0.2 s silence.

    The tone gives a spectral peak to find; the chirp makes the cross-correlation unambiguous.
    """
    t_tone = np.arange(int(1.2 * sr)) / sr
    tone = 0.5 * np.sin(2 * np.pi * 1000.0 * t_tone)
    t_chirp = np.arange(int(0.6 * sr)) / sr
    f0, f1, dur = 300.0, 3000.0, 0.6
    chirp = 0.4 * np.sin(2 * np.pi * (f0 * t_chirp + (f1 - f0) / (2 * dur) * t_chirp ** 2))
    fade = np.minimum(1.0, np.minimum(np.arange(len(tone)), np.arange(len(tone))[::-1]) / (0.01 * sr))
    silence = np.zeros(int(0.2 * sr))
    y = np.concatenate([silence, tone * fade, chirp, silence]).astype(np.float32)
    return y, sr


TONE_HZ = 1000.0
TONE_SPAN = (0.2, 1.4)  # seconds of the tone inside known_signal


@pytest.fixture(scope="session")
def virtual_mic():
    """A started VirtualMic for the whole session (skips where PulseAudio/PortAudio is missing)."""
    mic = VirtualMic()
    try:
        mic.start()
    except VirtualMicUnavailable as exc:
        pytest.skip(f"virtual microphone unavailable: {exc}")
    yield mic
    mic.stop()


@pytest.fixture(scope="session")
def known_wav(tmp_path_factory) -> Path:
    import soundfile as sf

    y, sr = known_signal()
    path = tmp_path_factory.mktemp("mic") / "known.wav"
    sf.write(str(path), y, sr, subtype="PCM_16")
    return path


def align(recorded: np.ndarray, source: np.ndarray) -> tuple[int, float]:
    """(lag of source inside recorded, normalised correlation at that lag), both at one rate."""
    from scipy.signal import correlate

    c = correlate(recorded, source, mode="valid", method="fft")
    lag = int(np.argmax(c))
    seg = recorded[lag:lag + len(source)]
    denom = np.linalg.norm(seg) * np.linalg.norm(source)
    return lag, float(np.dot(seg, source) / denom) if denom > 0 else 0.0


def peak_hz(y: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[int(np.argmax(spec))])
