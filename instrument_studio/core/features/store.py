"""A feature set on disk, in shards: for datasets whose features do not fit in memory.

    <folder>/store.json                 labels, FeatureConfig, row shape, shards, clips, statistics
    <folder>/<split>-<k>-x.npy          float32 rows (plain .npy: numpy.load(mmap_mode="r") opens them)
    <folder>/<split>-<k>-y.npy          int32 class index per row
    <folder>/<split>-<k>-g.npy          int32 clip index per row (into clips[split])

Why .npy shards rather than TFRecord or array-record: no TensorFlow is needed to write or read them
(extraction runs in worker processes and on Dask workers without it), any numpy tool can memory-map
them, and a contiguous read of rows is one pread. Readers here use positioned reads rather than
memory maps on purpose: pages of a map count in the process' resident memory until it is unmapped,
so a pass over a 15 GB store through maps looks like (and, under pressure, acts like) 15 GB of RSS.

Labels and clip indices of every row stay in memory (8 bytes a row); the feature rows never do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import FeatureConfig
from ..errors import FeatureError
from ..fileio import atomic_write_text
from .featureset import SPLITS, standardise

STORE_FILE = "store.json"
# ~64 MB shards: large enough for long sequential reads, small enough to shuffle by shard.
SHARD_BYTES = 64 * 2**20


@dataclass
class Shard:
    name: str
    rows: int


class StoreWriter:
    """Rows arrive clip by clip (in any order); full shards are written as they fill."""

    def __init__(self, folder: str | Path, *, labels, config: FeatureConfig, shard_bytes: int = SHARD_BYTES):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*-*-[xyg].npy"):
            old.unlink()   # a previous store in this folder: its shards must not mix with ours
        self.labels = tuple(labels)
        self.config = config
        self.shard_bytes = int(shard_bytes)
        self.shape: tuple[int, ...] | None = None
        self.shards: dict[str, list[Shard]] = {s: [] for s in SPLITS}
        self.clips: dict[str, list[str]] = {s: [] for s in SPLITS}
        self._buf: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {s: [] for s in SPLITS}
        self._buffered = dict.fromkeys(SPLITS, 0)

    def add(self, split: str, rows: np.ndarray, label: int, clip: str) -> None:
        rows = np.asarray(rows, dtype=np.float32)
        if self.shape is None:
            self.shape = tuple(rows.shape[1:])
        elif tuple(rows.shape[1:]) != self.shape:
            raise FeatureError(f"rows of shape {rows.shape[1:]} in a store of {self.shape}", path=clip)
        group = len(self.clips[split])
        self.clips[split].append(clip)
        n = len(rows)
        self._buf[split].append((rows, np.full(n, label, np.int32), np.full(n, group, np.int32)))
        self._buffered[split] += rows.nbytes
        if self._buffered[split] >= self.shard_bytes:
            self._flush(split)

    def _flush(self, split: str) -> None:
        parts = self._buf[split]
        if not parts:
            return
        name = f"{split}-{len(self.shards[split]):05d}"
        x = np.concatenate([p[0] for p in parts])
        np.save(self.folder / f"{name}-x.npy", x)
        np.save(self.folder / f"{name}-y.npy", np.concatenate([p[1] for p in parts]))
        np.save(self.folder / f"{name}-g.npy", np.concatenate([p[2] for p in parts]))
        self.shards[split].append(Shard(name, len(x)))
        self._buf[split], self._buffered[split] = [], 0

    def close(self) -> FeatureStore:
        for split in SPLITS:
            self._flush(split)
        if self.shape is None:
            raise FeatureError("no clip could be featurised", path=self.folder)
        store = FeatureStore(folder=self.folder, labels=self.labels, config=self.config, shape=self.shape,
                             shards=self.shards, clips=self.clips)
        store.write_manifest()
        return store


@dataclass
class FeatureStore:
    """The on-disk twin of FeatureSet: same labels, config, clips and statistics; rows read on demand."""

    folder: Path
    labels: tuple[str, ...]
    config: FeatureConfig
    shape: tuple[int, ...]
    shards: dict[str, list[Shard]]
    clips: dict[str, list[str]] = field(default_factory=dict)
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    _small: dict = field(default_factory=dict, repr=False)

    on_disk = True

    @property
    def n_classes(self) -> int:
        return len(self.labels)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.shape)

    def n(self, split: str) -> int:
        return sum(s.rows for s in self.shards.get(split, ()))

    @property
    def nbytes(self) -> int:
        return sum(self.n(s) for s in self.shards) * int(np.prod(self.shape)) * 4

    # --- the small per-row arrays ------------------------------------------------------------
    def _column(self, split: str, letter: str) -> np.ndarray:
        key = (split, letter)
        if key not in self._small:
            parts = [np.load(self.folder / f"{s.name}-{letter}.npy") for s in self.shards.get(split, ())]
            self._small[key] = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        return self._small[key]

    def y(self, split: str) -> np.ndarray:
        return self._column(split, "y")

    def groups(self, split: str) -> np.ndarray:
        return self._column(split, "g")

    # --- rows ----------------------------------------------------------------------------------
    def _offsets(self, split: str) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([s.rows for s in self.shards.get(split, ())])]).astype(np.int64)

    def read_rows(self, split: str, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) of a split, read (not mapped) from the shards that hold them."""
        offsets = self._offsets(split)
        out = []
        for k, shard in enumerate(self.shards.get(split, ())):
            lo, hi = max(start, offsets[k]), min(stop, offsets[k + 1])
            if lo < hi:
                out.append(_read_npy_rows(self.folder / f"{shard.name}-x.npy", lo - offsets[k], hi - offsets[k]))
        if not out:
            return np.zeros((0, *self.shape), np.float32)
        return out[0] if len(out) == 1 else np.concatenate(out)

    def chunks(self, split: str, *, chunk: int = 1024, shard_order: np.ndarray | None = None
               ) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, rows) blocks of a split, shard by shard (in `shard_order` when given)."""
        offsets = self._offsets(split)
        shards = self.shards.get(split, [])
        order = range(len(shards)) if shard_order is None else shard_order
        for k in order:
            for lo in range(0, shards[k].rows, chunk):
                hi = min(lo + chunk, shards[k].rows)
                yield int(offsets[k] + lo), _read_npy_rows(self.folder / f"{shards[k].name}-x.npy", lo, hi)

    def fit_standardisation(self, split: str = "train", rows: np.ndarray | None = None) -> None:
        """FeatureSet.fit_standardisation's statistics in one streaming pass (Chan et al.'s merge of
        per-chunk mean and M2, in float64), over `rows` (a boolean mask) of the split or all of it."""
        self.mean, self.std = streaming_stats(self, split, rows)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return standardise(x, self.mean, self.std)

    # --- files ---------------------------------------------------------------------------------
    def write_manifest(self) -> None:
        meta = {"format": 1, "labels": list(self.labels), "config": self.config.to_dict(), "shape": list(self.shape),
                "shards": {s: [[sh.name, sh.rows] for sh in v] for s, v in self.shards.items()},
                "clips": self.clips}
        if self.mean is not None:
            np.save(self.folder / "mean.npy", self.mean)
            np.save(self.folder / "std.npy", self.std)
        atomic_write_text(self.folder / STORE_FILE, json.dumps(meta, indent=1))

    @classmethod
    def open(cls, folder: str | Path) -> FeatureStore:
        folder = Path(folder)
        try:
            meta = json.loads((folder / STORE_FILE).read_text(encoding="utf-8"))
            mean = np.load(folder / "mean.npy") if (folder / "mean.npy").is_file() else None
            std = np.load(folder / "std.npy") if (folder / "std.npy").is_file() else None
            return cls(folder=folder, labels=tuple(meta["labels"]), config=FeatureConfig.from_dict(meta["config"]),
                       shape=tuple(meta["shape"]),
                       shards={s: [Shard(n, int(r)) for n, r in v] for s, v in meta["shards"].items()},
                       clips={k: list(v) for k, v in meta.get("clips", {}).items()}, mean=mean, std=std)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FeatureError(f"cannot read the feature store: {exc}", path=folder) from exc

    def to_feature_set(self):
        """The whole store in memory (for a store small enough, or for tools that want arrays)."""
        from .featureset import FeatureSet

        fs = FeatureSet(labels=self.labels, config=self.config, x={}, y={}, groups={}, clips=dict(self.clips),
                        mean=self.mean, std=self.std)
        for split in SPLITS:
            fs.x[split] = self.read_rows(split, 0, self.n(split))
            fs.y[split], fs.groups[split] = self.y(split), self.groups(split)
        return fs


def is_store(folder: str | Path) -> bool:
    return (Path(folder) / STORE_FILE).is_file()


def _read_npy_rows(path: Path, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of a C-order .npy file with one positioned read."""
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(fh)
        if fortran:
            raise FeatureError("Fortran-order shard", path=path)
        row = int(np.prod(shape[1:])) * dtype.itemsize
        fh.seek(fh.tell() + start * row)
        data = np.fromfile(fh, dtype=dtype, count=(stop - start) * int(np.prod(shape[1:])))
    return data.reshape((stop - start, *shape[1:]))


