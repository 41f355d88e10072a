"""The starter set rendered and featurised in one pass, in the feature worker processes.

Before, a cold start rendered the 2,400 clips in one thread, then the extraction read every file
back, hashed it, decoded it, computed its features and wrote (and fsynced) one .npz cache entry per
clip. Here each worker computes a clip's features right after writing it (workers.compute, the
extraction's own per-file function: the same clip_features path as training and prediction), and
this process files the rows in the row cache and the files in the content index, so the
extraction that follows finds every clip cached. The splits are made here while the workers render.
"""

from __future__ import annotations

import os
from functools import partial

from ..config import FeatureConfig
from .cache import RowCache, cache_root, config_key, content_index
from .content_index import hash_bytes
from .workers import compute, shared_pool


def analyse_file(path: str, data: bytes, cfg_json: str) -> tuple:
    """Worker, on a file just written with the bytes `data`: (size, mtime_ns, content digest, rows
    or None, duration s, failure reason), what the content index and the row cache need. The
    bytes are hashed and decoded as they are, not read back (a tenth of the pass's CPU)."""
    st = os.stat(path)
    _, x, duration, reason = compute(path, cfg_json, None, data)
    return st.st_size, st.st_mtime_ns, hash_bytes(data), x, duration, reason


def starter_options(cfg: FeatureConfig, *, workers: int | None = None, root=None) -> tuple[dict, callable]:
    """(starter_dataset keyword arguments, finish): render in the worker pool with the features of
    `cfg` computed alongside; call finish() after the set is resolved to file what was computed.
    Nothing is filed when the set was already rendered (on_analysed is then never called)."""
    workers = max(1, workers or os.cpu_count() or 1)
    analysed: list[tuple[str, tuple]] = []
    options = {"executor": shared_pool(workers) if workers > 1 else None,
               "analyse": partial(analyse_file, cfg_json=cfg.to_json()),
               "on_analysed": lambda path, result: analysed.append((path, result))}

    def finish() -> None:
        if not analysed:
            return
        base = root or cache_root()
        content_index(base).remember([(path, size, mtime, digest) for path, (size, mtime, digest, *_) in analysed])
        RowCache(config_key(cfg), base).put_many(
            [(digest, x, duration) for _, (_, _, digest, x, duration, _) in analysed if x is not None])
        analysed.clear()

    return options, finish
