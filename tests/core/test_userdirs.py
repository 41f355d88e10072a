"""One user data folder and one cache folder, with one appname/appauthor, for every room."""

from __future__ import annotations

import ast
from pathlib import Path

import platformdirs

from instrument_studio.core import userdirs
from instrument_studio.core.datasets.library import projects_dir
from instrument_studio.core.datasets.starter import starter_cache_dir
from instrument_studio.core.features.cache import cache_root

PACKAGE = Path(__file__).resolve().parents[2] / "instrument_studio"


def test_every_folder_is_under_the_one_data_or_cache_folder():
    data = Path(platformdirs.user_data_dir(userdirs.APP_NAME, appauthor=userdirs.APP_AUTHOR))
    cache = Path(platformdirs.user_cache_dir(userdirs.APP_NAME, appauthor=userdirs.APP_AUTHOR))
    assert projects_dir() == data / "datasets"
    assert cache_root() == cache / "features"
    assert starter_cache_dir() == cache / "starter"


def test_only_userdirs_calls_platformdirs():
    callers = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] == "platformdirs" for n in names):
                    callers.append(path.relative_to(PACKAGE).as_posix())
    assert sorted(set(callers)) == ["core/userdirs.py"]
