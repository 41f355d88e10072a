"""The per-file feature cache: one .npz per (FeatureConfig, file content) under the user cache folder.

Keyed by the file's content hash and the FeatureConfig, so a second run is instant and a config
change recomputes. A damaged entry reads as a miss; a full or read-only cache only costs speed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np

from ..config import FeatureConfig
from ..errors import StudioError
from ..fileio import atomic_path
from ..userdirs import user_cache_dir
from .content_index import ContentIndex, hash_file

# Bump when clip_features changes its output for the same config: old cache entries then miss.
# 3: musicnn clips shorter than a window are repeated, not padded; 4: and brought to one level
# (-20 dB); 6: -12 dB (5 and 7 keyed other levels in experiments)
FEATURES_VERSION = 6

def cache_root() -> Path:
    return user_cache_dir("features")


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
        digest = hash_file(path)
        _hash_memo[key] = digest
    return digest


def content_index(root: Path | None = None) -> ContentIndex:
    """The persistent (path, size, mtime) -> hash index beside the cache entries it serves."""
    return ContentIndex((root or cache_root()) / "content-index.sqlite")


def cache_file(cfg_key: str, digest: str, root: Path | None = None) -> Path:
    return (root or cache_root()) / cfg_key / digest[:2] / f"{digest}.npz"


def read_cache(path: Path) -> tuple[np.ndarray, float] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            return data["x"], float(data["duration"])
    except (OSError, ValueError, KeyError, EOFError):
        return None  # missing or damaged: recompute


def write_cache(path: Path, x: np.ndarray, duration: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".npz.part") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, x=x, duration=np.float64(duration))
    except (OSError, StudioError):
        # A full or read-only cache only costs speed. atomic_path reports a folder it cannot write
        # in as StudioError, not OSError: both are caught here.
        pass


class RowCache:
    """Every cached clip's rows of one FeatureConfig in one sqlite file (<config key>/rows.sqlite).

    Why beside the .npz entries: opening 3,000 small .npz files costs seconds (zip parsing, file
    opens), one SELECT over 3,000 blobs costs tens of milliseconds. The .npz entries stay the form
    worker processes write (they cannot share one sqlite writer cheaply); the client copies what it
    receives or reads from them into this file, so the next run needs no .npz at all. A damaged,
    locked or read-only file only costs speed.
    """

    def __init__(self, cfg_key: str, root: Path | None = None):
        self.path = (root or cache_root()) / cfg_key / "rows.sqlite"

    def _connect(self):
        import sqlite3

        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=5.0)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE IF NOT EXISTS rows (digest TEXT PRIMARY KEY, duration REAL NOT NULL, "
                    "shape TEXT NOT NULL, data BLOB NOT NULL)")
        return con

    def get_many(self, digests: list[str]) -> dict[str, tuple[np.ndarray, float]]:
        import sqlite3

        out: dict[str, tuple[np.ndarray, float]] = {}
        if not self.path.is_file():
            return out
        try:
            con = self._connect()
        except (OSError, sqlite3.Error):
            return out
        try:
            for i in range(0, len(digests), 900):
                part = digests[i:i + 900]
                for digest, duration, shape, data in con.execute(
                        f"SELECT digest, duration, shape, data FROM rows WHERE digest IN ({','.join('?' * len(part))})",
                        part):
                    dims = tuple(int(d) for d in shape.split(",")) if shape else ()
                    x = np.frombuffer(data, dtype=np.float32)
                    if x.size == math.prod(dims):
                        out[digest] = (x.reshape(dims), float(duration))
        except (sqlite3.Error, ValueError):
            return {}
        finally:
            con.close()
        return out

    def put_many(self, entries: list[tuple[str, np.ndarray, float]]) -> None:
        import sqlite3

        if not entries:
            return
        try:
            con = self._connect()
            with con:
                con.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?)",
                                [(d, float(dur), ",".join(map(str, x.shape)),
                                  np.ascontiguousarray(x, dtype=np.float32).tobytes()) for d, x, dur in entries])
            con.close()
        except (OSError, sqlite3.Error):
            pass   # a full or read-only cache only costs speed
