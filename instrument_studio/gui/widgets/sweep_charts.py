"""The Experiments panel's charts: overlaid training curves, and bar charts against the swept value.

Both draw from a list of core.experiments.sweep.SweepRun; the panel calls `show_runs` on its frame clock
when new runs have arrived, never per training event.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...core.experiments.sweep_results import ValueSummary, aggregate
from .. import presentation
from ..theme import is_dark

# A qualitative palette (matplotlib's tab10) that stays readable on light and dark backgrounds.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


def value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def value_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


class LogAxis(pg.AxisItem):
    """A log axis whose labels never overlap. With fewer than three decades in view pyqtgraph
    labels every minor tick (2..9 x 10^n), which crowd into one another; here labels are
    chosen by priority (decades, then 2 and 5, then the rest) and kept only where there is
    room, the other minor ticks stay as unlabelled marks."""

    min_gap_px = 24

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._labelled: list[float] = []

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802,N803 - pyqtgraph's names
        lo, hi = float(minVal), float(maxVal)
        if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
            return super().logTickValues(minVal, maxVal, size, stdTicks)
        px_per_decade = size / (hi - lo)
        decades = range(int(np.floor(lo)), int(np.ceil(hi)) + 1)
        chosen: list[float] = []
        for mantissas in ((1,), (2, 5), (3,), (4, 6, 7, 8, 9)):
            for d in decades:
                for m in mantissas:
                    x = d + np.log10(m)
                    if lo <= x <= hi and all(abs(x - c) * px_per_decade >= self.min_gap_px for c in chosen):
                        chosen.append(x)
        self._labelled = sorted(chosen)
        minor = [d + np.log10(m) for d in decades for m in range(1, 10)]
        minor = [x for x in minor if lo <= x <= hi and not any(abs(x - c) < 1e-9 for c in chosen)]
        return [(None, self._labelled), (None, minor)]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [f"{10 ** v * scale:.3g}" if any(abs(v - c) < 1e-9 for c in self._labelled) else ""
                for v in values]


def _plot(title: str, y_label: str, *, x_label: str = "epoch", log_y: bool = False) -> pg.PlotWidget:
    w = pg.PlotWidget(axisItems={"left": LogAxis("left")} if log_y else None)
    w.setTitle(title)
    w.setLabel("left", y_label)
    w.setLabel("bottom", x_label)
    w.showGrid(x=True, y=True, alpha=0.25)
    w.setMenuEnabled(False)
    return w


class SweepCurves(QWidget):
    """Loss (log axis, training solid / validation dashed), training accuracy and validation
    accuracy of every run, one colour per swept value, repeats in the same colour."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loss = _plot("Loss (solid: training, dashed: validation)", "loss (log)", log_y=True)
        self.loss.setLogMode(y=True)
        self.train_acc = _plot("Training accuracy", "accuracy")
        self.val_acc = _plot("Validation accuracy", "accuracy")
        for p in (self.train_acc, self.val_acc):
            p.setYRange(0.0, 1.0, padding=0.02)
        # The legend is a row above the plots: inside a plot it covers the curves it explains.
        self.legend = QLabel()
        self.legend.setObjectName("sweep_legend")
        self.legend.setTextFormat(Qt.RichText)
        self.live_items: list[tuple[pg.PlotWidget, pg.PlotDataItem]] = []
        plots = QHBoxLayout()
        for p in (self.loss, self.train_acc, self.val_acc):
            plots.addWidget(p)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addLayout(plots, 1)
        self.legend_labels: list[str] = []
        self._legend_html = ""

    def show_runs(self, runs: Sequence, values: Sequence, *, param_label: str) -> None:
        for p in (self.loss, self.train_acc, self.val_acc):
            p.clear()
        self.legend_labels = []
        swatches = []
        self.live_items = []
        order = list(values)
        for run in runs:
            if run.value not in order:
                order.append(run.value)
        labelled = set()
        for run in runs:
            i = order.index(run.value)
            color = value_color(i)
            h = run.history
            width = 2 if run.repeat == 0 else 1
            solid = pg.mkPen(color, width=width)
            dashed = pg.mkPen(color, width=width, style=Qt.DashLine)
            name = None
            if run.value not in labelled:
                labelled.add(run.value)
                name = f"{param_label} {value_text(run.value)}"
                self.legend_labels.append(name)
                swatches.append(f"<span style='color:{color}; font-size:x-large'>&#9632;</span>&nbsp;{name}")
            self._curve(self.loss, h.get("loss"), solid, name)
            self._curve(self.loss, h.get("val_loss"), dashed, None)
            self._curve(self.train_acc, h.get("accuracy"), solid, None)
            self._curve(self.val_acc, h.get("val_accuracy"), solid, None)
        longest = max((len(r.history.get("loss") or []) for r in runs), default=0)
        for p in (self.loss, self.train_acc, self.val_acc):
            axis = p.getAxis("bottom")
            if 0 < longest <= 12:      # whole epochs only: no "epoch 2.5" ticks on short runs
                axis.setTickSpacing(major=1, minor=1)
            else:
                axis.setTickSpacing()
        repeats = " · thick: first repeat, thin: the others" if any(r.repeat for r in runs) else ""
        # The line key in the legend too: solid training, dashed validation.
        key = "&nbsp;&nbsp;&nbsp;&mdash;&mdash; training&nbsp;&nbsp; &ndash; &ndash; validation (loss)"
        self._legend_html = "&nbsp;&nbsp;&nbsp;".join(swatches) + (
            f"<span style='color:gray'>{key}{repeats}</span>" if swatches else "")
        self.legend.setText(self._legend_html)
        for p in (self.loss, self.train_acc, self.val_acc):
            presentation.restyle(p)

    def presentation_changed(self, on: bool) -> None:
        font = self.legend.font()
        base = self.__dict__.setdefault("_legend_px", QFontInfo(font).pixelSize())
        font.setPixelSize(presentation.big_px() if on else base)
        self.legend.setFont(font)
        # The key is in the legend row: a long title would be cut at presentation size.
        self.loss.setTitle("Loss (log)" if on else "Loss (solid: training, dashed: validation)")
        presentation.restyle(self.loss)

    @staticmethod
    def _curve(plot: pg.PlotWidget, ys, pen, name) -> None:
        if not ys:
            return
        y = np.asarray(ys, dtype=float)
        if plot.getPlotItem().ctrl.logYCheck.isChecked():
            y = np.where(y > 0, y, np.nan)  # a log axis cannot show 0
        plot.plot(np.arange(1, len(y) + 1), y, pen=pen, name=name, connect="finite")

    def show_live(self, history: dict[str, list[float]], label: str = "") -> None:
        """The run in progress, drawn grey and dotted over the finished ones."""
        running = (f"&nbsp;&nbsp;&nbsp;<span style='color:gray'>&#8943; running: {label}</span>"
                   if label and history.get("loss") else "")
        self.legend.setText(self._legend_html + running)
        for plot, item in self.live_items:
            plot.removeItem(item)
        self.live_items = []
        pen = pg.mkPen("#888888" if not is_dark() else "#bbbbbb", width=2, style=Qt.DotLine)
        for plot, key in ((self.loss, "loss"), (self.train_acc, "accuracy"), (self.val_acc, "val_accuracy")):
            ys = history.get(key) or []
            if ys:
                y = np.asarray(ys, dtype=float)
                if plot is self.loss:
                    y = np.where(y > 0, y, np.nan)
                self.live_items.append((plot, plot.plot(np.arange(1, len(y) + 1), y, pen=pen, connect="finite")))
        for p in (self.loss, self.train_acc, self.val_acc):
            presentation.restyle(p)


