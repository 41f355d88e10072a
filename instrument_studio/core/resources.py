"""Where the app's own files are (icons, the starter-set recipe, the default model).

They live inside the package, instrument_studio/resources/, so they ship in wheels and editable
installs alike; the repository's top-level resources/ is a link to that folder. A frozen
(PyInstaller) app finds them where the spec unpacks them.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen and (Path(frozen) / "instrument_studio" / "resources").is_dir():
        return Path(frozen) / "instrument_studio" / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
