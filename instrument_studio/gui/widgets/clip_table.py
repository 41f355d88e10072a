"""The clip list: a table model over a Dataset's clips, filtered by class and split."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QSortFilterProxyModel, Qt

COLUMNS = (("File", "name"), ("Class", "label"), ("Split", "split"), ("Pitch", "pitch"),
           ("Dynamic", "dynamic"), ("Details", "details"))
SPLIT_TEXT = {"train": "training", "val": "validation", "test": "test"}


def _details(clip) -> str:
    meta = clip.metadata
    parts = []
    for key in ("articulation", "kind", "genre"):
        if meta.get(key):
            parts.append(str(meta[key]))
    if clip.fold is not None:
        parts.append(f"fold {clip.fold}")
    if len(clip.labels) > 1:
        parts.append("labels: " + ", ".join(clip.labels))
    return "; ".join(parts)


class ClipTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.clips: list = []

    def set_clips(self, clips) -> None:
        self.beginResetModel()
        self.clips = list(clips)
        self.endResetModel()

    def rowCount(self, parent=None) -> int:  # noqa: N802 - Qt API
        return 0 if parent is not None and parent.isValid() else len(self.clips)

    def columnCount(self, parent=None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        clip = self.clips[index.row()]
        key = COLUMNS[index.column()][1]
        if role == Qt.DisplayRole:
            if key == "name":
                return clip.name if "#" not in clip.path else f"{clip.name} row {clip.path.rsplit('#', 1)[1]}"
            if key == "label":
                return clip.label or "(several)"
            if key == "split":
                return SPLIT_TEXT.get(clip.split, clip.split)
            if key == "details":
                return _details(clip)
            if key == "dynamic" and "dynamic" not in clip.metadata and "velocity" in clip.metadata:
                return f"velocity {clip.metadata['velocity']}"
            value = clip.metadata.get(key)
            return "" if value is None else str(value)
        if role == Qt.ToolTipRole:
            return clip.path
        if role == Qt.UserRole:
            return clip
        return None


class ClipFilter(QSortFilterProxyModel):
    """Rows of one class and/or one split ("" = any)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = ""
        self.split = ""

    def set_filter(self, *, label: str, split: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.10+: invalidateFilter() is deprecated
            self.beginFilterChange()
            self.label, self.split = label, split
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.label, self.split = label, split
            self.invalidateFilter()

    def filterAcceptsRow(self, row, parent) -> bool:  # noqa: N802
        clip = self.sourceModel().clips[row]
        if self.label and self.label not in clip.all_labels:
            return False
        return not self.split or clip.split == self.split
