"""Leakage: grouped splits keep a recording/note in one split; validation comes from training data."""

from __future__ import annotations

import pytest

from instrument_studio.core.datasets import Clip, assign_splits, leaking_groups
from instrument_studio.core.errors import DatasetError


def _clips(n_classes=4, groups_per_class=12, clips_per_group=3):
    return [Clip(path=f"/d/{c}/{g}_{k}.wav", label=f"class{c}", group=f"class{c}/note{g}")
            for c in range(n_classes) for g in range(groups_per_class) for k in range(clips_per_group)]


def test_grouped_split_never_leaks_and_is_stratified():
    clips, info = assign_splits(_clips(), seed=3)
    assert not leaking_groups(clips)
    assert info["grouped"]
    for split in ("train", "val", "test"):
        per_class = {c.label for c in clips if c.split == split}
        assert per_class == {f"class{i}" for i in range(4)}, split
    n = {s: sum(c.split == s for c in clips) for s in ("train", "val", "test")}
    assert n["test"] / len(clips) == pytest.approx(0.2, abs=0.1)
    assert n["val"] / len(clips) == pytest.approx(0.15, abs=0.1)


def test_split_is_seeded():
    a, _ = assign_splits(_clips(), seed=1)
    b, _ = assign_splits(_clips(), seed=1)
    c, _ = assign_splits(_clips(), seed=2)
    assert [x.split for x in a] == [x.split for x in b]
    assert [x.split for x in a] != [x.split for x in c]


def test_official_test_kept_and_validation_from_training_only():
    clips = [Clip(path=f"/t{i}", label=f"c{i % 2}", split="test", group=f"t{i}") for i in range(10)]
    clips += [Clip(path=f"/r{i}", label=f"c{i % 2}", split="train", group=f"r{i // 2}") for i in range(40)]
    out, info = assign_splits(clips, official=True, seed=0)
    assert [c.split for c in out[:10]] == ["test"] * 10
    val = [c for c in out if c.split == "val"]
    assert val and all(c.path.startswith("/r") for c in val)
    assert "carved from training" in info["method"]
    assert not leaking_groups(out)


def test_class_with_too_few_recordings_stays_in_training():
    clips = _clips(n_classes=2) + [Clip(path="/solo.wav", label="rare", group="rare/one")]
    out, _ = assign_splits(clips, seed=0)
    assert next(c for c in out if c.label == "rare").split == "train"


def test_bad_fractions_rejected():
    with pytest.raises(DatasetError, match="fractions"):
        assign_splits(_clips(), val_fraction=0.6, test_fraction=0.5)
