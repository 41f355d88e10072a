"""The CLI's stderr carries no TensorFlow start-up notices (issue 11 #19)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from instrument_studio.core.quiet import filter_native_log
from tests.audio_factory import tone, write

REPO = Path(__file__).resolve().parents[2]

NOTICE = (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
          b"I0000 00:00:1795893146.987579    7298 port.cc:153] oneDNN custom operations are on.\n")


def test_filter_hides_absl_lines_below_the_level_and_keeps_the_rest():
    error = b"E0000 00:00:1795893146.987579    7298 x.cc:1] a real error\n"
    python = b"Traceback (most recent call last):\n"
    data = NOTICE + b"W1128 12:00:01.5 7298 y.cc:2] a warning\n" + error + python
    assert filter_native_log(data, 2) == error + python
    assert filter_native_log(data, 0) == data
    assert b"a warning" in filter_native_log(data, 1)


def test_predict_prints_its_answer_and_no_onednn_notice(tmp_path):
    path = write(tmp_path / "a440.wav", tone(440, 1.5, 22050), 22050)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_CPP", "TF_ENABLE_ONEDNN"))}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-m", "instrument_studio", "predict", str(path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "a440.wav:" in result.stdout and "%" in result.stdout
    assert "oneDNN" not in result.stderr and "absl::InitializeLog" not in result.stderr, result.stderr
    assert result.stderr.strip() == ""