class _BarChart(pg.PlotWidget):
    """Bars (mean over repeats) with error bars (sample standard deviation) and each run as a dot."""

    def __init__(self, title: str, y_label: str):
        super().__init__()
        self.setTitle(title)
        self.setLabel("left", y_label)
        self.showGrid(y=True, alpha=0.25)
        self.setMenuEnabled(False)
        # Seconds and joules stay in their units; an axis reading "x1e-06" confuses a class.
        self.getAxis("left").enableAutoSIPrefix(False)
        self.heights: list[float] = []
        self.errors: list[float] = []
        self.points: list[tuple[float, float]] = []
        self.message = ""
        self.notes: list[str] = []
        self._text: pg.TextItem | None = None

    def show_bars(self, labels: Sequence[str], means: Sequence[float], stds: Sequence[float],
             points: Sequence[tuple[int, float]], *, x_label: str, notes: Sequence[str] = ()) -> None:
        """notes: a short text above each bar (e.g. how many repeats reached the target)."""
        self.clear()
        self.message = ""
        self.notes = list(notes)
        for side in ("left", "bottom"):
            self.showAxis(side)
        self.heights, self.errors = [float(m) for m in means], [float(s) for s in stds]
        self.points = [(float(x), float(y)) for x, y in points]
        self.setLabel("bottom", x_label)
        x = np.arange(len(labels), dtype=float)
        self.getAxis("bottom").setTicks([[(float(i), t) for i, t in enumerate(labels)]])
        if len(labels):
            brushes = [pg.mkBrush(value_color(i)) for i in range(len(labels))]
            self.addItem(pg.BarGraphItem(x=x, height=self.heights, width=0.6, brushes=brushes,
                                         pen=pg.mkPen(None)))
            if any(self.errors):
                self.addItem(pg.ErrorBarItem(x=x, y=np.asarray(self.heights), top=np.asarray(self.errors),
                                             bottom=np.asarray(self.errors), beam=0.2,
                                             pen=pg.mkPen("#dddddd" if is_dark() else "#222222", width=1.5)))
            if self.points:
                px, py = zip(*self.points, strict=False)
                self.addItem(pg.ScatterPlotItem(x=px, y=py, size=6, brush=pg.mkBrush("#00000080"),
                                                pen=pg.mkPen("#ffffff", width=0.5)))
            self.setXRange(-0.6, len(labels) - 0.4, padding=0)
            top = max([m + s for m, s in zip(self.heights, self.errors, strict=False)] + [y for _, y in self.points] + [0.0])
            top = top if top > 0 else 1.0
            self.setYRange(0.0, top * (1.2 if self.notes else 1.05), padding=0)
            for i, note in enumerate(self.notes):
                if note:
                    item = pg.TextItem(note, anchor=(0.5, 0.0), color="#888888")
                    item.setPos(float(i), top * 1.19)
                    self.addItem(item)
        presentation.restyle(self)

    def show_message(self, text: str) -> None:
        """Instead of bars: why there is nothing to show (e.g. energy unavailable)."""
        self.clear()
        self.heights, self.errors, self.points = [], [], []
        self.message = text
        self.notes = []
        for side in ("left", "bottom"):
            self.hideAxis(side)
        self._text = pg.TextItem(text, anchor=(0.5, 0.5), color="#888888")
        self.addItem(self._text)
        self._text.setPos(0.5, 0.5)
        self.getAxis("bottom").setTicks(None)
        self.setXRange(0, 1, padding=0)
        self.setYRange(0, 1, padding=0)
        presentation.restyle(self)


