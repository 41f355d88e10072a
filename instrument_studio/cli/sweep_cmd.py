"""`sweep`: train one model per value of a training setting; time, energy, test accuracy per run."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..core.config import FeatureConfig
from ..core.errors import Cancelled, ConfigError
from .progress import TerminalProgress
from .train_cmd import parse_params

PARAM_CHOICES = ("lr", "batch_size", "optimizer")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="train once per value of the learning rate, batch size or optimizer and compare",
        description="Train the same model once per value (and repeat) of one training setting, one run after "
                    "another, and report epochs, training time, GPU energy (null where unmeasurable), "
                    "and test accuracy per run.")
    p.add_argument("--dataset", required=True, metavar="DATASET_DIR",
                   help="a dataset project folder, a source folder in a known layout, a saved feature set, "
                        "or 'starter'")
    p.add_argument("--model", default="mlp", metavar="NAME", help="model (default %(default)s)")
    p.add_argument("--features", default="mfcc", choices=("mfcc", "sequence", "mel-patches"),
                   help="feature kind (default %(default)s)")
    p.add_argument("--vary", metavar="|".join(PARAM_CHOICES),
                   help="the setting to sweep: lr, batch_size, optimizer, or another training setting's name")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="model hyper-parameter for every run, as in train, e.g. --param units=128 (repeatable; "
                        "the old '--param SETTING' still means --vary SETTING, deprecated)")
    p.add_argument("--values", metavar="V1,V2,...",
                   help="values to try (default: lr 0.1,0.01,0.001,0.0001; batch_size 64,...,8192; every optimizer)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--epochs", type=int, metavar="N", help="fixed-epochs mode: train N epochs (default 20)")
    mode.add_argument("--target-accuracy", type=float, metavar="ACC",
                      help="train-to-accuracy mode: stop once validation accuracy is above ACC for --patience "
                           "epochs in a row (validation: --validation-split of the training data)")
    p.add_argument("--patience", type=int, default=3, help="epochs in a row above the target (default %(default)s)")
    p.add_argument("--max-epochs", type=int, default=500, help="train-to-accuracy cap (default %(default)s)")
    p.add_argument("--validation-split", type=float, default=0.2,
                   help="train-to-accuracy: fraction of the training data held out (default %(default)s)")
    p.add_argument("--repeats", type=int, default=1, help="runs per value, seeds seed..seed+R-1 (default 1)")
    p.add_argument("--optimizer", default="adam", help="base optimizer (default %(default)s)")
    p.add_argument("--lr", type=float, default=0.001, help="base learning rate (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=128, help="base batch size (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first repeat (default %(default)s)")
    p.add_argument("--devices", metavar="gpus | dask:ADDRESS | gpu:N,... | cpu,...",
                   help="run the trainings in parallel, one at a time per device, each in a process of its own "
                        "that measures its own GPU's energy: 'gpus' (every local NVIDIA GPU), 'dask:tcp://host:8786' "
                        "(every GPU the cluster's workers offer with --resources GPU=1), or a list of slots such as "
                        "gpu:0,gpu:1 or cpu,cpu (default: one run after another in this process)")
    p.add_argument("--out", metavar="DIR", help="write sweep.json (reopens in the app), runs.csv and runs.json here")
    p.add_argument("--json", action="store_true", help="print the runs as one JSON list on stdout")
    p.set_defaults(run=run)


def swept_setting(args) -> tuple[str, dict]:
    """(--vary, the model parameters of --param NAME=VALUE); a bare '--param SETTING' is the old
    spelling of --vary, still taken with a warning."""
    old = [item for item in args.param if "=" not in item]
    vary = args.vary
    if old:
        if vary is not None or len(old) > 1:
            raise ConfigError("--param takes NAME=VALUE (a model hyper-parameter, as in train); "
                              "name the swept setting with --vary")
        vary = old[0]
        print(f"instrument-studio: '--param {vary}' is deprecated, use '--vary {vary}'", file=sys.stderr)
    if vary is None:
        raise ConfigError("name the setting to sweep with --vary (lr, batch_size, optimizer, ...)")
    return vary, parse_params([item for item in args.param if "=" in item])


def run(args) -> int:
    from ..core.events import SweepRunFailed
    from ..core.experiments.devices import parse_devices, sweep_on_devices
    from ..core.experiments.sweep import SweepConfig, default_values, param_label, parse_values, run_sweep
    from ..core.experiments.sweep_io import SweepRecord
    from ..core.features.extraction import load_feature_set
    from ..core.learn.training import TrainConfig

    vary, model_params = swept_setting(args)
    base = TrainConfig(model=args.model, model_params=model_params, optimizer=args.optimizer,
                       learning_rate=args.lr, batch_size=args.batch_size, seed=args.seed)
    values = parse_values(vary, args.values, base=base) if args.values else default_values(vary)
    if not values:
        raise ConfigError(f"give --values for {vary!r} (it has no default values)")
    if args.target_accuracy is not None:
        mode = {"mode": "train-to-accuracy", "target_accuracy": args.target_accuracy}
    else:
        mode = {"mode": "fixed-epochs", "epochs": args.epochs or 20}
    features_cfg = FeatureConfig(kind=args.features)
    sweep = SweepConfig(base=base, param=vary, values=values, repeats=args.repeats, patience=args.patience,
                        max_epochs=args.max_epochs, validation_split=args.validation_split,
                        dataset=args.dataset if args.dataset == "starter" else str(Path(args.dataset).resolve()),
                        features=features_cfg, **mode)
    out = Path(args.out) if args.out else None
    log = sys.stderr
    devices = parse_devices(args.devices) if args.devices else None

    with TerminalProgress() as progress:
        progress.line(f"features: {features_cfg.kind} of {args.dataset} …")
        features = load_feature_set(args.dataset, features_cfg, on_event=progress)
    label = param_label(sweep.param)
    print(f"sweep: {label} over {', '.join(map(str, values))}, {args.repeats} repeat(s), {sweep.mode}; "
          f"{features.n('train')} train / {features.n('val')} val / {features.n('test')} test rows",
          file=log, flush=True)
    if devices:
        print(f"on {len(devices)} device(s) at once: {', '.join(d.name for d in devices)}", file=log, flush=True)
    record = SweepRecord(config=sweep)
    code = 0
    failed = 0
    events = sweep_on_devices(sweep, features, devices) if devices else run_sweep(sweep, features)
    try:
        for event in events:
            if isinstance(event, SweepRunFailed):
                failed += 1
                print(f"run {event.index + 1}/{event.total} FAILED on {event.device}: {event.message}", file=log, flush=True)
                continue
            run_ = getattr(event, "run", None)
            if run_ is None:
                continue
            record.runs.append(run_)
            energy = "unavailable" if run_.energy_joules is None else f"{run_.energy_joules:.1f} J"
            reached = "" if run_.reached_target is None else ("  reached" if run_.reached_target else "  NOT reached")
            print(f"run {event.index + 1}/{event.total}  {label} {run_.value}  repeat {run_.repeat + 1}: "
                  f"{run_.epochs} epochs, {run_.train_seconds:.2f} s, test accuracy {run_.test_accuracy:.4f}, "
                  f"GPU energy {energy}{reached}", file=log, flush=True)
        record.keep_sweep_order()
        record.status = "finished"
        if failed:
            record.message = f"{failed} run(s) failed"
            code = 1
    except (Cancelled, KeyboardInterrupt) as exc:
        record.status = "cancelled"
        record.message = str(exc) or "interrupted"
        code = 130
        print(f"sweep stopped: kept {len(record.runs)} finished run(s)", file=log)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        record.save(out / "sweep.json")
        record.export_csv(out / "runs.csv")
        record.export_json(out / "runs.json")
        print(f"saved {out / 'sweep.json'}, runs.csv, runs.json ({time.strftime('%H:%M:%S')})", file=log)
    if args.json:
        print(record.export_json())
    return code
