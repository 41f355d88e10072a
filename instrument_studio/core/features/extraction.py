"""Feature extraction over a dataset: parallel over files, cached per file, cancellable.

Every clip goes through features.clip.clip_features (the same function live prediction calls), in
worker processes (features/workers.py). Results are cached per file under the user cache folder
(features/cache.py), keyed by the file's content hash and the FeatureConfig, so a second run is
instant and a config change recomputes. A file that fails to
decode is reported and skipped; it never ends the run. Standardisation statistics are fitted on
the training split only.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import FeatureConfig
from ..errors import Cancelled, FeatureError, StudioError
from ..events import ExtractionFinished, FeatureProgress, FileSkipped
from .cache import RowCache, cache_file, cache_root, config_key, content_index, read_cache
from .featureset import SPLITS, FeatureSet
from .workers import compute, compute_many, shared_pool

STORE_MODES = ("memory", "disk", "auto")
# store="auto": above this many bytes of features, rows go to a FeatureStore on disk, not memory.
STORE_ABOVE_BYTES = 2 * 2**30

# Cache entries looked up (and rows.sqlite written) this many clips at a time.
_BLOCK = 512

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


def _audio_clips(dataset) -> list:
    return [c for c in dataset.clips if c.label and c.split in SPLITS]


def extract(dataset, cfg: FeatureConfig, *, on_event: EventFn | None = None, should_stop: StopFn | None = None,
            workers: int | None = None, use_cache: bool = True, cache_dir: str | Path | None = None,
            store: str = "memory", store_dir: str | Path | None = None, scheduler: str | None = None) -> Extraction:
    """Features of every single-label clip of `dataset`, as a FeatureSet, plus the run's report.

    store="disk" writes the rows into a sharded FeatureStore (features/store.py) at `store_dir`
    (default: features_folder(...)/store) as they arrive, keeping none in memory; "auto" does so
    when the first clip's rows times the number of clips exceed STORE_ABOVE_BYTES. `scheduler`
    (tcp://host:port) computes the files on that Dask cluster instead of local processes (core/cluster.py).
    """
    if store not in STORE_MODES:
        raise FeatureError(f"store must be one of {', '.join(STORE_MODES)}, got {store!r}")
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
    results: dict[str, np.ndarray | None] = {}
    todo: list[tuple[str, str | None]] = []
    sink = _Sink(dataset, cfg, clips, store, store_dir)

    def keep(path: str, x: np.ndarray) -> None:
        results[path] = sink.take(path, x)
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

    # Stat every file and hash only those the content index does not know unchanged; then read
    # the cache entries on threads (np.load releases the GIL while it reads).
    paths = [c.path for c in clips]
    if store != "memory":
        # Shards are read a few at a time when training: clips in a random (seeded) order make each
        # shard a mix of classes rather than one class after another.
        paths = [paths[i] for i in np.random.default_rng(0).permutation(len(paths))]
    digests = content_index(root).digests(paths)
    entries: list[tuple[str, str]] = []
    for path in paths:
        digest = digests.get(path)
        if not isinstance(digest, str):
            failed(path, f"cannot read: {getattr(digest, 'strerror', None) or digest}")
            continue
        entries.append((path, digest))
    rows = RowCache(key, root)
    fresh: list[tuple[str, np.ndarray, float]] = []   # what rows.sqlite lacks, written every block

    def remember(digest: str, x: np.ndarray, duration: float) -> None:
        fresh.append((digest, x, duration))
        if len(fresh) >= _BLOCK:
            rows.put_many(fresh)
            fresh.clear()

    digest_of = {}
    # Block by block, so that a store-bound run never holds more than a block of rows.
    for b in range(0, len(entries), _BLOCK):
        block = entries[b:b + _BLOCK]
        hits: list = [None] * len(block)
        if use_cache:
            fast = rows.get_many([d for _, d in block])
            slow = [d for _, d in block if d not in fast]
            read = dict(zip(slow, _read_entries([cache_file(key, d, root) for d in slow], stop), strict=True))
            for d, hit in read.items():
                if hit is not None:
                    remember(d, *hit)
            hits = [fast.get(d) or read.get(d) for _, d in block]
        for (path, digest), hit in zip(block, hits, strict=True):
            if hit is not None:
                keep(path, hit[0])
                report.audio_seconds += hit[1]
                report.n_cached += 1
            else:
                digest_of[path] = digest
                todo.append((path, str(cache_file(key, digest, root)) if use_cache else None))
    progress(force=True)

    cfg_json = cfg.to_json()
    workers = max(1, workers or os.cpu_count() or 1)

    def take(result) -> None:
        path, x, duration, reason = result
        if x is None:
            failed(path, reason)
        else:
            if use_cache:
                remember(digest_of[path], x, duration)
            keep(path, x)
            report.audio_seconds += duration
            report.n_computed += 1
        progress()

    if todo and scheduler:
        _on_cluster(scheduler, todo, cfg_json, take, stop)
    elif todo and (workers == 1 or len(todo) < _MIN_FILES_FOR_POOL):
        from threadpoolctl import threadpool_limits

        # One BLAS thread, as in the workers (see features.warmup): faster for a clip's small products.
        with threadpool_limits(limits=1):
            for path, out in todo:
                if stop():
                    raise Cancelled("feature extraction cancelled")
                take(compute(path, cfg_json, out))
    elif todo:
        pool = shared_pool(workers)
        # Batches small enough for smooth progress and prompt cancel, large enough to amortise IPC.
        size = max(1, min(16, len(todo) // (workers * 8)))
        pending = {pool.submit(compute_many, todo[i:i + size], cfg_json) for i in range(0, len(todo), size)}
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
    rows.put_many(fresh)

    fs = sink.finish(results)
    report.seconds = time.perf_counter() - t0
    emit(ExtractionFinished(report=report))
    return Extraction(features=fs, report=report)


def _on_cluster(address: str, todo: list, cfg_json: str, take, stop: StopFn) -> None:
    """The files computed by Dask workers; the cache entries written here, by the client (a worker's
    disk is not ours)."""
    from ..cluster import map_unordered
    from .cache import write_cache

    outs = dict(todo)
    size = max(1, min(16, len(todo) // 32))
    jobs = [([(path, None) for path, _ in todo[i:i + size]], cfg_json) for i in range(0, len(todo), size)]
    for batch in map_unordered(address, compute_many, jobs, should_stop=stop):
        for path, x, duration, reason in batch:
            if x is not None and outs.get(path):
                write_cache(Path(outs[path]), x, duration)
            take((path, x, duration, reason))


class _Sink:
    """Where rows go: kept for assemble() (memory), or written to a FeatureStore as they arrive."""

    def __init__(self, dataset, cfg: FeatureConfig, clips: list, mode: str, folder):
        self.dataset, self.cfg, self.n_clips, self.mode = dataset, cfg, len(clips), mode
        self.folder = Path(folder) if folder else None
        self.writer = None
        self.split_of = {c.path: c.split for c in clips}
        self.label_of = {c.path: c.label for c in clips}

    def take(self, path: str, x: np.ndarray) -> np.ndarray | None:
        if self.mode == "auto":
            self.mode = "disk" if x.nbytes * self.n_clips > STORE_ABOVE_BYTES else "memory"
        if self.mode == "memory":
            return x
        if self.writer is None:
            from .store import StoreWriter

            folder = self.folder or features_folder(self.dataset, self.cfg) / "store"
            self.writer = StoreWriter(folder, labels=self.dataset.classes, config=self.cfg)
        self.writer.add(self.split_of[path], x, self.dataset.classes.index(self.label_of[path]), path)
        return None

    def finish(self, results: dict):
        if self.writer is None:
            return assemble(self.dataset, self.cfg, results)
        st = self.writer.close()
        if st.n("train") == 0:
            raise FeatureError("the training split has no features (every training file failed?)", path=st.folder)
        st.fit_standardisation()
        st.write_manifest()
        return st


def _read_entries(files: list[Path], stop: StopFn, *, threads: int = 4) -> list:
    """read_cache of every file, in order, on a few threads (None for a miss)."""
    if len(files) < 64:
        return [read_cache(f) for f in files]
    with cf.ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(_read_block, files[i:i + 256]) for i in range(0, len(files), 256)]
        out = []
        for fut in futures:
            if stop():
                for f in futures:
                    f.cancel()
                raise Cancelled("feature extraction cancelled")
            out.extend(fut.result())
    return out


def _read_block(files: list[Path]) -> list:
    return [read_cache(f) for f in files]


def assemble(dataset, cfg: FeatureConfig, rows_of: dict[str, np.ndarray]) -> FeatureSet:
    """Stack per-clip rows into a FeatureSet; every row keeps the index of its clip (groups)."""
    index = {label: i for i, label in enumerate(dataset.classes)}
    xs, ys, gs, names = {}, {}, {}, {}
    shape = None
    for split in SPLITS:
        parts, labels, paths = [], [], []
        for c in dataset.clips:
            if c.split != split or not c.label or c.path not in rows_of:
                continue
            rows = rows_of[c.path]
            shape = rows.shape[1:]
            labels.append(index[c.label])
            parts.append(rows)
            paths.append(c.path)
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        # One repeat per split, not one small array per clip: 100k clips take milliseconds.
        xs[split], names[split] = parts, paths
        ys[split] = np.repeat(np.array(labels, dtype=np.int32), lengths)
        gs[split] = np.repeat(np.arange(len(paths), dtype=np.int32), lengths)
    if shape is None:
        raise FeatureError("no clip could be featurised", path=dataset.folder or dataset.root)

    fs = FeatureSet(labels=tuple(dataset.classes), config=cfg, x={}, y={}, groups={}, clips={})
    for split in SPLITS:
        fs.x[split] = (np.concatenate(xs[split]).astype(np.float32, copy=False) if xs[split]
                       else np.zeros((0, *shape), dtype=np.float32))
        fs.y[split], fs.groups[split], fs.clips[split] = ys[split], gs[split], names[split]
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
                     should_stop: StopFn | None = None, workers: int | None = None, store: str = "memory",
                     scheduler: str | None = None) -> FeatureSet:
    """The FeatureSet of `dataset` under `cfg` (the report arrives as an ExtractionFinished event)."""
    return extract(dataset, cfg, on_event=on_event, should_stop=should_stop, workers=workers, store=store,
                   scheduler=scheduler).features


def features_folder(dataset, cfg: FeatureConfig) -> Path:
    """Where a dataset's FeatureSet for `cfg` is saved: <project>/features/<kind>-<config key>."""
    base = Path(dataset.folder or dataset.root)
    return base / "features" / f"{cfg.kind}-{config_key(cfg)[:10]}"


def load_feature_set(source, cfg: FeatureConfig | None = None, *, on_event: EventFn | None = None,
                     should_stop: StopFn | None = None, workers: int | None = None,
                     save: bool | None = None, store: str = "memory", scheduler: str | None = None) -> FeatureSet:
    """Features under `cfg` of what `source` names: a saved feature set (a folder with
    features.json, read as it is), or any dataset core.datasets.library.resolve_dataset knows (a
    Dataset, "starter", a project folder, a folder of recordings).

    Per-file results come from the cache when present. The FeatureSet is also written beside the
    project (features/<kind>-<key>/) for other tools to open, unless save=False; by default a
    Dataset given in memory (the Dataset panel's, perhaps unsaved) is not written.
    """
    from ..datasets import Dataset
    from ..datasets.library import STARTER, resolve_dataset
    from .store import FeatureStore, is_store

    if not isinstance(source, Dataset) and str(source) != STARTER and (Path(source) / "features.json").is_file():
        return FeatureSet.load(source)
    if not isinstance(source, Dataset) and str(source) != STARTER and is_store(source):
        return FeatureStore.open(source)
    cfg = cfg or FeatureConfig()
    starter, finish = None, None
    if not isinstance(source, Dataset) and str(source) == STARTER and scheduler is None:
        # A first use renders the set: its features are computed in the same pass (starter_pass).
        from .starter_pass import starter_options

        starter, finish = starter_options(cfg, workers=workers)
    dataset = resolve_dataset(source, on_event=on_event, starter_options=starter)
    if finish is not None:
        finish()
    fs = extract_features(dataset, cfg, on_event=on_event, should_stop=should_stop, workers=workers, store=store,
                          scheduler=scheduler)
    if getattr(fs, "on_disk", False):
        return fs   # already on disk, beside the project
    if save if save is not None else not isinstance(source, Dataset):
        try:
            fs.save(features_folder(dataset, cfg))
        except (OSError, StudioError):
            pass  # a read-only or full project folder: the per-file cache still makes the next run fast
    return fs
