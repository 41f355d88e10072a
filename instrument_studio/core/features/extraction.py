"""Feature extraction over a dataset: parallel over files, cached per file, cancellable.

Every clip goes through features.clip_features (the same function live prediction calls). Results
are cached per file under the user cache folder, keyed by the file's content hash and the
FeatureConfig, so a second run is instant and a config change recomputes. A file that fails to
decode is reported and skipped; it never ends the run. Standardisation statistics are fitted on
the training split only.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import FeatureConfig
from ..errors import Cancelled, FeatureError, StudioError
from ..events import ExtractionFinished, FeatureProgress, FileSkipped
from ..fileio import atomic_path
from .featureset import SPLITS, FeatureSet

# Bump when clip_features changes its output for the same config: old cache entries then miss.
FEATURES_VERSION = 2
# Below this many files to compute, starting worker processes costs more than it saves.
_MIN_FILES_FOR_POOL = 6

EventFn = Callable[[object], None]
StopFn = Callable[[], bool]


@dataclass
class ExtractionReport:
    """What a run did: files computed and reused, the failures (path, reason), timings."""

    n_files: int = 0
    n_computed: int = 0
    n_cached: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    audio_seconds: float = 0.0

    def summary(self) -> str:
        text = (f"{self.n_files} files: {self.n_computed} computed, {self.n_cached} from the cache, "
                f"{len(self.failures)} failed; {self.audio_seconds:.0f} s of audio in {self.seconds:.1f} s")
        return text


@dataclass
class Extraction:
    features: FeatureSet
    report: ExtractionReport


def cache_root() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("instrument-studio")) / "features"


def config_key(cfg: FeatureConfig) -> str:
    text = json.dumps({"v": FEATURES_VERSION, "cfg": cfg.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


_hash_memo: dict[tuple[str, int, int], str] = {}


def content_hash(path: str | Path) -> str:
    """BLAKE2b of the file's bytes (memoised per path, size and mtime within this process)."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    digest = _hash_memo.get(key)
    if digest is None:
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, "blake2b").hexdigest()[:40]
        _hash_memo[key] = digest
    return digest


def cache_file(cfg_key: str, digest: str, root: Path | None = None) -> Path:
    return (root or cache_root()) / cfg_key / digest[:2] / f"{digest}.npz"


def _read_cache(path: Path) -> tuple[np.ndarray, float] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["x"], float(data["duration"])
    except (OSError, ValueError, KeyError, EOFError):
        return None  # missing or damaged: recompute


def _write_cache(path: Path, x: np.ndarray, duration: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".npz.part") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, x=x, duration=np.float64(duration))
    except OSError:
        pass  # a full or read-only cache only costs speed


def file_features(path: str | Path, cfg: FeatureConfig) -> np.ndarray:
    """clip_features of one audio file (decoded and resampled by audio.audiofile.load)."""
    from ..audio.audiofile import load
    from .mel import clip_features

    y, _ = load(path, sr=cfg.mel.sr)
    return clip_features(y, cfg)


@lru_cache(maxsize=8)
def _config(cfg_json: str) -> FeatureConfig:
    return FeatureConfig.from_json(cfg_json)


def _compute(path: str, cfg_json: str, out: str | None) -> tuple[str, np.ndarray | None, float, str]:
    """Worker: (path, rows or None, duration s, failure reason). Never raises for a bad file."""
    from ..audio.audiofile import load
    from .mel import clip_features

    cfg = _config(cfg_json)
    try:
        y, sr = load(path, sr=cfg.mel.sr)
        x = clip_features(y, cfg)
    except StudioError as exc:
        return path, None, 0.0, exc.reason
    except Exception as exc:  # noqa: BLE001 - one odd file must not end a long run
        return path, None, 0.0, f"{type(exc).__name__}: {exc}"
    duration = len(y) / sr
    if out:
        _write_cache(Path(out), x, duration)
    return path, x, duration, ""


# Worker processes are started once and reused by later runs (a GUI session extracts again and
# again). forkserver, not fork: the GUI process has Qt and audio threads that a fork would copy
# half-alive; the server preloads the feature code so each worker starts in milliseconds rather
# than re-importing numpy, scipy and soundfile as spawn would.
_PRELOAD = ["instrument_studio.core.features.extraction", "soxr", "instrument_studio.core.features.warmup"]
_pool_state: dict = {"pool": None, "workers": 0}
_pool_lock = threading.Lock()


def _compute_many(jobs: list[tuple[str, str | None]], cfg_json: str) -> list[tuple]:
    """Worker: several files per task, so inter-process overhead is paid per batch, not per file."""
    return [_compute(path, cfg_json, out) for path, out in jobs]


