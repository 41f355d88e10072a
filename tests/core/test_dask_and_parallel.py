"""Extraction and folder prediction on a dask.distributed LocalCluster of two workers, and folder
prediction over local processes: the same features (bitwise) and answers as the one-process path."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.datasets import import_dataset
from instrument_studio.core.errors import ConfigError
from instrument_studio.core.features.extraction import extract
from instrument_studio.core.predict.inference import audio_files, load_predictor, predict_files
from instrument_studio.core.predict.parallel import predict_files_parallel, shutdown

from . import dataset_fixtures as fx

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (extra [dask])")


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c.scheduler_address


def _same_features(a, b):
    for split in ("train", "val", "test"):
        assert a.clips[split] == b.clips[split]
        np.testing.assert_array_equal(a.x[split], b.x[split])     # bitwise
        np.testing.assert_array_equal(a.y[split], b.y[split])
        np.testing.assert_array_equal(a.groups[split], b.groups[split])


@pytest.mark.timeout(900)   # worker processes import the feature code on their first task
def test_extraction_on_a_cluster_gives_bitwise_the_local_features(cluster, tmp_path):
    ds = import_dataset(fx.folders(tmp_path / "data", per_class=3))
    cfg = FeatureConfig(kind="mel-patches")
    local = extract(ds, cfg, workers=1, use_cache=False)
    remote = extract(ds, cfg, scheduler=cluster, cache_dir=tmp_path / "cache")
    assert remote.report.n_computed == len(ds.clips)
    _same_features(local.features, remote.features)
    # the client wrote the cache: a second run takes every file from it
    again = extract(ds, cfg, scheduler=cluster, cache_dir=tmp_path / "cache")
    assert again.report.n_cached == len(ds.clips) and again.report.n_computed == 0
    _same_features(local.features, again.features)


def _rows(results):
    return [(r.path, r.error, None if r.prediction is None else r.prediction.probabilities) for r in results]


@pytest.mark.timeout(900)   # each worker process imports TensorFlow and loads the model
def test_folder_prediction_on_a_cluster_and_in_processes_matches_one_process(cluster, synth_model):
    bundle, data = synth_model
    files = audio_files([data])[::6]
    (data / "broken.wav").write_bytes(b"RIFF not really")
    files.append(data / "broken.wav")
    serial = _rows(predict_files(load_predictor(bundle), files))
    try:
        pooled = _rows(predict_files_parallel(bundle, files, workers=2, batch=2))
    finally:
        shutdown()
    remote = _rows(predict_files_parallel(bundle, files, scheduler=cluster, batch=2))
    for other in (pooled, remote):
        assert [r[0] for r in other] == [r[0] for r in serial]            # file order kept
        assert [r[1] for r in other] == [r[1] for r in serial]            # same errors
        for a, b in zip(serial, other, strict=True):
            if a[2] is not None:
                np.testing.assert_allclose(a[2], b[2], rtol=1e-5, atol=1e-6)
    assert serial[-1][1] and sum(r[2] is not None for r in serial) >= 3   # real answers were compared


def test_a_bad_scheduler_address_is_refused():
    from instrument_studio.core.cluster import check_address

    assert check_address("localhost:8786") == "tcp://localhost:8786"
    with pytest.raises(ConfigError):
        check_address("http://localhost:8786")
