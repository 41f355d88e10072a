"""`--layout auto`: try each importer in turn, most specific first; the first that reads the
folder wins. When none does, the error lists every layout tried and why each failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import DatasetError
from . import esc50, folders, irmas, medley, npy, nsynth, philharmonia
from .common import walk_options
from .model import Dataset

Importer = Callable[..., Dataset]

# Order matters: specific names and metadata files before the generic folder-per-class reader
# (a Philharmonia download is also folder-per-class, but its names carry pitch and dynamics).
IMPORTERS: dict[str, Importer] = {
    "npy": npy.import_dataset,
    "nsynth": nsynth.import_dataset,
    "medley": medley.import_dataset,
    "esc50": esc50.import_dataset,
    "irmas": irmas.import_dataset,
    "philharmonia": philharmonia.import_dataset,
    "uiowa": philharmonia.import_uiowa,
    "folders": folders.import_dataset,
}
LAYOUTS = ("auto", *IMPORTERS)


def _reason(exc: DatasetError) -> str:
    text = exc.reason
    return f"{text} ({exc.hint})" if exc.hint else text


def detect_and_import(root: str | Path, *, seed: int = 0, **split_kw) -> Dataset:
    root = Path(root)
    if not root.exists():
        raise DatasetError("no such folder", path=root)
    if not root.is_dir():
        raise DatasetError("a dataset is a folder; this is a file", path=root)
    tried = []
    for name, importer in IMPORTERS.items():
        try:
            return importer(root, seed=seed, **split_kw)
        except DatasetError as exc:
            tried.append(f"{name}: {_reason(exc)}")
    raise DatasetError("matches no known dataset layout. Tried: " + "; ".join(tried), path=root)


def import_dataset(source: str | Path, *, layout: str = "auto", seed: int = 0, follow_links: bool = False,
                   **split_kw) -> Dataset:
    """Read a dataset as it is on disk (nothing is copied or converted). Directory links are not
    followed unless `follow_links`; what the walk skipped is in the Dataset's notes."""
    with walk_options(follow_links=follow_links):
        if layout == "auto":
            return detect_and_import(source, seed=seed, **split_kw)
        if layout not in IMPORTERS:
            raise DatasetError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
        source = Path(source)
        if not source.is_dir():
            raise DatasetError("no such folder" if not source.exists() else "a dataset is a folder; this is a file",
                               path=source)
        return IMPORTERS[layout](source, seed=seed, **split_kw)
