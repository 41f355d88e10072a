"""The arithmetic of Teach: a linear head over the default model's standardised embedding, fitted
to the user's takes with the default classes' weights held where they are.

Why this shape: a user brings 3-10 takes of a few sounds, nothing else. A head fitted to those
alone has never seen a violin, so it calls a violin "ocarina" with confidence. Here every output
column of the default head is kept, frozen; the taught classes get new columns; and the fit sees,
besides the takes, a few real windows of every default class ("anchors",
resources/teach_anchors.npz, made by packaging/make_teach_anchors.py). So the new columns learn to
win on the takes and to lose on everything the default model knows, and the decisions among
default classes are exactly the default model's. Dropping the default classes folds their columns
into "unknown": a violin played to an {ocarina, kalimba} model is "unknown", not "ocarina"; a taught
class the default model has (the user's own violin) then starts from the default weights and is
pulled towards the takes. Keeping them, such a column stays frozen too: pulled towards a few takes
from one room it took real violins and flutes from their own columns (measured in docs/teach.md),
and its takes still teach the new columns what to lose on.

With the default classes kept, each new column's bias is then lowered (`claim_shifts`) until it
wins at most ANCHOR_CLAIM_BUDGET of anchors it was not fitted on (the anchors are split by source
in two; each half is answered by a head fitted on the other), but never so far that it stops
winning TAKE_KEEP of its own takes' windows: the fit alone sees its anchors won, yet real
recordings of those sources (other notes, other rooms) were taken by a new column.
Plain numpy + scipy's L-BFGS: a few thousand parameters, well under a second a fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..learn.musicnn import DEFAULT_HEAD_PARTS
from ..predict.answer import UNKNOWN, decide
from ..resources import resource_path

# The embedding parts the default head reads.
PARTS = DEFAULT_HEAD_PARTS
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
# Default classes kept: the most a new column may win of the held-out anchors of the default
# classes, and the least it must still win of its own takes' windows (that bound wins).
ANCHOR_CLAIM_BUDGET = 0.02
TAKE_KEEP = 0.95


@dataclass(frozen=True)
class Anchors:
    """Standardised-embedding inputs of real windows of the default classes."""

    x: np.ndarray              # (n, features) raw embedding parts (PARTS), float32
    labels: np.ndarray         # (n,) default class names
    sources: np.ndarray | None = None   # (n,) where each came from (held-out splits keep a source whole)


def load_anchors(model_sha256: str | None = None, path=None) -> Anchors:
    """The anchors shipped with the app; ModelError when missing or made for another default model."""
    path = ANCHORS_FILE if path is None else path
    try:
        with np.load(path, allow_pickle=False) as z:
            x, labels, sha = z["x"].astype(np.float32), z["labels"], str(z["model_sha256"])
            sources = z["sources"] if "sources" in z.files else None
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"the default classes' anchors cannot be read ({exc})", path=path,
                         hint="rebuild them with packaging/make_teach_anchors.py") from exc
    if model_sha256 is not None and sha != model_sha256:
        raise ModelError("the default classes' anchors belong to another default model", path=path,
                         hint="rebuild them with packaging/make_teach_anchors.py")
    return Anchors(x, labels, sources)


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
    # Kept default classes stay the default model's, even those taught (see the module docstring).
    trainable = np.array([c in new or (c in taught and not keep_default) for c in raw])
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

    if not np.any(trainable):   # default classes kept, none new: the default head itself
        return w0.astype(np.float64).copy(), b0.astype(np.float64).copy()
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


def source_folds(labels: np.ndarray, sources: np.ndarray | None) -> np.ndarray:
    """0/1 per anchor: the sources of each class dealt alternately to two halves (every other
    anchor when sources are unknown), so a half holds no window of a source the other has."""
    fold = np.arange(len(labels)) % 2
    if sources is None:
        return fold
    for c in np.unique(labels):
        of = labels == c
        names = np.unique(sources[of])
        if len(names) < 2:   # one source: split its windows instead
            fold[of] = np.arange(int(of.sum())) % 2
            continue
        for k, name in enumerate(names):
            fold[of & (sources == name)] = k % 2
    return fold


def claim_shifts(weights: np.ndarray, bias: np.ndarray, columns: list[int], *, held_out: np.ndarray,
                 own: dict[int, np.ndarray], budget: float = ANCHOR_CLAIM_BUDGET,
                 keep: float = TAKE_KEEP) -> np.ndarray:
    """How much to lower the bias of each of `columns` (one value each, <= 0) so that it wins at
    most `budget` of the rows `held_out` (anchors of default classes), unless that makes it win
    less than `keep` of `own[column]` (its takes' windows): then only as far as that allows."""
    b = np.asarray(bias, dtype=np.float64).copy()
    logits_a = held_out @ weights
    logits_o = {j: own[j] @ weights for j in columns}
    shifts = np.zeros(len(columns))
    for _ in range(2):   # a second pass: lowering one new column hands anchors to another
        for k, j in enumerate(columns):
            start = b[j] - shifts[k]
            d = _lowest(lambda d, j=j, start=start: _share(logits_a, b, j, start + d) <= budget, ok_at_zero=True)
            if len(logits_o[j]) and _share(logits_o[j], b, j, start + d) < keep:
                # The takes' bound wins: the lowest shift that still keeps them.
                d = max(d, _lowest(lambda d, j=j, start=start: _share(logits_o[j], b, j, start + d) >= keep,
                                   ok_at_zero=False))
            shifts[k] = d
            b[j] = start + d
    return shifts


def _share(logits: np.ndarray, bias: np.ndarray, j: int, bj: float) -> float:
    """Share of rows whose best column is j, with column j's bias set to bj."""
    b = bias.copy()
    b[j] = bj
    return float(np.mean(np.argmax(logits + b, axis=1) == j)) if len(logits) else 0.0


def _lowest(ok, *, ok_at_zero: bool, floor: float = -30.0, steps: int = 30) -> float:
    """The shift in [floor, 0] where `ok` turns (bisection). ok_at_zero=True: ok(d) holds for d
    low enough (a claim share falling as d falls): the highest such d. False: ok(d) holds for d
    high enough (a win share rising with d): the lowest such d."""
    if ok_at_zero and ok(0.0):
        return 0.0
    lo, hi = floor, 0.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        if ok(mid) == ok_at_zero:
            lo = mid
        else:
            hi = mid
    return lo if ok_at_zero else hi
