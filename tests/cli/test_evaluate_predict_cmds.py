"""`evaluate` and `predict` on the command line, with a bundle trained in the session and with
the shipped default model."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from instrument_studio.cli import main, parse_args

REPO = Path(__file__).resolve().parents[2]


def test_parse_args():
    a = parse_args(["evaluate", "--model", "m", "--dataset", "d", "--split", "val", "--json"])
    assert (a.command, a.model, a.dataset, a.split, a.json) == ("evaluate", "m", "d", "val", True)
    p = parse_args(["predict", "a.wav", "b", "--csv", "out.csv"])
    assert (p.command, p.paths, p.model, p.csv) == ("predict", ["a.wav", "b"], None, "out.csv")
    with pytest.raises(SystemExit):
        parse_args(["predict", "a.wav", "--json", "--csv", "x.csv"])


def test_evaluate_json_equals_scikit_learn(synth_model, capsys):
    bundle, dataset = synth_model
    assert main(["evaluate", "--model", str(bundle), "--dataset", str(dataset), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"accuracy", "macro_f1", "micro_f1", "per_class", "labels", "confusion_matrix"} <= set(out)
    assert out["labels"] == ["buzz", "noise", "tone"]
    # Recompute from the bundle itself, clip by clip, and compare with scikit-learn's numbers.
    from instrument_studio.core.datasets import import_dataset
    from instrument_studio.core.predict.inference import load_predictor

    ds = import_dataset(dataset)
    test = [c for c in ds.clips if c.split == "test"]
    predictor = load_predictor(bundle)
    y = [out["labels"].index(c.label) for c in test]
    # The whole-file answer of predict_file, computed directly: predict_file refuses the set's
    # 0.8 s clips (shorter than the model's 1 s window), which evaluate, like training, takes whole.
    from instrument_studio.core.audio.audiofile import load

    pred = [int(np.argmax(predictor.predict_window(load(c.path, sr=predictor.sr)[0]))) for c in test]
    assert out["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert out["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert sum(v["support"] for v in out["per_class"].values()) == len(test)
    assert np.array(out["confusion_matrix"]).sum() == len(test)


def test_evaluate_text_and_errors(synth_model, capsys, tmp_path):
    bundle, dataset = synth_model
    assert main(["evaluate", "--model", str(bundle), "--dataset", str(dataset)]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "macro avg" in text and "confusion matrix" in text
    assert main(["evaluate", "--model", str(tmp_path / "nothing"), "--dataset", str(dataset)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing" in err


def test_predict_folder_json_and_csv_with_a_corrupt_file(synth_model, tmp_path, capsys):
    bundle, dataset = synth_model
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(dataset / "tone" / "tone_03.wav", folder / "a_tone.wav")
    shutil.copy(dataset / "noise" / "noise_03.wav", folder / "b_noise.wav")
    (folder / "c_broken.wav").write_bytes(b"not a wav at all")
    code = main(["predict", "--model", str(bundle), str(folder), "--json"])
    captured = capsys.readouterr()
    assert code == 1  # one file failed: scripts must notice
    rows = json.loads(captured.out)
    assert [Path(r["path"]).name for r in rows] == ["a_tone.wav", "b_noise.wav", "c_broken.wav"]
    assert rows[0]["label"] == "tone" and rows[1]["label"] == "noise"
    assert set(rows[0]) == {"path", "label", "probability", "nearest", "nearest_probability", "probabilities", "timeline",
                    "warnings"}
    assert rows[0]["probability"] == max(rows[0]["probabilities"].values())
    assert rows[0]["timeline"][0]["start"] == 0.0
    assert "error" in rows[2] and "c_broken.wav" in captured.err
    out = tmp_path / "p.csv"
    main(["predict", "--model", str(bundle), str(folder), "--csv", str(out)])
    table = list(csv.DictReader(out.open()))
    assert [r["label"] for r in table] == ["tone", "noise", ""] and table[2]["error"]


def test_predict_only_among_some_classes(synth_model, tmp_path, capsys):
    """--only: each file's answer is the likeliest of the classes named; a class the model does not
    know is refused, naming the ones it does, before any file is read."""
    bundle, dataset = synth_model
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(dataset / "tone" / "tone_03.wav", folder / "a_tone.wav")
    shutil.copy(dataset / "noise" / "noise_03.wav", folder / "b_noise.wav")
    assert main(["predict", "--model", str(bundle), str(folder), "--json", "--only", "Buzz,tone"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["label"] == "tone"
    # The noise file, answered among buzz and tone: the likelier of the two, never noise.
    assert rows[1]["label"] == max(rows[1]["probabilities"], key=rows[1]["probabilities"].get) != "noise"
    for r in rows:
        assert set(r["probabilities"]) == {"buzz", "tone"} and r["considered"] == ["buzz", "tone"]
        assert sum(r["probabilities"].values()) == pytest.approx(1.0)
        assert {step["label"] for step in r["timeline"]} <= {"buzz", "tone"}
    # The CSV says which classes each file was answered among; without --only the column is empty.
    out = tmp_path / "among.csv"
    assert main(["predict", "--model", str(bundle), str(folder), "--csv", str(out), "--only", "tone,buzz"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["among"] for r in rows] == ["buzz; tone"] * 2 and rows[1]["label"] != "noise"
    assert main(["predict", "--model", str(bundle), str(folder), "--csv", str(out)]) == 0
    assert [r["among"] for r in csv.DictReader(out.open())] == ["", ""]
    capsys.readouterr()
    assert main(["predict", "--model", str(bundle), str(folder), "--only", "tone,kazoo"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "kazoo" in captured.err and "buzz, noise, tone" in captured.err


def test_predict_with_the_default_model_in_a_subprocess(tmp_path):
    """No --model: the shipped bundle (resources/default_model) answers with one of its classes."""
    from instrument_studio.core.audio.audiofile import save_wav

    t = np.arange(22050 * 4) / 22050
    y = 0.3 * np.sin(2 * np.pi * 440 * t) * np.minimum(1, t / 0.05)
    wav = save_wav(tmp_path / "a440.wav", y.astype(np.float32), 22050)
    proc = subprocess.run([sys.executable, "-m", "instrument_studio", "predict", str(wav), "--json"],
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    [row] = json.loads(proc.stdout)
    folder = REPO / "instrument_studio" / "resources" / "default_model"
    labels = json.loads((folder / "bundle.json").read_text())["labels"]
    assert row["label"] in labels and len(row["probabilities"]) == len(labels)
    # An unknown answer keeps the nearest instrument; a known one is its own nearest.
    assert row["nearest"] in labels and row["nearest"] != "unknown"
    assert len(row["timeline"]) == 4


def test_predict_says_unknown_with_its_own_figure_and_the_nearest(tmp_path, capsys):
    """White noise, to the default model: "unknown (NN%; nearest: CLASS NN%)", the same figures
    as --json gives (the unknown class's own probability, then the nearest instrument's)."""
    from instrument_studio.core.audio.audiofile import save_wav

    noise = np.random.default_rng(0).normal(0, 0.1, 16000 * 4).astype(np.float32)
    wav = save_wav(tmp_path / "hiss.wav", noise, 16000)
    assert main(["predict", str(wav), "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["label"] == "unknown"
    assert main(["predict", str(wav)]) == 0
    line = capsys.readouterr().out
    said = (f"unknown ({row['probability']:.0%}; nearest: {row['nearest']} "
            f"{row['nearest_probability']:.0%})")
    assert said in line, line


def test_evaluate_without_model_uses_the_default_model_on_the_starter_set(monkeypatch, capsys):
    """`evaluate --dataset starter`: the dataset resolver train uses, the default model predict uses."""
    from instrument_studio.core.errors import StudioError
    from instrument_studio.core.predict.inference import default_model_path

    seen = {}

    def load_bundle(path):
        seen["model"] = path
        return "bundle"

    def resolve_dataset(spec, on_event=None):
        seen["dataset"] = spec
        raise StudioError("stop here")

    monkeypatch.setattr("instrument_studio.core.learn.bundle.load_bundle", load_bundle)
    monkeypatch.setattr("instrument_studio.core.datasets.library.resolve_dataset", resolve_dataset)
    assert parse_args(["evaluate", "--dataset", "starter"]).model is None
    assert main(["evaluate", "--dataset", "starter", "--json"]) == 1
    assert seen == {"model": default_model_path(), "dataset": "starter"}
    assert "stop here" in capsys.readouterr().err
