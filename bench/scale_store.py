"""bench/scale.py store: 100,000 generated mel-patch clips in a FeatureStore, trained through the
stream and (on a subset) in memory; each training in its own process so its peak RSS is its own.

The features are written directly (no audio): per class a fixed random "timbre" (128 x 43) plus
noise, so the model has something to learn. Training is limited to --steps batches (this is a
2-core shared machine); throughput counts batches after the first --warmup ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _memory import peak_rss_mb, rss_mb  # bench/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parent.parent
SHAPE = (128, 43)


def add_store_parsers(sub) -> None:
    s = sub.add_parser("store", help="peak RSS and throughput: streamed store vs in-memory path")
    s.add_argument("--dir", default="/tmp/instrument-studio-scale-store")
    s.add_argument("--clips", type=int, default=100_000)
    s.add_argument("--classes", type=int, default=10)
    s.add_argument("--subset", type=int, default=12_000, help="rows for the in-memory comparison")
    s.add_argument("--steps", type=int, default=60, help="training batches per run")
    s.add_argument("--warmup", type=int, default=10, help="batches not timed")
    s.add_argument("--batch-size", type=int, default=128)
    s.add_argument("--model", default="han2017")
    s.add_argument("--json", metavar="FILE")
    s.set_defaults(run=run_store)
    t = sub.add_parser("train-one", help="(child) train once and print JSON")
    t.add_argument("--dir", required=True)
    t.add_argument("--mode", choices=("stream", "memory"), required=True)
    t.add_argument("--subset", type=int, default=0)
    t.add_argument("--steps", type=int, default=60)
    t.add_argument("--warmup", type=int, default=10)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--model", default="han2017")
    t.set_defaults(run=train_one)


def write(folder: Path, clips: int, classes: int) -> float:
    import numpy as np

    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.features.store import StoreWriter

    rng = np.random.default_rng(0)
    timbres = rng.normal(0, 1, (classes, *SHAPE)).astype(np.float32)
    writer = StoreWriter(folder, labels=[f"class{i}" for i in range(classes)], config=FeatureConfig(kind="mel-patches"))
    t = time.perf_counter()
    n_test = clips // 10
    block = 1000
    for start in range(0, clips, block):
        n = min(block, clips - start)
        y = rng.integers(0, classes, n)
        x = timbres[y] + rng.standard_normal((n, *SHAPE), dtype=np.float32) * 2.0 - 40.0   # dB-like offset
        for i in range(n):
            split = "test" if start + i < n_test else "train"
            writer.add(split, x[i:i + 1], int(y[i]), f"gen/{start + i:06d}.wav")
    store = writer.close()
    seconds = time.perf_counter() - t
    store.fit_standardisation()
    store.write_manifest()
    return seconds


def run_store(args) -> int:
    from instrument_studio.core.features.store import FeatureStore, is_store

    folder = Path(args.dir)
    if is_store(folder) and FeatureStore.open(folder).n("train") + FeatureStore.open(folder).n("test") == args.clips:
        print(f"reusing the store at {folder}")
        write_s = None
    else:
        print(f"writing {args.clips:,} generated clips of {SHAPE[0]}x{SHAPE[1]} mel patches to {folder} ...", flush=True)
        write_s = write(folder, args.clips, args.classes)
    store = FeatureStore.open(folder)
    gb = store.nbytes / 1e9
    print(f"store: {store.n('train'):,} train + {store.n('test'):,} test rows, {gb:.2f} GB of features in "
          f"{sum(len(v) for v in store.shards.values())} shards" + (f", written in {write_s:.0f} s" if write_s else ""),
          flush=True)
    runs = {}
    for mode, subset in (("stream", 0), ("memory", args.subset)):
        cmd = [sys.executable, str(REPO / "bench" / "scale.py"), "train-one", "--dir", str(folder), "--mode", mode,
               "--subset", str(subset), "--steps", str(args.steps), "--warmup", str(args.warmup),
               "--batch-size", str(args.batch_size), "--model", args.model]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        runs[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        r = runs[mode]
        print(f"{mode:>6}: {r['rows']:,} rows; peak RSS {r['peak_rss_mb']:.0f} MB (before the data "
              f"{r['base_rss_mb']:.0f} MB); {r['rows_per_s']:.0f} rows/s over {r['timed_steps']} batches; "
              f"preparation {r['prepare_s']:.1f} s", flush=True)
    mem = runs["memory"]
    per_row = (mem["peak_rss_mb"] - mem["base_rss_mb"]) / mem["rows"]
    projected = mem["base_rss_mb"] + per_row * store.n("train")
    ratio = runs["stream"]["rows_per_s"] / mem["rows_per_s"]
    print(f"in-memory path projected for {store.n('train'):,} training rows: {projected / 1024:.1f} GB peak RSS "
          f"({per_row * 1024:.0f} KB a row over the process before the data) vs the stream's measured "
          f"{runs['stream']['peak_rss_mb'] / 1024:.2f} GB")
    print(f"throughput stream / in-memory: {ratio:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"store_gb": gb, "runs": runs, "memory_projected_mb": projected,
                                               "throughput_ratio": ratio, "write_s": write_s}, indent=1))
    return 0


def train_one(args) -> int:
    import numpy as np

    from instrument_studio.core.errors import Cancelled
    from instrument_studio.core.events import BatchEnd
    from instrument_studio.core.features.featureset import FeatureSet
    from instrument_studio.core.features.store import FeatureStore
    from instrument_studio.core.learn.tfthread import import_tensorflow
    from instrument_studio.core.learn.training import TrainConfig, train

    import_tensorflow()
    import keras  # noqa: F401 - imported before the baseline, as training would

    store = FeatureStore.open(args.dir)
    base = rss_mb()
    if args.mode == "memory":
        x = store.read_rows("train", 0, args.subset)
        y = store.y("train")[: args.subset]
        data = FeatureSet(labels=store.labels, config=store.config, x={"train": x}, y={"train": y},
                          groups={"train": np.arange(len(y))})
        inputs, rows = "memory", args.subset
    else:
        data, inputs, rows = store, "stream", store.n("train")
    times: list[float] = []
    t_start = time.perf_counter()

    def on_event(e):
        if isinstance(e, BatchEnd):
            times.append(time.perf_counter())

    cfg = TrainConfig(model=args.model, batch_size=args.batch_size, epochs=1, validation_split=0.1, seed=0)
    try:
        train(cfg, data, on_event=on_event, should_stop=lambda: len(times) >= args.steps, inputs=inputs)
    except Cancelled:
        pass   # stopped after --steps batches, before the epoch's end: what we asked for
    timed = times[args.warmup:]
    rows_per_s = (len(timed) - 1) * args.batch_size / (timed[-1] - timed[0]) if len(timed) > 1 else float("nan")
    peak = peak_rss_mb()
    print(json.dumps({"mode": args.mode, "rows": rows, "peak_rss_mb": peak, "base_rss_mb": base,
                      "rows_per_s": rows_per_s, "timed_steps": len(timed) - 1,
                      "prepare_s": (times[0] - t_start) if times else None}))
    return 0


def add_predict_parser(sub) -> None:
    p = sub.add_parser("predict", help="folder prediction: one process vs local processes (vs a LocalCluster)")
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "philharmonia"))
    p.add_argument("--files", type=int, default=60)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--model", default=None, help="bundle (default: the app's default model)")
    p.add_argument("--dask", action="store_true", help="also on a dask.distributed LocalCluster of --workers")
    p.set_defaults(run=run_predict)


def one_core(bundle, files) -> float:
    """Seconds for the files in one warmed worker process whose TensorFlow has one thread: the
    folder prediction of one core, against which the processes' scaling over cores is read (the
    one-process path itself already spreads each file's windows over TensorFlow's threads)."""
    from instrument_studio.core.predict import parallel

    pool = parallel._pool(1)                       # noqa: SLF001 - the same pool code, one worker
    pool.submit(parallel.predict_batch, str(bundle), [], 1).result()
    t = time.perf_counter()
    rows = pool.submit(parallel.predict_batch, str(bundle), list(enumerate(map(str, files))), 1).result()
    seconds = time.perf_counter() - t
    parallel.shutdown()
    assert len(rows) == len(files)
    return seconds


def run_predict(args) -> int:
    from instrument_studio.core.predict import parallel
    from instrument_studio.core.predict.inference import (
        audio_files,
        load_predictor,
        model_path,
        predict_files,
    )

    files = audio_files([args.data])
    files = files[:: max(1, len(files) // args.files)][: args.files]
    bundle = model_path(args.model)
    predictor = load_predictor(args.model)
    for f in files[:4]:                                   # warm: the first call compiles the forward pass
        try:
            predictor.predict_file(f)
            break
        except Exception:  # noqa: BLE001, S112 - a too-short file: try the next one
            continue
    t, c = time.perf_counter(), time.process_time()
    serial = list(predict_files(predictor, files))
    t_serial, cpu_serial = time.perf_counter() - t, time.process_time() - c
    t_core = one_core(bundle, files)
    start_s = parallel.start(bundle, args.workers)
    t = time.perf_counter()
    pooled = list(parallel.predict_files_parallel(bundle, files, workers=args.workers))
    t_pool = time.perf_counter() - t
    parallel.shutdown()
    same = all(a.path == b.path and a.error == b.error and (a.prediction is None or a.prediction.label == b.prediction.label)
               for a, b in zip(serial, pooled, strict=True))
    print(f"{len(files)} files: one process {t_serial:.1f} s ({len(files) / t_serial:.1f} files/s, "
          f"{cpu_serial:.1f} s CPU); {args.workers} processes {t_pool:.1f} s ({len(files) / t_pool:.1f} files/s) "
          f"after {start_s:.1f} s of start-up; speed-up {t_serial / t_pool:.2f}x; same labels: {same}")
    print(f"on one core (one worker process, TensorFlow on one thread): {t_core:.1f} s "
          f"({len(files) / t_core:.1f} files/s); {args.workers} processes against it: {t_core / t_pool:.2f}x")
    if args.dask:
        from distributed import LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as cluster:
            addr = cluster.scheduler_address
            list(parallel.predict_files_parallel(bundle, files[: args.workers * 4], scheduler=addr))   # load the model
            t = time.perf_counter()
            remote = list(parallel.predict_files_parallel(bundle, files, scheduler=addr))
            t_dask = time.perf_counter() - t
        same = all(a.prediction is None or a.prediction.label == b.prediction.label
                   for a, b in zip(serial, remote, strict=True))
        print(f"LocalCluster of {args.workers}: {t_dask:.1f} s ({len(files) / t_dask:.1f} files/s), "
              f"speed-up {t_serial / t_dask:.2f}x; same labels: {same}")
    return 0
