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


def _small_recipe(phrases: int = 2):
    recipe = json.loads(json.dumps(FULL_RECIPE))
    recipe["instruments"] = [i for i in recipe["instruments"] if i["label"] in ("piano", "flute", "cello")]
    recipe["notes_per_instrument"] = 4
    recipe["phrases_per_instrument"] = phrases
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


def test_v2_recipe_gives_the_labs_mlp_ten_batches_per_epoch_balanced():
    """The shipped recipe, planned and split without rendering: >= 10 batches of 128 training rows
    (the labs' batch size), every class the same number of clips, in every split about as many."""
    from instrument_studio.core.datasets.model import Clip
    from instrument_studio.core.datasets.splits import assign_splits

    plan = starter._plan(FULL_RECIPE, 2)
    clips = [Clip(path=f"/x/{i}.wav", label=p["inst"]["label"], source="starter",
                  group=(f"{p['inst']['label']}/note/{p['notes'][0][0]}" if p["kind"] == "note"
                         else f"{p['inst']['label']}/phrase/{p['index']}")) for i, p in enumerate(plan)]
    clips, _ = assign_splits(clips, seed=0)
    n_train = sum(c.split == "train" for c in clips)
    assert n_train // 128 >= 10, n_train
    per_class = {lab: sum(c.label == lab for c in clips) for lab in {c.label for c in clips}}
    assert len(per_class) == 10 and len(set(per_class.values())) == 1
    for split in ("train", "val", "test"):
        counts = [sum(c.label == lab and c.split == split for c in clips) for lab in per_class]
        assert max(counts) - min(counts) <= 0.1 * max(counts) + 2, (split, counts)
    # Varied: both SoundFonts, every room and both kinds in every class.
    for lab in per_class:
        mine = [p for p in plan if p["inst"]["label"] == lab]
        assert {p["font"] for p in mine} == {0, 1}
        assert {p["room"] for p in mine} == set(range(len(FULL_RECIPE["rooms"])))
        assert {p["kind"] for p in mine} == {"note", "phrase"}
        assert all(35 <= p["snr_db"] <= 55 for p in mine)


def test_several_soundfonts_rooms_and_light_noise(tmp_path):
    """Clips alternate between the SoundFonts given; every clip carries a noise floor well below
    the music; the rendering is deterministic with several fonts too."""
    recipe = _small_recipe()
    two = [TIM, starter.SoundFontChoice(TIM.path, "TimGM6mb.sf2 (second copy)")]
    a = starter.generate_starter(tmp_path / "a", recipe=recipe, soundfont=two)
    starter.generate_starter(tmp_path / "b", recipe=recipe, soundfont=two)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    rooms = {c.metadata["room"] for c in a.clips}
    assert rooms <= {r["name"] for r in recipe["rooms"]} and len(rooms) >= 2
    assert len({c.metadata["soundfont"] for c in a.clips}) == 1   # same file twice: the name is the file's
    assert len(a.clips) == 3 * 6
    for c in a.clips:
        y, _ = load(c.path, sr=None)
        frames = np.abs(y[: len(y) // 256 * 256].reshape(-1, 256)).mean(axis=1)
        quietest, loudest = frames.min(), frames.max()
        assert quietest > 0, c.path                          # never digital silence: a noise floor
        assert 20 * np.log10(loudest / quietest) > 25, c.path  # ... far below the instrument


def test_soundfont_variable_names_one_font_and_a_bad_one_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv(starter.SOUNDFONT_ENV, str(TIM.path))
    assert [f.path for f in starter.find_soundfonts()] == [TIM.path]
    monkeypatch.setenv(starter.SOUNDFONT_ENV, str(tmp_path / "missing.sf2"))
    with pytest.raises(starter.DatasetError, match="not a .sf2 file"):
        starter.find_soundfonts()
    monkeypatch.delenv(starter.SOUNDFONT_ENV)
    found = starter.find_soundfonts()
    assert found and len({f.path.resolve() for f in found}) == len(found)
    assert any("TimGM6mb" in f.name for f in found)


def test_worker_processes_render_the_same_files_and_splits(tmp_path):
    """Rendered in chunks by the feature worker pool, the set is byte for byte the one rendered
    here (every chunk starts from the same synth state), with the same splits."""
    from instrument_studio.core.features.workers import shared_pool

    recipe = _small_recipe()
    recipe["phrases_per_instrument"] = 40     # more than one chunk per worker
    a = starter.generate_starter(tmp_path / "a", recipe=recipe, soundfont=TIM)
    b = starter.generate_starter(tmp_path / "b", recipe=recipe, soundfont=TIM, executor=shared_pool(2))
    assert len(a.clips) == 3 * 44 > 2 * starter.CHUNK
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert [(Path(c.path).name, c.split, c.group) for c in a.clips] == \
        [(Path(c.path).name, c.split, c.group) for c in b.clips]


def test_analyse_runs_on_every_file_and_reports_in_plan_order(tmp_path):
    seen = []
    ds = starter.generate_starter(tmp_path / "s", recipe=_small_recipe(), soundfont=TIM,
                                  analyse=_size_of, on_analysed=lambda rel, res: seen.append((rel, res)))
    rels = [Path(c.path).relative_to(tmp_path / "s").as_posix() for c in ds.clips]
    assert [rel for rel, _ in seen] == rels
    assert all(res == (tmp_path / "s" / rel).stat().st_size > 44 for rel, res in seen)


def _size_of(path: str, data: bytes) -> int:
    assert Path(path).read_bytes() == data     # the bytes written, handed over: nothing to read back
    return len(data)


def test_plan_draws_are_generator_choice_draws():
    """_pick and the room's cumulative search replace rng.choice without changing the numbers drawn
    (the set must stay the one its cache key names)."""
    seq = [40, 64, 90, 118]
    p = np.array([2, 1, 1], dtype=float) / 4
    cdf = p.cumsum() / p.cumsum()[-1]
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(500):
        assert starter._pick(a, seq) == b.choice(seq)
        assert int(cdf.searchsorted(a.random(), side="right")) == int(b.choice(3, p=p))
    assert starter._clamp(130, 20, 127) == 127 and starter._clamp(3, 20, 127) == 20
