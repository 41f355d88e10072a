"""The Training panel's settings: model and its hyper-parameters, optimizer, batches, epochs,
validation, class weights, seed and stopping rule, turned into a TrainConfig (and back).

Hyper-parameter editors are made from each model's defaults in core.learn.models (an int gets a spin box,
a float a decimal box, a bool a check box, a list a text field), so every model's own parameters
are editable without a form per model.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.config import FEATURE_KINDS
from ...core.errors import ConfigError
from ...core.learn.backend import REPRODUCIBLE_WHY
from ...core.learn.models import MODELS
from ...core.learn.training import OPTIMIZERS, TrainConfig

CHOICES = {"activation": ("sigmoid", "relu", "tanh", "elu", "leaky_relu"), "pooling": ("flatten", "global-average")}
STOP_TEXT = {"none": "None (run all epochs)", "target-accuracy": "Target accuracy (TrainToAccuracy)",
             "early-stopping": "Early stopping"}
OPTIMIZER_TEXT = {"adam": "Adam", "sgd": "SGD (Nesterov momentum 0.9)", "adadelta": "Adadelta", "rmsprop": "RMSprop"}


def _float_box(lo: float, hi: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    return box


def _int_box(lo: int, hi: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    return box


class ParamEditor(QWidget):
    """Editors for one model's hyper-parameters, built from its defaults."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, tuple[QWidget, Any]] = {}

    def set_model(self, name: str) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors.clear()
        for key, default in MODELS[name].defaults.items():
            editor = self._editor(key, default)
            editor.setObjectName(f"param_{key}")
            self.form.addRow(key.replace("_", " "), editor)
            self.editors[key] = (editor, default)

    def _editor(self, key: str, default) -> QWidget:
        if isinstance(default, bool):
            w = QCheckBox()
            w.setChecked(default)
            w.toggled.connect(self.changed)
        elif isinstance(default, int):
            w = _int_box(0 if key == "depth" else 1, 4096)
            w.setValue(default)
            w.valueChanged.connect(self.changed)
        elif isinstance(default, float):
            if key == "l2":
                w = _float_box(0.0, 1.0, 5, 0.0001)
            else:
                w = _float_box(0.0, 0.95 if "dropout" in key else 10.0, 3, 0.05)
            w.setValue(default)
            w.valueChanged.connect(self.changed)
        elif isinstance(default, str):
            w = QComboBox()
            w.addItems(CHOICES.get(key, (default,)))
            w.setCurrentText(default)
            w.currentTextChanged.connect(self.changed)
        else:  # a tuple of ints: units or filters per layer
            w = QLineEdit(", ".join(str(v) for v in default))
            w.setToolTip("comma-separated, one value per layer")
            w.editingFinished.connect(self.changed)
        return w

    def values(self) -> dict[str, Any]:
        """Only the values that differ from the model's defaults (what a TrainConfig records)."""
        out = {}
        for key, (w, default) in self.editors.items():
            if isinstance(w, QCheckBox):
                value = w.isChecked()
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                value = w.value()
            elif isinstance(w, QComboBox):
                value = w.currentText()
            else:
                try:
                    value = [int(v) for v in w.text().replace(";", ",").split(",") if v.strip()]
                except ValueError:
                    raise ConfigError(f"{key}: expected whole numbers separated by commas, got {w.text()!r}") from None
                if not value:
                    raise ConfigError(f"{key}: give at least one number")
                default = list(default)
            if value != default:
                out[key] = value
        return out

    def set_values(self, params: dict[str, Any]) -> None:
        for key, value in params.items():
            if key not in self.editors:
                continue
            w, _ = self.editors[key]
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(value)
            elif isinstance(w, QComboBox):
                w.setCurrentText(str(value))
            else:
                w.setText(", ".join(str(v) for v in value))


