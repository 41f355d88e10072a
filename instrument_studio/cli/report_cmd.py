"""`report`: a run's (or a sweep's) report as one self-contained HTML file or a PDF.

    instrument-studio report my-model --out my-model.html          # a model bundle
    instrument-studio report 3 --out run3.pdf                       # run 3 of the app's run list
    instrument-studio report runs/run-0003.json --out run3.pdf      # a run file
    instrument-studio report lr-sweep.json --out sweep.html         # a saved sweep

A bundle saved by an older version carries no test-split evaluation: --dataset evaluates it there
(confusion matrix, per-class table, P/R/F1).
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import StudioError


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write a run's report (curves, confusion matrix, per-class table, settings) "
                                      "as HTML or PDF",
                       description="Write the report of a training run, a model bundle or a sweep as one "
                                   "self-contained HTML file or a PDF (chosen by the --out suffix).")
    p.add_argument("source", metavar="RUN_OR_BUNDLE",
                   help="a model bundle folder, a run number or run file of the app's run list, or a saved sweep")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.html or FILE.pdf")
    p.add_argument("--dataset", metavar="DATASET_DIR",
                   help="evaluate a bundle that carries no test evaluation on this data set's test split")
    p.set_defaults(run=run)


def resolve_source(source: str) -> Path:
    """A path as given, or run N of the app's run list (core.learn.run_store)."""
    path = Path(source)
    if path.exists():
        return path
    if source.isdigit():
        from ..core.learn.run_store import RunStore

        store = RunStore()
        if store.path(int(source)).is_file():
            return store.path(int(source))
        raise StudioError(f"there is no run {source} in the run list ({store.folder})")
    raise StudioError(f"no such run, bundle or sweep: {source}")


def run(args) -> int:
    from ..core.evaluation.document import report_format, write_document

    report_format(args.out)   # a wrong suffix fails before any work
    path = resolve_source(args.source)
    from ..core.experiments.sweep_report import is_sweep_file, load_sweep_document

    if is_sweep_file(path):
        doc = load_sweep_document(path)
    else:
        from ..core.evaluation.run_report import evaluation_from_bundle, load_report_input, run_document

        info = load_report_input(path)
        if info.get("evaluation") is None and args.dataset:
            if not path.is_dir():
                raise StudioError("--dataset evaluates a model bundle; a run file's model is its saved bundle")
            info["evaluation"] = evaluation_from_bundle(path, args.dataset)
        doc = run_document(info)
    out = write_document(doc, args.out)
    print(f"wrote {out}")
    return 0
