"""The arithmetic of Teach: a linear head over the default model's standardised embedding, fitted
to the user's takes with the default classes' weights held where they are.

Why this shape: a user brings 3-10 takes of a few sounds, nothing else. A head fitted to those
alone has never seen a violin, so it calls a violin "ocarina" with confidence. Here every output
column of the default head is kept, frozen; the taught classes get new columns (a taught class that
the default model already has, e.g. the user's own violin, starts from the default weights and is
pulled towards the takes); and the fit sees, besides the takes, a few real windows of every default
class ("anchors", resources/teach_anchors.npz, made by packaging/make_teach_anchors.py). So the new
columns learn to win on the takes and to lose on everything the default model knows, and the
decisions among default classes are exactly the default model's. Dropping the default classes folds
their columns into "unknown": a violin played to an {ocarina, kalimba} model is "unknown", not
"ocarina". Plain numpy + scipy's L-BFGS: a few thousand parameters, well under a second a fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..predict.answer import UNKNOWN, decide
from ..resources import resource_path

# The embedding parts the default head reads (see packaging/make_default_model.py --parts).
PARTS = ("max", "mean", "tags")
ANCHORS_FILE = resource_path("teach_anchors.npz")
# L2 pull of the trainable columns towards their start (the default weights, or zero), relative to
# the weighted mean cross-entropy. Chosen on bench/teach.py's renders (see docs/live.md).
L2 = 0.03
# The taught classes weigh this many times an anchored default class in the fit: the takes are what
# the user asked for (a taught sound near a default class goes to the taught one).
TAUGHT_WEIGHT = 3.0
# Share of held-out taught windows that the unknown threshold may turn into "unknown".
REJECTION_BUDGET = 0.05
# The threshold stays within these: never laxer than the default model's own, never so strict
# that a plain answer needs more than the "confident" level of live prediction.
THRESHOLD_RANGE = (0.15, 0.5)


@dataclass(frozen=True)
class Anchors:
    """Standardised-embedding inputs of real windows of the default classes."""

    x: np.ndarray              # (n, features) raw embedding parts (PARTS), float32
    labels: np.ndarray         # (n,) default class names


def load_anchors(model_sha256: str | None = None, path=None) -> Anchors:
    """The anchors shipped with the app; ModelError when missing or made for another default model."""
    path = ANCHORS_FILE if path is None else path
    try:
        with np.load(path, allow_pickle=False) as z:
            x, labels, sha = z["x"].astype(np.float32), z["labels"], str(z["model_sha256"])
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"the default classes' anchors cannot be read ({exc})", path=path,
                         hint="rebuild them with packaging/make_teach_anchors.py") from exc
    if model_sha256 is not None and sha != model_sha256:
        raise ModelError("the default classes' anchors belong to another default model", path=path,
                         hint="rebuild them with packaging/make_teach_anchors.py")
    return Anchors(x, labels)


@dataclass
class Head:
    """Raw output columns (default labels, then new ones) and, for the saved model, the map of raw
    columns onto the bundle's labels (probabilities are summed: several columns -> "unknown")."""

    raw_labels: tuple[str, ...]
    weights: np.ndarray        # (features, raw columns), on standardised inputs
    bias: np.ndarray           # (raw columns,)
    labels: tuple[str, ...]    # the bundle's labels
    merge: np.ndarray          # (raw columns, labels) 0/1

    def raw_proba(self, z: np.ndarray) -> np.ndarray:
        return softmax(z @ self.weights + self.bias)

    def proba(self, z: np.ndarray) -> np.ndarray:
        return self.raw_proba(z) @ self.merge


def softmax(logits: np.ndarray) -> np.ndarray:
    s = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)


def layout(default_labels: tuple[str, ...], taught: list[str], *, keep_default: bool):
    """(raw labels, trainable mask, bundle labels, merge matrix)."""
    new = [c for c in taught if c not in default_labels]
    raw = tuple(default_labels) + tuple(new)
    trainable = np.array([c in taught for c in raw])
    labels = tuple(sorted(set(default_labels) | set(taught))) if keep_default else tuple(sorted({*taught, UNKNOWN}))
    merge = np.zeros((len(raw), len(labels)))
    for j, c in enumerate(raw):
        merge[j, labels.index(c if c in labels else UNKNOWN)] = 1.0
    return raw, trainable, labels, merge