class TrainForm(QWidget):
    """Model, features and training settings. `config()` -> TrainConfig; `feature_kind()`."""

    model_changed = Signal(str)
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model_box = QComboBox()
        self.model_box.setObjectName("model_box")
        for name, spec in MODELS.items():
            self.model_box.addItem(spec.title, name)
            self.model_box.setItemData(self.model_box.count() - 1, spec.description, 3)  # tooltip role
        self.feature_box = QComboBox()
        self.feature_box.setObjectName("feature_box")
        for kind, text in zip(FEATURE_KINDS, ("MFCC summary vectors", "frame sequences (13 MFCC + centroid + "
                                                                       "7 contrast)", "log-mel patches (1 s)",
                                              "musicnn input patches (3 s, 16 kHz log-mel)"),
                              strict=True):
            self.feature_box.addItem(text, kind)
        self.params = ParamEditor()
        self.params.setObjectName("param_editor")

        self.optimizer_box = QComboBox()
        self.optimizer_box.setObjectName("optimizer_box")
        for name in OPTIMIZERS:
            self.optimizer_box.addItem(OPTIMIZER_TEXT[name], name)
        self.lr_box = _float_box(1e-6, 10.0, 6, 0.0005)
        self.lr_box.setObjectName("lr_box")
        self.batch_box = _int_box(1, 65536)
        self.batch_box.setObjectName("batch_box")
        self.epochs_box = _int_box(1, 100000)
        self.epochs_box.setObjectName("epochs_box")
        self.val_box = _float_box(0.0, 0.9, 2, 0.05)
        self.val_box.setObjectName("val_split_box")
        self.val_note = QLabel()
        self.val_note.setObjectName("val_note")
        self.val_note.setWordWrap(True)
        self.weights_box = QCheckBox("Balanced class weights")
        self.weights_box.setObjectName("class_weights_box")
        self.seed_box = _int_box(0, 2**31 - 1)
        self.seed_box.setObjectName("seed_box")
        self.reproducible_box = QComboBox()
        self.reproducible_box.setObjectName("reproducible_box")
        for text, value in (("Automatic: on for the CPU, off for a GPU", None), ("On", True), ("Off", False)):
            self.reproducible_box.addItem(text, value)
        self.reproducible_box.setToolTip(REPRODUCIBLE_WHY)
        self.precision_box = QComboBox()
        self.precision_box.setObjectName("precision_box")
        for value, text in (("off", "Off (float32)"), ("bfloat16", "bfloat16"), ("float16", "float16")):
            self.precision_box.addItem(text, value)
        self.precision_box.setToolTip("CNNs only: compute in 16 bits, keep weights in float32. Faster on GPUs "
                                      "with tensor cores; no gain on a CPU.")
        self.spe_box = _int_box(1, 1024)
        self.spe_box.setObjectName("steps_per_execution_box")
        self.spe_box.setToolTip("Training steps per compiled call. More steps: less per-step overhead on a "
                                "GPU; the curves and Stop then act once per block of steps.")

        self.stop_box = QComboBox()
        self.stop_box.setObjectName("stop_box")
        for rule, text in STOP_TEXT.items():
            self.stop_box.addItem(text, rule)
        self.threshold_box = _float_box(0.01, 1.0, 3, 0.01)
        self.threshold_box.setObjectName("threshold_box")
        self.patience_box = _int_box(1, 1000)
        self.patience_box.setObjectName("patience_box")
        self.best_box = QCheckBox("Keep the best weights (val accuracy)")
        self.best_box.setObjectName("restore_best_box")
        self.best_box.setToolTip("end with the weights of the epoch with the best validation accuracy, "
                                 "also when Stop is pressed")

        model_group = QGroupBox("Model")
        mf = QFormLayout(model_group)
        mf.addRow("Model", self.model_box)
        mf.addRow("Features", self.feature_box)
        mf.addRow(self.params)
        train_group = QGroupBox("Training")
        tf = self._train_layout = QFormLayout(train_group)
        tf.addRow("Optimizer", self.optimizer_box)
        tf.addRow("Learning rate", self.lr_box)
        tf.addRow("Batch size", self.batch_box)
        tf.addRow("Max epochs", self.epochs_box)
        tf.addRow("Validation split", self.val_box)
        tf.addRow(self.val_note)
        tf.addRow(self.weights_box)
        tf.addRow("Seed", self.seed_box)
        tf.addRow("Reproducible", self.reproducible_box)
        tf.addRow("Mixed precision", self.precision_box)
        tf.addRow("Steps per execution", self.spe_box)
        stop_group = QGroupBox("Stopping")
        sf = QFormLayout(stop_group)
        sf.addRow("Rule", self.stop_box)
        sf.addRow("Target accuracy", self.threshold_box)
        sf.addRow("Patience (epochs)", self.patience_box)
        sf.addRow(self.best_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for group in (model_group, train_group, stop_group):
            layout.addWidget(group)
        layout.addStretch(1)

        self.model_box.currentIndexChanged.connect(self._model_picked)
        self.stop_box.currentIndexChanged.connect(self._update_enabled)
        self.feature_box.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.params.changed.connect(self.changed)
        self.set_config(TrainConfig())
        self.set_dataset_validation(None)

    # --- values -----------------------------------------------------------------------------------
    def model(self) -> str:
        return self.model_box.currentData()

    def feature_kind(self) -> str:
        return self.feature_box.currentData()

    def set_feature_kind(self, kind: str, *, fixed: bool = False) -> None:
        self.feature_box.setCurrentIndex(max(0, self.feature_box.findData(kind)))
        self.feature_box.setEnabled(not fixed)
        self.feature_box.setToolTip("these features were computed already; the dataset fixes them" if fixed else
                                    "features computed from the dataset's audio for this model")

    def set_dataset_validation(self, n_val: int | None) -> None:
        """The dataset's own validation split, when it has one, replaces the fraction.
        n_val: its rows (0: none, the fraction applies; None: not known before its features exist)."""
        own = bool(n_val)
        self.val_box.setEnabled(not own)
        if own:
            text = f"The dataset has its own validation split ({n_val} rows); it is used instead."
        elif n_val is None:
            text = "Imported datasets use their own validation split instead."
        else:
            text = ""
        self.val_note.setText(text)
        self._train_layout.setRowVisible(self.val_note, bool(text))

    def config(self) -> TrainConfig:
        """The settings as a TrainConfig; ConfigError names the bad field."""
        return TrainConfig(model=self.model(), model_params=self.params.values(),
                           optimizer=self.optimizer_box.currentData(), learning_rate=self.lr_box.value(),
                           batch_size=self.batch_box.value(), epochs=self.epochs_box.value(),
                           validation_split=self.val_box.value(), class_weights=self.weights_box.isChecked(),
                           seed=self.seed_box.value(), stop_rule=self.stop_box.currentData(),
                           threshold=self.threshold_box.value(), patience=self.patience_box.value(),
                           restore_best=self.best_box.isChecked(), reproducible=self.reproducible_box.currentData(),
                           mixed_precision=self.precision_box.currentData() if self.precision_box.isEnabled()
                           else "off", steps_per_execution=self.spe_box.value())

    def set_config(self, cfg: TrainConfig) -> None:
        self.model_box.setCurrentIndex(self.model_box.findData(cfg.model))
        self.params.set_model(cfg.model)
        self.params.set_values(cfg.model_params)
        self.optimizer_box.setCurrentIndex(self.optimizer_box.findData(cfg.optimizer))
        self.lr_box.setValue(cfg.learning_rate)
        self.batch_box.setValue(cfg.batch_size)
        self.epochs_box.setValue(cfg.epochs)
        self.val_box.setValue(cfg.validation_split)
        self.weights_box.setChecked(cfg.class_weights)
        self.seed_box.setValue(cfg.seed)
        self.stop_box.setCurrentIndex(self.stop_box.findData(cfg.stop_rule))
        self.threshold_box.setValue(cfg.threshold)
        self.patience_box.setValue(cfg.patience)
        self.best_box.setChecked(cfg.restore_best)
        self.reproducible_box.setCurrentIndex(max(0, self.reproducible_box.findData(cfg.reproducible)))
        self.precision_box.setCurrentIndex(max(0, self.precision_box.findData(cfg.mixed_precision)))
        self.spe_box.setValue(cfg.steps_per_execution)
        self._update_enabled()

    def set_running(self, running: bool) -> None:
        for w in (self.model_box, self.params, self.optimizer_box, self.lr_box, self.batch_box, self.epochs_box,
                  self.weights_box, self.seed_box, self.stop_box, self.threshold_box, self.patience_box,
                  self.best_box, self.reproducible_box, self.precision_box, self.spe_box):
            w.setEnabled(not running)
        if running:
            self.val_box.setEnabled(False)
            self._feature_enabled = self.feature_box.isEnabled()
            self.feature_box.setEnabled(False)
        else:
            self.val_box.setEnabled("own validation split (" not in self.val_note.text())
            self.feature_box.setEnabled(getattr(self, "_feature_enabled", True))
            self._update_enabled()

    def _model_picked(self, _index: int) -> None:
        name = self.model()
        self.params.set_model(name)
        if self.feature_box.isEnabled():
            self.feature_box.setCurrentIndex(self.feature_box.findData(MODELS[name].feature_kind))
        self.model_changed.emit(name)
        self.changed.emit()

    def _update_enabled(self, *_args) -> None:
        rule = self.stop_box.currentData()
        self.threshold_box.setEnabled(rule == "target-accuracy")
        self.patience_box.setEnabled(rule != "none")
        self.precision_box.setEnabled(MODELS[self.model()].feature_kind == "mel-patches")
