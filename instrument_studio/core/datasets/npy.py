"""Feature arrays as in the course labs: <prefix>_train_data.npy, <prefix>_train_labels.npy,
<prefix>_test_data.npy, <prefix>_test_labels.npy (optionally <prefix>_val_*), e.g. 120 MFCC values
per note. Audio feature extraction is skipped: the arrays are the features.

Labels may be strings or integers; integer labels take their names from <prefix>_classes.txt
(one name per line, in index order) when it exists. Each row is a clip whose path is
"<data file>#<row>"; validation is carved from the training rows (stratified, seeded).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from .common import LayoutMismatch, build
from .model import Clip, Dataset

NAME = "npy"
_DATA = re.compile(r"^(?P<prefix>.*?)_?(?P<split>train|val|valid|validation|test)_data\.npy$")
_SPLIT = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


def find_arrays(root: Path) -> dict[str, tuple[Path, Path]]:
    """{split: (data.npy, labels.npy)} for the first prefix that has both train and test arrays."""
    root = Path(root)
    if not root.is_dir():
        raise LayoutMismatch("not a folder", path=root)
    by_prefix: dict[str, dict[str, tuple[Path, Path]]] = {}
    for p in sorted(root.glob("*.npy")):
        m = _DATA.match(p.name)
        if not m:
            continue
        labels = p.with_name(p.name[: -len("data.npy")] + "labels.npy")
        if labels.is_file():
            by_prefix.setdefault(m.group("prefix"), {})[_SPLIT[m.group("split")]] = (p, labels)
    for _prefix, arrays in sorted(by_prefix.items()):
        if "train" in arrays and "test" in arrays:
            return arrays
    raise LayoutMismatch("no *_train_data.npy / *_train_labels.npy / *_test_data.npy / *_test_labels.npy "
                         "set in this folder", path=root)


def load_array(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read the array ({exc})", path=path) from exc


def class_names(labels: list[np.ndarray], root: Path, prefix_file: Path) -> list[str]:
    values = np.concatenate([np.asarray(lab).reshape(-1) for lab in labels])
    if values.dtype.kind in "iu":
        names_file = prefix_file.with_name(prefix_file.name.split("_train_")[0] + "_classes.txt")
        if names_file.is_file():
            names = [ln.strip() for ln in names_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
            if len(names) > int(values.max()):
                return names
        return [str(i) for i in range(int(values.max()) + 1)]
    return sorted({str(v) for v in values})


def import_dataset(root: Path, *, seed: int = 0, **split_kw) -> Dataset:
    root = Path(root)
    arrays = find_arrays(root)
    loaded = {}
    for split, (data_p, labels_p) in arrays.items():
        x, y = load_array(data_p), np.asarray(load_array(labels_p)).reshape(-1)
        if len(x) != len(y):
            raise DatasetError(f"{len(x)} rows of data but {len(y)} labels", path=labels_p)
        loaded[split] = (data_p, x, y)
    shapes = {x.shape[1:] for _, x, _ in loaded.values()}
    if len(shapes) != 1:
        raise DatasetError(f"the arrays' row shapes differ: {sorted(shapes)}", path=root)
    classes = class_names([y for _, _, y in loaded.values()], root, arrays["train"][0])
    as_int = np.asarray(loaded["train"][2]).dtype.kind in "iu"
    clips = []
    for split, (data_p, _x, y) in loaded.items():
        for i, v in enumerate(y):
            label = classes[int(v)] if as_int else str(v)
            clips.append(Clip(path=f"{data_p}#{i}", label=label, split=split, source=NAME))
    notes = [f"feature arrays: {shapes.pop()} per row; audio feature extraction is skipped"]
    return build(name=root.name, layout=NAME, root=root, clips=clips, classes=classes, seed=seed,
                 official=True, notes=notes, **split_kw)
