"""`train`: train a registry model on a dataset and save a model bundle.

    instrument-studio train --dataset DATASET_DIR --model mlp --epochs 10 --out my-model

DATASET_DIR is a dataset project (`instrument-studio dataset import`), a saved feature set
(features.json + features.npz), a source folder in a layout the importers recognise (imported in
memory), or `starter` (the built-in starter set, rendered on first use). Features are extracted (and cached) with the model's feature kind unless --features says
otherwise. A progress bar goes to a terminal's stderr (cli/progress.py), one line per epoch elsewhere;
--json prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import math

from ..core.config import FeatureConfig
from ..core.errors import ConfigError
from ..core.learn.models import MODEL_NAMES, MODELS
from .progress import TerminalProgress


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model on a dataset and save it as a model bundle",
                       description="Train a model on a dataset's training split and save a model bundle.")
    p.add_argument("--dataset", required=True, metavar="DATASET_DIR",
                   help="dataset project, saved feature set, a source folder (imported on the fly), "
                        "or 'starter' for the built-in starter set")
    p.add_argument("--model", required=True, choices=MODEL_NAMES)
    p.add_argument("--features", choices=("mfcc", "sequence", "mel-patches"),
                   help="feature kind (default: the model's own: mlp mfcc, lstm sequence, others mel-patches)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="model hyper-parameter, e.g. --param units=128 --param dropout=0.2 (repeatable)")
    p.add_argument("--optimizer", default="adam", choices=("adam", "sgd", "adadelta", "rmsprop"),
                   help="sgd uses Nesterov momentum 0.9 (default %(default)s)")
    p.add_argument("--lr", type=float, default=0.001, help="learning rate (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=128, help="default %(default)s")
    p.add_argument("--epochs", type=int, default=10, help="maximum epochs (default %(default)s)")
    p.add_argument("--validation-split", type=float, default=0.2,
                   help="fraction of training clips held out when the dataset has no validation split "
                        "(default %(default)s)")
    p.add_argument("--class-weights", action="store_true", help="balanced class weights")
    stop = p.add_mutually_exclusive_group()
    stop.add_argument("--target-accuracy", type=float, metavar="ACC",
                      help="stop once validation accuracy is above ACC for --patience epochs in a row")
    stop.add_argument("--early-stopping", type=int, metavar="N",
                      help="stop when validation accuracy has not improved for N epochs")
    p.add_argument("--patience", type=int, default=3, help="epochs in a row for --target-accuracy (default %(default)s)")
    p.add_argument("--last-weights", action="store_true",
                   help="keep the last epoch's weights (default: the best epoch's by validation accuracy)")
    p.add_argument("--seed", type=int, default=0, help="same seed and options, same curves (default %(default)s)")
    p.add_argument("--workers", default=None, metavar="N | HOST:PORT,...",
                   help="a number: feature extraction processes (default: all cores); a list host:port,host:port: "
                        "train on several machines (MultiWorkerMirroredStrategy), the same list on every "
                        "machine, each with its own --worker-index")
    from .dataset_cmds import add_scale_arguments

    add_scale_arguments(p)
    p.add_argument("--inputs", choices=("auto", "memory", "stream"), default="auto",
                   help="stream: read a feature store through a shuffle buffer; auto: stream stores above "
                        "1 GiB (default %(default)s)")
    p.add_argument("--worker-index", type=int, default=None, metavar="N",
                   help="this machine's place in the --workers list (0: the chief, which shows the curves "
                        "and saves the bundle)")
    p.add_argument("--tensorboard", metavar="DIR", help="also write TensorBoard logs of the run into DIR")
    p.add_argument("--reproducible", action=argparse.BooleanOptionalAction, default=None,
                   help="deterministic kernels: same seed, same curves (default: on for the CPU, off for a GPU, "
                        "where they are slower)")
    p.add_argument("--mixed-precision", choices=("off", "bfloat16", "float16"), default="off",
                   help="compute the CNNs in 16 bits on a GPU (default %(default)s)")
    p.add_argument("--steps-per-execution", type=int, default=1, metavar="N",
                   help="training steps per compiled call; progress is reported per block (default %(default)s)")
    p.add_argument("--out", required=True, metavar="BUNDLE", help="folder to write the model bundle to")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.set_defaults(run=run)


def parse_params(items: list[str]) -> dict:
    """--param NAME=VALUE: VALUE as JSON where it parses (numbers, true, [64, 32]), else a string."""
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param needs NAME=VALUE, got {item!r}")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params


def train_config_from_args(args):
    from ..core.learn.training import TrainConfig

    stop_rule, threshold, patience = "none", 0.98, args.patience
    if args.target_accuracy is not None:
        stop_rule, threshold = "target-accuracy", args.target_accuracy
    elif args.early_stopping is not None:
        stop_rule, patience = "early-stopping", args.early_stopping
    return TrainConfig(model=args.model, model_params=parse_params(args.param), optimizer=args.optimizer,
                       learning_rate=args.lr, batch_size=args.batch_size, epochs=args.epochs,
                       validation_split=args.validation_split, class_weights=args.class_weights, seed=args.seed,
                       stop_rule=stop_rule, threshold=threshold, patience=patience,
                       restore_best=not args.last_weights, reproducible=getattr(args, "reproducible", None),
                       mixed_precision=getattr(args, "mixed_precision", "off"),
                       steps_per_execution=getattr(args, "steps_per_execution", 1))


def run(args) -> int:
    from ..core.features.extraction import load_feature_set
    from ..core.learn.bundle import check_bundle_target, save_bundle
    from ..core.learn.training import evaluate_split, train

    cfg = train_config_from_args(args)
    chief, processes = True, None
    if args.workers and ":" in args.workers:
        from ..core.learn.distribute import configure_workers, parse_workers

        if args.worker_index is None:
            raise ConfigError("--workers host:port,... needs --worker-index N (0 on the chief)")
        configure_workers(parse_workers(args.workers), args.worker_index)
        chief = args.worker_index == 0
    elif args.workers:
        try:
            processes = int(args.workers)
        except ValueError:
            raise ConfigError(f"--workers takes a number or host:port,host:port; got {args.workers!r}") from None
    if chief:
        check_bundle_target(args.out)   # before the features and the epochs, not after them
    kind = args.features or MODELS[cfg.model].feature_kind
    with TerminalProgress() as progress:
        data = load_feature_set(args.dataset, FeatureConfig(kind=kind), on_event=progress, workers=processes,
                                store=args.store, scheduler=args.scheduler)
        result = train(cfg, data, on_event=progress if chief else None, inputs=args.inputs,
                       tensorboard_dir=args.tensorboard)
    if not chief:
        print(f"worker {args.worker_index}: {result.epochs_run} epoch(s) done; the chief saves the bundle")
        return 0
    metrics = {**result.final_metrics(), **evaluate_split(result, data, "test"),
               "train_seconds": result.train_seconds, "epochs_run": result.epochs_run,
               "stop_reason": result.stop_reason, "device": result.device}
    out = save_bundle(args.out, model=result.model, labels=result.labels, feature_config=result.feature_config,
                      mean=result.mean, std=result.std, train_config=cfg, history=result.history, metrics=metrics,
                      report=report_extras(result, data, dataset=str(args.dataset)))
    if args.json:
        print(json.dumps({
            "epochs_run": result.epochs_run, "history": _nulls(result.history),
            "train_seconds": round(result.train_seconds, 3), "device": result.device, "bundle": str(out),
            "backend": result.backend, "reproducible": result.reproducible,
            "stop_reason": result.stop_reason, "best_epoch": result.best_epoch,
            "metrics": _nulls({k: v for k, v in metrics.items() if isinstance(v, float)}),
        }))
    else:
        test = metrics.get("test_accuracy")
        test_text = f", test accuracy {test:.3f}" if test is not None else ""
        best = f", best epoch {result.best_epoch}" if result.best_epoch else ""
        print(f"{result.stop_reason} after {result.epochs_run} epoch(s) in {result.train_seconds:.1f} s on "
              f"{result.device}{best}{test_text}")
        print(f"saved {out}")
    return 0


def report_extras(result, data, *, dataset: str) -> dict:
    """What `instrument-studio report BUNDLE` reads besides history and metrics: the test-split
    evaluation, the model summary and the data set's facts (as the app's run list keeps them)."""
    from ..core.evaluation.run_report import attach_evaluation
    from ..core.learn.runs import SessionRun

    if getattr(data, "on_disk", False):
        # A streamed store is not held in memory: its evaluation rows would be. `report --dataset`
        # evaluates the bundle afterwards, chunk by chunk through the dataset's own path.
        return {"dataset": dataset, "streamed": True}
    run = SessionRun.from_result(0, result, data, dataset=dataset)
    attach_evaluation(run)
    return {"evaluation": run.evaluation, "model_summary": run.model_summary, "data_facts": run.data_facts,
            "dataset": dataset}


def _nulls(value):
    """JSON has no NaN: missing validation figures become null."""
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nulls(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
