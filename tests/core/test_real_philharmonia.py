"""The real recordings: ../shared/data/philharmonia imports with 16 classes and parsed metadata."""

from __future__ import annotations

import pytest

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.datasets import import_dataset, leaking_groups
from instrument_studio.core.features.extraction import extract

pytestmark = pytest.mark.shared_data

CLASSES = ("banjo", "bass-clarinet", "bassoon", "cello", "clarinet", "contrabassoon", "cor-anglais",
           "double-bass", "flute", "french-horn", "guitar", "mandolin", "oboe", "percussion", "saxophone",
           "trombone")


def test_philharmonia_imports_with_16_classes_and_metadata(shared_data):
    ds = import_dataset(shared_data / "philharmonia")
    assert ds.layout == "philharmonia"
    assert ds.classes == CLASSES
    assert len(ds.clips) == 3408 and not ds.notes
    pitched = [c for c in ds.clips if c.label != "percussion"]
    assert all("midi" in c.metadata and "dynamic" in c.metadata for c in pitched)
    cello = next(c for c in ds.clips if c.name == "cello_A2_1_forte_arco-normal.mp3")
    assert cello.metadata["pitch"] == "A2" and cello.metadata["midi"] == 45
    assert cello.metadata["dynamic"] == "forte" and cello.metadata["articulation"] == "arco-normal"
    assert not leaking_groups(ds.clips)
    stats = ds.stats()
    for split in ("train", "val", "test"):
        assert all(n > 0 for n in stats["counts"][split].values()), split


def test_philharmonia_features_on_a_sample(shared_data, tmp_path):
    ds = import_dataset(shared_data / "philharmonia")
    ds.clips = ds.clips[::200]  # 18 files spread over the classes: fast, still real mp3 decoding
    result = extract(ds, FeatureConfig(kind="mfcc"), workers=1, cache_dir=tmp_path)
    assert not result.report.failures
    assert result.features.input_shape == (120,)
