"""A first use of the starter set renders it and computes its features in one pass: the extraction
that follows finds every clip in the cache, with the rows the extraction itself would compute."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.datasets import starter
from instrument_studio.core.features import extraction
from instrument_studio.core.features.workers import file_features
from tests.core.test_starter import _small_recipe as small_recipe

pretty_midi = pytest.importorskip("pretty_midi")
TIM = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
FULL_RECIPE = starter.load_recipe()


def _small_recipe():
    return small_recipe(phrases=6)


@pytest.fixture
def small_starter(monkeypatch, tmp_path):
    monkeypatch.setenv(starter.SOUNDFONT_ENV, str(TIM))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))   # a feature cache of its own
    monkeypatch.setattr(starter, "load_recipe", _small_recipe)
    monkeypatch.setattr(starter, "starter_cache_dir", lambda: tmp_path / "starter")
    return tmp_path


@pytest.mark.parametrize("workers", [1, 2])
def test_first_use_fills_the_cache_with_the_extractions_own_rows(small_starter, workers):
    cfg = FeatureConfig()
    events = []
    fs = extraction.load_feature_set("starter", cfg, workers=workers, on_event=events.append, save=False)
    report = next(e.report for e in events if type(e).__name__ == "ExtractionFinished")
    assert report.n_files == 3 * 10 and report.n_cached == report.n_files and report.n_computed == 0
    assert not report.failures
    assert any(type(e).__name__ == "Progress" and e.stage == "starter" for e in events)
    # The rows are what the extraction computes from the files (load + clip_features).
    for split in ("train", "test"):
        for k, path in enumerate(fs.clips[split][:3]):
            rows = fs.x[split][fs.groups[split] == k]
            np.testing.assert_array_equal(rows, file_features(path, cfg))
    # A second run reads the same cache: nothing computed.
    again = extraction.extract(starter.starter_dataset(), cfg, workers=workers)
    assert again.report.n_computed == 0 and again.report.n_cached == 30


def test_an_already_rendered_set_is_only_extracted(small_starter):
    starter.starter_dataset()             # rendered without features (as `dataset` commands do)
    events = []
    extraction.load_feature_set("starter", FeatureConfig(), workers=1, on_event=events.append, save=False)
    report = next(e.report for e in events if type(e).__name__ == "ExtractionFinished")
    assert report.n_computed == 30 and report.n_cached == 0