def fit(z: np.ndarray, y: np.ndarray, w: np.ndarray, *, w0: np.ndarray, b0: np.ndarray, trainable: np.ndarray,
        l2: float = L2, start: tuple[np.ndarray, np.ndarray] | None = None, max_iter: int = 100):
    """Weights and bias of every raw column: the frozen ones as given (w0, b0), the trainable ones
    minimising the weighted cross-entropy of rows z (standardised) with labels y (raw column
    indices) plus l2/2 * |W - w0|^2 on them. `start`: (W, b) of the trainable columns to begin at."""
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):   # small products: BLAS threads spin more CPU than they save
        return _fit(z, y, w, w0, b0, trainable, l2, start, max_iter, minimize)


def _fit(z, y, w, w0, b0, trainable, l2, start, max_iter, minimize):
    z = np.asarray(z, dtype=np.float64)
    tr = np.flatnonzero(trainable)
    fixed_logits = z @ w0 + b0
    d, k = z.shape[1], len(tr)
    w = np.asarray(w, dtype=np.float64) / np.sum(w)
    onehot = np.zeros((len(z), w0.shape[1]))
    onehot[np.arange(len(z)), y] = 1.0
    prior = w0[:, tr].astype(np.float64)

    def loss(theta):
        wt, bt = theta[:d * k].reshape(d, k), theta[d * k:]
        logits = fixed_logits.copy()
        logits[:, tr] = z @ wt + bt
        m = logits.max(axis=1, keepdims=True)
        e = np.exp(logits - m)
        s = e.sum(axis=1, keepdims=True)
        nll = float(np.sum(w * (np.log(s[:, 0]) + m[:, 0] - np.sum(logits * onehot, axis=1))))
        g = (e / s - onehot) * w[:, None]
        gw = z.T @ g[:, tr] + l2 * (wt - prior)
        return nll + 0.5 * l2 * float(np.sum((wt - prior) ** 2)), np.concatenate([gw.ravel(), g[:, tr].sum(axis=0)])

    theta0 = (np.concatenate([start[0].ravel(), start[1]]) if start is not None
              else np.concatenate([prior.ravel(), b0[tr].astype(np.float64)]))
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    weights, bias = w0.astype(np.float64).copy(), b0.astype(np.float64).copy()
    weights[:, tr] = res.x[:d * k].reshape(d, k)
    bias[tr] = res.x[d * k:]
    return weights, bias


def class_weights(labels: np.ndarray) -> np.ndarray:
    """Each class counts the same in total, however many windows it has."""
    values, counts = np.unique(labels, return_counts=True)
    per = dict(zip(values.tolist(), (1.0 / counts).tolist(), strict=True))
    return np.array([per[c] for c in labels.tolist()])


def choose_threshold(proba: np.ndarray, labels: tuple[str, ...], *, budget: float = REJECTION_BUDGET) -> float:
    """The largest threshold on the best known class's probability that turns at most `budget` of
    the held-out taught windows (rows of `proba`) into "unknown", within THRESHOLD_RANGE."""
    known = np.array([c != UNKNOWN for c in labels])
    best = np.sort(np.max(proba[:, known], axis=1)) if len(proba) else np.array([])
    if not len(best):
        return THRESHOLD_RANGE[0]
    t = float(best[int(np.floor(budget * len(best)))]) - 1e-6
    return float(np.clip(np.floor(t * 100) / 100, *THRESHOLD_RANGE))


def take_answers(proba_by_take: list[np.ndarray], labels: tuple[str, ...], threshold: float | None):
    """Each held-out take's answer (with the unknown rule) from the mean of its windows."""
    return [decide(p.mean(axis=0), labels, threshold).label for p in proba_by_take]
