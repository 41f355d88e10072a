"""One exception hierarchy. Every message names the thing at fault and, where it can, what to do."""

from __future__ import annotations

from pathlib import Path


class StudioError(Exception):
    """Base of every error the user is meant to read (CLI: one line, GUI: a message box)."""

    def __init__(self, message: str, *, path: str | Path | None = None, hint: str | None = None):
        self.path = None if path is None else str(path)
        self.reason = message
        self.hint = hint
        text = f"{self.path}: {message}" if self.path else message
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)


class AudioFormatError(StudioError):
    """A file that cannot be read as audio: missing, unreadable, empty, truncated or not audio."""


class AudioDeviceError(StudioError):
    """No usable audio input/output device, or one that failed or disappeared."""


class ConfigError(StudioError):
    """A configuration value out of range or a config file that does not parse."""


class DatasetError(StudioError):
    """A dataset that cannot be imported, read or split."""


class FeatureError(StudioError):
    """Feature extraction failed or a feature cache is unusable."""


class ModelError(StudioError):
    """A model that cannot be built, trained, saved or loaded (bundles included)."""


class Cancelled(StudioError):
    """Long work stopped because the user asked it to."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)
