"""A bundle save killed at any moment is finished or undone by the next load or save of that name,
and the hidden folders killed saves leave behind are cleaned up. The saves here run in a child
process that really dies (os._exit) at the chosen moment; no Keras needed (a stand-in model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from instrument_studio.core.learn import bundle as bundle_mod
from instrument_studio.core.learn.bundle import read_bundle_meta, recover_interrupted_swap

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import os, sys
from pathlib import Path
import numpy as np
from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.learn import bundle

class Model:
    input_shape = (None, 4)
    def __init__(self, tag): self.tag = tag
    def save(self, path): Path(path).write_bytes(self.tag.encode() * 100)

def save(tag):
    bundle.save_bundle(sys.argv[1], model=Model(tag), labels=["a", "b"], feature_config=FeatureConfig(),
                       mean=np.zeros(4), std=np.ones(4), metrics={"tag": tag})

save("old")
die_at = sys.argv[2]
real = os.replace
calls = []
def replace(a, b):
    calls.append((a, b))
    if die_at == "between-renames" and len(calls) == 2:
        os._exit(9)                 # the old bundle is aside, the new one not yet in place
    return real(a, b)
os.replace = replace
if die_at == "before-renames":
    bundle._swap_into_place = lambda tmp, path: os._exit(9)
save("new")
"""


def _killed_save(path: Path, when: str) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), when], env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_kill_between_the_two_renames_is_finished_by_the_next_load(tmp_path):
    path = tmp_path / "model"
    _killed_save(path, "between-renames")
    assert not path.exists()                        # neither name: what the kill leaves
    hidden = _hidden(tmp_path)
    assert any(".old-" in h for h in hidden) and any(h.endswith(".part") for h in hidden)
    meta = read_bundle_meta(path)                   # the next load finds the new, complete bundle
    assert meta["metrics"]["tag"] == "new"
    assert _hidden(tmp_path) == []


def test_an_incomplete_new_bundle_gives_back_the_old_one(tmp_path):
    path = tmp_path / "model"
    _killed_save(path, "between-renames")
    part = next(p for p in tmp_path.iterdir() if p.name.endswith(".part"))
    (part / "model.keras").write_bytes(b"cut")      # as if the new one had not been finished
    assert recover_interrupted_swap(path) == "an interrupted save was undone (the previous bundle is back)"
    assert read_bundle_meta(path)["metrics"]["tag"] == "old" and _hidden(tmp_path) == []


def test_stale_parts_of_killed_saves_are_cleaned_by_the_next_save(tmp_path):
    path = tmp_path / "model"
    _killed_save(path, "before-renames")
    assert read_bundle_meta(path)["metrics"]["tag"] == "old"   # the old bundle stands
    # ... and the load already removed the dead save's part; make one the old way (no PID), aged
    legacy = tmp_path / ".model.abc123.part"
    legacy.mkdir()
    os.utime(legacy, (time.time() - 2 * bundle_mod.STALE_PART_SECONDS,) * 2)
    fresh = tmp_path / ".model.xyz789.part"        # maybe another process saving right now: kept
    fresh.mkdir()
    mine = tmp_path / f".model.{os.getpid()}-live.part"   # a save in flight in this process: kept
    mine.mkdir()
    other = tmp_path / ".model-v2.1-abc.part"            # another bundle's: never touched
    other.mkdir()
    recover_interrupted_swap(path)
    assert _hidden(tmp_path) == sorted([fresh.name, mine.name, other.name])


def test_recovery_never_takes_another_bundles_folders(tmp_path):
    path = tmp_path / "y"
    other = tmp_path / ".y.v2.old-1"
    other.mkdir()
    (other / "bundle.json").write_text(json.dumps({}))
    assert recover_interrupted_swap(path) is None and not path.exists() and other.exists()


@pytest.mark.parametrize("name", ["model", "my model.v1"])
def test_a_save_after_a_kill_succeeds_and_leaves_nothing_hidden(tmp_path, name):
    path = tmp_path / name
    _killed_save(path, "between-renames")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), "never"], env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert read_bundle_meta(path)["metrics"]["tag"] == "new" and _hidden(tmp_path) == []
