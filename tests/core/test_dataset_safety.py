"""Nothing lost, nothing walked that should not be: import targets, links, unreadable folders and
a project's JSON and CSV kept in step through a killed save."""

from __future__ import annotations

import json
import os

import pytest

from instrument_studio.cli import main
from instrument_studio.core.datasets import (
    CLIPS_FILE,
    PROJECT_FILE,
    check_project_target,
    import_dataset,
    load_dataset,
)
from instrument_studio.core.datasets.common import audio_files
from instrument_studio.core.errors import DatasetError
from tests.core import dataset_fixtures as fx
from tests.privileges import run_cli_unprivileged


# --- dataset import --out ------------------------------------------------------------------------
def test_import_out_refuses_a_folder_of_someone_elses_files(tmp_path, capsys):
    src = fx.folders(tmp_path / "src", per_class=2)
    out = tmp_path / "mine"
    out.mkdir()
    (out / CLIPS_FILE).write_text("my own spreadsheet\n")
    (out / "notes.txt").write_text("keep me")
    assert main(["dataset", "import", str(src), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "not an Instrument Studio dataset project" in err and "--force" in err and err.count("\n") == 1
    assert (out / CLIPS_FILE).read_text() == "my own spreadsheet\n" and not (out / PROJECT_FILE).exists()

    (out / CLIPS_FILE).unlink()   # only other files: still not ours, still refused
    assert main(["dataset", "import", str(src), "--out", str(out)]) == 1
    assert "not empty" in capsys.readouterr().err and not (out / PROJECT_FILE).exists()

    assert main(["dataset", "import", str(src), "--out", str(out), "--force"]) == 0
    assert (out / PROJECT_FILE).is_file() and (out / "notes.txt").read_text() == "keep me"


def test_import_out_accepts_new_empty_our_own_project_and_the_source(tmp_path):
    src = fx.folders(tmp_path / "src", per_class=2)
    check_project_target(tmp_path / "new", source=src)
    (tmp_path / "empty").mkdir()
    check_project_target(tmp_path / "empty", source=src)
    assert main(["dataset", "import", str(src), "--out", str(tmp_path / "empty")]) == 0
    assert main(["dataset", "import", str(src), "--out", str(tmp_path / "empty")]) == 0   # ours: re-import
    assert main(["dataset", "import", str(src)]) == 0                                       # the source itself
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="not a folder"):
        check_project_target(tmp_path / "file", source=src)


# --- links --------------------------------------------------------------------------------------
def _looped(tmp_path):
    src = fx.folders(tmp_path / "src", per_class=4)      # 3 classes x 4 files
    os.symlink(src, src / "cello" / "loop")               # a link back to the root: a loop
    os.symlink("/", src / "flute" / "everything")         # a link to the whole disk
    return src


def test_import_does_not_follow_folder_links_by_default_and_says_so(tmp_path):
    src = _looped(tmp_path)
    ds = import_dataset(src, layout="folders")
    assert len(ds.clips) == 12
    assert len({os.path.realpath(c.path) for c in ds.clips}) == 12
    note = next(n for n in ds.notes if "not followed" in n)
    assert "cello/loop" in note and "flute/everything" in note and "--follow-links" in note


def test_following_links_walks_each_real_folder_once_and_reports_loops(tmp_path):
    src = fx.folders(tmp_path / "src", per_class=4)
    os.symlink(src, src / "cello" / "loop")
    os.symlink(src / "violin", src / "flute" / "same-as-violin")
    ds = import_dataset(src, layout="folders", follow_links=True)
    assert len(ds.clips) == 12          # not 492: no file counted twice, so no leakage across splits
    assert len({os.path.realpath(c.path) for c in ds.clips}) == 12
    note = next(n for n in ds.notes if "skipped, already walked" in n)
    assert "cello/loop" in note and "flute/same-as-violin" in note


def test_cli_import_reports_links_not_followed(tmp_path, capsys):
    src = _looped(tmp_path)
    assert main(["dataset", "import", str(src), "--out", str(tmp_path / "proj")]) == 0
    out = capsys.readouterr().out
    assert "12 clips" in out and "not followed" in out


def test_a_file_reached_twice_counts_once(tmp_path):
    src = fx.folders(tmp_path / "src", per_class=2)
    os.symlink(src / "cello" / "cello0.wav", src / "cello" / "again.wav")
    assert len(audio_files(src)) == 6


# --- unreadable folders (as a user without root's capabilities) ------------------------------------
def test_an_unreadable_class_folder_is_reported(tmp_path):
    src = fx.folders(tmp_path / "src", per_class=2, classes=("cello", "flute", "violin"))
    (src / "violin").chmod(0)
    try:
        proc = run_cli_unprivileged("dataset", "import", str(src), "--out", str(tmp_path / "proj"))
    finally:
        (src / "violin").chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert "4 clips" in proc.stdout
    assert "could not be read" in proc.stdout and "violin (Permission denied)" in proc.stdout


# --- JSON and CSV as one unit ---------------------------------------------------------------------
def _rows(folder):
    return (folder / CLIPS_FILE).read_text().count("\n") - 1


def test_project_records_its_clip_list_checksum(tmp_path):
    src = fx.folders(tmp_path / "src", per_class=2)
    ds = import_dataset(src, layout="folders")
    ds.save(tmp_path / "proj")
    meta = json.loads((tmp_path / "proj" / PROJECT_FILE).read_text())
    import hashlib

    assert meta["clips_sha256"] == hashlib.sha256((tmp_path / "proj" / CLIPS_FILE).read_bytes()).hexdigest()
    assert not (tmp_path / "proj" / (CLIPS_FILE + ".next")).exists()


@pytest.mark.parametrize("killed_after", ["list", "json"])
def test_a_save_killed_between_its_writes_leaves_a_consistent_project(tmp_path, monkeypatch, killed_after):
    src = fx.folders(tmp_path / "src", per_class=2)
    proj = tmp_path / "proj"
    small = import_dataset(src, layout="folders")
    small.save(proj)
    bigger = fx.folders(tmp_path / "src2", per_class=3)
    big = import_dataset(bigger, layout="folders")

    from instrument_studio.core.datasets import model

    real, calls = model.atomic_write_text, []

    class Killed(BaseException):
        pass

    def write(path, text):
        calls.append(path)
        if killed_after == "list" and len(calls) == 2:
            raise Killed           # the new list is written beside the old, the JSON not yet
        real(path, text)

    monkeypatch.setattr(model, "atomic_write_text", write)
    if killed_after == "json":
        real_replace = os.replace

        def replace(a, b):
            if str(a).endswith(CLIPS_FILE + ".next"):
                raise Killed       # the JSON names the new list; the list is not in place yet
            real_replace(a, b)

        monkeypatch.setattr(model.os, "replace", replace)
    with pytest.raises(Killed):
        big.save(proj)
    monkeypatch.undo()

    back = load_dataset(proj)
    want = small if killed_after == "list" else big
    assert len(back.clips) == len(want.clips) == json.loads((proj / PROJECT_FILE).read_text())["n_clips"]
    assert _rows(proj) == len(want.clips)
    assert not (proj / (CLIPS_FILE + ".next")).exists()


def test_a_hand_edited_clip_list_is_still_read(tmp_path):
    """The checksum only settles a killed save; it does not lock the list against hand edits. A row
    count that disagrees with n_clips is refused (a list cut short at a line end looks the same,
    tests/core/test_bad_datasets.py), so a hand edit that removes rows sets n_clips too."""
    src = fx.folders(tmp_path / "src", per_class=2)
    import_dataset(src, layout="folders").save(tmp_path / "proj")
    clips_path, project = tmp_path / "proj" / CLIPS_FILE, tmp_path / "proj" / PROJECT_FILE
    lines = clips_path.read_text().splitlines(keepends=True)
    clips_path.write_text("".join([lines[0], lines[1].replace(",train,", ",test,", 1), *lines[2:]]))
    assert len(load_dataset(tmp_path / "proj").clips) == 6          # a row changed, the checksum no longer matches
    clips_path.write_text("".join(lines[:-1]))
    with pytest.raises(DatasetError, match="set n_clips"):
        load_dataset(tmp_path / "proj")
    meta = json.loads(project.read_text())
    project.write_text(json.dumps({**meta, "n_clips": 5}))
    assert len(load_dataset(tmp_path / "proj").clips) == 5
