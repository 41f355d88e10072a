"""`teach`: a personal model from a folder of takes (one sub-folder per class), on top of the
default model, in one step; the same core as the Live panel's Teach.

    instrument-studio teach ~/instrument-dataset --out ~/my-model [--keep-default-classes]
"""

from __future__ import annotations

import json

from .progress import TerminalProgress


def add_parser(sub) -> None:
    p = sub.add_parser("teach", help="teach it your own sounds: a personal model from takes, one folder per class",
                       description="Build a personal model from a folder of takes (each sub-folder is a class, at "
                                   "least 3 takes each) on top of the default model, and save it as a model bundle "
                                   "(use it with `predict --model BUNDLE` or in any panel).")
    p.add_argument("dataset", metavar="DATASET_DIR", help="folder with one sub-folder of takes per class")
    p.add_argument("--out", required=True, metavar="BUNDLE", help="folder to write the model bundle to")
    p.add_argument("--keep-default-classes", action="store_true",
                   help="keep naming the default model's instruments besides the taught classes, as it does "
                        "(takes of one of them do not change it); default: drop them, sounds like them are "
                        "answered \"unknown\"")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.personal.teach import teach

    with TerminalProgress() as progress:
        result = teach(args.dataset, args.out, keep_default=args.keep_default_classes, on_event=progress)
    for warning in result.left_out:
        progress.line(f"instrument-studio: warning: {warning}")
    if args.json:
        print(json.dumps({"bundle": str(result.path), "labels": list(result.labels), "taught": list(result.taught),
                          "keep_default_classes": result.keep_default, "unknown_threshold": result.threshold,
                          "loto_accuracy": result.loto_accuracy, "loto_restricted": result.loto_restricted,
                          "per_class": {c: list(v) for c, v in result.per_class.items()}, "takes": result.takes,
                          "left_out": result.left_out, "windows": result.windows,
                          "anchor_claims": result.anchor_claims,
                          "cpu_seconds": round(result.cpu_seconds, 2), "wall_seconds": round(result.wall_seconds, 2)}))
    else:
        per = ", ".join(f"{c} {r}/{n}" for c, (r, n) in result.per_class.items())
        print(f"taught {', '.join(result.taught)} from {result.takes} takes ({result.windows} windows) in "
              f"{result.cpu_seconds:.1f} s of CPU time")
        print(f"leave-one-take-out accuracy {result.loto_accuracy:.0%} ({per}); unknown below "
              f"{result.threshold:.2f}")
        if result.anchor_claims:
            print("real windows of the default classes won by a new class: " + ", ".join(
                f"{c} {v:.1%}" for c, v in result.anchor_claims.items()))
        print(f"saved {result.path} ({len(result.labels)} answers: {', '.join(result.labels)})")
    return 0
