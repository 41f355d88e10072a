"""The one dataset resolver: what train, evaluate, sweep, `dataset stats|features` and the panels
accept as a dataset, each the same way."""

from __future__ import annotations

import pytest

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.datasets import import_dataset
from instrument_studio.core.datasets.library import projects_dir, resolve_dataset
from instrument_studio.core.errors import DatasetError
from instrument_studio.core.features.extraction import load_feature_set
from tests.core.dataset_fixtures import folders, write


def test_a_dataset_object_is_taken_as_it_is(tmp_path):
    ds = import_dataset(folders(tmp_path / "src", per_class=3))
    assert resolve_dataset(ds) is ds


def test_a_folder_of_recordings_is_imported_afresh_and_its_project_kept_in_the_user_data_folder(tmp_path):
    src = folders(tmp_path / "src", per_class=3)
    ds = resolve_dataset(src)
    assert len(ds.clips) == 9 and ds.folder is not None and projects_dir() in ds.folder.parents
    assert not (src / "instrument-studio.json").exists()      # nothing written beside the data
    write(src / "cello" / "new.wav", 220.0)
    assert len(resolve_dataset(src).clips) == 10               # a file added since counts


def test_a_project_folder_is_opened(tmp_path):
    ds = import_dataset(folders(tmp_path / "src", per_class=3))
    project = tmp_path / "project"
    ds.save(project)
    assert resolve_dataset(project).folder == project.resolve()


def test_a_missing_folder_says_so(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset folder"):
        resolve_dataset(tmp_path / "nothing")


def test_starter_by_name(monkeypatch):
    from instrument_studio.core.datasets import starter

    made = []
    monkeypatch.setattr(starter, "starter_dataset", lambda on_event=None: made.append(on_event) or "the starter set")
    assert resolve_dataset("starter", on_event=print) == "the starter set" and made == [print]


def test_features_of_a_saved_feature_set_folder_are_read_as_they_are(tmp_path):
    src = folders(tmp_path / "src", per_class=3)
    fs = load_feature_set(src, FeatureConfig(kind="mfcc"), workers=1)
    fs.save(tmp_path / "fs")
    again = load_feature_set(tmp_path / "fs")
    assert again.labels == fs.labels and again.n("train") == fs.n("train")