def _pool(workers: int) -> cf.ProcessPoolExecutor:
    """The shared worker pool. A run asking for as many workers or fewer reuses it (two runs at
    once, e.g. the GUI and a training job, share it rather than tearing it down under each other)."""
    with _pool_lock:
        pool = _pool_state["pool"]
        if pool is not None and not getattr(pool, "_broken", False) and workers <= _pool_state["workers"]:
            return pool
        if pool is not None:
            pool.shutdown(wait=False)  # running batches finish; its runs keep their futures
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(_PRELOAD)
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        _pool_state.update(pool=pool, workers=workers)
        return pool


def _ping() -> int:
    return os.getpid()


def start_workers(workers: int | None = None) -> int:
    """Start the worker processes now (the first extraction of a session otherwise pays for it);
    returns how many answered."""
    workers = max(1, workers or os.cpu_count() or 1)
    pool = _pool(workers)
    return len({f.result() for f in [pool.submit(_ping) for _ in range(workers * 2)]})


def shutdown_workers() -> None:
    """Stop the reused worker processes (they also end with the program)."""
    with _pool_lock:
        pool = _pool_state["pool"]
        _pool_state.update(pool=None, workers=0)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _audio_clips(dataset) -> list:
    return [c for c in dataset.clips if c.label and c.split in SPLITS]


