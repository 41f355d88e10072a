"""Permission tests that hold when the suite runs as root (CI containers do).

Root ignores file modes through its capabilities (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, ...).
`setpriv --inh-caps=-all --bounding-set=-all` starts a command with every capability dropped: it
stays uid 0 (so it can still reach the test's root-owned temporary folders) but obeys the mode bits
as any owner does, so chmod 000 / 0500 refuses it as it would a normal user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_DROP = ["--inh-caps=-all", "--bounding-set=-all"]


def unprivileged_prefix() -> list[str]:
    """The argv prefix that makes a command obey file permissions; [] when not root. Skips (with
    the reason) where root cannot drop its capabilities."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): root ignores file permissions, so "
                    "this test cannot see what a normal user sees")
    probe = subprocess.run([setpriv, *_DROP, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop root's capabilities here: {probe.stderr.strip()}")
    return [setpriv, *_DROP]


def run_python_unprivileged(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -c code args...` subject to file permissions (see the module doc)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([*unprivileged_prefix(), sys.executable, "-c", code, *args], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=str(REPO))


def run_cli_unprivileged(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m instrument_studio ARGV`, subject to file permissions."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([*unprivileged_prefix(), sys.executable, "-m", "instrument_studio", *argv],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=str(REPO))
