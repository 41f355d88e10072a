"""What the app needs around datasets: where it keeps projects, open-or-import, rescan.

The app never writes into a user's data folder: projects it imports live in the user data folder
(one per source folder), pointing at the data where it lies. The CLI writes where --out says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ..errors import DatasetError
from ..userdirs import user_data_dir
from .detect import import_dataset
from .model import Dataset, is_dataset_folder, load_dataset


def projects_dir() -> Path:
    return user_data_dir("datasets")


def project_folder_for(source: str | Path, layout: str, base: Path | None = None) -> Path:
    source = Path(source).resolve()
    key = hashlib.sha1(f"{source}|{layout}".encode()).hexdigest()[:10]
    return (base or projects_dir()) / f"{source.name}-{key}"


def open_or_import(source: str | Path, *, layout: str = "auto", seed: int = 0, reimport: bool = False,
                   base: Path | None = None) -> Dataset:
    """A folder holding a project is opened; any other folder is imported once and its project
    kept in the user data folder (opened again next time, unless reimport)."""
    source = Path(source)
    if is_dataset_folder(source):
        return load_dataset(source)
    folder = project_folder_for(source, layout, base)
    if not reimport and is_dataset_folder(folder):
        try:
            return load_dataset(folder)
        except DatasetError:
            pass  # a damaged project: import afresh
    ds = import_dataset(source, layout=layout, seed=seed)
    ds.save(folder)
    return ds


STARTER = "starter"


def resolve_dataset(spec: str | Path | Dataset, *, on_event: Callable[[object], None] | None = None,
                    starter_options: dict | None = None) -> Dataset:
    """The one way a name becomes a Dataset (train, evaluate, sweep, `dataset stats|features`, the
    Training and Experiments panels): a Dataset as is (the Dataset panel's); "starter" for the
    embedded starter set (rendered on first use, Progress through on_event); a folder holding a
    project; or any other dataset folder, imported afresh with --layout auto (so files added since
    count) and its project kept in the user data folder, as the app does, never beside the data.
    starter_options: keyword arguments for starter_dataset (its executor and per-clip analysis)."""
    if isinstance(spec, Dataset):
        return spec
    if str(spec) == STARTER and not Path(STARTER).exists():
        from .starter import starter_dataset

        return starter_dataset(on_event=on_event, **(starter_options or {}))
    path = Path(spec)
    if not path.exists():
        raise DatasetError("no such dataset folder", path=path,
                           hint='a dataset project, a folder of recordings, or "starter"')
    return open_or_import(path, reimport=True)


def rescan(dataset: Dataset) -> Dataset:
    """Import the dataset's folder again (new takes recorded into it, files removed) with the same
    layout and seed, and overwrite its project. Splits are made afresh, still grouped."""
    if dataset.layout == "starter":
        raise DatasetError("the starter set is generated, not read from a folder: nothing to rescan")
    fresh = import_dataset(dataset.root, layout=dataset.layout, seed=int(dataset.split_info.get("seed", 0)))
    fresh.save(dataset.folder or dataset.root)
    return fresh


def feature_shape(dataset: Dataset) -> tuple[int, ...] | None:
    """Row shape of a feature-array dataset (None for audio datasets)."""
    if not dataset.is_arrays or not dataset.clips:
        return None
    from .npy import load_array

    file = dataset.clips[0].path.rpartition("#")[0]
    return tuple(load_array(Path(file)).shape[1:])
