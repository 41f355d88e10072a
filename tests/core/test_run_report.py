"""The run list on disk (core.learn.run_store) and the run / sweep reports (HTML and PDF)."""

from __future__ import annotations

import base64
import math
import re
import shutil
import subprocess

import numpy as np
import pytest

from instrument_studio.core.errors import StudioError
from instrument_studio.core.evaluation.document import report_format, write_document
from instrument_studio.core.evaluation.run_report import (
    attach_evaluation,
    load_report_input,
    run_document,
    run_input,
)
from instrument_studio.core.learn.run_store import RunStore, read_run
from instrument_studio.core.learn.runs import SessionRun
from instrument_studio.core.learn.training import TrainConfig, train
from tests.training_data import blobs


@pytest.fixture(scope="module")
def finished_run():
    data = blobs(n_train=240, n_test=90, n_classes=3, dim=12)
    result = train(TrainConfig(model="mlp", model_params={"units": 16}, batch_size=32, learning_rate=0.01, epochs=3),
                   data)
    run = SessionRun.from_result(4, result, data, dataset="three blobs")
    attach_evaluation(run)
    return run


def test_a_finished_run_carries_its_test_evaluation_and_summary(finished_run):
    ev = finished_run.evaluation
    counts = np.asarray(ev["confusion_matrix"])
    assert counts.shape == (3, 3) and counts.sum() == 90 == ev["n"]
    assert ev["accuracy"] == pytest.approx(np.trace(counts) / counts.sum())
    assert ev["accuracy"] == pytest.approx(finished_run.metrics["test_accuracy"])
    assert "dense" in finished_run.model_summary and "total" in finished_run.model_summary
    assert finished_run.data_facts["test_rows"] == 90 and finished_run.data_facts["input_shape"] == [12]


def test_the_run_list_survives_on_disk(finished_run, tmp_path):
    store = RunStore(tmp_path / "runs")
    finished_run.bundle_path = "/somewhere/model"
    path = store.save(finished_run)
    assert path.name == "run-0004.json" and not list(path.parent.glob(".*part"))
    (path.parent / "run-0009.json").write_text("{ not json")            # a damaged file is skipped
    runs = store.load_all()
    assert [r.id for r in runs] == [4] and len(store.problems) == 1 and "run-0009" in store.problems[0]
    back = runs[0]
    assert back.result is None and back.bundle_path == "/somewhere/model"
    assert back.config == finished_run.config and back.labels == finished_run.labels
    for key, values in finished_run.history.items():
        np.testing.assert_allclose(back.history[key], values)
    assert back.evaluation == finished_run.evaluation and back.model_summary == finished_run.model_summary
    assert store.next_id(runs) == 5
    store.remove(4)
    assert store.load_all() == []
    with pytest.raises(StudioError):
        read_run(path.parent / "run-0009.json")


def test_html_report_is_self_contained_with_every_part(finished_run, tmp_path):
    out = write_document(run_document(run_input(finished_run)), tmp_path / "run.html")
    text = out.read_text(encoding="utf-8")
    for part in ("Data set", "Results", "Settings", "Model", "Training curves", "Confusion matrix", "Per class",
                 "three blobs", "learning rate", "macro precision / recall / F1", "CPU"):
        assert part in text, part
    images = re.findall(r'src="([^"]+)"', text)
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images)
    assert base64.b64decode(images[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in text and "https://" not in text      # nothing fetched from elsewhere
    acc = finished_run.evaluation["accuracy"]
    assert f"{100 * acc:.1f} %" in text


def test_pdf_report_has_a_page_per_part(finished_run, tmp_path):
    out = write_document(run_document(run_input(finished_run)), tmp_path / "run.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 3, pages                       # the text, then curves, confusion matrix, per-class
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "30", str(out), str(tmp_path / "page")], check=True)
        assert len(list(tmp_path.glob("page-*.png"))) == pages


def test_a_bundle_reports_like_its_run(finished_run, tmp_path):
    finished_run.save_bundle(tmp_path / "bundle")
    info = load_report_input(tmp_path / "bundle")
    assert info["evaluation"] == finished_run.evaluation and info["dataset"] == "three blobs"
    text = write_document(run_document(info), tmp_path / "b.html").read_text(encoding="utf-8")
    assert "Confusion matrix" in text and text.count("data:image/png;base64,") == 3
    run_file = RunStore(tmp_path / "runs").save(finished_run)
    assert load_report_input(run_file)["id"] == 4


def test_wrong_inputs_say_what_to_do(tmp_path):
    with pytest.raises(StudioError, match=r"\.html or \.pdf"):
        report_format(tmp_path / "r.docx")
    (tmp_path / "x.json").write_text('{"format": "something else"}')
    with pytest.raises(StudioError, match="neither a run file"):
        load_report_input(tmp_path / "x.json")


def test_sweep_report_overlays_curves_and_draws_bars(tmp_path):
    from instrument_studio.core.experiments.sweep import SweepConfig
    from instrument_studio.core.experiments.sweep_io import SweepRecord
    from instrument_studio.core.experiments.sweep_report import is_sweep_file, load_sweep_document
    from instrument_studio.core.experiments.sweep_results import SweepRun

    def hist(rate):
        return {"loss": [1 / (1 + rate * e) for e in range(5)], "val_loss": [1.1 / (1 + rate * e) for e in range(5)],
                "accuracy": [1 - math.exp(-rate * e) for e in range(5)],
                "val_accuracy": [0.9 * (1 - math.exp(-rate * e)) for e in range(5)]}

    cfg = SweepConfig(base=TrainConfig(), param="lr", values=(0.001, 0.01), epochs=5, dataset="starter")
    record = SweepRecord(config=cfg, status="finished", runs=[
        SweepRun(value=v, repeat=0, seed=0, epochs=5, train_seconds=2.0 + i, energy_joules=None, energy_source="",
                 test_accuracy=0.6 + 0.2 * i, device="CPU", history=hist(0.3 + i)) for i, v in enumerate(cfg.values)])
    path = record.save(tmp_path / "sweep.json")
    assert is_sweep_file(path) and not is_sweep_file(tmp_path)
    text = write_document(load_sweep_document(path), tmp_path / "sweep.html").read_text(encoding="utf-8")
    assert "learning rate sweep" in text and "lr 0.01" in text and "80.0 %" in text
    assert text.count("data:image/png;base64,") == 3          # overlaid curves, accuracy bars, time bars
    assert write_document(load_sweep_document(path), tmp_path / "sweep.pdf").read_bytes().startswith(b"%PDF")
