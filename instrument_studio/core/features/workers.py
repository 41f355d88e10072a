"""Feature worker processes: clip features of one file, computed in a reused process pool.

A worker never raises for a bad file: it returns the reason, and the run reports and skips it.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import FeatureConfig
from ..errors import StudioError
from .cache import write_cache


def file_features(path: str | Path, cfg: FeatureConfig) -> np.ndarray:
    """clip_features of one audio file (decoded and resampled by audio.audiofile.load)."""
    from ..audio.audiofile import load
    from .clip import clip_features

    y, _ = load(path, sr=cfg.mel.sr)
    return clip_features(y, cfg)


@lru_cache(maxsize=8)
def _config(cfg_json: str) -> FeatureConfig:
    return FeatureConfig.from_json(cfg_json)


def compute(path: str, cfg_json: str, out: str | None, data: bytes | None = None,
            ) -> tuple[str, np.ndarray | None, float, str]:
    """Worker: (path, rows or None, duration s, failure reason). Never raises for a bad file.
    data: the file's bytes, when the caller has just written them (decoded instead of the file)."""
    from ..audio.audiofile import load, load_bytes
    from .clip import clip_features

    cfg = _config(cfg_json)
    try:
        y, sr = load(path, sr=cfg.mel.sr) if data is None else load_bytes(data, sr=cfg.mel.sr)
        x = clip_features(y, cfg)
    except StudioError as exc:
        return path, None, 0.0, exc.reason
    except Exception as exc:  # noqa: BLE001 - one odd file must not end a long run
        return path, None, 0.0, f"{type(exc).__name__}: {exc}"
    duration = len(y) / sr
    if out:
        write_cache(Path(out), x, duration)
    return path, x, duration, ""


# Worker processes are started once and reused by later runs (a GUI session extracts again and
# again). forkserver, not fork: the GUI process has Qt and audio threads that a fork would copy
# half-alive; the server preloads the feature code so each worker starts in milliseconds rather
# than re-importing numpy, scipy and soundfile as spawn would.
_PRELOAD = ["instrument_studio.core.features.workers", "soxr", "instrument_studio.core.features.warmup"]
_pool_state: dict = {"pool": None, "workers": 0}
_pool_lock = threading.Lock()


def compute_many(jobs: list[tuple[str, str | None]], cfg_json: str) -> list[tuple]:
    """Worker: several files per task, so inter-process overhead is paid per batch, not per file."""
    return [compute(path, cfg_json, out) for path, out in jobs]


def shared_pool(workers: int) -> cf.ProcessPoolExecutor:
    """The shared worker pool. A run asking for as many workers or fewer reuses it (two runs at
    once, e.g. the GUI and a training job, share it rather than tearing it down under each other)."""
    with _pool_lock:
        pool = _pool_state["pool"]
        if pool is not None and not getattr(pool, "_broken", False) and workers <= _pool_state["workers"]:
            return pool
        if pool is not None:
            pool.shutdown(wait=False)  # running batches finish; its runs keep their futures
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=_context())
        _pool_state.update(pool=pool, workers=workers)
        return pool


def _context():
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def start_server() -> bool:
    """Start the server the workers are forked from, with the feature code preloaded, and no worker
    yet. The app calls it first thing: the server's preload (imports and warm-up, ~5 s of one core)
    then runs beside the window's own start-up, which keeps one core, instead of after the first
    Train or extraction, whose workers otherwise wait for it. It costs the caller a few ms and no
    waiting; where there is no forkserver (spawn: macOS, Windows) there is nothing to start."""
    if _context().get_start_method() != "forkserver":
        return False
    from multiprocessing import forkserver

    forkserver.ensure_running()
    return True


def _ping() -> int:
    return os.getpid()


def start_workers(workers: int | None = None) -> int:
    """Start the worker processes now (the first extraction of a session otherwise pays for it);
    returns how many answered."""
    workers = max(1, workers or os.cpu_count() or 1)
    pool = shared_pool(workers)
    return len({f.result() for f in [pool.submit(_ping) for _ in range(workers * 2)]})


def shutdown_workers() -> None:
    """Stop the reused worker processes (they also end with the program)."""
    with _pool_lock:
        pool = _pool_state["pool"]
        _pool_state.update(pool=None, workers=0)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
