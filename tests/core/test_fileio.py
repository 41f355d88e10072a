"""Files and folders the app saves get the user's umask, as other programs' files do (issue 11 #17)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from instrument_studio.core.fileio import atomic_write_text, chmod_to_umask, current_umask


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_current_umask_reads_without_changing_it(umask):
    assert current_umask() == umask
    assert current_umask() == umask


def test_a_new_file_gets_the_umask_not_0600(umask, tmp_path):
    atomic_write_text(tmp_path / "notes.json", "{}")
    assert mode(tmp_path / "notes.json") == 0o666 & ~umask


def test_a_replaced_file_keeps_its_mode(umask, tmp_path):
    path = tmp_path / "shared.csv"
    path.write_text("old")
    os.chmod(path, 0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and mode(path) == 0o640


def test_a_temporary_folder_gets_the_umask_not_0700(umask, tmp_path):
    folder = Path(tempfile.mkdtemp(prefix=".bundle.", suffix=".part", dir=tmp_path))   # 0700 while written
    chmod_to_umask(folder, directory=True)                                              # before its rename
    assert mode(folder) == 0o777 & ~umask
