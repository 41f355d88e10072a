"""Rendering figures to image files without a screen (matplotlib's Agg canvas, never pyplot)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import MelConfig
from ..fileio import atomic_path
from .mel_axis import mel_axis_ticks


def mel_png(db: np.ndarray, cfg: MelConfig, out: str | Path, *, title: str = "",
            width_px: int = 1400, height_px: int = 600) -> Path:
    """A labelled mel spectrogram: time in seconds, frequency in Hz on the mel scale, dB colour bar."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    seconds = db.shape[1] * cfg.hop_length / cfg.sr
    lo = max(float(np.percentile(db, 1)) if db.size else -90.0, float(db.max(initial=-90.0)) - 90.0)
    im = ax.imshow(db, origin="lower", aspect="auto", interpolation="nearest", cmap="magma",
                   extent=(0, seconds, 0, cfg.n_mels), vmin=lo, vmax=float(db.max(initial=0.0)))
    ticks = mel_axis_ticks(cfg)
    ax.set_yticks([p for p, _ in ticks], [label for _, label in ticks])
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Frequency (Hz, mel scale)")
    ax.set_title(title or "Mel spectrogram")
    fig.colorbar(im, ax=ax, label="Power (dB re full scale)", format="%+.0f dB")
    fig.text(0.99, 0.01, f"{cfg.n_mels} mel bands, fmax {cfg.fmax:g} Hz, n_fft {cfg.n_fft}, hop {cfg.hop_length}, "
             f"sr {cfg.sr} Hz", ha="right", va="bottom", fontsize=8, color="0.4")
    fig.tight_layout()
    out = Path(out)
    with atomic_path(out, suffix=".png.part") as tmp:
        fig.savefig(tmp, format="png")
    return out
