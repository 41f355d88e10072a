"""What model.fit reads: arrays in memory for small sets, a stream from a FeatureStore for large ones.

prepare_inputs(data, cfg) holds out validation clips, fits the standardisation on the rows trained
on and returns what fit() takes. For a FeatureSet that is two standardised arrays (as always). For a
FeatureStore (features/store.py) nothing of the rows is kept: the statistics come from one
streaming pass over the training rows, and training reads through a shuffle buffer:

  shards in a fresh random order each epoch, several read round-robin (their rows interleave),
  -> a numpy shuffle buffer of `buffer` rows, batches drawn from it at random
  -> standardised per batch
  -> tf.data prefetch on TensorFlow (reading overlaps the step); a keras.utils.PyDataset elsewhere.

Peak memory is then the buffer plus the model, whatever the size of the store. The buffer and the
interleave live in numpy rather than in tf.data so that every backend shuffles the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ModelError
from ..features.featureset import FeatureSet

# Above this many feature bytes, a FeatureStore is streamed rather than read into memory
# (train(..., inputs="auto")); "memory" and "stream" force one path.
STREAM_ABOVE_BYTES = 1 * 2**30
INPUT_MODES = ("auto", "memory", "stream")
SHUFFLE_BUFFER = 8192
INTERLEAVE = 8


@dataclass
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def validation_mask(y: np.ndarray, groups: np.ndarray | None, fraction: float, seed: int) -> np.ndarray:
    """Rows held out for validation: `fraction` of the clips (whole clips, so patches of one clip
    never land on both sides), stratified by class where possible."""
    from sklearn.model_selection import train_test_split

    groups = np.arange(len(y)) if groups is None or len(groups) != len(y) else np.asarray(groups)
    unique, first = np.unique(groups, return_index=True)
    if len(unique) < 2:
        raise ModelError("need at least two training clips to hold some out for validation")
    try:
        _, val_groups = train_test_split(unique, test_size=fraction, random_state=seed, stratify=y[first])
    except ValueError:  # a class with a single clip cannot be stratified
        _, val_groups = train_test_split(unique, test_size=fraction, random_state=seed)
    return np.isin(groups, val_groups)


def split_validation(data: FeatureSet, fraction: float, seed: int) -> Split:
    """The dataset's own "val" split when it has one; else `fraction` of the training clips."""
    x, y = data.x["train"], np.asarray(data.y["train"])
    if data.n("val") > 0:
        return Split(x, y, data.x["val"], np.asarray(data.y["val"]))
    if fraction <= 0:
        return Split(x, y, x[:0], y[:0])
    is_val = validation_mask(y, data.groups.get("train"), fraction, seed)
    return Split(x[~is_val], y[~is_val], x[is_val], y[is_val])


def standardisation_of(x_train: np.ndarray, data) -> tuple[np.ndarray, np.ndarray]:
    """Fit on the rows actually trained on (FeatureSet's own rule, e.g. per-band for sequences)."""
    view = FeatureSet(labels=data.labels, config=data.config, x={"train": x_train}, y={"train": np.zeros(len(x_train))})
    view.fit_standardisation()
    return view.mean, view.std


@dataclass
class Inputs:
    """fit(train, validation_data=val, **fit_kwargs); y_train for class weights."""

    train: Any
    val: Any
    n_train: int
    n_val: int
    y_train: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    fit_kwargs: dict = field(default_factory=dict)
    streamed: bool = False


def prepare_inputs(data, cfg, *, inputs: str = "auto", buffer: int = SHUFFLE_BUFFER) -> Inputs:
    """Inputs for training cfg on `data` (a FeatureSet, or a FeatureStore streamed or read in)."""
    if inputs not in INPUT_MODES:
        raise ModelError(f"inputs must be one of {', '.join(INPUT_MODES)}, got {inputs!r}")
    if getattr(data, "on_disk", False):
        if inputs == "memory" or (inputs == "auto" and data.nbytes <= STREAM_ABOVE_BYTES):
            data = data.to_feature_set()
        else:
            return _streamed(data, cfg, buffer)
    elif inputs == "stream":
        raise ModelError("streamed training reads a feature store; extract with --store disk")
    split = split_validation(data, cfg.validation_split, cfg.seed)
    mean, std = standardisation_of(split.x_train, data)
    x_train = ((split.x_train - mean) / std).astype(np.float32)
    x_val = ((split.x_val - mean) / std).astype(np.float32)
    y_train, y_val = split.y_train.astype(np.int64), split.y_val.astype(np.int64)
    return Inputs(train=(x_train, y_train), val=(x_val, y_val) if len(x_val) else None, n_train=len(x_train),
                  n_val=len(x_val), y_train=y_train, mean=mean, std=std,
                  fit_kwargs={"batch_size": int(cfg.batch_size), "shuffle": True})


