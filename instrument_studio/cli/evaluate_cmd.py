"""`evaluate`: a saved model's metrics on a data set's split (text or JSON)."""

from __future__ import annotations

import json

from ..core.predict.aggregation import AGGREGATIONS
from .progress import TerminalProgress


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="accuracy, per-class precision/recall/F1 and the confusion matrix "
                                        "of a saved model on a data set")
    p.add_argument("--model", metavar="BUNDLE", help="a model bundle folder (default: the app's default model)")
    p.add_argument("--dataset", required=True, metavar="DATASET_DIR",
                   help="a dataset project folder, a folder of audio in a layout the app recognises, "
                        "or 'starter' for the built-in starter set")
    p.add_argument("--split", default="test", choices=("train", "val", "test"), help="default %(default)s")
    p.add_argument("--aggregation", default="mean", choices=AGGREGATIONS,
                   help="how patch models decide per clip (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.evaluation.report import evaluate_bundle_on_dataset
    from ..core.predict.inference import model_path

    with TerminalProgress() as progress:
        _bundle, dataset, evaluation = evaluate_bundle_on_dataset(args.model, args.dataset, split=args.split,
                                                                  on_event=progress)
    report = evaluation.report(args.aggregation)
    if args.json:
        out = report.to_dict()
        out.update(split=args.split, aggregation=args.aggregation if evaluation.is_patch else None,
                   model=str(model_path(args.model)), dataset=str(args.dataset))
        print(json.dumps(out, indent=1))
        return 0
    print(f"{model_path(args.model).name} on {dataset.name} ({args.split}, {report.n} clips"
          f"{', ' + args.aggregation + ' of patches' if evaluation.is_patch else ''})")
    print(f"accuracy {report.accuracy:.4f}   macro F1 {report.macro_f1:.4f}   micro F1 {report.micro_f1:.4f}")
    width = max(len(label) for label in report.labels) + 2
    print(f"\n{'class':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'accuracy':>10}{'support':>9}")
    for label, m in report.per_class.items():
        print(f"{label:<{width}}{m.precision:>10.3f}{m.recall:>10.3f}{m.f1:>10.3f}{m.accuracy:>10.3f}{m.support:>9d}")
    print(f"{'macro avg':<{width}}{report.macro[0]:>10.3f}{report.macro[1]:>10.3f}{report.macro[2]:>10.3f}")
    print(f"{'micro avg':<{width}}{report.micro[0]:>10.3f}{report.micro[1]:>10.3f}{report.micro[2]:>10.3f}")
    print("\nconfusion matrix (rows: true class, columns: predicted, in the order above)")
    for label, row in zip(report.labels, report.confusion, strict=True):
        print(f"{label:<{width}}" + "".join(f"{int(v):>5d}" for v in row))
    return 0
