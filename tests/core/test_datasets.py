"""Each importer on fixtures laid out and named as the real datasets; auto-detection; project files."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.datasets import (
    PROJECT_FILE,
    import_dataset,
    leaking_groups,
    load_dataset,
)
from instrument_studio.core.errors import DatasetError

from . import dataset_fixtures as fx


def test_folders_label_is_first_folder_at_any_depth(tmp_path):
    root = fx.folders(tmp_path / "mine")
    fx.write(root / "loose.wav")
    # A take recorded by the Live panel: <dataset>/<label>/<timestamp>.wav
    fx.write(root / "flute" / "2026-11-21T20-01-02.wav", 800)
    ds = import_dataset(root, layout="folders")
    assert ds.classes == ("cello", "flute", "violin")
    nested = [c for c in ds.clips if "/takes/" in c.path]
    assert nested and all(c.label == c.path.split("/mine/")[1].split("/")[0] for c in nested)
    assert any(c.name == "2026-11-21T20-01-02.wav" and c.label == "flute" for c in ds.clips)
    assert not any(c.name == "loose.wav" for c in ds.clips)
    assert any("directly in the root" in n for n in ds.notes)
    assert {c.split for c in ds.clips} == {"train", "val", "test"}


def test_folders_needs_two_classes(tmp_path):
    fx.write(tmp_path / "only" / "a.wav")
    with pytest.raises(DatasetError, match="only one class folder"):
        import_dataset(tmp_path, layout="folders")


def test_philharmonia_names_parsed(tmp_path):
    ds = import_dataset(fx.philharmonia(tmp_path / "phil"), layout="philharmonia")
    assert ds.classes == ("cello", "flute", "oboe", "percussion")
    sharp = next(c for c in ds.clips if c.name == "cello_As3_1_forte_normal.mp3")
    assert sharp.label == "cello"
    assert sharp.metadata["pitch"] == "A#3" and sharp.metadata["midi"] == 58
    assert sharp.metadata["dynamic"] == "forte" and sharp.metadata["articulation"] == "normal"
    assert sharp.metadata["duration_s"] == 1.0
    drum = next(c for c in ds.clips if c.name.startswith("bass-drum__05"))
    assert drum.label == "percussion" and "pitch" not in drum.metadata and drum.metadata["dynamic"] == "piano"
    # Both dynamics of one note are one group, so they can never straddle splits.
    pair = [c for c in ds.clips if c.name.startswith("cello_C4_1_")]
    assert len(pair) == 2 and pair[0].group == pair[1].group and pair[0].split == pair[1].split


def test_philharmonia_without_folders_takes_label_from_name(tmp_path):
    ds = import_dataset(fx.philharmonia(tmp_path / "flat", in_folders=False), layout="philharmonia")
    assert ds.classes == ("cello", "flute", "oboe")


def test_uiowa_names_parsed(tmp_path):
    ds = import_dataset(fx.uiowa(tmp_path / "iowa"), layout="uiowa")
    assert ds.classes == ("alto-sax", "flute", "horn")
    flute = next(c for c in ds.clips if c.name == "Flute.vib.ff.A4.stereo.aiff")
    assert flute.metadata["pitch"] == "A4" and flute.metadata["midi"] == 69
    assert flute.metadata["dynamic"] == "ff" and flute.metadata["articulation"] == "vib"
    horn = next(c for c in ds.clips if c.name.startswith("Horn.ff.Bb3"))
    assert horn.metadata["midi"] == 58
    scale = next(c for c in ds.clips if c.name == "Flute.vib.ff.C4B4.aiff")
    assert scale.metadata["pitch"] == "C4-B4"


@pytest.mark.parametrize("with_csv", [True, False])
def test_medley_official_splits_and_classes(tmp_path, with_csv):
    ds = import_dataset(fx.medley(tmp_path / "medley", with_csv=with_csv), layout="medley")
    assert ds.classes == fx.MEDLEY_CLASSES
    stats = ds.stats()
    assert (stats["n_train"], stats["n_val"], stats["n_test"]) == (16, 16, 16)
    for c in ds.clips:
        subset = c.name.split("_")[1].split("-")[0]
        assert c.split == {"training": "train", "validation": "val", "test": "test"}[subset]
        assert c.label == fx.MEDLEY_CLASSES[int(c.name.split("_")[1].split("-")[1])]
    assert ("song_id" in ds.clips[0].metadata) == with_csv


@pytest.mark.parametrize("with_csv", [True, False])
def test_esc50_folds_kept(tmp_path, with_csv):
    ds = import_dataset(fx.esc50(tmp_path / "ESC-50", with_csv=with_csv), layout="esc50")
    assert ds.classes == ("dog", "rooster", "rain")
    for c in ds.clips:
        assert c.fold == int(c.name.split("-")[0])
        assert (c.split == "test") == (c.fold == 5)
    assert {c.split for c in ds.clips if c.fold != 5} == {"train", "val"}
    assert not leaking_groups(ds.clips)  # the two takes of a source clip stay together


def test_irmas_training_folders_and_multilabel_testing(tmp_path):
    ds = import_dataset(fx.irmas(tmp_path / "IRMAS"), layout="irmas")
    assert "cello" in ds.classes and "voice" in ds.classes
    train = [c for c in ds.clips if c.split in ("train", "val")]
    assert {c.label for c in train} == {"cello", "flute", "piano"}
    assert all(c.metadata["genre"] == "cla" for c in train)  # the second tag is the genre
    test = {c.name: c for c in ds.split("test")}
    assert test["00 - Song-0.wav"].label == "cello"
    multi = test["01 - Song-1.wav"]
    assert multi.labels == ("flute", "piano") and multi.label == ""
    assert not leaking_groups(ds.clips)  # segments __1 and __2 of an excerpt stay together


def test_nsynth_examples_json(tmp_path):
    ds = import_dataset(fx.nsynth(tmp_path / "nsynth"), layout="nsynth")
    assert ds.classes == ("brass", "keyboard", "string")
    assert {c.split for c in ds.clips} == {"train", "val", "test"}
    assert all(c.name.split("_")[2].startswith({"train": "train", "val": "valid", "test": "test"}[c.split])
               for c in ds.clips)
    assert ds.clips[0].metadata["pitch"] in (60, 64, 67)


def test_nsynth_single_split_is_split_by_instrument(tmp_path):
    ds = import_dataset(fx.nsynth(tmp_path / "nsynth-test", splits=("test",)), layout="nsynth")
    assert not leaking_groups(ds.clips)
    assert len({c.split for c in ds.clips}) >= 2


@pytest.mark.parametrize("string_labels", [False, True])
def test_npy_arrays(tmp_path, string_labels):
    ds = import_dataset(fx.npy(tmp_path / "lab", string_labels=string_labels), layout="npy")
    assert ds.is_arrays
    assert ds.classes == (("bass", "flute", "guitar") if string_labels else ("0", "1", "2"))
    stats = ds.stats()
    assert stats["n_test"] == 20 and stats["n_train"] + stats["n_val"] == 60 and stats["n_val"] > 0


@pytest.mark.parametrize("builder,layout", [
    (fx.folders, "folders"), (fx.philharmonia, "philharmonia"), (fx.uiowa, "uiowa"), (fx.medley, "medley"),
    (fx.esc50, "esc50"), (fx.irmas, "irmas"), (fx.nsynth, "nsynth"), (fx.npy, "npy"),
])
def test_auto_detects_each_layout(tmp_path, builder, layout):
    ds = import_dataset(builder(tmp_path / "data"), layout="auto")
    assert ds.layout == layout


def test_no_layout_lists_what_was_tried(tmp_path):
    (tmp_path / "empty-ish").mkdir()
    (tmp_path / "empty-ish" / "readme.txt").write_text("nothing here")
    with pytest.raises(DatasetError) as err:
        import_dataset(tmp_path / "empty-ish")
    text = str(err.value)
    for layout in ("npy", "nsynth", "medley", "esc50", "irmas", "philharmonia", "uiowa", "folders"):
        assert f"{layout}: " in text


def test_wrong_explicit_layout_says_why(tmp_path):
    root = fx.folders(tmp_path / "mine")
    with pytest.raises(DatasetError, match="not philharmonia names"):
        import_dataset(root, layout="philharmonia")


def test_project_round_trip_beside_and_apart_from_data(tmp_path):
    root = fx.philharmonia(tmp_path / "phil")
    ds = import_dataset(root)
    ds.save(root)
    assert (root / PROJECT_FILE).is_file() and (root / "clips.csv").is_file()
    again = load_dataset(root)
    assert again.clips == ds.clips and again.classes == ds.classes and again.layout == "philharmonia"
    # A project written elsewhere (read-only data) points at the data by absolute path.
    ds.save(tmp_path / "project")
    moved = load_dataset(tmp_path / "project" / PROJECT_FILE)
    assert moved.clips == ds.clips
    assert moved.stats()["counts"] == ds.stats()["counts"]


def test_load_dataset_errors_name_the_problem(tmp_path):
    with pytest.raises(DatasetError, match="no dataset project"):
        load_dataset(tmp_path)
    (tmp_path / PROJECT_FILE).write_text("{not json")
    with pytest.raises(DatasetError, match="corrupt: not valid JSON"):
        load_dataset(tmp_path)


def test_stats_keys_and_counts(tmp_path):
    ds = import_dataset(fx.folders(tmp_path / "mine"))
    stats = ds.stats()
    assert {"classes", "counts", "n_train", "n_val", "n_test"} <= set(stats)
    assert sum(sum(v.values()) for v in stats["counts"].values()) == len(ds.clips) == 18
    assert stats["n_train"] == sum(stats["counts"]["train"].values())
    assert np.all([stats["counts"]["train"][c] > 0 for c in ds.classes])
