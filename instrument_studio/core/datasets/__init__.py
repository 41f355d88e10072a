"""Datasets: one importer per source layout, a small model saved next to the data, leakage-free splits.

    ds = import_dataset("path/to/philharmonia", layout="auto")   # reads the folder as it is
    ds.save("path/to/project")                                   # instrument-studio.json + clips.csv
    ds = load_dataset("path/to/project")
"""

from .detect import IMPORTERS, LAYOUTS, detect_and_import, import_dataset
from .model import (
    CLIPS_FILE,
    PROJECT_FILE,
    SPLITS,
    Clip,
    Dataset,
    check_project_target,
    is_dataset_folder,
    load_dataset,
)
from .splits import assign_splits, leaking_groups

__all__ = [
    "CLIPS_FILE", "IMPORTERS", "LAYOUTS", "PROJECT_FILE", "SPLITS", "Clip", "Dataset", "assign_splits", "check_project_target",
    "detect_and_import", "import_dataset", "is_dataset_folder", "leaking_groups", "load_dataset",
]
