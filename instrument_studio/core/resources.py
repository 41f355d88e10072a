"""Where the app's own files are: the repository's resources/ folder (source or editable install),
or the folder PyInstaller unpacks a frozen app into."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen) / "resources"] if frozen else []
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    for folder in candidates:
        if folder.is_dir():
            return folder
    return candidates[-1]


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