class SweepBars(QWidget):
    """Four bar charts against the swept value: time, energy, test accuracy, epochs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.time = _BarChart("Time to accuracy", "training time (s)")
        self.energy = _BarChart("GPU energy to accuracy", "energy (J)")
        self.test_acc = _BarChart("Test accuracy", "accuracy")
        self.epochs = _BarChart("Epochs", "epochs")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, chart in enumerate((self.time, self.energy, self.test_acc, self.epochs)):
            grid.addWidget(chart, i // 2, i % 2)
        self.charts = {"train_seconds": self.time, "energy": self.energy, "test_accuracy": self.test_acc,
                       "epochs": self.epochs}

    def show_runs(self, runs: Sequence, values: Sequence, *, param_label: str, to_accuracy: bool) -> None:
        summaries: list[ValueSummary] = aggregate(runs, values)
        labels = [value_text(s.value) for s in summaries]
        index = {s.value: i for i, s in enumerate(summaries)}
        self.time.setTitle("Time to accuracy" if to_accuracy else "Training time")
        self.energy.setTitle("GPU energy to accuracy" if to_accuracy else "GPU energy")

        def pts(attr):
            return [(index[r.value], getattr(r, attr)) for r in runs]

        # Bars of runs that never reached the target measure "gave up at max epochs", not time to accuracy.
        notes = [f"{s.reached}/{s.n} reached" for s in summaries] if to_accuracy else []
        self.time.show_bars(labels, [s.train_seconds[0] for s in summaries], [s.train_seconds[1] for s in summaries],
                       pts("train_seconds"), x_label=param_label, notes=notes)
        self.test_acc.show_bars(labels, [s.test_accuracy[0] for s in summaries], [s.test_accuracy[1] for s in summaries],
                           pts("test_accuracy"), x_label=param_label)
        self.epochs.show_bars(labels, [s.epochs[0] for s in summaries], [s.epochs[1] for s in summaries],
                         pts("epochs"), x_label=param_label, notes=notes)
        if not runs:
            self.energy.show_bars(labels, [], [], [], x_label=param_label)
            return
        if all(s.energy_joules is not None for s in summaries):
            self.energy.show_bars(labels, [s.energy_joules[0] for s in summaries],
                             [s.energy_joules[1] for s in summaries], pts("energy_joules"), x_label=param_label,
                             notes=notes)
        elif all(s.cpu_energy_joules is not None for s in summaries):
            self.energy.setTitle("CPU package energy (RAPL)" + (" to accuracy" if to_accuracy else "")
                                 + " — no GPU energy")
            self.energy.show_bars(labels, [s.cpu_energy_joules[0] for s in summaries],
                             [s.cpu_energy_joules[1] for s in summaries], pts("cpu_energy_joules"),
                             x_label=param_label, notes=notes)
        else:
            reason = next((r.energy_source for r in runs if r.energy_joules is None), "unavailable")
            self.energy.show_message(_wrap(f"GPU energy {reason}", 60))


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)
