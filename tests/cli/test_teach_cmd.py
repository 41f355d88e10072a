"""`instrument-studio teach DATASET_DIR --out BUNDLE [--keep-default-classes]` (issue 13)."""

from __future__ import annotations

import json

import pytest

from instrument_studio.cli import main, parse_args
from instrument_studio.core.audio.audiofile import save_wav
from tests.core.test_teach import write_takes
from tests.synth_instruments import SR, note


def test_parse_args():
    args = parse_args(["teach", "takes", "--out", "model", "--keep-default-classes"])
    assert (args.command, args.dataset, args.out, args.keep_default_classes) == ("teach", "takes", "model", True)
    assert parse_args(["teach", "takes", "--out", "m"]).keep_default_classes is False


def test_too_few_takes_say_what_to_record(tmp_path, capsys):
    write_takes(tmp_path / "d", "tone", 3)
    write_takes(tmp_path / "d", "buzz", 1)
    assert main(["teach", str(tmp_path / "d"), "--out", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert "cannot teach yet" in err and "record 2 more takes of buzz" in err
    assert err.count("\n") == 1 and not (tmp_path / "m").exists()


@pytest.mark.timeout(1200)
def test_teach_keeping_the_default_classes_then_predict_with_it(tmp_path, capsys):
    dataset = write_takes(tmp_path / "d", "tone", 3, seconds=3.2)
    write_takes(dataset, "buzz", 3, seconds=3.2, freqs=(150.0, 196.0, 247.0))
    out = tmp_path / "personal"
    assert main(["teach", str(dataset), "--out", str(out), "--keep-default-classes", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["taught"] == ["buzz", "tone"] and info["keep_default_classes"] is True
    assert {"buzz", "tone", "violin", "piano", "unknown"} <= set(info["labels"]) and len(info["labels"]) == 23
    assert info["takes"] == 6 and 0.0 <= info["loto_accuracy"] <= 1.0 and info["cpu_seconds"] > 0
    # Both taught sounds are new columns, each held to a few percent of real default-class windows.
    assert set(info["anchor_claims"]) == {"buzz", "tone"}
    assert all(0.0 <= v <= 0.2 for v in info["anchor_claims"].values())
    assert "winning at most 2%" in (out / "MODEL_CARD.md").read_text("utf-8")
    save_wav(tmp_path / "new.wav", note("buzz", seconds=3.0, freq=175.0, seed=40), SR)
    assert main(["predict", str(tmp_path / "new.wav"), "--model", str(out)]) == 0
    assert capsys.readouterr().out.split(": ", 1)[1].startswith("buzz")
