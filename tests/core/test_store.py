"""The streamed feature store: shards on disk, one-pass statistics, shuffled streaming into fit()."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.datasets import import_dataset
from instrument_studio.core.features.extraction import extract
from instrument_studio.core.features.featureset import FeatureSet
from instrument_studio.core.features.store import FeatureStore, streaming_stats, write_store
from instrument_studio.core.learn.inputs import BatchStream, prepare_inputs, validation_mask
from instrument_studio.core.learn.training import TrainConfig, evaluate_split, train
from tests.training_data import blobs, patches

from . import dataset_fixtures as fx


def test_round_trip_keeps_rows_labels_and_clips(tmp_path):
    fs = patches(n_clips=40, per_clip=3)
    store = write_store(fs, tmp_path / "s", shard_bytes=4000)   # several shards per split
    assert len(store.shards["train"]) > 3
    again = FeatureStore.open(tmp_path / "s")
    assert again.n("train") == fs.n("train") and again.input_shape == fs.input_shape
    back = again.to_feature_set()
    # rows of a clip stay together and keep their label, whatever the shard boundaries
    for split in ("train", "test"):
        for g in np.unique(fs.groups[split]):
            a = fs.x[split][fs.groups[split] == g]
            b = back.x[split][back.groups[split] == g]
            np.testing.assert_array_equal(a, b)
            assert set(back.y[split][back.groups[split] == g]) == {fs.y[split][fs.groups[split] == g][0]}
    np.testing.assert_array_equal(again.read_rows("train", 5, 61), back.x["train"][5:61])


def test_streaming_statistics_equal_in_memory_ones(tmp_path):
    fs = patches(n_clips=40, per_clip=3)
    fs.fit_standardisation()
    store = write_store(fs, tmp_path / "s", shard_bytes=3000)
    mean, std = streaming_stats(store, "train", chunk=7)
    np.testing.assert_allclose(mean, fs.mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(std, fs.std, rtol=1e-4, atol=1e-5)
    rows = np.zeros(store.n("train"), bool)
    rows[::3] = True
    mean, _ = streaming_stats(store, "train", rows, chunk=5)
    np.testing.assert_allclose(mean, store.to_feature_set().x["train"][rows].mean(axis=0), rtol=1e-5, atol=1e-5)


def test_stream_yields_every_kept_row_once_shuffled_in_a_bounded_buffer(tmp_path):
    n, dim = 1000, 4
    x = np.repeat(np.arange(n, dtype=np.float32)[:, None], dim, axis=1)   # a row's value is its id
    y = (np.arange(n) // 250).astype(np.int64)                            # classes in long runs
    fs = FeatureSet(labels=("a", "b", "c", "d"), config=FeatureConfig(kind="mfcc", n_mfcc=dim),
                    x={"train": x}, y={"train": y})
    store = write_store(fs, tmp_path / "s", shard_bytes=40 * dim * 4)
    keep = np.ones(n, bool)
    keep[::10] = False
    stream = BatchStream(store, "train", keep, np.zeros(dim, np.float32), np.ones(dim, np.float32),
                         batch=32, buffer=128, seed=1, shuffle=True)
    first = list(stream)
    ids = np.concatenate([b[0][:, 0] for b in first]).astype(int)
    assert sorted(ids) == list(np.flatnonzero(keep)) and len(first) == len(stream)
    labels = np.concatenate([b[1] for b in first])
    np.testing.assert_array_equal(labels, y[ids])
    # shuffled: not in file order, and the first batches already mix classes
    assert not np.array_equal(ids, np.sort(ids))
    assert len(set(first[0][1])) > 1
    second = np.concatenate([b[0][:, 0] for b in stream]).astype(int)
    assert not np.array_equal(ids, second)                                   # a new order per epoch
    again = BatchStream(store, "train", keep, np.zeros(dim, np.float32), np.ones(dim, np.float32),
                        batch=32, buffer=128, seed=1, shuffle=True)
    np.testing.assert_array_equal(np.concatenate([b[0][:, 0] for b in again]).astype(int), ids)   # seeded


def test_extraction_into_a_store_gives_the_in_memory_rows(tmp_path):
    ds = import_dataset(fx.folders(tmp_path / "data", per_class=4))
    cfg = FeatureConfig(kind="mfcc")
    mem = extract(ds, cfg, workers=1, cache_dir=tmp_path / "cache").features
    disk = extract(ds, cfg, workers=1, cache_dir=tmp_path / "cache", store="disk",
                   store_dir=tmp_path / "store").features
    assert isinstance(disk, FeatureStore)
    back = FeatureStore.open(tmp_path / "store").to_feature_set()
    for split in ("train", "test"):
        assert sorted(back.clips[split]) == sorted(mem.clips[split])
        for i, clip in enumerate(back.clips[split]):
            j = mem.clips[split].index(clip)
            np.testing.assert_array_equal(back.x[split][back.groups[split] == i], mem.x[split][mem.groups[split] == j])
    np.testing.assert_allclose(disk.mean, mem.mean, rtol=1e-5, atol=1e-4)


def test_training_streams_a_store_and_learns(tmp_path):
    data = blobs(n_train=400)
    store = write_store(data, tmp_path / "s", shard_bytes=2000)
    cfg = TrainConfig(model="mlp", model_params={"units": 16}, batch_size=32, learning_rate=0.01, epochs=3)
    prepared = prepare_inputs(store, cfg, inputs="stream")
    assert prepared.streamed and prepared.n_train + prepared.n_val == 400
    is_val = validation_mask(store.y("train"), store.groups("train"), 0.2, 0)
    assert prepared.n_val == is_val.sum()
    result = train(cfg, store, inputs="stream")
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert evaluate_split(result, store)["test_accuracy"] > 0.9
    # the statistics of the rows trained on, not of the validation rows
    assert np.all(np.abs(result.mean - 10) < 2)


def test_a_small_store_is_read_into_memory_unless_told(tmp_path):
    store = write_store(blobs(n_train=100), tmp_path / "s")
    cfg = TrainConfig(model="mlp", batch_size=32)
    assert not prepare_inputs(store, cfg).streamed
    assert prepare_inputs(store, cfg, inputs="stream").streamed
    with pytest.raises(Exception, match="feature store"):
        prepare_inputs(blobs(n_train=100), cfg, inputs="stream")
