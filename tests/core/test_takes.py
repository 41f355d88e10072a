"""Takes: progressive WAV writing, atomic finalising, crash recovery, rename, delete + undo, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from instrument_studio.core.errors import DatasetError, StudioError
from instrument_studio.core.live.takes import (
    TakeWriter,
    delete_take,
    empty_trash,
    list_takes,
    recover_parts,
    rename_take,
    undo_delete,
)

REPO = Path(__file__).resolve().parents[2]


def noise(n: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(n) * 0.1).astype(np.float32)


def test_a_take_is_written_in_pieces_and_lands_under_its_label(tmp_path):
    w = TakeWriter(dataset=tmp_path, label="violin", samplerate=48000)
    y = noise(48000)
    for i in range(0, len(y), 1000):
        w.write(y[i:i + 1000])
    assert w.part.exists() and not w.path.exists()  # still hidden while recording
    take = w.close()
    assert take.path.parent == tmp_path / "violin" and take.path.suffix == ".wav"
    assert not w.part.exists()
    back, sr = sf.read(take.path, dtype="float32")
    assert sr == 48000 and np.allclose(back, y, atol=1 / 32768)
    assert take.seconds == pytest.approx(1.0)
    assert [t.path for t in list_takes(tmp_path)] == [take.path]


def test_max_seconds_stops_the_take_at_the_frame(tmp_path):
    w = TakeWriter(dataset=tmp_path, label="flute", samplerate=1000, max_seconds=0.5)
    assert w.write(noise(300)) is True
    assert w.write(noise(300)) is False
    assert w.close().seconds == pytest.approx(0.5)


def test_two_takes_in_one_second_get_distinct_names(tmp_path):
    a = TakeWriter(dataset=tmp_path, label="x", samplerate=1000)
    b = TakeWriter(dataset=tmp_path, label="x", samplerate=1000)
    assert a.path != b.path
    a.write(noise(10))
    b.write(noise(10))
    assert a.close().path.exists() and b.close().path.exists()


def test_an_empty_take_leaves_no_file(tmp_path):
    w = TakeWriter(dataset=tmp_path, label="x", samplerate=1000)
    assert w.close() is None
    assert list((tmp_path / "x").iterdir()) == []


@pytest.mark.parametrize("label", ["", "  ", "a/b", ".hidden", "bad:name"])
def test_labels_that_cannot_be_folders_are_refused(tmp_path, label):
    with pytest.raises(DatasetError):
        TakeWriter(dataset=tmp_path, label=label, samplerate=1000)


def test_read_only_dataset_folder_is_a_clear_error_unprivileged(tmp_path):
    """A real 0500 folder, as a user without root's capabilities sees it (tests/privileges.py)."""
    from tests.privileges import run_python_unprivileged

    code = ("import sys\n"
            "from instrument_studio.core.errors import StudioError\n"
            "from instrument_studio.core.live.takes import TakeWriter\n"
            "try:\n"
            "    TakeWriter(dataset=sys.argv[1], label='x', samplerate=1000)\n"
            "except StudioError as exc:\n"
            "    print(exc)\n")
    tmp_path.chmod(0o500)
    try:
        proc = run_python_unprivileged(code, str(tmp_path))
    finally:
        tmp_path.chmod(0o700)
    assert proc.returncode == 0, proc.stderr
    assert "read-only" in proc.stdout and not (tmp_path / "x").exists()


def test_read_only_dataset_folder_is_a_clear_error(tmp_path, monkeypatch):
    # Root (CI containers) can write anywhere; a read-only mount refuses with EROFS.
    import errno

    real_mkdir = Path.mkdir

    def refuse(self, *a, **k):
        if str(self).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(StudioError) as info:
        TakeWriter(dataset=tmp_path / "ro", label="cello", samplerate=1000)
    assert "read-only" in str(info.value) and "ro" in str(info.value)
    assert "another dataset folder" in str(info.value)


def test_disk_full_keeps_what_was_written_and_says_so(tmp_path, monkeypatch):
    import errno

    w = TakeWriter(dataset=tmp_path, label="oboe", samplerate=1000)
    w.write(noise(1500))
    real_write = type(w._file).write

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(type(w._file), "write", full)
    with pytest.raises(StudioError, match="disk is full") as info:
        w.write(noise(500, seed=1))
    assert "1.5 s are kept" in str(info.value)
    assert w.write(noise(10)) is False  # refuses further writes after the failure
    monkeypatch.setattr(type(w._file), "write", real_write)
    take = w.close()
    assert take is not None and take.seconds == pytest.approx(1.5)
    assert np.allclose(sf.read(take.path, dtype="float32")[0], noise(1500), atol=1 / 32768)


def test_a_take_survives_the_process_dying_mid_take(tmp_path):
    script = f"""
import os, sys, numpy as np
sys.path.insert(0, {str(REPO)!r})
from instrument_studio.core.live.takes import TakeWriter
w = TakeWriter(dataset={str(tmp_path)!r}, label="bassoon", samplerate=8000)
y = (np.sin(np.arange(16000) * 0.05) * 0.3).astype(np.float32)
w.write(y[:8000]); w.write(y[8000:])
w._file.flush()
os._exit(0)  # no close(): like a crash or a power cut
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    parts = list((tmp_path / "bassoon").glob(".*.wav.part"))
    assert len(parts) == 1 and not list((tmp_path / "bassoon").glob("*.wav"))
    recovered = recover_parts(tmp_path)
    assert len(recovered) == 1
    take = recovered[0]
    y = (np.sin(np.arange(16000) * 0.05) * 0.3).astype(np.float32)
    back, sr = sf.read(take.path, dtype="float32")
    assert sr == 8000 and np.allclose(back, y, atol=1 / 32768)
    assert not parts[0].exists()
    import wave  # a strict reader: the header must now state the true length

    with wave.open(str(take.path)) as wf:
        assert wf.getnframes() == 16000


def test_rename_moves_the_take_between_class_folders(tmp_path):
    w = TakeWriter(dataset=tmp_path, label="violn", samplerate=1000)
    w.write(noise(100))
    take = w.close()
    moved = rename_take(take.path, "violin")
    assert moved == tmp_path / "violin" / take.path.name
    assert moved.exists() and not take.path.exists()
    assert [t.label for t in list_takes(tmp_path)] == ["violin"]
    with pytest.raises(DatasetError):
        rename_take(moved, "../escape")


def test_delete_then_undo_restores_the_same_bytes(tmp_path):
    w = TakeWriter(dataset=tmp_path, label="horn", samplerate=1000)
    w.write(noise(100))
    take = w.close()
    data = take.path.read_bytes()
    deleted = delete_take(take.path)
    assert not take.path.exists()
    assert list_takes(tmp_path) == []  # the trash is not a class folder
    restored = undo_delete(deleted)
    assert restored == take.path and restored.read_bytes() == data
    deleted = delete_take(restored)
    empty_trash(tmp_path)
    assert not deleted.trashed.exists() and not (tmp_path / ".trash").exists()
