"""`export`: a model bundle as a TensorFlow SavedModel, a TensorFlow Lite file or ONNX, with a
README beside it that states the input the model expects.

    instrument-studio export my-model --format tflite --out my-model-tflite
"""

from __future__ import annotations


def add_parser(sub) -> None:
    from ..core.learn.export import FORMATS

    p = sub.add_parser("export", help="export a model bundle as SavedModel, TensorFlow Lite or ONNX",
                       description="Export a model bundle for other programs: the standardisation is inside the "
                                   "exported model, which takes the raw features (see the README written beside it).")
    p.add_argument("bundle", metavar="BUNDLE", help="a model bundle folder")
    p.add_argument("--format", required=True, choices=FORMATS, dest="fmt")
    p.add_argument("--out", required=True, metavar="FOLDER", help="folder to write the export and its README into")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..core.learn.export import export_bundle

    target = export_bundle(args.bundle, fmt=args.fmt, out=args.out)
    print(f"wrote {target} (and README.md, labels.txt, feature_config.json beside it)")
    return 0
