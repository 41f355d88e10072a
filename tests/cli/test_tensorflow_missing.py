"""Without TensorFlow (not installed, or no wheel for the platform) a command that needs it says so
in one line, with how to install it; commands that do not need it still work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.training_data import blobs

REPO = Path(__file__).resolve().parents[2]

# `import tensorflow` fails as it does where it is not installed (None in sys.modules blocks it).
BLOCKED = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"
           "from instrument_studio.cli import main\n"
           "sys.exit(main(sys.argv[1:]))\n")


def _run(*argv):
    return subprocess.run([sys.executable, "-c", BLOCKED, *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), "KERAS_BACKEND": "tensorflow"})


def test_train_without_tensorflow_is_one_line_saying_how_to_install_it(tmp_path):
    blobs().save(tmp_path / "features")
    proc = _run("train", "--dataset", str(tmp_path / "features"), "--model", "mlp", "--epochs", "1",
                "--out", str(tmp_path / "m"))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "TensorFlow is not installed" in proc.stderr and "instrument-studio[tensorflow]" in proc.stderr
    assert "jax" in proc.stderr      # the other backends are named
    assert not (tmp_path / "m").exists()


def test_commands_without_tensorflow_still_work(tmp_path):
    from tests.core import dataset_fixtures as fx

    src = fx.folders(tmp_path / "src", per_class=2)
    proc = _run("dataset", "import", str(src))
    assert proc.returncode == 0, proc.stderr
