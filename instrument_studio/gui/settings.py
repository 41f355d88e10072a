"""Typed access to QSettings: what the app remembers between runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


class Settings:
    def __init__(self, qsettings: QSettings | None = None):
        self.q = qsettings or QSettings()

    def get(self, key: str, default=None, type_=None):
        if type_ is None:
            return self.q.value(key, default)
        value = self.q.value(key, default)
        try:
            if type_ is bool and isinstance(value, str):
                return value.lower() in ("1", "true", "yes")
            return type_(value) if value is not None else default
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value) -> None:
        self.q.setValue(key, value)

    # --- recent files ---------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.q.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent_file(self, path: str | Path) -> list[str]:
        path = str(Path(path).resolve())
        files = [f for f in self.recent_files() if f != path]
        files.insert(0, path)
        files = files[:MAX_RECENT]
        self.q.setValue("recent_files", files)
        return files

    def clear_recent_files(self) -> None:
        self.q.setValue("recent_files", [])

    # --- window -----------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        value = self.q.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, value: QByteArray) -> None:
        self.q.setValue("window/geometry", value)
