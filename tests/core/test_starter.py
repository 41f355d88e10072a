"""The starter set: deterministic renders, real ranges, notes and phrases, cached on first use."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from instrument_studio.core.audio.audiofile import load
from instrument_studio.core.datasets import starter

pretty_midi = pytest.importorskip("pretty_midi")
TIM = starter.SoundFontChoice(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2", "TimGM6mb.sf2 (pretty-midi)")
FULL_RECIPE = starter.load_recipe()


def _small_recipe():
    recipe = json.loads(json.dumps(FULL_RECIPE))
    recipe["instruments"] = [i for i in recipe["instruments"] if i["label"] in ("piano", "flute", "cello")]
    recipe["notes_per_instrument"] = 4
    recipe["phrases_per_instrument"] = 2
    return recipe


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.wav"))}


def test_recipe_covers_the_required_instruments():
    labels = {i["label"] for i in starter.load_recipe()["instruments"]}
    assert {"piano", "violin", "cello", "flute", "clarinet", "trumpet", "saxophone", "acoustic-guitar"} <= labels


def test_render_is_deterministic_and_in_range(tmp_path):
    a = starter.generate_starter(tmp_path / "a", recipe=_small_recipe(), soundfont=TIM)
    b = starter.generate_starter(tmp_path / "b", recipe=_small_recipe(), soundfont=TIM)
    da, db = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert da == db and len(da) == 3 * 6
    assert [c.split for c in a.clips] == [c.split for c in b.clips]
    ranges = {i["label"]: (i["low"], i["high"]) for i in _small_recipe()["instruments"]}
    kinds = {c.metadata["kind"] for c in a.clips}
    assert kinds == {"note", "phrase"}
    for c in a.clips:
        lo, hi = ranges[c.label]
        assert lo <= c.metadata["midi"] <= hi
        y, sr = load(c.path, sr=None)
        assert sr == 22050 and np.abs(y).max() > 0.005  # audible, not silence
        assert np.abs(y).max() < 1.0
    notes = sorted(c.metadata["midi"] for c in a.clips if c.label == "piano" and c.metadata["kind"] == "note")
    assert notes[0] <= 22 and notes[-1] >= 107  # the whole keyboard, low to high


def test_starter_dataset_is_generated_once_and_cached(monkeypatch, tmp_path):
    monkeypatch.setenv(starter.SOUNDFONT_ENV, str(TIM.path))
    monkeypatch.setattr(starter, "load_recipe", _small_recipe)
    monkeypatch.setattr(starter, "starter_cache_dir", lambda: tmp_path / "cache")
    ds = starter.starter_dataset()
    assert len(ds.classes) == 3 and ds.layout == "starter"
    assert {c.split for c in ds.clips} >= {"train", "test"}
    stamp = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.wav")}
    again = starter.starter_dataset()
    assert again.clips == ds.clips
    assert stamp == {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.wav")}
    assert not list((tmp_path / "cache").glob(".rendering-*"))
