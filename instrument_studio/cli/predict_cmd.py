"""`predict`: which instrument plays in files or folders, with a per-second timeline."""

from __future__ import annotations

import json
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="name the instrument in audio files or folders (default model: the "
                                       "one shipped with the app)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="audio files and/or folders (searched recursively)")
    p.add_argument("--model", metavar="BUNDLE", help="a model bundle folder (default: the app's default model)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print a JSON list: path, label, probability, "
                                                         "probabilities, timeline, warnings")
    out.add_argument("--csv", metavar="OUT", help="write path, label, probability, top3, error, among to a CSV file")
    p.add_argument("--only", metavar="CLASSES",
                   help="comma-separated classes the recordings are known to be among (e.g. violin,cello,flute): "
                        "each answer is the likeliest of these (or unknown)")
    p.add_argument("--top", type=int, default=3, metavar="K", help="classes shown per file (default %(default)s)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes predicting at once (default: one per core when there are at least "
                        f"{PARALLEL_FROM} files; 1: in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on a Dask cluster, e.g. tcp://host:8786 (the files must be at the same paths there)")
    p.set_defaults(run=run)


# Below this many files, starting worker processes (each imports TensorFlow) costs more than it saves.
PARALLEL_FROM = 16


def _results(args, files):
    import os

    from ..core.predict.inference import load_predictor, model_path, predict_files

    workers = args.workers or (os.cpu_count() or 1 if len(files) >= PARALLEL_FROM else 1)
    if args.scheduler or workers > 1:
        from ..core.predict.parallel import predict_files_parallel

        return predict_files_parallel(model_path(args.model), files, workers=workers, scheduler=args.scheduler)
    return predict_files(load_predictor(args.model), files)


def _only(args) -> list[str] | None:
    """The --only classes, checked against the model's own before any file is read."""
    if args.only is None:
        return None
    from ..core.learn.bundle import read_bundle_meta
    from ..core.predict.inference import check_classes, model_path

    return check_classes(read_bundle_meta(model_path(args.model))["labels"], args.only.split(","))


def run(args) -> int:
    from dataclasses import replace

    from ..core.errors import StudioError
    from ..core.predict.inference import audio_files, write_predictions_csv

    only = _only(args)
    files = audio_files(args.paths)
    if not files:
        raise StudioError("no audio files found in " + ", ".join(args.paths))
    results = []
    for r in _results(args, files):
        if r.ok and only is not None:
            r = replace(r, prediction=r.prediction.among(only))
        results.append(r)
        for warning in r.prediction.warnings if r.ok else ():
            print(f"instrument-studio: warning: {r.path}: {warning}", file=sys.stderr)
        if args.json or args.csv:
            if not r.ok:
                print(f"instrument-studio: {r.path}: {r.error}", file=sys.stderr)
            continue
        if r.ok and r.prediction.is_silent:
            print(f"{r.path}: silent (no step louder than the silence threshold)", flush=True)
        elif r.ok:
            top = ", ".join(f"{label} {p:.0%}" for label, p in r.top(args.top))
            a = r.prediction.answer
            said = (f"unknown ({a.probability:.0%}; {a.nearest_said})" if a.unknown
                    else f"{a.label} ({a.probability:.0%})")
            print(f"{r.path}: {said}   [{top}]", flush=True)
        else:
            print(f"{r.path}: error: {r.error}", flush=True)
    if args.json:
        print(json.dumps([r.prediction.to_dict(r.path) if r.ok else {"path": r.path, "error": r.error}
                          for r in results], indent=1))
    elif args.csv:
        write_predictions_csv(args.csv, results)
        print(f"{sum(r.ok for r in results)} of {len(results)} files predicted; wrote {args.csv}", file=sys.stderr)
    # Scripts must notice files that could not be predicted.
    return 0 if all(r.ok for r in results) else 1