# --- streaming ---------------------------------------------------------------------------------
def _streamed(store, cfg, buffer: int) -> Inputs:
    y = store.y("train").astype(np.int64)
    if store.n("val") > 0:
        train_rows, val_split, val_rows = np.ones(len(y), bool), "val", None
    elif cfg.validation_split > 0:
        is_val = validation_mask(y, store.groups("train"), cfg.validation_split, cfg.seed)
        train_rows, val_split, val_rows = ~is_val, "train", is_val
    else:
        train_rows, val_split, val_rows = np.ones(len(y), bool), None, None
    mean, std = _stats(store, train_rows)
    batch = int(cfg.batch_size)
    train = BatchStream(store, "train", train_rows, mean, std, batch=batch, buffer=buffer, seed=cfg.seed, shuffle=True)
    val = None
    if val_split is not None:
        val = BatchStream(store, val_split, val_rows, mean, std, batch=batch, buffer=0, seed=cfg.seed, shuffle=False)
    return Inputs(train=train.for_keras(), val=val.for_keras() if val is not None and val.n_rows else None,
                  n_train=train.n_rows, n_val=val.n_rows if val is not None else 0, y_train=y[train_rows],
                  mean=mean, std=std, fit_kwargs={"shuffle": False}, streamed=True)  # the stream shuffles


def _stats(store, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from ..features.store import streaming_stats

    return streaming_stats(store, "train", None if rows.all() else rows)


class BatchStream:
    """Batches of (standardised rows, labels) of a store's split, shuffled through a bounded buffer."""

    def __init__(self, store, split: str, rows: np.ndarray | None, mean, std, *, batch: int, buffer: int,
                 seed: int, shuffle: bool):
        self.store, self.split, self.mean, self.std = store, split, mean, std
        self.y = store.y(split).astype(np.int64)
        self.rows = np.ones(len(self.y), bool) if rows is None else np.asarray(rows, bool)
        self.n_rows = int(self.rows.sum())
        self.batch, self.buffer, self.seed, self.shuffle = batch, max(buffer, batch), seed, shuffle
        self.epoch = 0

    def __len__(self) -> int:
        return math.ceil(self.n_rows / self.batch)

    def _source(self, rng) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        shards = self.store.shards.get(self.split, [])
        order = rng.permutation(len(shards)) if self.shuffle else np.arange(len(shards))
        cycle = INTERLEAVE if self.shuffle else 1
        pending = [self.store.chunks(self.split, chunk=256, shard_order=[k]) for k in order]
        live, pending = pending[:cycle], pending[cycle:]
        while live:
            for it in list(live):
                block = next(it, None)
                if block is None:
                    live.remove(it)
                    if pending:
                        live.append(pending.pop(0))
                    continue
                first, x = block
                keep = self.rows[first:first + len(x)]
                if keep.any():
                    yield x[keep], self.y[first:first + len(x)][keep]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        shape = self.store.shape
        cap = self.buffer + 256
        bx, by, fill = np.empty((cap, *shape), np.float32), np.empty(cap, np.int64), 0
        for x, y in self._source(rng):
            bx[fill:fill + len(x)], by[fill:fill + len(x)] = x, y
            fill += len(x)
            while fill >= self.buffer:
                fill = yield from self._draw(bx, by, fill, rng)
        if self.shuffle:
            perm = rng.permutation(fill)
            bx[:fill], by[:fill] = bx[perm], by[perm]
        for i in range(0, fill, self.batch):
            j = min(i + self.batch, fill)
            yield self._out(bx[i:j], by[i:j])

    def _draw(self, bx, by, fill, rng):
        """One batch out of a full buffer (at random when shuffling); the tail fills the holes."""
        b = self.batch
        sel = rng.choice(fill, b, replace=False) if self.shuffle else np.arange(b)
        out = self._out(bx[sel], by[sel])
        tail = np.arange(fill - b, fill)
        holes, movers = sel[sel < fill - b], tail[~np.isin(tail, sel)]
        bx[holes], by[holes] = bx[movers], by[movers]
        if not self.shuffle:   # keep the order: shift instead of filling holes
            bx[:fill - b], by[:fill - b] = bx[b:fill].copy(), by[b:fill].copy()
        yield out
        return fill - b

    def _out(self, x, y):
        return ((x - self.mean) / self.std).astype(np.float32), y.copy()

    def for_keras(self):
        """tf.data (prefetched on a background thread) on TensorFlow; a PyDataset elsewhere."""
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            sig = (tf.TensorSpec((None, *self.store.shape), tf.float32), tf.TensorSpec((None,), tf.int64))
            ds = tf.data.Dataset.from_generator(self.__iter__, output_signature=sig)
            return ds.apply(tf.data.experimental.assert_cardinality(len(self))).prefetch(2)
        return _py_dataset(self)


def _py_dataset(stream: BatchStream):
    import keras

    class StreamDataset(keras.utils.PyDataset):
        """Keras asks for batches 0..n-1 in order each epoch (workers=1, no multiprocessing): index 0
        starts a new pass of the stream, later indices take its next batch."""

        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self._it = None

        def __len__(self):
            return len(stream)

        def __getitem__(self, index):
            if index == 0 or self._it is None:
                self._it = iter(stream)
            return next(self._it)

    return StreamDataset()


def rows_and_labels(data, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(labels, groups) of a split of a FeatureSet or FeatureStore."""
    if getattr(data, "on_disk", False):
        return np.asarray(data.y(split)), data.groups(split)
    return np.asarray(data.y[split]), data.groups.get(split)


def predict_rows(result, data, split: str, *, chunk: int = 4096) -> np.ndarray:
    """result.predict_proba of every row of a split; chunk by chunk for a store."""
    if not getattr(data, "on_disk", False):
        return result.predict_proba(data.x[split])
    out = [result.predict_proba(x) for _, x in data.chunks(split, chunk=chunk)]
    return np.concatenate(out) if out else np.zeros((0, data.n_classes), np.float32)