def streaming_stats(store: FeatureStore, split: str, rows: np.ndarray | None = None,
                    *, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std (population, floored as FeatureSet's) of the selected rows, one pass.
    Sequence features pool their frame axis too, as FeatureSet.fit_standardisation does."""
    sequence = store.config.kind == "sequence"
    n, mean, m2 = 0, None, None
    for first, x in store.chunks(split, chunk=chunk):
        if rows is not None:
            x = x[rows[first:first + len(x)]]
        if not len(x):
            continue
        x = x.astype(np.float64)
        if sequence:
            x = x.reshape(-1, x.shape[-1])
        k = len(x)
        cm = x.mean(axis=0)
        cm2 = ((x - cm) ** 2).sum(axis=0)
        if mean is None:
            n, mean, m2 = k, cm, cm2
            continue
        delta = cm - mean
        total = n + k
        mean = mean + delta * (k / total)
        m2 = m2 + cm2 + delta ** 2 * (n * k / total)
        n = total
    if mean is None:
        raise FeatureError("the training split has no rows", path=store.folder)
    std = np.sqrt(m2 / n)
    return mean.astype(np.float32), np.where(std < 1e-8, 1.0, std).astype(np.float32)


def write_store(fs, folder: str | Path, *, shard_bytes: int = SHARD_BYTES) -> FeatureStore:
    """A FeatureSet written as a FeatureStore, clip by clip (statistics copied over)."""
    writer = StoreWriter(folder, labels=fs.labels, config=fs.config, shard_bytes=shard_bytes)
    for split in SPLITS:
        if split not in fs.x or not len(fs.x[split]):
            continue
        groups = fs.groups.get(split)
        groups = np.arange(len(fs.y[split])) if groups is None or len(groups) != len(fs.y[split]) else groups
        names = fs.clips.get(split) or []
        for g in np.unique(groups):
            sel = groups == g
            name = names[g] if g < len(names) else f"{split}#{g}"
            writer.add(split, fs.x[split][sel], int(fs.y[split][sel][0]), name)
    store = writer.close()
    store.mean, store.std = fs.mean, fs.std
    store.write_manifest()
    return store
