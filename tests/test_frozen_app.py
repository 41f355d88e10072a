"""The PyInstaller spec builds, and the frozen app starts (offscreen) and answers on the command line.

Opt-in and slow (minutes, a few GB of disk): `pytest -m slow tests/test_frozen_app.py`. Set
INSTRUMENT_STUDIO_FROZEN=dist/instrument-studio to test a build you already have instead of
building one. The figures (size, build time) are printed; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "packaging" / "instrument-studio.spec"
START_SECONDS = 25     # the window must stay up this long without an error


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture(scope="module")
def frozen(tmp_path_factory) -> Path:
    given = os.environ.get("INSTRUMENT_STUDIO_FROZEN")
    if given:
        return Path(given)
    pyinstaller = shutil.which("pyinstaller", path=str(Path(sys.executable).parent)) or shutil.which("pyinstaller")
    if pyinstaller is None:
        pytest.skip("PyInstaller is not installed (pip install -e '.[dev]')")
    work = tmp_path_factory.mktemp("pyinstaller")
    t0 = time.monotonic()
    proc = subprocess.run([pyinstaller, "--noconfirm", "--log-level", "WARN", "--distpath", str(work / "dist"),
                           "--workpath", str(work / "build"), str(SPEC)], capture_output=True, text=True,
                          timeout=3600, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-4000:]
    app = work / "dist" / "instrument-studio"
    print(f"\nbuilt {app} in {time.monotonic() - t0:.0f} s, {_size(app) / 2**20:.0f} MiB")
    return app


def _env(tmp_path: Path) -> dict:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "3",
            **{var: str(tmp_path / var.lower()) for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME")}}


@pytest.mark.slow
def test_frozen_command_line_answers(frozen, tmp_path):
    import soundfile as sf

    exe = frozen / "instrument-studio"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert version.returncode == 0 and version.stdout.strip(), version.stderr
    wav = tmp_path / "tone.wav"
    sf.write(str(wav), (0.3 * np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)).astype(np.float32), 22050)
    info = subprocess.run([str(exe), "info", str(wav)], capture_output=True, text=True, timeout=120,
                          env=_env(tmp_path))
    assert info.returncode == 0 and "Traceback" not in info.stderr, info.stderr
    assert "22050" in info.stdout


@pytest.mark.slow
def test_frozen_app_starts_offscreen(frozen, tmp_path):
    exe = frozen / "instrument-studio"
    t0 = time.monotonic()
    proc = subprocess.Popen([str(exe)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(tmp_path))
    try:
        while time.monotonic() - t0 < START_SECONDS and proc.poll() is None:
            time.sleep(0.5)
        alive = proc.poll() is None
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert alive, f"the frozen app exited with {proc.returncode}:\n{err[-4000:]}"
    assert "Traceback" not in err, err[-4000:]
