"""The Dataset panel: import a dataset, see its facts and class balance, browse and hear its clips,
extract its features. The starter set is one click away and shown when nothing else is open."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core.datasets import LAYOUTS
from ...core.datasets.library import feature_shape, open_or_import, rescan
from ...core.events import Progress
from .. import workers
from ..widgets.class_counts import ClassCountsView
from ..widgets.clip_table import SPLIT_TEXT, ClipFilter, ClipTableModel
from ..widgets.message_label import empty_state, line_label, message_label
from ..widgets.tables import follows_its_sorting
from .dataset_clip import ClipPreviewBox
from .dataset_features import FeatureBox

# Training classes whose sizes differ by more than this factor get a warning.
IMBALANCE_RATIO = 2.0
LAYOUT_TEXT = {"auto": "Detect automatically", "folders": "Folder per class", "philharmonia": "Philharmonia names",
               "uiowa": "University of Iowa names", "medley": "Medley-solos-DB", "esc50": "ESC-50",
               "irmas": "IRMAS", "nsynth": "NSynth", "npy": "Feature arrays (.npy)"}


def _load_starter():
    from ...core.datasets.starter import starter_dataset

    return starter_dataset()


def _open_job(source: str, layout: str):
    ds = open_or_import(source, layout=layout)
    return ds, feature_shape(ds)


def _rescan_job(dataset):
    ds = rescan(dataset)
    return ds, feature_shape(ds)


def imbalance_warning(classes, train_counts: dict[str, int]) -> str:
    """A sentence for the user when the training classes are badly unbalanced (or one is empty)."""
    if not classes:
        return ""
    empty = [c for c in classes if train_counts.get(c, 0) == 0]
    if empty:
        return (f"⚠ No training clips for {', '.join(empty[:4])}{'…' if len(empty) > 4 else ''}: "
                "a model cannot learn these classes.")
    lo = min(classes, key=lambda c: train_counts[c])
    hi = max(classes, key=lambda c: train_counts[c])
    ratio = train_counts[hi] / train_counts[lo]
    if ratio <= IMBALANCE_RATIO:
        return ""
    return (f"⚠ Imbalanced classes: {hi} has {train_counts[hi]:,} training clips, {lo} only "
            f"{train_counts[lo]:,} ({ratio:.1f}×). Accuracy alone flatters the large classes: "
            "read per-class recall, or train with class weights.")



# The class chart at presentation size: 30 px class names, key and counts need ~420 px.
PRESENTATION_CHART_MIN = 520

class DatasetPanel(QWidget):
    title = "Dataset"
    dataset_loaded = Signal(object)       # Dataset
    features_ready = Signal(object)       # FeatureSet
    clip_shown = Signal(str)              # path of the clip whose spectrogram is shown

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("dataset_panel")
        self.dataset = None
        self.feature_row_shape: tuple[int, ...] | None = None
        self._started = False
        self._job = 0
        self._loading = None
        self._build()

    # --- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = QPushButton("Import folder…")
        self.open_button.setObjectName("import_button")
        self.open_button.setToolTip("Read a dataset folder as it is (nothing in it is changed), "
                                    "or open a folder holding an instrument-studio.json project")
        self.open_button.clicked.connect(self.open_dialog)
        self.layout_combo = QComboBox()
        self.layout_combo.setObjectName("layout_combo")
        for name in LAYOUTS:
            self.layout_combo.addItem(LAYOUT_TEXT.get(name, name), name)
        self.starter_button = QPushButton("Starter set")
        self.starter_button.setObjectName("starter_button")
        self.starter_button.setToolTip("Ten instruments rendered from a SoundFont on this computer: "
                                       "trains out of the box, no download")
        self.starter_button.clicked.connect(self.use_starter)
        self.rescan_button = QPushButton("Rescan")
        self.rescan_button.setObjectName("rescan_button")
        self.rescan_button.setToolTip("Read the dataset's folder again (new takes recorded into it, files removed)")
        self.rescan_button.setEnabled(False)
        self.rescan_button.clicked.connect(self.rescan)
        self.name_label = message_label("")
        self.name_label.setObjectName("dataset_name")
        self.name_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(QLabel("layout"))
        bar.addWidget(self.layout_combo)
        bar.addWidget(self.starter_button)
        bar.addWidget(self.rescan_button)
        bar.addSpacing(12)
        bar.addWidget(self.name_label, 1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress_label = line_label()
        prow = QHBoxLayout()
        prow.addWidget(self.progress_label)
        prow.addWidget(self.progress, 1)
        self.progress_row = QWidget()
        self.progress_row.setLayout(prow)
        self.progress_row.setVisible(False)

        self.facts_label = message_label("")
        self.facts_label.setObjectName("facts")
        # A font, not a style sheet: a styled label keeps its old text colour after a theme change.
        font = self.facts_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.facts_label.setFont(font)
        self.facts_label.setContentsMargins(0, 4, 0, 4)
        self.warning_label = message_label()
        self.warning_label.setObjectName("imbalance_warning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("QLabel { background: #fff3cd; color: #664d03; border: 1px solid #e0c36c;"
                                         " padding: 6px; border-radius: 4px; }")
        self.warning_label.setVisible(False)
        self.notes_label = message_label("")
        self.notes_label.setObjectName("dataset_notes")
        self.notes_label.setWordWrap(True)

        self.counts_view = ClassCountsView()
        self.counts_view.setMinimumWidth(320)

        self.class_filter = QComboBox()
        self.class_filter.setObjectName("class_filter")
        self.split_filter = QComboBox()
        self.split_filter.setObjectName("split_filter")
        self.split_filter.addItem("all splits", "")
        for split, text in SPLIT_TEXT.items():
            self.split_filter.addItem(text, split)
        self.shown_label = line_label("")
        self.shown_label.setObjectName("shown_count")
        frow = QHBoxLayout()
        frow.addWidget(QLabel("Clips of"))
        frow.addWidget(self.class_filter)
        frow.addWidget(QLabel("in"))
        frow.addWidget(self.split_filter)
        frow.addStretch(1)
        frow.addWidget(self.shown_label)
        self.model = ClipTableModel(self)
        self.proxy = ClipFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("clip_table")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QTableView.SelectRows)
        self.table.setSelectionMode(QTableView.SingleSelection)
        # Unsorted until the user clicks a header: the dataset's own order (class by class).
        self.table.horizontalHeader().setSortIndicator(-1, Qt.AscendingOrder)
        self.table.setSortingEnabled(True)
        follows_its_sorting(self.table)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.clicked.connect(self._clip_clicked)
        self.table.activated.connect(self._clip_clicked)
        self.class_filter.currentIndexChanged.connect(self._filter_changed)
        self.split_filter.currentIndexChanged.connect(self._filter_changed)

        self.clip_box = ClipPreviewBox(self.ctx)
        self.clip_box.clip_shown.connect(self.clip_shown)
        self.spectrogram = self.clip_box.spectrogram

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(frow)
        rsplit = QSplitter(Qt.Vertical)
        rsplit.addWidget(self.table)
        rsplit.addWidget(self.clip_box)
        rsplit.setSizes([360, 260])
        rl.addWidget(rsplit, 1)

        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.counts_view)
        split.addWidget(right)
        split.setSizes([420, 860])
        self.body = split

        self.features_box = FeatureBox(self.ctx)
        self.features_box.set_dataset(None)
        self.features_box.finished.connect(lambda fs, _r: self.features_ready.emit(fs))
        self.features_box.config_changed.connect(lambda _c: self._update_facts())

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.facts_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.notes_label)
        layout.addWidget(split, 1)
        layout.addWidget(self.features_box)

        self.empty_label = empty_state(
            "No dataset open",
            "<b>Import folder…</b> (or drop the folder here) reads a folder per class, Philharmonia or Iowa "
            "names, Medley-solos-DB, ESC-50, IRMAS, NSynth or the labs' .npy arrays.<br>The <b>Starter set</b> "
            "(ten instruments rendered from a SoundFont) needs no download.", name="dataset_empty")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(content)

        root = QVBoxLayout(self)
        root.addLayout(bar)
        root.addWidget(self.progress_row)
        root.addWidget(self.stack, 1)

    # --- opening ------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self.ensure_dataset()

    def ensure_dataset(self) -> None:
        """Open what was open last time, or the starter set: once, when first needed."""
        if self._started:
            return
        self._started = True
        self.clip_box.check_output()
        last = self.ctx.settings.get("dataset/last", "") or ""
        if last and Path(last).is_dir():
            self.open_folder(last, layout="auto")
        else:
            self.use_starter()

    def open_dialog(self) -> None:
        start = self.ctx.settings.get("dataset/last_dir", str(Path.home()))
        path = QFileDialog.getExistingDirectory(self, "Import Dataset Folder", start)
        if path:
            self.ctx.settings.set("dataset/last_dir", str(Path(path).parent))
            self.open_folder(path, layout=self.layout_combo.currentData())

    def open_folder(self, path: str | Path, *, layout: str = "auto") -> None:
        self._started = True
        self._start_job(f"Reading {Path(path).name}…", _open_job, str(path), layout)

    def use_starter(self) -> None:
        self._started = True
        self._start_job("Preparing the starter set (rendered once, then cached)…", _load_starter)

    def rescan(self) -> None:
        if self.dataset is not None and self.dataset.layout != "starter":
            self._start_job(f"Reading {Path(self.dataset.root).name} again…", _rescan_job, self.dataset)

    def _start_job(self, text: str, fn, *args) -> None:
        self._job += 1
        job = self._job
        self.progress_label.setText(text)
        self.progress.setRange(0, 0)
        self.progress_row.setVisible(True)
        self.open_button.setEnabled(False)
        self.starter_button.setEnabled(False)
        self.rescan_button.setEnabled(False)
        self._loading = workers.start_worker(
            fn, *args,
            on_yield=lambda ev: self._on_progress(job, ev),
            on_return=lambda result: self._loaded(job, result),
            on_error=lambda exc: self._load_failed(job, exc),
            on_finish=lambda: self._load_finished(job))

    def _on_progress(self, job: int, ev) -> None:
        if job == self._job and isinstance(ev, Progress) and ev.fraction is not None:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(ev.fraction * 1000))

    def _loaded(self, job: int, result) -> None:
        if job != self._job:
            return
        ds, shape = result if isinstance(result, tuple) else (result, None)
        self.set_dataset(ds, feature_row_shape=shape)

    def _load_failed(self, job: int, exc: BaseException) -> None:
        if job == self._job:
            self.ctx.report_error("Cannot open dataset", exc)

    def _load_finished(self, job: int) -> None:
        if job == self._job:
            self._loading = None
            self.progress_row.setVisible(False)
            self.open_button.setEnabled(True)
            self.starter_button.setEnabled(True)
            self.rescan_button.setEnabled(self.dataset is not None and self.dataset.layout != "starter")

    def set_dataset(self, ds, *, feature_row_shape: tuple[int, ...] | None = None) -> None:
        self.dataset = ds
        self.feature_row_shape = feature_row_shape
        if ds.folder is not None and ds.layout != "starter":
            self.ctx.settings.set("dataset/last", str(ds.folder))
        elif ds.layout == "starter":
            self.ctx.settings.set("dataset/last", "")
        self.name_label.setText(f"<b>{ds.name}</b> — {LAYOUT_TEXT.get(ds.layout, ds.layout)} · {ds.root}")
        self.name_label.setToolTip(str(ds.folder or ds.root))
        self.notes_label.setText(" · ".join(ds.notes))
        self.notes_label.setVisible(bool(ds.notes))
        counts = ds.counts()
        self.counts_view.set_counts(ds.classes, counts)
        warning = imbalance_warning(ds.classes, counts["train"])
        self.warning_label.setText(warning)
        self.warning_label.setVisible(bool(warning))
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem("all classes", "")
        for c in ds.classes:
            self.class_filter.addItem(c, c)
        self.class_filter.blockSignals(False)
        self.model.set_clips(ds.clips)
        self.clip_box.clear()  # the previous dataset's clip is not one of these
        self._filter_changed()  # before sizing: the columns fit the rows actually shown
        self.table.resizeColumnsToContents()
        self.features_box.set_dataset(ds)
        self._update_facts()
        self.stack.setCurrentIndex(1)
        self.ctx.set_dataset(ds)
        self.ctx.status.emit(f"Dataset {ds.name}: {len(ds.classes)} classes, {len(ds.clips):,} clips", 6000)
        self.dataset_loaded.emit(ds)

    def _update_facts(self) -> None:
        ds = self.dataset
        if ds is None:
            return
        stats = ds.stats()
        if ds.is_arrays and self.feature_row_shape:
            n_features = int(np.prod(self.feature_row_shape))
            what = "from the arrays"
        else:
            cfg = self.features_box.config()
            shape = cfg.row_shape
            n_features = int(np.prod(shape))
            if cfg.kind == "mfcc":
                what = "MFCC summary"
            elif cfg.kind == "sequence":
                what = f"{shape[0]} frames × {shape[1]}"
            else:
                what = " × ".join(str(n) for n in shape) + " patch"
        self.facts_label.setText(
            f"Training samples <b>{stats['n_train']:,}</b> · validation <b>{stats['n_val']:,}</b> · "
            f"test <b>{stats['n_test']:,}</b> · features per sample <b>{n_features:,}</b> ({what}) · "
            f"classes <b>{len(ds.classes)}</b>")

    # --- clip list ----------------------------------------------------------------------------
    def _filter_changed(self, *_) -> None:
        self.proxy.set_filter(label=self.class_filter.currentData() or "",
                              split=self.split_filter.currentData() or "")
        total = len(self.model.clips)
        self.shown_label.setText(f"{self.proxy.rowCount():,} of {total:,} clips")

    def _clip_clicked(self, index) -> None:
        clip = self.proxy.data(index, Qt.UserRole)
        if clip is not None:
            self.show_clip(clip)

    def show_clip(self, clip) -> None:
        self.clip_box.show_clip(clip)

    # --- lifecycle ----------------------------------------------------------------------------
    def presentation_changed(self, on: bool) -> None:
        """At presentation size the chart's key and its count axis need more than 420 px (they were
        cut off); about two fifths of the width. Back to the usual split after."""
        self.counts_view.setMinimumWidth(PRESENTATION_CHART_MIN if on else 320)   # never squeezed below it
        total = sum(self.body.sizes()) or 1280
        chart = max(PRESENTATION_CHART_MIN, int(total * 0.42)) if on else 420
        self.body.setSizes([chart, max(1, total - chart)])

    def theme_changed(self) -> None:
        self.counts_view.recolor()
        self.clip_box.theme_changed()

    def shutdown(self) -> None:
        self.features_box.cancel()
        self.clip_box.shutdown()
