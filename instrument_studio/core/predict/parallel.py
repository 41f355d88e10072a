"""Folder prediction over several processes, or over a Dask cluster (core/cluster.py).

Each worker process loads the bundle once (kept per process) and predicts batches of files with
the same Predictor.predict_file as the one-process path, so answers are the same. Decoding and
features are single-threaded numpy; splitting files over processes is what uses every core. Each
worker's TensorFlow gets an even share of the cores, so two processes do not fight over them.

Results come back in file order (a short reorder buffer), as predict_files yields them.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ..errors import Cancelled, StudioError

_predictors: dict[str, object] = {}
_pool_state: dict = {"pool": None, "workers": 0}
_pool_lock = threading.Lock()


def _predictor(model_path: str, threads: int | None = None):
    p = _predictors.get(model_path)
    if p is None:
        from ..learn.tfthread import import_tensorflow
        from .inference import load_predictor

        tf = import_tensorflow()
        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(int(threads))
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:
                pass   # TensorFlow already started in this process: keep its threads
        p = _predictors[model_path] = load_predictor(model_path)
        _warm(p)
    return p


def _warm(predictor) -> None:
    """One prediction of quiet noise, so the compiled forward pass is ready before the first file
    (as the one-process path's Predictor is after its first file)."""
    import numpy as np

    seconds = max(predictor.window_seconds, predictor.shortest_seconds) + 1.0
    y = (0.01 * np.random.default_rng(0).standard_normal(int(seconds * predictor.sr))).astype(np.float32)
    try:
        predictor.predict(y, predictor.sr)
    except StudioError:
        pass


def predict_batch(model_path: str, items: list[tuple[int, str]], threads: int | None = None) -> list[tuple]:
    """Worker: (index, path, Prediction or None, error) per file. A bad model raises (every file
    would fail alike); a bad file gives its error row."""
    predictor = _predictor(model_path, threads)
    out = []
    for index, path in items:
        try:
            out.append((index, path, predictor.predict_file(path), ""))
        except StudioError as exc:
            out.append((index, path, None, exc.reason))
        except Exception as exc:  # noqa: BLE001 - one odd file must not end a folder's run
            out.append((index, path, None, f"unexpected error ({type(exc).__name__}: {exc})"))
    return out


def _pool(workers: int) -> cf.ProcessPoolExecutor:
    with _pool_lock:
        pool = _pool_state["pool"]
        if pool is not None and not getattr(pool, "_broken", False) and _pool_state["workers"] == workers:
            return pool
        if pool is not None:
            pool.shutdown(wait=False)
        methods = multiprocessing.get_all_start_methods()
        # forkserver/spawn, never fork: the parent may hold Qt, audio and TensorFlow threads.
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        _pool_state.update(pool=pool, workers=workers)
        return pool


def shutdown() -> None:
    with _pool_lock:
        pool = _pool_state["pool"]
        _pool_state.update(pool=None, workers=0)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def start(model_path: str | Path, workers: int) -> float:
    """Start the worker processes and load the model in each (the first batch otherwise pays);
    returns the seconds it took."""
    import time

    t = time.perf_counter()
    pool = _pool(workers)
    threads = max(1, (os.cpu_count() or 1) // workers)
    for f in [pool.submit(predict_batch, str(model_path), [], threads) for _ in range(workers * 2)]:
        f.result()
    return time.perf_counter() - t


def predict_files_parallel(model_path: str | Path, files: Sequence[str | Path], *, workers: int | None = None,
                           scheduler: str | None = None, should_stop: Callable[[], bool] | None = None,
                           batch: int = 4) -> Iterator:
    """FileResult per file in file order, computed by `workers` local processes or on a Dask cluster."""
    from .inference import FileResult

    model_path, files = str(model_path), [str(f) for f in files]
    total = len(files)
    items = list(enumerate(files))
    batches = [items[i:i + batch] for i in range(0, total, batch)]
    workers = max(1, workers or os.cpu_count() or 1)
    threads = max(1, (os.cpu_count() or 1) // workers)
    if scheduler:
        from ..cluster import map_unordered

        results = map_unordered(scheduler, predict_batch, [(model_path, b, None) for b in batches],
                                should_stop=should_stop)
    else:
        results = _local(model_path, batches, workers, threads, should_stop)
    ready: dict[int, tuple] = {}
    next_index = 0
    for rows in results:
        for row in rows:
            ready[row[0]] = row
        while next_index in ready:
            index, path, pred, error = ready.pop(next_index)
            yield FileResult(path=path, index=index, total=total, prediction=pred, error=error)
            next_index += 1


def _local(model_path, batches, workers, threads, should_stop) -> Iterator[list]:
    pool = _pool(workers)
    # A few batches in flight per worker: enough to keep them busy, few to drop on cancel.
    queue = list(batches)
    pending: set = set()
    try:
        while queue or pending:
            while queue and len(pending) < workers * 3:
                pending.add(pool.submit(predict_batch, model_path, queue.pop(0), threads))
            if should_stop is not None and should_stop():
                raise Cancelled("prediction cancelled")
            done, pending = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                try:
                    yield fut.result()
                except cf.process.BrokenProcessPool as exc:
                    raise StudioError("a prediction worker process died (out of memory?)") from exc
    finally:
        for fut in pending:
            fut.cancel()
