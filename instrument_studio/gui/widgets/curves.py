"""Training curves: batch loss (x in epochs), epoch loss (train/val, optional log scale) and accuracy.

Points are appended into growable numpy arrays from the GUI thread (the Training panel drains the
run's events on the frame clock) and drawn by `refresh()`, at most `max_fps` times a second, only
for series that changed. Several runs can be shown at once on the same axes (one colour per run;
training solid, validation dashed).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import presentation

# Tableau 10, readable on light and dark backgrounds.
RUN_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7",
               "#9c755f", "#bab0ac")



ACC_PADDING, ACC_PADDING_PRESENTING = 0.04, 0.07   # of the accuracy axis' 0...1 range
BATCH_TITLE = "Training loss per batch"
BATCH_TITLE_SHORT = "Loss per batch"

class _Series:
    """x/y arrays that grow by doubling; `view()` hands pyqtgraph the filled part without copying."""

    def __init__(self, capacity: int = 256):
        self.x = np.empty(capacity, dtype=np.float64)
        self.y = np.empty(capacity, dtype=np.float64)
        self.n = 0
        self.dirty = False

    def extend(self, x, y) -> None:
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        need = self.n + len(x)
        if need > len(self.x):
            size = max(need, 2 * len(self.x))
            self.x = np.resize(self.x, size)
            self.y = np.resize(self.y, size)
        self.x[self.n:need] = x
        self.y[self.n:need] = y
        self.n = need
        self.dirty = True

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.x[: self.n], self.y[: self.n]
        ok = np.isfinite(y)   # no validation data: NaN, not drawn
        return (x, y) if ok.all() else (x[ok], y[ok])


SERIES = ("batch_loss", "loss", "val_loss", "accuracy", "val_accuracy")
PLOTS = {"batch": ("batch_loss",), "loss": ("loss", "val_loss"), "accuracy": ("accuracy", "val_accuracy")}


class _Run:
    def __init__(self, key, label: str, colour: str, epochs: int | None = None):
        self.key, self.label, self.colour = key, label, colour
        self.epochs = epochs     # planned (a run in progress); None: as many as it has points for
        self.series = {name: _Series() for name in SERIES}
        self.items: dict[str, pg.PlotDataItem] = {}
        self.visible = True


class TrainingCurves(QWidget):
    def __init__(self, parent: QWidget | None = None, *, max_fps: float = 5.0):
        super().__init__(parent)
        self.setObjectName("training_curves")
        self.min_interval = 1.0 / max_fps
        self._last_draw = 0.0
        self._runs: dict[object, _Run] = {}
        self.draws = 0   # redraws that changed something (tests and the benchmark read it)
        self._batch_right = None
        self._batch_y: tuple[float, float] | None = None
        self._pending: list[str] = []

        self.batch_plot = self._plot(BATCH_TITLE, "loss (running mean)")
        self.loss_plot = self._plot("Loss per epoch", "loss")
        self.acc_plot = self._plot("Accuracy per epoch", "accuracy")
        self.acc_plot.setYRange(0.0, 1.0, padding=ACC_PADDING)
        # Accuracy rises towards the top: its legend goes bottom right, out of the curves' way.
        self.acc_plot.plotItem.legend.anchor(itemPos=(1, 1), parentPos=(1, 1), offset=(-8, -8))
        self.log_box = QCheckBox("Log-scale loss")
        self.log_box.setObjectName("log_loss_box")
        self.log_box.setToolTip("Plot the loss on a logarithmic axis (semilogy), as the assignment asks")
        self.log_box.toggled.connect(self.set_log_loss)
        hint = QLabel("Solid: training · dashed: validation · one colour per run")
        hint.setObjectName("curves_hint")

        top = QHBoxLayout()
        top.addWidget(hint)
        top.addStretch(1)
        top.addWidget(self.log_box)
        plots = QHBoxLayout()
        plots.addWidget(self.batch_plot, 1)
        plots.addWidget(self.loss_plot, 1)
        plots.addWidget(self.acc_plot, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(plots, 1)

    def _plot(self, title: str, ylabel: str) -> pg.PlotWidget:
        plot = pg.PlotWidget()
        plot.setTitle(title)
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", ylabel)
        plot.showGrid(x=True, y=True, alpha=0.25)
        # Grid and ticks at the labelled values only: the minor grid lines were a third of the GUI
        # thread's CPU while the curves redraw during training (every grid line is replayed on
        # each redraw of the batch plot), time taken from training on a 2-core laptop; fewer lines
        # also read better from the back of a classroom.
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setStyle(maxTickLevel=0)
            if side == "left":
                axis.setTickDensity(2.0)   # about as many values as the minor level labelled (epochs stay whole)
        plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        plot.setMenuEnabled(False)
        plot.setMinimumHeight(180)
        return plot

    # --- runs -----------------------------------------------------------------------------------
    def add_run(self, key, label: str, *, epochs: int | None = None) -> str:
        """Start curves for run `key` (of `epochs` planned epochs, when it is about to train);
        returns its colour."""
        if key in self._runs:
            self.remove_run(key)
        colour = RUN_COLOURS[len(self._runs) % len(RUN_COLOURS)] if not self._runs else self._free_colour()
        run = _Run(key, label, colour, epochs)
        self._runs[key] = run
        dash = Qt.DashLine
        specs = {
            "batch_loss": (self.batch_plot, f"{label}", Qt.SolidLine, 1),
            # One legend entry per run: the line above the plots says solid is training and dashed
            # validation, and a legend of both per run covered the curves (presentation mode).
            "loss": (self.loss_plot, label, Qt.SolidLine, 2),
            "val_loss": (self.loss_plot, None, dash, 2),
            "accuracy": (self.acc_plot, label, Qt.SolidLine, 2),
            "val_accuracy": (self.acc_plot, None, dash, 2),
        }
        for name, (plot, name_text, style, width) in specs.items():
            symbol = None if name == "batch_loss" else "o"
            item = plot.plot([], [], name=name_text, pen=pg.mkPen(colour, width=width, style=style),
                             symbol=symbol, symbolSize=5, symbolBrush=colour, symbolPen=None)
            if name == "batch_loss":
                # Thousands of batch points: draw what is on screen, decimated to the pixel width.
                item.setDownsampling(auto=True, method="peak")
                item.setClipToView(True)
            else:
                # A handful of epoch points, always inside the view (its range is theirs): without
                # this every range change re-made their symbols (~30 ms each, at every epoch).
                item.setDynamicRangeLimit(None)
            run.items[name] = item
        for plot in (self.batch_plot, self.loss_plot, self.acc_plot):
            presentation.restyle(plot)
        return colour

    def set_run_labels(self, labels: dict) -> None:
        """Rename runs in the legends (e.g. by what differs between the runs shown)."""
        for key, label in labels.items():
            run = self._runs.get(key)
            if run is None or run.label == label:
                continue
            run.label = label
            for name, item in run.items.items():
                if name.startswith("val_"):
                    continue
                text = label
                item.opts["name"] = text
                legend = self._plot_of(name).plotItem.legend
                for sample, legend_label in legend.items:
                    if sample.item is item:
                        legend_label.setText(text)
                legend.updateSize()

    def labels(self) -> dict:
        return {k: r.label for k, r in self._runs.items()}

    def legend_texts(self, plot: str = "loss") -> list[str]:
        """What a plot's legend reads now (tests)."""
        legend = {"batch": self.batch_plot, "loss": self.loss_plot, "accuracy": self.acc_plot}[plot].plotItem.legend
        return [label.text for _sample, label in legend.items]

    def _free_colour(self) -> str:
        used = {r.colour for r in self._runs.values()}
        return next((c for c in RUN_COLOURS if c not in used), RUN_COLOURS[len(self._runs) % len(RUN_COLOURS)])

    def remove_run(self, key) -> None:
        run = self._runs.pop(key, None)
        if run is None:
            return
        for name, item in run.items.items():
            plot = self._plot_of(name)
            plot.removeItem(item)
            if plot.plotItem.legend is not None:
                plot.plotItem.legend.removeItem(item)

    def clear(self) -> None:
        for key in list(self._runs):
            self.remove_run(key)

    def runs(self) -> list:
        return list(self._runs)

    def colour(self, key) -> str | None:
        run = self._runs.get(key)
        return run.colour if run else None

    def _plot_of(self, name: str) -> pg.PlotWidget:
        return {"batch_loss": self.batch_plot, "loss": self.loss_plot, "val_loss": self.loss_plot,
                "accuracy": self.acc_plot, "val_accuracy": self.acc_plot}[name]

    def set_visible_runs(self, keys) -> None:
        """Overlay: show exactly these runs."""
        keys = set(keys)
        self._batch_right = self._batch_y = None
        for key, run in self._runs.items():
            visible = key in keys
            if visible == run.visible:
                continue
            run.visible = visible
            for name, item in run.items.items():
                item.setVisible(visible)
                # Hidden runs leave the legend too, so it names only what is drawn.
                legend = self._plot_of(name).plotItem.legend
                if visible and item.name() is not None:
                    legend.addItem(item, item.name())
                else:
                    legend.removeItem(item)
        self._step_batch_ranges()

    def visible_runs(self) -> list:
        return [k for k, r in self._runs.items() if r.visible]

    # --- data -----------------------------------------------------------------------------------
    def add_batches(self, key, epochs: np.ndarray, losses: np.ndarray) -> None:
        self._runs[key].series["batch_loss"].extend(epochs, losses)

    def add_epoch(self, key, epoch: int, *, loss: float, accuracy: float, val_loss: float,
                  val_accuracy: float) -> None:
        s = self._runs[key].series
        for name, value in (("loss", loss), ("accuracy", accuracy), ("val_loss", val_loss),
                            ("val_accuracy", val_accuracy)):
            s[name].extend([epoch], [value])

    def set_history(self, key, history: dict) -> None:
        """Epoch curves of a finished run at once (e.g. a run loaded from a bundle)."""
        s = self._runs[key].series
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            values = [np.nan if v is None else v for v in history.get(name, [])]
            s[name].n = 0
            s[name].extend(np.arange(1, len(values) + 1), values)

    def point_counts(self, key) -> dict[str, int]:
        """Points drawn per series of run `key` (what is on screen, not merely stored)."""
        run = self._runs[key]
        return {name: len(item.getOriginalDataset()[0] if item.getOriginalDataset()[0] is not None else ())
                for name, item in run.items.items()}

    # --- drawing --------------------------------------------------------------------------------
    def refresh(self, now: float | None = None, *, force: bool = False) -> bool:
        """Push changed series to their plot items, at most max_fps cycles a second, and in each
        cycle one plot per call (the frame clock calls at 60 Hz): an epoch end that changes all three
        plots is spread over three frames instead of stalling one. True if something was drawn."""
        now = time.monotonic() if now is None else now
        if force:
            drew = False
            for plot in PLOTS:
                drew |= self._draw_plot(plot)
            self._pending.clear()
        else:
            if not self._pending:
                if now - self._last_draw < self.min_interval:
                    return False
                self._pending = [plot for plot, names in PLOTS.items() if self._dirty(names)]
                if not self._pending:
                    return False
                self._last_draw = now
            drew = self._draw_plot(self._pending.pop(0))
        if drew:
            self.draws += 1
        return drew

    def _dirty(self, names) -> bool:
        return any(run.series[n].dirty for run in self._runs.values() for n in names)

    def _draw_plot(self, plot: str) -> bool:
        drew = False
        log = self.log_box.isChecked()
        for run in self._runs.values():
            for name in PLOTS[plot]:
                series = run.series[name]
                if series.dirty:
                    series.dirty = False
                    x, y = series.view()
                    if log and name != "accuracy" and name != "val_accuracy":
                        keep = y > 0   # log axis: a zero loss cannot be drawn
                        x, y = x[keep], y[keep]
                    run.items[name].setData(x, y)
                    drew = True
        if drew:
            self._step_batch_ranges()
        return drew

    def _step_batch_ranges(self) -> None:
        """All plots: x from 0 to a whole number of epochs (doubling while a run trains, see below);
        batch plot: y with some slack; changed only when the data outgrows them, so the axes re-lay
        out now and then rather than on every redraw (axis layout is most of a redraw's cost)."""
        xs, ys, ends = [], [], []
        for r in self._runs.values():
            if not r.visible:
                continue
            last = [r.series[name].x[r.series[name].n - 1] for name in SERIES if r.series[name].n]
            xs += last   # the epoch curves too: one x range for the three plots
            if last:
                ends.append(r.epochs or float(np.ceil(max(last) - 1e-9)))
            s = r.series["batch_loss"]
            if s.n:
                ys.append(s.view()[1])
        y = np.concatenate(ys) if ys else np.empty(0)
        if self.log_box.isChecked():
            y = np.log10(y[y > 0])
        if not xs:
            for plot in (self.batch_plot, self.loss_plot, self.acc_plot):
                plot.enableAutoRange(x=True)
            self._batch_right = self._batch_y = None
            return
        # Epochs on every x axis from 0 to a whole epoch: a lone first point would otherwise sit in
        # the middle of an automatic range such as -2...6. While a run trains the range doubles
        # (1, 2, 4, 8 ... up to its planned epochs) rather than growing by one each epoch: the
        # curves keep at least half the width, and the plots re-lay out their axes (a 100-150 ms
        # stall of the window on a 2-core laptop, once per epoch before) a few times per run.
        need = max(1.0, float(np.ceil(max(xs) - 1e-9)))
        right = self._batch_right if self._batch_right is not None and self._batch_right >= need else 1.0
        while right < need:
            right *= 2.0
        right = max(need, min(right, max(ends)))
        if self._batch_right != right:
            self._batch_right = right
            for plot in (self.batch_plot, self.loss_plot, self.acc_plot):
                plot.setXRange(0.0, right, padding=0.02)
        if not len(y):
            self.batch_plot.enableAutoRange(y=True)
            self._batch_y = None
            return
        lo, hi = float(y.min()), float(y.max())
        span = max(hi - lo, 1e-6)
        current = self._batch_y
        if current is None or lo < current[0] or hi > current[1] or span < 0.5 * (current[1] - current[0]):
            self._batch_y = (lo - 0.08 * span, hi + 0.08 * span)
            self.batch_plot.setYRange(*self._batch_y, padding=0)

    def set_log_loss(self, on: bool) -> None:
        if self.log_box.isChecked() != on:
            self.log_box.setChecked(on)   # re-enters through toggled
            return
        self._batch_y = None
        for plot in (self.batch_plot, self.loss_plot):
            plot.setLogMode(y=on)
        for run in self._runs.values():
            for name in ("batch_loss", "loss", "val_loss"):
                run.series[name].dirty = True
        self.refresh(force=True)

    def presentation_changed(self, on: bool) -> None:
        """At presentation size the batch plot's legend covered its curves and ran past its edge; the
        loss plot beside it names the same colours. Its title, at 30 px in a third of 1280 px, lost
        its end ("Training loss per batc"): a shorter one says the same beside "Loss per epoch"."""
        self.batch_plot.plotItem.legend.setVisible(not on)
        self.batch_plot.setTitle(BATCH_TITLE_SHORT if on else BATCH_TITLE)
        # Accuracy 0 and 1 are labelled only when half a label fits between them and the plot's
        # edge (pyqtgraph drops a label that would cross the axis' end); at 30 px 2 % was too little.
        self.acc_plot.setYRange(0.0, 1.0, padding=ACC_PADDING_PRESENTING if on else ACC_PADDING)

    def theme_changed(self) -> None:
        """Follow the theme (theme.apply_theme sets pyqtgraph's defaults for new plots only; in
        presentation mode they are pure black and white, not the palette's)."""
        bg, fg = pg.getConfigOption("background"), pg.mkColor(pg.getConfigOption("foreground"))
        for plot in (self.batch_plot, self.loss_plot, self.acc_plot):
            plot.setBackground(bg)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(fg)
                axis.setTextPen(fg)
            plot.setTitle(plot.plotItem.titleLabel.text, color=fg)
            legend = plot.plotItem.legend
            legend.setLabelTextColor(fg)
            for _sample, label in legend.items:
                label.setText(label.text)   # setLabelTextColor only stores the colour
