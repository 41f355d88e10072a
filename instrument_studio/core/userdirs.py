"""Where the app keeps the user's own files: one data folder and one cache folder.

Every room asks here rather than calling platformdirs itself, so that all of them agree on one
application name and author (on Windows a differing `appauthor` puts files in another folder).

    user_data_dir("datasets")   projects of imported datasets, saved sweeps
    user_cache_dir("features")  per-file feature cache, the rendered starter set
"""

from __future__ import annotations

from pathlib import Path

APP_NAME = "instrument-studio"
# No vendor level: %LOCALAPPDATA%\instrument-studio on Windows, as on the other systems.
APP_AUTHOR = False


def user_data_dir(*parts: str) -> Path:
    """The user data folder (or a path inside it); not created here."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=APP_AUTHOR)).joinpath(*parts)


def user_cache_dir(*parts: str) -> Path:
    """The user cache folder (or a path inside it): anything here may be deleted at any time."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=APP_AUTHOR)).joinpath(*parts)
