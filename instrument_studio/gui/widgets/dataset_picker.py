"""What to train on: the starter set, the Dataset panel's dataset, a folder, or features in memory."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from ...core.datasets.library import STARTER


@dataclass(eq=False)
class DatasetSource:
    label: str
    path: str | None = None          # a folder, or "starter"
    features: object = None          # a FeatureSet already in memory
    dataset: object = None           # a core.datasets.Dataset (the Dataset panel's)

    @property
    def source(self):
        """What core.features.extraction.load_feature_set takes."""
        return self.dataset if self.dataset is not None else self.path


class DatasetPicker(QWidget):
    changed = Signal(object)   # DatasetSource

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sources: list[DatasetSource] = []
        self._panel_source: DatasetSource | None = None
        self.box = QComboBox()
        self.box.setObjectName("dataset_box")
        self.box.setMinimumContentsLength(28)
        self.box.currentIndexChanged.connect(lambda i: i >= 0 and self.changed.emit(self.sources[i]))
        self.open_button = QPushButton("Open dataset folder…")
        self.open_button.setToolTip("a dataset project, a saved feature set, or a folder of recordings in a "
                                    "layout Instrument Studio recognises")
        self.open_button.clicked.connect(self._open_folder)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Dataset"))
        layout.addWidget(self.box, 1)
        layout.addWidget(self.open_button)
        self.add(DatasetSource("Starter set (built in)", path=STARTER))

    def current(self) -> DatasetSource:
        return self.sources[self.box.currentIndex()]

    def add(self, source: DatasetSource, *, select: bool = True) -> None:
        self.sources.append(source)
        self.box.addItem(source.label)
        if select:
            self.box.setCurrentIndex(self.box.count() - 1)

    def use_feature_set(self, features, name: str) -> None:
        self.add(DatasetSource(name, features=features))

    def use_folder(self, path: str, name: str | None = None) -> None:
        for i, s in enumerate(self.sources):
            if s.path == str(path):
                self.box.setCurrentIndex(i)
                return
        self.add(DatasetSource(name or str(path), path=str(path)))

    def use_panel_dataset(self, dataset) -> None:
        """One entry that follows the Dataset panel, selected whenever its dataset changes."""
        label = f"Dataset panel: {dataset.name}"
        if self._panel_source is None:
            self._panel_source = DatasetSource(label, dataset=dataset)
            self.add(self._panel_source)
            return
        self._panel_source.dataset, self._panel_source.label = dataset, label
        index = self.sources.index(self._panel_source)
        self.box.setItemText(index, label)
        if self.box.currentIndex() == index:
            self.changed.emit(self._panel_source)
        else:
            self.box.setCurrentIndex(index)

    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset folder")
        if folder:
            self.use_folder(folder)
