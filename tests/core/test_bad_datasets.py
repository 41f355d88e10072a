"""Corrupt dataset projects: each a one-line DatasetError naming the file (and line), never a
traceback, never a hang, never accepted silently."""

from __future__ import annotations

import json
import os
import threading

import pytest

from instrument_studio.core.datasets import import_dataset
from instrument_studio.core.datasets.model import CLIPS_FILE, PROJECT_FILE, load_dataset
from instrument_studio.core.errors import DatasetError

from . import dataset_fixtures as fx


@pytest.fixture
def project(tmp_path):
    ds = import_dataset(fx.folders(tmp_path / "mine"))
    ds.save(tmp_path / "project")
    return tmp_path / "project"


def refused(folder) -> str:
    with pytest.raises(DatasetError) as info:
        load_dataset(folder)
    message = str(info.value)
    assert "\n" not in message
    return message


def edit_meta(folder, change):
    meta = json.loads((folder / PROJECT_FILE).read_text())
    change(meta)
    (folder / PROJECT_FILE).write_text(json.dumps(meta))


def test_the_fixture_loads(project):
    assert len(load_dataset(project)) == 18


@pytest.mark.parametrize("content, words", [
    (b"[]", "not an Instrument Studio dataset project"),
    (b"null", "not an Instrument Studio dataset project"),
    (b'{"format": "instrument-studio-dataset", "root": "\xff\xfe"}', "not UTF-8"),
    (b"[" * 100_000, "nests too deeply"),
])
def test_project_json_that_is_not_a_project(project, content, words):
    (project / PROJECT_FILE).write_bytes(content)
    assert words in refused(project)


@pytest.mark.parametrize("change, words", [
    (lambda m: m.pop("root"), "instrument-studio.json lacks 'root'"),
    (lambda m: m.update(root=7), "field 'root' must be a string, not a number"),
    (lambda m: m.update(classes="piano"), "field 'classes' must be a list, not a string"),
    (lambda m: m.update(clips_file="../../etc/passwd"), "field 'clips_file' is invalid"),
    (lambda m: m.update(n_clips=25), "holds 18 clips but instrument-studio.json says 25"),
])
def test_project_fields_of_the_wrong_shape(project, change, words):
    edit_meta(project, change)
    assert words in refused(project)


def lines(project):
    return (project / CLIPS_FILE).read_text().splitlines(keepends=True)


def test_a_binary_clip_list(project):
    (project / CLIPS_FILE).write_bytes(os.urandom(4096) + b"\xff\xfe\x00")
    message = refused(project)
    assert "clips.csv" in message


def test_a_huge_field(project):
    text = lines(project)
    text[3] = text[3].rstrip("\n") + "x" * 200_000 + "\n"
    (project / CLIPS_FILE).write_text("".join(text))
    assert "line 4 is not valid CSV (field larger than field limit" in refused(project)


def test_a_half_cut_clip_list(project):
    data = (project / CLIPS_FILE).read_bytes()
    (project / CLIPS_FILE).write_bytes(data[: len(data) // 2])
    message = refused(project)
    assert "cut short" in message


def test_a_clip_list_cut_at_a_line_end_is_caught_by_the_count(project):
    (project / CLIPS_FILE).write_text("".join(lines(project)[:10]))
    assert "holds 9 clips but instrument-studio.json says 18" in refused(project)


def test_nul_bytes(project):
    text = lines(project)
    text[2] = text[2].replace(",", "\0,", 1)
    (project / CLIPS_FILE).write_text("".join(text))
    assert "line 3 holds NUL bytes" in refused(project)


def test_an_unknown_split(project):
    text = lines(project)
    text[2] = text[2].replace(",train,", ",trian,").replace(",val,", ",trian,").replace(",test,", ",trian,")
    (project / CLIPS_FILE).write_text("".join(text))
    assert "line 3 is malformed (unknown split 'trian'; use train, val, test)" in refused(project)


def test_a_fifo_as_the_clip_list_does_not_hang(project):
    (project / CLIPS_FILE).unlink()
    os.mkfifo(project / CLIPS_FILE)
    result = {}
    worker = threading.Thread(target=lambda: result.update(message=refused(project)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "load_dataset hung on a FIFO"
    assert "not a regular file" in result["message"]


def test_a_missing_clip_list(project):
    (project / CLIPS_FILE).unlink()
    assert "the clip list is missing" in refused(project)
