"""The run report's charts, drawn with matplotlib's object API (no pyplot: no GUI backend, no global
state, safe on a worker thread). Training solid, validation dashed, as in the app's plots."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# A colour-blind-safe cycle (Okabe-Ito), the same order for every chart of a report.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def _figure(width: float = 9.0, height: float = 4.0):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _finite(values: Sequence) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def curves_figure(series: Sequence[tuple[str, dict]], *, best_epoch: int | None = None):
    """Loss and accuracy per epoch for one run or several overlaid (name, history) pairs."""
    fig = _figure()
    loss_ax, acc_ax = fig.subplots(1, 2)
    for i, (name, history) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        prefix = f"{name}: " if len(series) > 1 else ""
        for ax, key in ((loss_ax, "loss"), (acc_ax, "accuracy")):
            train, val = _finite(history.get(key, [])), _finite(history.get(f"val_{key}", []))
            if len(train):
                ax.plot(np.arange(1, len(train) + 1), train, color=colour, lw=2, label=f"{prefix}training")
            if len(val) and np.isfinite(val).any():
                ax.plot(np.arange(1, len(val) + 1), val, color=colour, lw=2, ls="--", label=f"{prefix}validation")
    for ax, title in ((loss_ax, "Loss"), (acc_ax, "Accuracy")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if best_epoch:
            ax.axvline(best_epoch, color="#888", lw=1, ls=":", label=f"best epoch {best_epoch}")
        ax.legend(fontsize=8 if len(series) > 2 else 9)
        ax.xaxis.get_major_locator().set_params(integer=True)
    acc_ax.set_ylim(-0.02, 1.02)
    return fig


def confusion_figure(labels: Sequence[str], counts):
    """Rows: true class, columns: predicted; colour by the row's share, text the count."""
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    k = len(labels)
    side = min(9.0, 2.5 + 0.55 * k)
    fig = _figure(side + 1.2, side)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for r in range(k):
        for c in range(k):
            if counts[r, c]:
                ax.text(c, r, f"{int(counts[r, c])}", ha="center", va="center", fontsize=8 if k > 12 else 10,
                        color="white" if share[r, c] > 0.55 else "#1a1a1a")
    fig.colorbar(image, ax=ax, label="share of the true class", shrink=0.8)
    return fig


def per_class_figure(per_class: dict[str, dict]):
    """Precision, recall and F1 of each class as grouped bars."""
    labels = list(per_class)
    x = np.arange(len(labels))
    fig = _figure(max(6.0, 1.0 + 0.6 * len(labels)), 3.8)
    ax = fig.subplots()
    for i, key in enumerate(("precision", "recall", "f1")):
        ax.bar(x + (i - 1) * 0.27, [per_class[lb][key] for lb in labels], 0.27, label=key.replace("f1", "F1"),
               color=COLOURS[i])
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylim(0, 1.2)          # room above the bars for the legend
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.grid(axis="y", alpha=0.3)
    ax.legend(ncols=3, fontsize=9, loc="upper center")
    return fig


def bars_figure(names: Sequence[str], means: Sequence[float], spreads: Sequence[float] | None = None, *,
                ylabel: str, title: str, as_percent: bool = False):
    """One bar per sweep value, with the spread over repeats as error bars; value written on top."""
    fig = _figure(max(5.0, 1.2 + 0.9 * len(names)), 3.6)
    ax = fig.subplots()
    scale = 100.0 if as_percent else 1.0
    means = [scale * m if m is not None and math.isfinite(m) else 0.0 for m in means]
    errors = None if spreads is None else [scale * (s or 0.0) for s in spreads]
    bars = ax.bar(range(len(names)), means, yerr=errors, capsize=4,
                  color=[COLOURS[i % len(COLOURS)] for i in range(len(names))])
    ax.bar_label(bars, labels=[f"{m:.1f}" if as_percent else f"{m:.3g}" for m in means], padding=2, fontsize=9)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if as_percent:
        ax.set_ylim(0, 105)
    return fig
