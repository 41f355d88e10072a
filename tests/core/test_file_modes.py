"""What the app writes gets the mode any new file gets under the user's umask (not mkstemp's 0600
or mkdtemp's 0700): bundles, CSV exports, dataset projects, recovered takes. Each case runs in a
subprocess with the umask set, so the test does not change this process's umask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, os, stat, sys
from pathlib import Path
import numpy as np
os.umask(int(sys.argv[2], 8))
out = Path(sys.argv[1])
from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.learn.bundle import save_bundle
from instrument_studio.core.predict.inference import write_predictions_csv
from instrument_studio.core.evaluation.report import write_comparison_csv
from instrument_studio.core.datasets.model import Clip, Dataset
from instrument_studio.core.live.takes import recover_parts
from instrument_studio.core.fileio import atomic_write_text

class Model:
    input_shape = (None, 4)
    def save(self, path): Path(path).write_bytes(b"x" * 100)

save_bundle(out / "bundle", model=Model(), labels=["a", "b"], feature_config=FeatureConfig(),
            mean=np.zeros(4), std=np.ones(4))
save_bundle(out / "bundle", model=Model(), labels=["a", "b"], feature_config=FeatureConfig(),
            mean=np.zeros(4), std=np.ones(4))          # replacing one too
write_predictions_csv(out / "predictions.csv", [])
write_comparison_csv(out / "runs.csv", [])
atomic_write_text(out / "plain.txt", "x")
(out / "audio" / "cello").mkdir(parents=True)
ds = Dataset(name="d", layout="folders", root=out / "audio", classes=("a", "b"), clips=[
    Clip(path=str(out / "audio" / "a.wav"), label="a", split="train")])
ds.save(out / "project")
import soundfile as sf
part = out / "audio" / "cello" / ".20240101-120000.wav.part"
sf.write(str(part), np.zeros(800, dtype=np.float32), 8000, format="WAV")
os.chmod(part, 0o600)
assert recover_parts(out / "audio")
modes = {str(p.relative_to(out)): oct(stat.S_IMODE(p.stat().st_mode))
         for p in [out / "bundle", *(out / "bundle").iterdir(), out / "predictions.csv", out / "runs.csv",
                   out / "plain.txt", *(out / "project").iterdir(), *(out / "audio" / "cello").iterdir()]}
print(json.dumps(modes))
"""


@pytest.mark.parametrize("umask, file_mode, dir_mode", [("022", "0o644", "0o755"), ("002", "0o664", "0o775"),
                                                          ("077", "0o600", "0o700")])
def test_written_files_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), umask], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    modes = json.loads(proc.stdout.splitlines()[-1])
    assert modes.pop("bundle") == dir_mode
    assert modes.pop("audio/cello/20240101-120000.wav") == file_mode      # the recovered take
    assert {"bundle/model.keras", "bundle/bundle.json", "predictions.csv", "runs.csv", "plain.txt",
            "project/instrument-studio.json", "project/clips.csv"} <= set(modes)
    assert set(modes.values()) == {file_mode}, modes
