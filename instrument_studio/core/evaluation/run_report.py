"""The run report: what one training run was and how good its model is, for handing out after class.

    doc = run_document(load_report_input("runs/run-0003.json"))    # or a bundle folder
    write_document(doc, "run3.html")                                # or .pdf

Contents: the data set's facts, the model summary, the settings, device and timings, the curves,
the confusion matrix, the per-class table and P/R/F1 (from the test-split evaluation attached when
the run finished: `attach_evaluation`). Inputs are plain dicts (a run file's or a bundle's
bundle.json), so a report never needs TensorFlow unless a bundle lacks its evaluation and a data set
is given to evaluate it on.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import StudioError
from .document import Document, Facts, Figure, Pre, Section, Table
from .report_figures import confusion_figure, curves_figure, per_class_figure


def attach_evaluation(run) -> None:
    """Evaluate a just-finished SessionRun on its test split (clip level, mean of patch
    probabilities) and keep the metrics report on the run, for the report and the run list."""
    from .report import evaluate_model

    data = getattr(run, "data", None)
    if run.result is None or data is None or data.n("test") == 0:
        return
    run.evaluation = evaluate_model(run.result, data, split="test").report("mean").to_dict()


def _pct(value) -> str:
    return "–" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{100 * value:.1f} %"


def _num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def load_report_input(path: str | Path) -> dict[str, Any]:
    """A run file (the run list's run-NNNN.json) or a model bundle folder, as the report's input:
    name, dataset, labels, config, feature_config, history, metrics, duration, device, ..."""
    from ..jsonio import read_json

    path = Path(path)
    if path.is_dir():
        from ..learn.bundle import read_bundle_meta

        meta = read_bundle_meta(path)
        extra = meta.get("report") or {}
        metrics = dict(meta.get("metrics") or {})
        history = meta.get("history") or {}
        val = history.get("val_accuracy") or []
        best = max(range(len(val)), key=lambda i: -1 if val[i] is None else val[i]) + 1 if val else None
        return {"name": f"model bundle {path.name}", "source": str(path), "dataset": extra.get("dataset", ""),
                "labels": meta["labels"], "config": meta.get("train_config") or {},
                "feature_config": meta["feature_config"], "history": history, "metrics": metrics,
                "duration": metrics.get("train_seconds"), "device": metrics.get("device", ""),
                "stop_reason": metrics.get("stop_reason", ""), "epochs_run": metrics.get("epochs_run"),
                "best_epoch": best, "evaluation": extra.get("evaluation"),
                "model_summary": extra.get("model_summary"), "data_facts": extra.get("data_facts") or {},
                "bundle_path": str(path), "versions": meta.get("versions") or {}}
    from ..learn.run_store import FORMAT as RUN_FORMAT

    data = read_json(path, what="run file")
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise StudioError("neither a run file (run-NNNN.json) nor a model bundle folder", path=path)
    return {**data, "name": f"run {data.get('id')}", "source": str(path)}


def run_input(run) -> dict[str, Any]:
    """A SessionRun (the GUI's run list) as the report's input."""
    from ..learn.run_store import run_to_dict

    return {**run_to_dict(run), "name": f"run {run.id}", "source": "this session"}


def evaluation_from_bundle(bundle_path: str | Path, dataset: str | Path) -> dict:
    """The test-split evaluation of a bundle that carries none, on `dataset` (extracts features)."""
    from .report import evaluate_bundle_on_dataset

    _, _, evaluation = evaluate_bundle_on_dataset(bundle_path, dataset)
    return evaluation.report("mean").to_dict()


def _settings_rows(cfg: dict) -> list[tuple[str, str]]:
    names = {"model": "model", "model_params": "model parameters", "optimizer": "optimiser",
             "learning_rate": "learning rate", "batch_size": "batch size", "epochs": "epochs (maximum)",
             "validation_split": "validation split", "class_weights": "class weights", "seed": "seed",
             "stop_rule": "stop rule", "threshold": "target accuracy", "patience": "patience",
             "restore_best": "keep the best epoch's weights"}
    rows = []
    for key, label in names.items():
        if key in cfg:
            value = cfg[key]
            if key == "model_params":
                value = ", ".join(f"{k}={v}" for k, v in value.items()) or "defaults"
            rows.append((label, str(value)))
    return rows


def run_document(info: dict[str, Any]) -> Document:
    """The report of one run (a load_report_input / run_input dict)."""
    cfg, fcfg = info.get("config") or {}, info.get("feature_config") or {}
    metrics, history = info.get("metrics") or {}, info.get("history") or {}
    facts, ev = info.get("data_facts") or {}, info.get("evaluation")
    labels = info.get("labels") or []
    title = f"Instrument Studio: {info.get('name', 'run')}"
    subtitle = f"{cfg.get('model', '?')} on {info.get('dataset') or 'an unnamed data set'}"
    doc = Document(title=title, subtitle=subtitle)

    data_rows = [("data set", str(info.get("dataset") or "–")), ("classes", f"{len(labels)}: {', '.join(labels)}"),
                 ("features", f"{fcfg.get('kind', '?')} (sample rate {fcfg.get('mel', {}).get('sr', '?')} Hz, "
                              f"{fcfg.get('mel', {}).get('n_mels', '?')} mel bands)")]
    for key, label in (("train_rows", "training rows"), ("validation_rows", "validation rows"),
                       ("test_rows", "test rows"), ("input_shape", "model input per row")):
        if key in facts:
            data_rows.append((label, str(tuple(facts[key])) if key == "input_shape" else str(facts[key])))
    for split, n in (facts.get("clips") or {}).items():
        data_rows.append((f"{split} clips", str(n)))
    doc.sections.append(Section("Data set", [Facts(data_rows)]))

    results = [("test accuracy", _pct(metrics.get("test_accuracy"))),
               ("test accuracy per clip", _pct(metrics.get("test_clip_accuracy"))),
               ("best validation accuracy", _pct(metrics.get("best_val_accuracy"))),
               ("final training accuracy", _pct(metrics.get("accuracy"))),
               ("final validation loss", _num(metrics.get("val_loss")))]
    results = [r for r in results if r[1] != "–"]
    if ev:
        results += [("evaluated items (clips)", str(ev.get("n"))),
                    ("macro precision / recall / F1", " / ".join(_pct(ev.get(f"macro_{k}")) for k in
                                                                 ("precision", "recall", "f1"))),
                    ("micro precision / recall / F1", " / ".join(_pct(ev.get(f"micro_{k}")) for k in
                                                                 ("precision", "recall", "f1")))]
    duration = info.get("duration")
    epochs = info.get("epochs_run") or len(history.get("loss", []))
    timing = [("device", str(info.get("device") or "–")),
              ("training time", f"{duration:.1f} s" if isinstance(duration, (int, float)) else "–"),
              ("epochs run", f"{epochs} ({info.get('stop_reason') or 'completed'})"),
              ("time per epoch", f"{duration / epochs:.2f} s" if isinstance(duration, (int, float)) and epochs else "–"),
              ("best epoch", str(info.get("best_epoch") or "–"))]
    doc.sections.append(Section("Results", [Facts(results + timing)]))
    doc.sections.append(Section("Settings", [Facts(_settings_rows(cfg))]))
    if info.get("model_summary"):
        doc.sections.append(Section("Model", [Pre(str(info["model_summary"]))]))
    if history.get("loss"):
        doc.sections.append(Section("Training curves", [Figure(
            curves_figure([(info.get("name", "run"), history)], best_epoch=info.get("best_epoch")),
            "training solid, validation dashed")]))
    if ev:
        per = ev.get("per_class") or {}
        rows = [[lb, _pct(m["precision"]), _pct(m["recall"]), _pct(m["f1"]), str(m["support"])] for lb, m in per.items()]
        doc.sections.append(Section("Confusion matrix", [Figure(
            confusion_figure(ev.get("labels") or list(per), ev["confusion_matrix"]),
            "true class on rows, predicted on columns; colour: share of the row")]))
        doc.sections.append(Section("Per class", [
            Table(["class", "precision", "recall", "F1", "clips"], rows),
            Figure(per_class_figure(per), "precision, recall and F1 per class")]))
    else:
        doc.sections.append(Section("Confusion matrix", [Facts([(
            "not available", "this run was not evaluated on a test split (give --dataset to evaluate a bundle)")])]))
    if info.get("versions"):
        doc.sections.append(Section("Software", [Facts(sorted((k, str(v)) for k, v in info["versions"].items()))]))
    return doc
