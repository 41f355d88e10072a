"""A persistent content index: (path, size, mtime_ns) -> content hash, in one sqlite file.

The feature cache is keyed by a file's content hash, so that a renamed or copied file still hits.
Hashing means reading every byte, so before this index a cached run re-read all the audio of a
dataset (88 MB for Philharmonia, 15 GB for NSynth) just to find its cache entries. A file whose
size and modification time (in nanoseconds) are unchanged since it was last hashed is taken to
hold the same bytes, as make, rsync and git do; only new or changed files are read again.

The index is a cache like the rest of the cache folder: a damaged, locked or read-only index only
costs speed (every file is hashed as before), never a wrong answer beyond the stat rule above.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

_SCHEMA = ("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
           "mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL)")
# sqlite caps bound parameters per statement (999 in old builds).
_CHUNK = 900
_lock = threading.Lock()


def hash_file(path: str | Path) -> str:
    """BLAKE2b of the file's bytes (40 hex digits): the feature cache's content key."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "blake2b").hexdigest()[:40]


def hash_bytes(data: bytes) -> str:
    """hash_file() of a file whose bytes are in memory."""
    return hashlib.blake2b(data).hexdigest()[:40]


class ContentIndex:
    """digests(paths) -> {path: digest or OSError}; reads only files the index does not know as they are."""

    def __init__(self, db_path: str | Path | None):
        self.db_path = Path(db_path) if db_path else None
        self.hashed = 0            # files read and hashed by the last digests() call
        self.bytes_hashed = 0

    def _connect(self) -> sqlite3.Connection | None:
        if self.db_path is None:
            return None
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.db_path, timeout=5.0)
            con.execute("PRAGMA journal_mode=WAL")   # readers of other processes never wait on a writer
            con.execute(_SCHEMA)
            return con
        except (OSError, sqlite3.Error):
            return None

    def digests(self, paths: Sequence[str], *, threads: int = 4) -> dict[str, str | OSError]:
        stats: dict[str, tuple[int, int]] = {}
        out: dict[str, str | OSError] = {}
        for p in paths:
            try:
                st = os.stat(p)
            except OSError as exc:
                out[p] = exc
                continue
            stats[p] = (st.st_size, st.st_mtime_ns)
        known: dict[str, tuple[int, int, str]] = {}
        with _lock:
            con = self._connect()
            if con is not None:
                try:
                    keys = list(stats)
                    for i in range(0, len(keys), _CHUNK):
                        part = keys[i:i + _CHUNK]
                        rows = con.execute(f"SELECT path, size, mtime_ns, digest FROM files WHERE path IN "
                                           f"({','.join('?' * len(part))})", part).fetchall()
                        known.update((r[0], (r[1], r[2], r[3])) for r in rows)
                except sqlite3.Error:
                    known = {}
                finally:
                    con.close()
        todo = []
        for p, (size, mtime) in stats.items():
            hit = known.get(p)
            if hit is not None and hit[0] == size and hit[1] == mtime:
                out[p] = hit[2]
            else:
                todo.append(p)
        self.hashed, self.bytes_hashed = len(todo), sum(stats[p][0] for p in todo)
        if todo:
            # hashlib releases the GIL on large updates: threads overlap reading and hashing.
            with cf.ThreadPoolExecutor(max_workers=max(1, min(threads, len(todo)))) as pool:
                results = list(pool.map(_try_hash, todo))
            fresh = []
            for p, digest in zip(todo, results, strict=True):
                out[p] = digest
                if isinstance(digest, str):
                    fresh.append((p, *stats[p], digest))
            self._store(fresh)
        return {p: out[p] for p in paths if p in out}

    def remember(self, rows: list[tuple[str, int, int, str]]) -> None:
        """Record (path, size, mtime_ns, digest) of files whose digest is known without reading them
        again (a file hashed right after it was written)."""
        self._store(rows)

    def _store(self, rows: list[tuple[str, int, int, str]]) -> None:
        if not rows:
            return
        with _lock:
            con = self._connect()
            if con is None:
                return
            try:
                with con:
                    con.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", rows)
            except sqlite3.Error:
                pass   # a locked or read-only index only costs speed
            finally:
                con.close()


def _try_hash(path: str) -> str | OSError:
    try:
        return hash_file(path)
    except OSError as exc:
        return exc
