"""The course assignment on real data: learning-rate and batch-size sweeps of the labs' MLP on
MFCC vectors, fixed epochs and/or train-to-accuracy, with per-run time, energy and test accuracy.

    python bench/sweep_assignment.py --dataset DATASET_DIR [--sweep lr|batch_size|both]
        [--mode fixed-epochs|train-to-accuracy|both] [--epochs 20] [--target 0.98 --patience 3
        --max-epochs 500] [--repeats 1] [--out bench/out/sweeps]

DATASET_DIR is a dataset project (e.g. `instrument-studio dataset import ../shared/data/philharmonia
--out DIR`). Prints one line per run and a summary per value; saves each sweep as JSON (reopens in
the Experiments panel) and CSV. Runs on whatever device TensorFlow finds; GPU energy is reported
where NVML works and printed as "unavailable: <reason>" elsewhere.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.events import SweepRunFinished
    from instrument_studio.core.experiments.sweep import SweepConfig, default_values, run_sweep
    from instrument_studio.core.experiments.sweep_io import SweepRecord
    from instrument_studio.core.features.extraction import load_feature_set
    from instrument_studio.core.learn.training import TrainConfig

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", required=True)
    p.add_argument("--sweep", default="both", choices=("lr", "batch_size", "both"))
    p.add_argument("--mode", default="both", choices=("fixed-epochs", "train-to-accuracy", "both"))
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--target", type=float, default=0.98)
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--max-epochs", type=int, default=500)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--lr-values", default="")
    p.add_argument("--batch-values", default="")
    p.add_argument("--base-lr", type=float, default=0.001, help="learning rate of the batch-size sweep")
    p.add_argument("--base-batch", type=int, default=128, help="batch size of the learning-rate sweep")
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--out", default="bench/out/sweeps")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    features = load_feature_set(args.dataset, FeatureConfig(kind="mfcc"))
    print(f"features: {features.input_shape} x {features.n('train')} train / {features.n('val')} val / "
          f"{features.n('test')} test, {features.n_classes} classes ({time.perf_counter() - t0:.1f} s)", flush=True)
    params = ("lr", "batch_size") if args.sweep == "both" else (args.sweep,)
    modes = ("fixed-epochs", "train-to-accuracy") if args.mode == "both" else (args.mode,)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = TrainConfig(model="mlp", optimizer=args.optimizer, learning_rate=args.base_lr,
                       batch_size=args.base_batch, seed=0)
    for param in params:
        typed = args.lr_values if param == "lr" else args.batch_values
        values = (tuple(float(v) if param == "lr" else int(v) for v in typed.split(",")) if typed
                  else default_values(param))
        for mode in modes:
            sweep = SweepConfig(base=base, param=param, values=values, repeats=args.repeats, mode=mode,
                                epochs=args.epochs, target_accuracy=args.target, patience=args.patience,
                                max_epochs=args.max_epochs, dataset=str(args.dataset), features=features.config)
            print(f"\n== {param} sweep, {mode}: {', '.join(map(str, values))} ==", flush=True)
            record = SweepRecord(config=sweep)
            started = time.perf_counter()
            for event in run_sweep(sweep, features):
                if isinstance(event, SweepRunFinished):
                    r = event.run
                    record.runs.append(r)
                    energy = "unavailable" if r.energy_joules is None else f"{r.energy_joules:.0f} J"
                    reached = "" if r.reached_target is None else (" reached" if r.reached_target else " NOT reached")
                    best = max(r.history.get("val_accuracy") or [0.0])
                    print(f"{param}={r.value:<8} rep {r.repeat}: {r.epochs:4d} epochs {r.train_seconds:7.1f} s "
                          f"test acc {r.test_accuracy:.4f} best val acc {best:.4f} final loss {r.final_loss:.4f} "
                          f"GPU energy {energy}{reached} [{r.device}]", flush=True)
            record.status = "finished"
            name = f"{param}-{mode}"
            record.save(out / f"{name}.json")
            record.export_csv(out / f"{name}.csv")
            print(f"-- {len(record.runs)} runs in {time.perf_counter() - started:.0f} s; saved {out / name}.json",
                  flush=True)
            for s in record.summaries():
                print(f"   {param}={s.value:<8} time {s.train_seconds[0]:7.1f} ± {s.train_seconds[1]:.1f} s  "
                      f"epochs {s.epochs[0]:6.1f}  test acc {s.test_accuracy[0]:.4f} ± {s.test_accuracy[1]:.4f}  "
                      + (f"reached {s.reached}/{s.n}" if mode == "train-to-accuracy" else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
