"""Extraction: FeatureSet assembly, the per-file cache and its invalidation, corrupt files, cancel."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.audio.audiofile import load
from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.datasets import import_dataset
from instrument_studio.core.errors import Cancelled
from instrument_studio.core.events import ExtractionFinished, FeatureProgress, FileSkipped
from instrument_studio.core.features.clip import clip_features
from instrument_studio.core.features.extraction import extract, extract_features, load_feature_set
from instrument_studio.core.features.featureset import FeatureSet

from . import dataset_fixtures as fx


@pytest.fixture
def dataset(tmp_path):
    return import_dataset(fx.folders(tmp_path / "data", per_class=4))


def test_feature_set_rows_come_from_clip_features(dataset, tmp_path):
    cfg = FeatureConfig(kind="mfcc")
    events = []
    fs = extract_features(dataset, cfg, on_event=events.append, workers=1)
    assert fs.labels == dataset.classes
    assert sum(fs.n(s) for s in ("train", "val", "test")) == len(dataset.clips)
    clip = fs.clips["test"][0]
    row = fs.x["test"][list(fs.groups["test"]).index(0)]
    np.testing.assert_allclose(row, clip_features(load(clip, sr=cfg.mel.sr)[0], cfg)[0], atol=1e-4)
    label = next(c.label for c in dataset.clips if c.path == clip)
    assert fs.labels[fs.y["test"][0]] == label
    # standardisation fitted on the training rows only
    np.testing.assert_allclose(fs.mean, fs.x["train"].mean(axis=0), rtol=1e-5, atol=1e-5)
    assert any(isinstance(e, FeatureProgress) and e.done == e.total for e in events)
    assert isinstance(events[-1], ExtractionFinished)


def test_patches_remember_their_clip(tmp_path):
    dataset = import_dataset(fx.folders(tmp_path / "long", per_class=3, seconds=1.6))
    fs = extract_features(dataset, FeatureConfig(kind="mel-patches", patch_hop_seconds=0.25), workers=1)
    train = fs.x["train"]
    assert train.shape[1:] == (128, 43)
    assert len(train) == 3 * len(fs.clips["train"])  # 1.6 s: patches at 0, 0.25 and 0.5 s
    for i, path in enumerate(fs.clips["train"]):
        rows = train[fs.groups["train"] == i]
        label = next(c.label for c in dataset.clips if c.path == path)
        assert set(fs.y["train"][fs.groups["train"] == i]) == {fs.labels.index(label)}
        # Equal up to float rounding: BLAS sums in a thread-count-dependent order.
        np.testing.assert_allclose(rows, clip_features(load(path)[0], fs.config), atol=1e-4)


def test_second_run_comes_from_cache_and_config_change_recomputes(dataset, tmp_path):
    cfg = FeatureConfig(kind="mfcc")
    first = extract(dataset, cfg, workers=1, cache_dir=tmp_path / "cache")
    assert first.report.n_computed == len(dataset.clips) and first.report.n_cached == 0
    second = extract(dataset, cfg, workers=1, cache_dir=tmp_path / "cache")
    assert second.report.n_cached == len(dataset.clips) and second.report.n_computed == 0
    for s in ("train", "val", "test"):
        np.testing.assert_array_equal(first.features.x[s], second.features.x[s])
    other = extract(dataset, FeatureConfig(kind="mfcc", n_mfcc=20), workers=1, cache_dir=tmp_path / "cache")
    assert other.report.n_computed == len(dataset.clips)
    assert other.features.input_shape == (60,)


def test_changed_file_content_is_recomputed(dataset, tmp_path):
    cfg = FeatureConfig(kind="mfcc")
    extract(dataset, cfg, workers=1, cache_dir=tmp_path / "cache")
    changed = dataset.clips[0].path
    fx.write(__import__("pathlib").Path(changed), freq=1234.0)
    again = extract(dataset, cfg, workers=1, cache_dir=tmp_path / "cache")
    assert again.report.n_computed == 1 and again.report.n_cached == len(dataset.clips) - 1


def test_damaged_cache_entry_is_recomputed(dataset, tmp_path):
    cfg = FeatureConfig(kind="mfcc")
    extract(dataset, cfg, workers=1, cache_dir=tmp_path / "cache")
    entry = next((tmp_path / "cache").rglob("*.npz"))
    entry.write_bytes(b"not an npz")
    # rows.sqlite (every clip's rows in one file) still answers: nothing to recompute
    assert extract(dataset, cfg, workers=1, cache_dir=tmp_path / "cache").report.n_computed == 0
    # damaged too: every clip falls back to its .npz entry, and only the damaged one is recomputed
    rows = next((tmp_path / "cache").rglob("rows.sqlite"))
    for extra in rows.parent.glob("rows.sqlite-*"):
        extra.unlink()
    rows.write_bytes(b"not a database")
    again = extract(dataset, cfg, workers=1, cache_dir=tmp_path / "cache")
    assert again.report.n_computed == 1 and again.report.n_cached == len(dataset.clips) - 1


def test_corrupt_and_missing_files_are_reported_and_skipped(tmp_path):
    root = fx.folders(tmp_path / "data", per_class=4)
    (root / "cello" / "garbage.wav").write_bytes(b"RIFF\x00\x00junk" * 10)
    (root / "flute" / "empty.wav").write_bytes(b"")
    ds = import_dataset(root)
    gone = next(c for c in ds.clips if c.label == "violin")
    __import__("os").remove(gone.path)
    skipped = []
    result = extract(ds, FeatureConfig(), workers=1, cache_dir=tmp_path / "cache",
                     on_event=lambda e: skipped.append(e) if isinstance(e, FileSkipped) else None)
    failed = {p.rsplit("/", 1)[1]: reason for p, reason in result.report.failures}
    assert set(failed) == {"garbage.wav", "empty.wav", gone.name}
    assert "empty" in failed["empty.wav"]
    assert len(skipped) == 3
    total = sum(result.features.n(s) for s in ("train", "val", "test"))
    assert total == len(ds.clips) - 3


def test_cancel_stops_the_run(dataset, tmp_path):
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(Cancelled):
        extract(dataset, FeatureConfig(), workers=1, should_stop=should_stop, cache_dir=tmp_path / "cache")


def test_parallel_processes_give_the_same_features(dataset, tmp_path):
    cfg = FeatureConfig(kind="sequence", clip_seconds=0.5)
    serial = extract(dataset, cfg, workers=1, use_cache=False)
    parallel = extract(dataset, cfg, workers=2, use_cache=False)
    for s in ("train", "val", "test"):
        np.testing.assert_array_equal(serial.features.x[s], parallel.features.x[s])


def test_npy_arrays_skip_extraction(tmp_path):
    root = fx.npy(tmp_path / "lab")
    ds = import_dataset(root)
    fs = extract_features(ds, FeatureConfig())
    test_x = np.load(root / "instruments_test_data.npy")
    np.testing.assert_array_equal(fs.x["test"], test_x)
    assert fs.n("train") + fs.n("val") == 60 and fs.input_shape == (120,)


def test_load_feature_set_saves_beside_the_project(dataset, tmp_path):
    folder = dataset.save(tmp_path / "project").parent
    fs = load_feature_set(folder, FeatureConfig(), workers=1)
    saved = list((folder / "features").glob("mfcc-*"))
    assert len(saved) == 1
    again = FeatureSet.load(saved[0])
    np.testing.assert_array_equal(again.x["train"], fs.x["train"])
    assert again.config == fs.config


def test_the_worker_server_starts_alone_and_the_workers_fork_from_it(tmp_path):
    """The app starts the workers' server first thing (its preload runs beside the window's start-up):
    no worker yet; the first extraction's workers are then forked from that server."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import multiprocessing.forkserver as fs, os\n"
            "from instrument_studio.core.features import workers\n"
            "assert workers.start_server()\n"
            "server = fs._forkserver._forkserver_pid\n"
            "assert server and workers._pool_state['pool'] is None\n"
            "pids = {f.result() for f in [workers.shared_pool(2).submit(os.getppid) for _ in range(4)]}\n"
            "assert pids == {server}, (pids, server)\n"
            "workers.shutdown_workers()\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
