"""The sweep's settings: which parameter, which values, how many repeats, how each run stops."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import StudioError
from ...core.experiments.sweep import SweepConfig, default_values, param_label, parse_values
from .sweep_charts import value_text

PARAMS = (("learning rate", "lr"), ("batch size", "batch_size"), ("optimizer", "optimizer"),
          ("other setting…", "other"))


class SweepForm(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.param_combo = QComboBox()
        self.param_combo.setObjectName("sweep_param")
        for text, key in PARAMS:
            self.param_combo.addItem(text, key)
        self.other_edit = QLineEdit()
        self.other_edit.setObjectName("sweep_other_param")
        self.other_edit.setPlaceholderText("training setting, e.g. validation_split")
        self.other_edit.setVisible(False)
        self.values_edit = QLineEdit()
        self.values_edit.setObjectName("sweep_values")
        self.values_edit.setToolTip("Comma-separated values, typed like the setting (e.g. 0.1, 0.01)")
        self.defaults_button = QPushButton("Defaults")
        self.defaults_button.setToolTip("The course assignment's values for this parameter")
        self.repeats_spin = QSpinBox()
        self.repeats_spin.setObjectName("sweep_repeats")
        self.repeats_spin.setRange(1, 20)
        self.repeats_spin.setToolTip("Runs per value, each with a different seed (mean and spread)")

        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("sweep_mode")
        self.mode_combo.addItem("fixed epochs", "fixed-epochs")
        self.mode_combo.addItem("train to accuracy", "train-to-accuracy")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setObjectName("sweep_epochs")
        self.epochs_spin.setRange(1, 10000)
        self.epochs_spin.setValue(20)
        self.target_spin = QDoubleSpinBox()
        self.target_spin.setObjectName("sweep_target")
        self.target_spin.setRange(0.05, 1.0)
        self.target_spin.setDecimals(3)
        self.target_spin.setSingleStep(0.01)
        self.target_spin.setValue(0.98)
        self.patience_spin = QSpinBox()
        self.patience_spin.setObjectName("sweep_patience")
        self.patience_spin.setRange(1, 100)
        self.patience_spin.setValue(3)
        self.max_epochs_spin = QSpinBox()
        self.max_epochs_spin.setObjectName("sweep_max_epochs")
        self.max_epochs_spin.setRange(1, 100000)
        self.max_epochs_spin.setValue(500)

        fixed = QWidget()
        fl = QHBoxLayout(fixed)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.addWidget(QLabel("epochs"))
        fl.addWidget(self.epochs_spin)
        fl.addStretch(1)
        to_acc = QWidget()
        tl = QHBoxLayout(to_acc)
        tl.setContentsMargins(0, 0, 0, 0)
        for text, w in (("validation accuracy above", self.target_spin), ("for", self.patience_spin),
                        ("epochs in a row (20 % of the training data held out), at most", self.max_epochs_spin)):
            tl.addWidget(QLabel(text))
            tl.addWidget(w)
        tl.addWidget(QLabel("epochs"))
        tl.addStretch(1)
        self.mode_stack = QStackedWidget()
        self.mode_stack.addWidget(fixed)
        self.mode_stack.addWidget(to_acc)

        row1 = QHBoxLayout()
        row1.addWidget(QLabel("Sweep"))
        row1.addWidget(self.param_combo)
        row1.addWidget(self.other_edit)
        row1.addWidget(QLabel("values"))
        row1.addWidget(self.values_edit, 1)
        row1.addWidget(self.defaults_button)
        row1.addWidget(QLabel("repeats"))
        row1.addWidget(self.repeats_spin)
        row2 = QHBoxLayout()
        row2.addWidget(QLabel("Each run:"))
        row2.addWidget(self.mode_combo)
        row2.addWidget(self.mode_stack, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row1)
        layout.addLayout(row2)

        self.param_combo.currentIndexChanged.connect(self._param_changed)
        self.mode_combo.currentIndexChanged.connect(lambda i: self.mode_stack.setCurrentIndex(i))
        self.defaults_button.clicked.connect(self.reset_values)
        for w in (self.values_edit, self.other_edit):
            w.textChanged.connect(lambda _t: self.changed.emit())
        self.mode_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.reset_values()

    # --- reading -----------------------------------------------------------------------------
    def param(self) -> str:
        key = self.param_combo.currentData()
        return self.other_edit.text().strip() if key == "other" else key

    def mode(self) -> str:
        return self.mode_combo.currentData()

    def sweep_config(self, base, *, dataset: str = "", features=None) -> SweepConfig:
        """The sweep the form describes, on top of `base` (a TrainConfig); ConfigError if invalid."""
        param = self.param()
        if not param:
            raise StudioError("type the name of the training setting to sweep")
        values = parse_values(param, self.values_edit.text(), base=base)
        extra = {"features": features} if features is not None else {}
        return SweepConfig(base=base, param=param, values=values, repeats=self.repeats_spin.value(),
                           mode=self.mode(), epochs=self.epochs_spin.value(),
                           target_accuracy=self.target_spin.value(), patience=self.patience_spin.value(),
                           max_epochs=self.max_epochs_spin.value(), dataset=dataset, **extra)

    # --- writing -----------------------------------------------------------------------------
    def reset_values(self) -> None:
        param = self.param_combo.currentData()
        try:
            values = default_values(param)
        except ImportError:  # optimizers come from core.learn.training
            values = ()
        self.values_edit.setText(", ".join(value_text(v) for v in values))

    def _param_changed(self) -> None:
        other = self.param_combo.currentData() == "other"
        self.other_edit.setVisible(other)
        self.reset_values()
        self.changed.emit()

    def set_from(self, sweep: SweepConfig) -> None:
        """Show a reopened sweep's settings."""
        i = self.param_combo.findData(sweep.param)
        if i < 0:
            i = self.param_combo.findData("other")
            self.other_edit.setText(sweep.param)
        self.param_combo.setCurrentIndex(i)
        self.values_edit.setText(", ".join(value_text(v) for v in sweep.values))
        self.repeats_spin.setValue(sweep.repeats)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(sweep.mode))
        self.epochs_spin.setValue(sweep.epochs)
        self.target_spin.setValue(sweep.target_accuracy)
        self.patience_spin.setValue(sweep.patience)
        self.max_epochs_spin.setValue(sweep.max_epochs)

    def label(self) -> str:
        return param_label(self.param())