def extract(dataset, cfg: FeatureConfig, *, on_event: EventFn | None = None, should_stop: StopFn | None = None,
            workers: int | None = None, use_cache: bool = True, cache_dir: str | Path | None = None) -> Extraction:
    """Features of every single-label clip of `dataset`, as a FeatureSet, plus the run's report."""
    emit = on_event or (lambda _e: None)
    stop = should_stop or (lambda: False)
    if dataset.is_arrays:
        return _from_arrays(dataset, cfg, emit)
    t0 = time.perf_counter()
    clips = _audio_clips(dataset)
    if not clips:
        raise FeatureError("the dataset has no labelled clips", path=dataset.folder or dataset.root)
    report = ExtractionReport(n_files=len(clips))
    key = config_key(cfg)
    root = Path(cache_dir) if cache_dir else cache_root()
    results: dict[str, np.ndarray] = {}
    todo: list[tuple[str, str | None]] = []
    last_emit = 0.0

    def progress(force: bool = False) -> None:
        nonlocal last_emit
        now = time.perf_counter()
        if not force and now - last_emit < 0.05:
            return
        last_emit = now
        done = len(results) + len(report.failures)
        elapsed = now - t0
        computed = report.n_computed + len(report.failures)
        left = len(clips) - done
        eta = elapsed / computed * left if computed and left else (0.0 if not left else None)
        eta_text = f", about {eta:.0f} s left" if eta else ""
        emit(FeatureProgress(stage="features", done=done, total=len(clips), eta_s=eta, elapsed_s=elapsed,
                             cached=report.n_cached, failed=len(report.failures),
                             message=f"{done}/{len(clips)} files{eta_text}"))

    def failed(path: str, reason: str) -> None:
        report.failures.append((path, reason))
        emit(FileSkipped(path=path, reason=reason))

    for c in clips:
        if stop():
            raise Cancelled("feature extraction cancelled")
        try:
            digest = content_hash(c.path)
        except OSError as exc:
            failed(c.path, f"cannot read: {exc.strerror or exc}")
            continue
        out = cache_file(key, digest, root)
        hit = _read_cache(out) if use_cache else None
        if hit is not None:
            results[c.path] = hit[0]
            report.audio_seconds += hit[1]
            report.n_cached += 1
            progress()
        else:
            todo.append((c.path, str(out) if use_cache else None))
    progress(force=True)

    cfg_json = cfg.to_json()
    workers = max(1, workers or os.cpu_count() or 1)

    def take(result) -> None:
        path, x, duration, reason = result
        if x is None:
            failed(path, reason)
        else:
            results[path] = x
            report.audio_seconds += duration
            report.n_computed += 1
        progress()

    if todo and (workers == 1 or len(todo) < _MIN_FILES_FOR_POOL):
        from threadpoolctl import threadpool_limits

        # One BLAS thread, as in the workers (see features.warmup): faster for a clip's small products.
        with threadpool_limits(limits=1):
            for path, out in todo:
                if stop():
                    raise Cancelled("feature extraction cancelled")
                take(_compute(path, cfg_json, out))
    elif todo:
        pool = _pool(workers)
        # Batches small enough for smooth progress and prompt cancel, large enough to amortise IPC.
        size = max(1, min(16, len(todo) // (workers * 8)))
        pending = {pool.submit(_compute_many, todo[i:i + size], cfg_json) for i in range(0, len(todo), size)}
        try:
            while pending:
                if stop():
                    raise Cancelled("feature extraction cancelled")
                done, pending = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    try:
                        for result in fut.result():
                            take(result)
                    except cf.process.BrokenProcessPool as exc:
                        raise FeatureError("a feature worker process died (out of memory?)") from exc
        finally:
            # Queued files are dropped; the few already running finish in the background.
            for fut in pending:
                fut.cancel()
    progress(force=True)

    fs = assemble(dataset, cfg, results)
    report.seconds = time.perf_counter() - t0
    emit(ExtractionFinished(report=report))
    return Extraction(features=fs, report=report)


def assemble(dataset, cfg: FeatureConfig, rows_of: dict[str, np.ndarray]) -> FeatureSet:
    """Stack per-clip rows into a FeatureSet; every row keeps the index of its clip (groups)."""
    index = {label: i for i, label in enumerate(dataset.classes)}
    xs, ys, gs, names = {}, {}, {}, {}
    shape = None
    for split in SPLITS:
        parts, labels, groups, paths = [], [], [], []
        for c in dataset.clips:
            if c.split != split or not c.label or c.path not in rows_of:
                continue
            rows = rows_of[c.path]
            shape = rows.shape[1:]
            groups.append(np.full(len(rows), len(paths), dtype=np.int32))
            labels.append(np.full(len(rows), index[c.label], dtype=np.int32))
            parts.append(rows.astype(np.float32, copy=False))
            paths.append(c.path)
        xs[split], ys[split], gs[split], names[split] = parts, labels, groups, paths
    if shape is None:
        raise FeatureError("no clip could be featurised", path=dataset.folder or dataset.root)
    def cat(arrs: list[np.ndarray], tail: tuple, dtype) -> np.ndarray:
        return np.concatenate(arrs) if arrs else np.zeros((0, *tail), dtype=dtype)

    fs = FeatureSet(labels=tuple(dataset.classes), config=cfg, x={}, y={}, groups={}, clips={})
    for split in SPLITS:
        fs.x[split] = cat(xs[split], shape, np.float32)
        fs.y[split] = cat(ys[split], (), np.int32)
        fs.groups[split] = cat(gs[split], (), np.int32)
        fs.clips[split] = names[split]
    if not len(fs.x["train"]):
        raise FeatureError("the training split has no features (every training file failed?)",
                           path=dataset.folder or dataset.root)
    fs.fit_standardisation()
    return fs


def _from_arrays(dataset, cfg: FeatureConfig, emit: EventFn) -> Extraction:
    """Course-lab .npy arrays are already features: gather their rows per split, no audio."""
    from ..datasets.npy import load_array

    t0 = time.perf_counter()
    arrays: dict[str, np.ndarray] = {}
    rows_of: dict[str, np.ndarray] = {}
    for c in dataset.clips:
        file, _, row = c.path.rpartition("#")
        if file not in arrays:
            arrays[file] = load_array(Path(file))
        rows_of[c.path] = np.asarray(arrays[file][int(row)], dtype=np.float32)[None, ...]
    fs = assemble(dataset, cfg, rows_of)
    report = ExtractionReport(n_files=len(rows_of), n_cached=len(rows_of), seconds=time.perf_counter() - t0)
    emit(FeatureProgress(stage="features", done=len(rows_of), total=len(rows_of), message="read feature arrays"))
    emit(ExtractionFinished(report=report))
    return Extraction(features=fs, report=report)


def extract_features(dataset, cfg: FeatureConfig, *, on_event: EventFn | None = None,
                     should_stop: StopFn | None = None, workers: int | None = None) -> FeatureSet:
    """The FeatureSet of `dataset` under `cfg` (the report arrives as an ExtractionFinished event)."""
    return extract(dataset, cfg, on_event=on_event, should_stop=should_stop, workers=workers).features


def features_folder(dataset, cfg: FeatureConfig) -> Path:
    """Where a dataset's FeatureSet for `cfg` is saved: <project>/features/<kind>-<config key>."""
    base = Path(dataset.folder or dataset.root)
    return base / "features" / f"{cfg.kind}-{config_key(cfg)[:10]}"


def load_feature_set(dataset_dir, cfg: FeatureConfig | None = None, *, on_event: EventFn | None = None,
                     should_stop: StopFn | None = None, workers: int | None = None,
                     save: bool = True) -> FeatureSet:
    """Features of a dataset under `cfg`: a project folder, "starter", any dataset folder (imported
    with --layout auto) or a Dataset.

    Per-file results come from the cache when present; with save=True the FeatureSet is also
    written beside the project (features/<kind>-<key>/) for other tools to open.
    """
    from ..datasets.library import resolve_dataset

    cfg = cfg or FeatureConfig()
    dataset = resolve_dataset(dataset_dir)
    fs = extract_features(dataset, cfg, on_event=on_event, should_stop=should_stop, workers=workers)
    if save:
        try:
            fs.save(features_folder(dataset, cfg))
        except OSError:
            pass  # a read-only project folder: the per-file cache still makes the next run fast
    return fs
