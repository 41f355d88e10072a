"""`report` and `export` on the command line, and `train --tensorboard`."""

from __future__ import annotations

import json

import pytest

from instrument_studio.cli import main, parse_args


def test_parse_args():
    a = parse_args(["report", "my-model", "--out", "r.pdf", "--dataset", "starter"])
    assert (a.command, a.source, a.out, a.dataset) == ("report", "my-model", "r.pdf", "starter")
    e = parse_args(["export", "my-model", "--format", "onnx", "--out", "x"])
    assert (e.command, e.bundle, e.fmt, e.out) == ("export", "my-model", "onnx", "x")
    with pytest.raises(SystemExit):
        parse_args(["export", "my-model", "--format", "coreml", "--out", "x"])
    t = parse_args(["train", "--dataset", "d", "--model", "mlp", "--out", "o", "--tensorboard", "tb"])
    assert t.tensorboard == "tb"


@pytest.fixture(scope="module")
def trained(synth_model, tmp_path_factory):
    """A bundle made by `train` (which stores the test evaluation for the report), with TensorBoard logs."""
    base = tmp_path_factory.mktemp("cli-report")
    _, dataset = synth_model
    code = main(["train", "--dataset", str(dataset), "--model", "mlp", "--epochs", "4", "--batch-size", "16",
                 "--lr", "0.02", "--out", str(base / "bundle"), "--tensorboard", str(base / "tb"), "--json"])
    assert code == 0
    return base


def test_train_writes_tensorboard_logs_and_the_report_block(trained):
    assert list((trained / "tb").rglob("events.out.tfevents.*"))
    meta = json.loads((trained / "bundle" / "bundle.json").read_text())
    report = meta["report"]
    assert sum(map(sum, report["evaluation"]["confusion_matrix"])) == report["data_facts"]["test_rows"] > 0
    assert "dense" in report["model_summary"]


@pytest.mark.parametrize("suffix", ["html", "pdf"])
def test_report_of_a_bundle(trained, suffix, capsys):
    out = trained / f"report.{suffix}"
    assert main(["report", str(trained / "bundle"), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    data = out.read_bytes()
    if suffix == "pdf":
        assert data.startswith(b"%PDF")
    else:
        text = data.decode()
        assert text.count("data:image/png;base64,") == 3 and "buzz" in text and "Confusion matrix" in text


def test_report_of_an_older_bundle_evaluates_it_on_a_dataset(synth_model, tmp_path, capsys):
    bundle, dataset = synth_model          # saved without the report block
    assert main(["report", str(bundle), "--out", str(tmp_path / "a.html")]) == 0
    assert "give --dataset" in (tmp_path / "a.html").read_text()
    assert main(["report", str(bundle), "--out", str(tmp_path / "b.html"), "--dataset", str(dataset)]) == 0
    text = (tmp_path / "b.html").read_text()
    assert text.count("data:image/png;base64,") == 3 and "macro precision / recall / F1" in text


def test_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.docx")]) == 1
    assert ".html or .pdf" in capsys.readouterr().err
    assert main(["report", "99", "--out", str(tmp_path / "r.html")]) == 1
    assert "no run 99" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "r.html")]) == 1


def test_export_tflite_writes_model_and_readme(trained, capsys):
    out = trained / "phone"
    assert main(["export", str(trained / "bundle"), "--format", "tflite", "--out", str(out)]) == 0
    assert "model.tflite" in capsys.readouterr().out
    assert (out / "model.tflite").stat().st_size > 1000
    readme = (out / "README.md").read_text()
    assert "Standardisation is inside the model" in readme and "mfcc" in readme
    assert (out / "labels.txt").read_text().split() == ["buzz", "noise", "tone"]
    assert main(["export", str(trained / "missing"), "--format", "tflite", "--out", str(out)]) == 1
