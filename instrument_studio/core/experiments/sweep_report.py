"""The report of a sweep: its settings, one row per run, the runs' curves overlaid, and bar charts
of test accuracy, training time and energy per swept value. Written by core.evaluation.document
as HTML or PDF, like the run report."""

from __future__ import annotations

from pathlib import Path

from ..evaluation.document import Document, Facts, Figure, Section, Table
from ..evaluation.report_figures import bars_figure, curves_figure
from .sweep import param_label
from .sweep_io import SweepRecord


def is_sweep_file(path: str | Path) -> bool:
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return '"instrument-studio-sweep"' in head


def _value_name(param: str, value) -> str:
    short = {"lr": "lr", "batch_size": "batch", "optimizer": ""}.get(param, param)
    return f"{short} {value:g}" if isinstance(value, float) else f"{short} {value}".strip()


def sweep_document(record: SweepRecord, *, name: str = "sweep") -> Document:
    cfg = record.config
    base = cfg.base.to_dict() if hasattr(cfg.base, "to_dict") else dict(cfg.base)
    label = param_label(cfg.param)
    doc = Document(title=f"Instrument Studio: {label} sweep",
                   subtitle=f"{base.get('model', '?')} on {cfg.dataset or 'an unnamed data set'} ({name})")
    stop = (f"{cfg.epochs} epochs each" if cfg.mode == "fixed-epochs" else
            f"until validation accuracy > {cfg.target_accuracy:g} for {cfg.patience} epochs (at most {cfg.max_epochs})")
    doc.sections.append(Section("Sweep", [Facts([
        ("swept", f"{label}: {', '.join(str(v) for v in cfg.values)}"), ("repeats", str(cfg.repeats)),
        ("runs", f"{len(record.runs)} finished ({record.status})"), ("each run", stop),
        ("model", str(base.get("model"))), ("optimiser", str(base.get("optimizer"))),
        ("learning rate", str(base.get("learning_rate"))), ("batch size", str(base.get("batch_size"))),
        ("features", cfg.features.kind), ("data set", cfg.dataset or "–"),
        ("device", ", ".join(sorted({r.device for r in record.runs if r.device})) or "–"),
        ("started", record.started), ("host", record.host)])]))
    rows = [[_value_name(cfg.param, r.value), str(r.repeat + 1), str(r.epochs), f"{r.train_seconds:.1f}",
             f"{100 * r.test_accuracy:.1f} %",
             "–" if r.energy_joules is None else f"{r.energy_joules:.0f}"] for r in record.runs]
    doc.sections.append(Section("Runs", [Table([label, "repeat", "epochs", "training s", "test accuracy",
                                                "GPU energy J"], rows)]))
    with_curves = [(_value_name(cfg.param, r.value) + (f" #{r.repeat + 1}" if cfg.repeats > 1 else ""), r.history)
                   for r in record.runs if r.history.get("loss")]
    if with_curves:
        doc.sections.append(Section("Curves", [Figure(curves_figure(with_curves), "every run overlaid; "
                                                                                  "training solid, validation dashed")]))
    summaries = record.summaries()
    if summaries:
        names = [_value_name(cfg.param, s.value) for s in summaries]
        charts = [Figure(bars_figure(names, [s.test_accuracy[0] for s in summaries],
                                     [s.test_accuracy[1] for s in summaries], ylabel="%", title="Test accuracy",
                                     as_percent=True), "mean over repeats; error bars: standard deviation"),
                  Figure(bars_figure(names, [s.train_seconds[0] for s in summaries],
                                     [s.train_seconds[1] for s in summaries], ylabel="seconds",
                                     title="Training time"), "training wall time only")]
        if all(s.energy_joules is not None for s in summaries):
            charts.append(Figure(bars_figure(names, [s.energy_joules[0] for s in summaries],
                                             [s.energy_joules[1] for s in summaries], ylabel="joules",
                                             title="GPU energy"), "measured over the training window"))
        doc.sections.append(Section("Per value", charts))
    return doc


def load_sweep_document(path: str | Path) -> Document:
    from ..learn.training import TrainConfig

    return sweep_document(SweepRecord.load(path, train_config=TrainConfig), name=Path(path).name)
