"""The core must work without Qt: import every core module with Qt imports blocked."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import instrument_studio.core as core

REPO = Path(__file__).resolve().parents[2]

BLOCKER = r"""
import importlib.abc, sys
BLOCKED = ("PySide6", "pyqtgraph", "superqt", "shiboken6", "qtpy", "PyQt5", "PyQt6", "tensorflow", "keras")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"core imported {name}")
sys.meta_path.insert(0, Block())
import importlib, pkgutil
import instrument_studio.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "instrument_studio.core.")]
for n in names:
    importlib.import_module(n)
print(len(names))
"""


def test_core_imports_without_qt_or_tensorflow():
    result = subprocess.run([sys.executable, "-c", BLOCKER], cwd=REPO, capture_output=True, text=True,
                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    n = int(result.stdout.strip().splitlines()[-1])
    assert n == len(list(pkgutil.walk_packages(core.__path__, "instrument_studio.core.")))


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install -e .[dev])")
    result = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "KEPT" in result.stdout and "BROKEN" not in result.stdout
