from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from instrument_studio.cli import main, parse_args
from tests.audio_factory import make_bad_files, tone, write

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    # The test session's isolated XDG folders (conftest) go along; HOME too, so matplotlib's
    # font cache lands there and not in the repository.
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": os.environ["XDG_CACHE_HOME"]}
    return subprocess.run([sys.executable, "-m", "instrument_studio", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=120)


def test_parse_args_routes_files_to_the_gui_and_commands_to_the_cli():
    assert parse_args(["song.wav"]).files == ["song.wav"] and parse_args(["song.wav"]).command is None
    assert parse_args([]).command is None
    args = parse_args(["info", "x.wav", "--json"])
    assert args.command == "info" and args.json and args.file == "x.wav"
    args = parse_args(["mel", "x.wav", "--out", "a.png", "--n-mels", "64", "--fmax", "4000"])
    assert (args.n_mels, args.fmax, args.out) == (64, 4000.0, "a.png")


def test_info_json_has_the_documented_keys(tmp_path, capsys):
    path = write(tmp_path / "s.flac", tone(440, 1.5, 48000, channels=2), 48000, subtype="PCM_24")
    assert main(["info", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"path", "samplerate", "channels", "duration", "frames", "format", "subtype"}
    assert (data["samplerate"], data["channels"], data["frames"], data["format"], data["subtype"]) == \
        (48000, 2, 72000, "FLAC", "PCM_24")
    assert data["duration"] == pytest.approx(1.5)


def test_info_human_readable(tmp_path, capsys):
    path = write(tmp_path / "s.wav", tone(440, 1.0, 22050), 22050, subtype="PCM_16")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "22050 Hz" in out and "16-bit" in out


def test_mel_renders_a_png_without_a_screen(tmp_path):
    path = write(tmp_path / "s.wav", tone(880, 2.0, 44100), 44100, subtype="PCM_16")
    out = tmp_path / "handout" / "mel.png"
    result = cli("mel", str(path), "--out", str(out), "--n-mels", "64", "--fmax", "6000")
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    import PIL.Image  # matplotlib's dependency

    with PIL.Image.open(out) as im:
        assert im.size == (1400, 600)


@pytest.mark.parametrize("kind", ["empty", "text", "header_only", "corrupt", "missing", "folder"])
def test_bad_input_is_one_line_and_non_zero(tmp_path, kind):
    path = make_bad_files(tmp_path / "bad")[kind]
    result = cli("info", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("instrument-studio: error:") and path.name in lines[0]


def test_bad_mel_settings_are_one_line(tmp_path):
    path = write(tmp_path / "s.wav", tone(440, 0.5, 22050), 22050)
    result = cli("mel", str(path), "--out", str(tmp_path / "m.png"), "--fmax", "20000")
    assert result.returncode == 1 and "Nyquist" in result.stderr and "Traceback" not in result.stderr
