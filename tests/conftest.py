"""Shared test set-up: offscreen Qt, isolated settings and caches, no stray threads."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# Before anything imports Qt: with neither DISPLAY nor a platform set, Qt aborts the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep tests away from the user's settings, caches and data.
_SANDBOX = Path(tempfile.mkdtemp(prefix="instrument-studio-tests-"))
for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
    os.environ[var] = str(_SANDBOX / var.lower())
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip saying why (a fresh clone has no ../shared)."""
    if not (SHARED_DATA / "philharmonia").is_dir():
        pytest.skip(f"needs the development recordings in {SHARED_DATA} (absent in a fresh clone)")
    return SHARED_DATA


@pytest.fixture
def python_exe() -> str:
    return sys.executable


# The virtual PulseAudio microphone (session-scoped; skips where PulseAudio is missing).
from tests.mic import known_wav, virtual_mic  # noqa: E402,F401


@pytest.fixture(scope="session")
def synth_model(tmp_path_factory):
    """(bundle folder, data set folder): a real MLP bundle trained on tests/synth_instruments.py's
    three made-up instruments (about 10 s, once per session)."""
    from tests.synth_instruments import train_bundle, write_dataset

    base = tmp_path_factory.mktemp("synth")
    dataset = write_dataset(base / "dataset")
    return train_bundle(dataset, base / "bundle"), dataset


@pytest.fixture
def read_only_folder(monkeypatch):
    """make(target): creating anything under `target` fails as on a read-only mount.

    Simulated because root (the CI user) may write anywhere whatever the permissions say.
    """
    import errno

    def make(target: Path) -> None:
        real_mkdir = Path.mkdir

        def refuse(self, *args, **kwargs):
            if str(self).startswith(str(target)):
                raise OSError(errno.EROFS, "Read-only file system", str(self))
            return real_mkdir(self, *args, **kwargs)

        monkeypatch.setattr(Path, "mkdir", refuse)

    return make
