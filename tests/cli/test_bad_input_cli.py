"""Bad input at the command line: one line per problem on stderr, nothing else (no TensorFlow or
mpg123 notices, no RuntimeWarnings, no traceback), and the right words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from instrument_studio.cli import main
from tests.audio_factory import tone, write

REPO = Path(__file__).resolve().parents[2]


def test_info_and_mel_warn_about_a_truncated_file(tmp_path, capsys):
    good = write(tmp_path / "good.wav", tone(440, 2.0, 22050), 22050, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[: 44 + 2 * 22050])
    warning = f"instrument-studio: warning: {cut}: the file is truncated: its header promises 2.00 s, " \
              "only 1.00 s could be decoded\n"
    assert main(["info", str(cut)]) == 0
    assert capsys.readouterr().err == warning
    assert main(["info", str(cut), "--json"]) == 0
    out = capsys.readouterr()
    assert out.err == warning and json.loads(out.out)["duration"] == 1.0
    assert main(["mel", str(cut), "--out", str(tmp_path / "m.png")]) == 0
    assert capsys.readouterr().err == warning


def test_info_refuses_an_absurd_sample_rate_in_one_line(tmp_path, capsys):
    path = write(tmp_path / "x.wav", tone(440, 1.0, 22050), 22050, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    data[24:28] = (1).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    assert main(["info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sample rate of 1 Hz" in err


def test_predict_in_a_subprocess_says_one_line_per_problem(tmp_path):
    good = write(tmp_path / "good.wav", tone(440, 2.0, 22050), 22050, subtype="PCM_16")
    (tmp_path / "cut.wav").write_bytes(good.read_bytes()[: 44 + 2 * 22050])     # 1 s of a promised 2 s
    (tmp_path / "tiny.wav").write_bytes(good.read_bytes()[: 44 + 56])           # 28 samples
    y = tone(440, 2.0, 22050)
    y[10:20] = np.nan
    write(tmp_path / "nan.wav", y, 22050, subtype="FLOAT")
    write(tmp_path / "silence.wav", np.zeros(44100, dtype=np.float32), 22050, subtype="PCM_16")
    mp3 = write(tmp_path / "m.mp3", tone(440, 2.0, 44100), 44100, fmt="MP3", subtype="MPEG_LAYER_III")
    data = bytearray(mp3.read_bytes())
    (tmp_path / "short.mp3").write_bytes(bytes(data[:500]))
    for i in range(2000, len(data), 997):
        data[i] ^= 0x5A
    (tmp_path / "garbled.mp3").write_bytes(bytes(data))
    mp3.unlink()
    good.unlink()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": os.environ["XDG_CACHE_HOME"]}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    proc = subprocess.run([sys.executable, "-m", "instrument_studio", "predict", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=300)
    out = {Path(line.split(": ", 1)[0]).name: line.split(": ", 1)[1] for line in proc.stdout.splitlines()}
    assert proc.returncode == 1
    assert out["silence.wav"].startswith("silent")
    assert out["tiny.wav"].startswith("error: only 0.00 s of audio, shorter than the 0.20 s this model needs")
    assert "header promises 2.00 s" in out["tiny.wav"]
    assert out["nan.wav"].startswith("error: 10 samples are not numbers")
    assert "corrupt" in out["short.mp3"] and "pipe" not in out["short.mp3"]
    assert "(" in out["cut.wav"]          # predicted, with a warning on stderr
    err = proc.stderr.splitlines()
    assert err and all(line.startswith("instrument-studio: warning: ") for line in err), proc.stderr
    assert any("cut.wav: the file is truncated: its header promises 2.00 s, only 1.00 s" in line for line in err)


def test_predict_refuses_an_empty_path_instead_of_predicting_the_current_folder(tmp_path, capsys, monkeypatch):
    """`predict ""` (a shell variable that came out empty) named Path("") = ".", and every recording
    under the current folder was predicted."""
    write(tmp_path / "here.wav", tone(440, 1.0, 22050), 22050)
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "--json", str(tmp_path / "here.wav"), ""]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == "instrument-studio: error: an empty path was given: name a file or a folder\n"
