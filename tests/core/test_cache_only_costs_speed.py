"""A full or read-only feature cache (or project folder) only costs speed: extraction still
answers, with every file computed, and nothing raises."""

from __future__ import annotations

import errno
import json

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.datasets import import_dataset
from instrument_studio.core.features import cache
from instrument_studio.core.features.extraction import extract, load_feature_set
from tests.privileges import run_python_unprivileged

from . import dataset_fixtures as fx


def test_a_full_cache_and_project_folder_only_cost_speed(tmp_path, monkeypatch):
    src = fx.folders(tmp_path / "data", per_class=2)
    import_dataset(src).save(src)

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    # A disk with no room (or no inodes) left: creating the temporary file fails, which the
    # atomic writer reports as StudioError; writing into it fails with OSError.
    from instrument_studio.core import fileio

    monkeypatch.setattr(fileio.tempfile, "mkstemp", full)
    monkeypatch.setattr(cache.np, "savez", full)
    fs = load_feature_set(src, FeatureConfig(kind="mfcc"), workers=1)
    assert sum(len(x) for x in fs.x.values()) == 6
    assert not list(src.rglob("features.npz"))


def test_a_read_only_cache_folder_only_costs_speed(tmp_path):
    """As a user without root's capabilities: the cache folder's parent cannot be written."""
    src = fx.folders(tmp_path / "data", per_class=2)
    ds = import_dataset(src)
    ds.save(src)
    locked = tmp_path / "locked"
    # The cache and the project's features folder exist from an earlier run (so creating their
    # folders succeeds) but can no longer be written in: the entries are gone, the folders locked.
    load_feature_set(src, FeatureConfig(kind="mfcc"), workers=1)
    extract(ds, FeatureConfig(kind="mfcc"), workers=1, cache_dir=locked / "features")
    for entry in [*locked.rglob("*.npz"), *src.rglob("features.*")]:
        entry.unlink()
    folders = [p for p in [locked, *locked.rglob("*"), *src.rglob("*")] if p.is_dir()]
    code = (
        "import json, sys\n"
        "from instrument_studio.core.config import FeatureConfig\n"
        "from instrument_studio.core.datasets import load_dataset\n"
        "from instrument_studio.core.features.extraction import extract, load_feature_set\n"
        "fs = load_feature_set(sys.argv[1], FeatureConfig(kind='mfcc'), workers=1)\n"
        "r = extract(load_dataset(sys.argv[1]), FeatureConfig(kind='mfcc'), workers=1, cache_dir=sys.argv[2]).report\n"
        "print(json.dumps([sum(len(x) for x in fs.x.values()), r.n_computed, r.n_cached, len(r.failures)]))\n"
    )
    for folder in [*folders, src]:
        folder.chmod(0o555)
    try:
        proc = run_python_unprivileged(code, str(src), str(locked / "features"))
    finally:
        for folder in [*folders, src]:
            folder.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == [6, 6, 0, 0]
    assert not list(locked.rglob("*.npz*")) and not list(src.rglob("features.*"))


def test_extract_with_an_unwritable_cache_dir_in_process(tmp_path):
    """The same path in this process: a cache_dir under a file cannot be created (even by root)."""
    src = fx.folders(tmp_path / "data", per_class=2)
    (tmp_path / "a-file").write_text("x")
    r = extract(import_dataset(src), FeatureConfig(kind="mfcc"), workers=1, cache_dir=tmp_path / "a-file" / "c")
    assert r.report.n_computed == 6 and not r.report.failures
