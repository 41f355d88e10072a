"""`dataset import|stats|features` and `starter`: datasets from the command line, on the same core."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core.config import FEATURE_KINDS, FeatureConfig
from ..core.datasets import LAYOUTS, check_project_target, import_dataset
from ..core.datasets.library import resolve_dataset
from .progress import TerminalProgress


def add_parser(sub) -> None:
    p = sub.add_parser("dataset", help="import a dataset, show its statistics, extract its features")
    dsub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)

    q = dsub.add_parser("import", help="read a dataset folder as it is and write its project file")
    q.add_argument("source", metavar="SOURCE", help="the dataset's folder (nothing in it is changed)")
    q.add_argument("--layout", choices=LAYOUTS, default="auto",
                   help="how the folder is organised (default: auto-detect)")
    q.add_argument("--out", metavar="DATASET_DIR",
                   help="where to write instrument-studio.json and clips.csv (default: SOURCE); an empty "
                        "or new folder, or an existing dataset project")
    q.add_argument("--force", action="store_true",
                   help="write the project into --out even if that folder holds other files")
    q.add_argument("--follow-links", action="store_true",
                   help="follow linked folders inside SOURCE (each real folder is read once)")
    q.add_argument("--seed", type=int, default=0, help="seed of the stratified, grouped split (default 0)")
    q.add_argument("--val-fraction", type=float, default=0.15, help="validation share (default %(default)s)")
    q.add_argument("--test-fraction", type=float, default=0.2,
                   help="test share where the dataset has no official split (default %(default)s)")
    q.add_argument("--json", action="store_true", help="print the statistics as one JSON object")
    q.set_defaults(run=run_import)

    q = dsub.add_parser("stats", help="classes and clip counts per split and class")
    q.add_argument("dataset", metavar="DATASET_DIR", help='a dataset project folder, or "starter"')
    q.add_argument("--json", action="store_true",
                   help="one JSON object: classes, counts (split -> class -> n), n_train, n_val, n_test")
    q.set_defaults(run=run_stats)

    q = dsub.add_parser("features", help="extract features (parallel, cached per file) into DATASET_DIR/features/")
    q.add_argument("dataset", metavar="DATASET_DIR", help='a dataset project folder, or "starter"')
    add_feature_arguments(q)
    q.add_argument("--workers", type=int, default=None, help="processes (default: one per CPU core)")
    q.add_argument("--no-cache", action="store_true", help="recompute every file (the cache is not read)")
    q.add_argument("--out", metavar="FOLDER", help="where to save the feature set (default: DATASET_DIR/features/...)")
    add_scale_arguments(q)
    q.set_defaults(run=run_features)

    p = sub.add_parser("starter", help="render the embedded starter set (SoundFont instruments) into a folder")
    p.add_argument("--out", required=True, metavar="DATASET_DIR", help="folder to write the audio and project into")
    p.add_argument("--recipe", metavar="RECIPE_JSON",
                   help="render your own variant: a recipe in the format of the built-in one "
                        "(instrument_studio/resources/starter-recipe.json)")
    p.set_defaults(run=run_starter)


def add_feature_arguments(q) -> None:
    d = FeatureConfig()
    q.add_argument("--kind", choices=FEATURE_KINDS, default=d.kind, help="feature kind (default %(default)s)")
    q.add_argument("--n-mfcc", type=int, default=d.n_mfcc, help="MFCC coefficients for --kind mfcc (default %(default)s)")
    q.add_argument("--clip-seconds", type=float, default=d.clip_seconds,
                   help="clip length for --kind sequence (default %(default)s)")
    q.add_argument("--patch-seconds", type=float, default=d.patch_seconds, help="mel patch length (default %(default)s)")
    q.add_argument("--patch-hop", type=float, default=d.patch_hop_seconds,
                   help="seconds between patch starts; below --patch-seconds they overlap (default %(default)s)")
    q.add_argument("--hpss", action="store_true", help="add harmonic and percussive log-mel channels")
    q.add_argument("--multires", action="store_true", help="log-mel at three window lengths as channels")


def add_scale_arguments(q) -> None:
    q.add_argument("--store", choices=("auto", "memory", "disk"), default="auto",
                   help="disk: write features in shards (a feature store) rather than one array in memory; "
                        "auto: disk above 2 GiB of features (default %(default)s)")
    q.add_argument("--scheduler", metavar="ADDRESS",
                   help="extract on a Dask cluster, e.g. tcp://host:8786 (the audio must be at the same paths there)")


def feature_config(args) -> FeatureConfig:
    return FeatureConfig(kind=args.kind, n_mfcc=args.n_mfcc, clip_seconds=args.clip_seconds,
                         patch_seconds=args.patch_seconds, patch_hop_seconds=args.patch_hop,
                         hpss=args.hpss, multires=args.multires)


def print_stats(stats: dict, *, as_json: bool) -> None:
    if as_json:
        keys = ("classes", "counts", "n_train", "n_val", "n_test", "n_clips", "layout", "name")
        print(json.dumps({k: stats[k] for k in keys}, indent=1))
        return
    print(f"{stats['name']} ({stats['layout']}): {len(stats['classes'])} classes, {stats['n_clips']} clips; "
          f"train {stats['n_train']}, validation {stats['n_val']}, test {stats['n_test']}")
    width = max((len(c) for c in stats["classes"]), default=5)
    print(f"  {'class':<{width}}  {'train':>6} {'val':>6} {'test':>6}")
    for cls in stats["classes"]:
        row = [stats["counts"][s].get(cls, 0) for s in ("train", "val", "test")]
        print(f"  {cls:<{width}}  {row[0]:>6} {row[1]:>6} {row[2]:>6}")
    if stats.get("n_unlabelled"):
        print(f"  ({stats['n_unlabelled']} multi-label clip(s) without a single label)")


def run_import(args) -> int:
    out = args.out or args.source
    check_project_target(out, source=args.source, force=args.force)   # before the (long) import
    ds = import_dataset(args.source, layout=args.layout, seed=args.seed, val_fraction=args.val_fraction,
                        test_fraction=args.test_fraction, follow_links=args.follow_links)
    project = ds.save(out)
    print_stats(ds.stats(), as_json=args.json)
    if not args.json:
        for note in ds.notes:
            print(f"  note: {note}")
        print(f"wrote {project}")
    return 0


def run_stats(args) -> int:
    print_stats(resolve_dataset(args.dataset).stats(), as_json=args.json)
    return 0


def run_features(args) -> int:
    from ..core.features.extraction import extract, features_folder

    cfg = feature_config(args)
    ds = resolve_dataset(args.dataset)
    with TerminalProgress() as progress:
        result = extract(ds, cfg, on_event=progress, workers=args.workers, use_cache=not args.no_cache,
                         store=args.store, store_dir=args.out, scheduler=args.scheduler)
    fs, report = result.features, result.report
    out = fs.folder if getattr(fs, "on_disk", False) else fs.save(Path(args.out) if args.out else features_folder(ds, cfg))
    print(report.summary())
    shapes = ", ".join(f"{s} ({fs.n(s)}, {', '.join(map(str, fs.input_shape))})" for s in ("train", "val", "test"))
    print(f"features: {cfg.kind}, {fs.input_shape} per row; {shapes}")
    if report.failures:
        print(f"{len(report.failures)} file(s) skipped:")
        for path, reason in report.failures:
            print(f"  {path}: {reason}")
    print(f"wrote {out}")
    return 0


def run_starter(args) -> int:
    from ..core.datasets.starter import find_soundfonts, generate_starter
    from ..core.errors import ConfigError

    recipe = None
    if args.recipe:
        try:
            recipe = json.loads(Path(args.recipe).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the recipe {args.recipe}: {exc}") from exc
    fonts = find_soundfonts()
    print(f"rendering the starter set from {', '.join(f.name for f in fonts)} with tinysoundfont ...", file=sys.stderr)
    ds = generate_starter(args.out, recipe=recipe, soundfont=fonts)
    print_stats(ds.stats(), as_json=False)
    print(f"wrote {Path(args.out) / 'instrument-studio.json'}")
    return 0
