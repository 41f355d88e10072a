"""`train --out` is checked before any feature or epoch: a wrong place fails in a second, in one line."""

from __future__ import annotations

import pytest

from instrument_studio.cli import main
from tests.privileges import run_cli_unprivileged
from tests.training_data import blobs


@pytest.fixture
def no_training(monkeypatch):
    from instrument_studio.core.features import extraction
    from instrument_studio.core.learn import training

    def refuse(*_a, **_k):
        raise AssertionError("training started before --out was checked")

    monkeypatch.setattr(training, "train", refuse)
    monkeypatch.setattr(extraction, "load_feature_set", refuse)


def test_out_that_is_not_a_bundle_fails_before_training(tmp_path, capsys, no_training):
    blobs().save(tmp_path / "features")
    mine = tmp_path / "my-folder"
    mine.mkdir()
    (mine / "thesis.txt").write_text("keep")
    assert main(["train", "--dataset", str(tmp_path / "features"), "--model", "mlp", "--out", str(mine)]) == 1
    err = capsys.readouterr().err
    assert "exists and is not a model bundle" in err and err.count("\n") == 1
    assert (mine / "thesis.txt").read_text() == "keep"
    (tmp_path / "a-file").write_text("x")
    assert main(["train", "--dataset", str(tmp_path / "features"), "--model", "mlp",
                 "--out", str(tmp_path / "a-file" / "m")]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_out_in_a_read_only_folder_fails_before_training(tmp_path):
    blobs().save(tmp_path / "features")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        proc = run_cli_unprivileged("train", "--dataset", str(tmp_path / "features"), "--model", "mlp",
                                    "--epochs", "50", "--out", str(locked / "new" / "m"))
    finally:
        locked.chmod(0o755)
    assert proc.returncode == 1
    assert "cannot write here: Permission denied" in proc.stderr and proc.stderr.count("\n") <= 2
    assert "epoch" not in proc.stderr and "Traceback" not in proc.stderr
    assert list(locked.iterdir()) == []
