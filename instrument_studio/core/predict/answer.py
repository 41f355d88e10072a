"""The open-set decision every prediction display uses: an instrument, or "unknown" with the
nearest instrument kept (and "silent", decided by the caller before the model is asked)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The answer for a sound unlike every class a model knows. A bundle may also have a class of this
# name (trained on speech, noise and other instruments); it is never the "nearest" class.
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Answer:
    """One decision over class probabilities: the label ("unknown" when the best known class is
    below the bundle's threshold or the unknown class wins), its probability, and the nearest
    known class with its probability (kept when the answer is "unknown"). An "unknown" answer's
    probability is the model's unknown class's own, the figure its ranking shows beside it: high
    when the sound is unlike every class, low when no class reached the threshold (the model is
    unsure). A model without that class gives what the nearest class leaves (1 - nearest_probability)."""

    label: str
    probability: float
    nearest: str
    nearest_probability: float

    @property
    def unknown(self) -> bool:
        return self.label == UNKNOWN

    @property
    def nearest_said(self) -> str:
        """"nearest: voice 7%", as every display words it beside an unknown answer."""
        return f"nearest: {self.nearest} {self.nearest_probability:.0%}"


def decide(probabilities: np.ndarray, labels: tuple[str, ...], threshold: float | None = None) -> Answer:
    """The answer a model with an open set gives: see Answer. Without a threshold and without an
    unknown class this is the plain arg-max."""
    p = np.asarray(probabilities, dtype=np.float64)
    known = np.array([label != UNKNOWN for label in labels])
    best = int(np.argmax(np.where(known, p, -np.inf))) if known.any() else int(np.argmax(p))
    nearest, p_near = labels[best], float(p[best])
    top = int(np.argmax(p))
    if labels[top] == UNKNOWN or (threshold is not None and p_near < threshold):
        own = float(p[labels.index(UNKNOWN)]) if UNKNOWN in labels else 1.0 - p_near
        return Answer(UNKNOWN, own, nearest, p_near)
    return Answer(nearest, p_near, nearest, p_near)
