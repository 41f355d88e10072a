"""Teach: a personal model from a folder of takes, on top of the default model, in one step.

    result = teach("~/instrument-dataset", "~/my-model", keep_default=False, on_event=print)

Each class folder of the dataset is a class (personal/takes.py checks the takes). Every
usable take is cut into 3 s windows every TEACH_HOP_S, the silent ones dropped, and each window is
described by the default model's frozen musicnn embedding, standardised as the default head sees it.
A new head is fitted to those descriptions and to the default classes' anchors (personal/head.py says
why and how). Leave-one-take-out (every take held out in turn, the head refitted without it) gives
the accuracy in the model card and the held-out probabilities that choose the "unknown" threshold.
The result is an ordinary bundle: the default model's layers up to the standardisation, then the
new head (standard Keras layers, safe mode), saved atomically with its MODEL_CARD.md.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import Cancelled
from ..events import Progress
from .head import (
    ANCHOR_CLAIM_BUDGET,
    TAUGHT_WEIGHT,
    Head,
    claim_shifts,
    class_weights,
    fit,
    layout,
    load_anchors,
    softmax,
    source_folds,
)
from .takes import SILENT_DB, TeachPlan, check_takes

# Windows of a take start every TEACH_HOP_S (prediction's own hop is 1.5 s): a 5 s take gives 5
# windows instead of 3, which is what a handful of takes needs.
TEACH_HOP_S = 0.5
BATCH = 32
# Leave-one-take-out refits start from the full fit, which is near: a few dozen steps do.
LOTO_ITER = 40


@dataclass
class TeachResult:
    path: Path
    labels: tuple[str, ...]
    taught: tuple[str, ...]
    keep_default: bool
    threshold: float
    loto_accuracy: float            # held-out takes named right (the unknown rule applied)
    loto_restricted: float          # the same, answers restricted to the taught classes
    per_class: dict[str, tuple[int, int]]
    takes: int
    left_out: list[str]
    windows: int
    cpu_seconds: float
    wall_seconds: float
    anchor_claims: dict = dataclasses.field(default_factory=dict)   # new class -> held-out anchors it wins
    bundle: object = None           # the saved bundle, loaded (core.learn.bundle.Bundle)


def teach(dataset: str | Path, out: str | Path, *, keep_default: bool = False,
          on_event: Callable[[object], None] | None = None, should_stop: Callable[[], bool] | None = None,
          base_path: str | Path | None = None) -> TeachResult:
    """Check the takes, learn them, save the bundle at `out`. Raises DatasetError (what to record
    next) when the takes do not allow it, ModelError when the bundle cannot be made or saved."""
    from ..learn.bundle import Bundle, check_bundle_target, load_bundle, save_bundle
    from ..predict.inference import default_model_path

    cpu0, wall0 = time.process_time(), time.monotonic()
    emit = on_event or (lambda _e: None)

    def step(stage, done, total, message=""):
        if should_stop is not None and should_stop():
            raise Cancelled("Teach cancelled")
        emit(Progress(stage, done, total, message))

    out = Path(out)
    check_bundle_target(out)
    plan = check_takes(dataset, keep_default=keep_default,
                       on_take=lambda i, n: step("checking takes", i, n, f"checking take {i + 1} of {n}"))
    plan.raise_if_blocked()
    step("loading the default model", 0, None, "loading the default model")
    base_path = Path(base_path) if base_path is not None else default_model_path()
    base = load_bundle(base_path)
    sha = _sha(base_path)
    anchors = load_anchors(sha if base_path == default_model_path() else None)
    zmodel, norm = _embedding(base.model)

    rows, owners = _windows(plan, base.feature_config, zmodel, step)
    taught = sorted({t.label for t in plan.usable()})
    raw, trainable, labels, merge = layout(base.labels, taught, keep_default=keep_default)
    w0, b0 = _default_head(base.model, len(raw))
    za = np.asarray(norm(anchors.x), dtype=np.float64)
    z = np.concatenate([rows, za])
    names = np.array([plan.usable()[o].label for o in owners] + anchors.labels.tolist())
    y = np.array([raw.index(c) for c in names])
    take_of = np.concatenate([owners, np.full(len(za), -1)])
    w = class_weights(names)
    w[:len(rows)] *= TAUGHT_WEIGHT
    step("fitting", 0, None, "fitting the head")
    full = fit(z, y, w, w0=w0, b0=b0, trainable=trainable)
    tr = np.flatnonzero(trainable)
    new = [j for j, c in enumerate(raw) if c not in base.labels]
    shift, claims = np.zeros(len(new)), {}
    if keep_default and new:
        step("fitting", 0, None, "checking the new classes against the default ones")
        shift, claims = _claim_shifts(rows, names, y, za, anchors, full, new, w0=w0, b0=b0, trainable=trainable)
        full[1][new] += shift
        claims = {raw[j]: share for j, share in claims.items()}
    head = Head(raw, *full, labels=labels, merge=merge)

    held, n = [], len(plan.usable())
    for i in range(n):
        step("leave-one-take-out", i, n, f"checking on take {i + 1} of {n} without it")
        keep = take_of != i
        wi, bi = fit(z[keep], y[keep], w[keep], w0=w0, b0=b0, trainable=trainable,
                     start=(full[0][:, tr], full[1][tr] - _spread(shift, new, tr)), max_iter=LOTO_ITER)
        bi[new] += shift
        held.append(softmax(z[take_of == i] @ wi + bi) @ merge)
    from .head import choose_threshold, take_answers

    threshold = choose_threshold(np.concatenate(held), labels)
    if keep_default and base.unknown_threshold is not None:
        # Most answers are then the default classes, whose threshold was chosen on held-out real
        # sources; one chosen on a few takes (often 0.5) turned a fifth of real recordings "unknown".
        threshold = base.unknown_threshold
    truth = [t.label for t in plan.usable()]
    answers = take_answers(held, labels, threshold)
    idx = [labels.index(c) for c in taught]
    restricted = [taught[int(np.argmax(p.mean(axis=0)[idx]))] for p in held]
    per_class = {c: (sum(a == c for a, t in zip(answers, truth, strict=True) if t == c), truth.count(c))
                 for c in taught}
    loto = float(np.mean([a == t for a, t in zip(answers, truth, strict=True)]))
    loto_r = float(np.mean([a == t for a, t in zip(restricted, truth, strict=True)]))

    step("saving", 0, None, "saving the personal model")
    model = _build_model(base.model, head, keep_default=keep_default)
    probe = plan.usable()[0]
    check = np.asarray(zmodel(_take_rows(probe.audio, base.feature_config)[:2], training=False))
    parity = float(np.abs(np.asarray(model(_take_rows(probe.audio, base.feature_config)[:2], training=False))
                          - head.proba(check)).max())
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    result = TeachResult(out, labels, tuple(taught), keep_default, threshold, loto, loto_r, per_class,
                         len(plan.usable()), plan.warnings(), len(rows), cpu, wall, claims)
    metrics = {"teach": {"dataset": str(Path(dataset).resolve()), "taught": taught, "keep_default": keep_default,
                         "loto_accuracy": loto, "loto_restricted": loto_r,
                         "per_class": {c: list(v) for c, v in per_class.items()},
                         "takes": [{"path": str(t.path.relative_to(plan.dataset)), "label": t.label,
                                    "seconds": round(t.seconds, 2)} for t in plan.usable()],
                         "left_out": plan.warnings(), "windows": len(rows), "base_model_sha256": sha,
                         "anchor_claims": claims,
                         "bias_shift": {raw[j]: float(d) for j, d in zip(new, shift, strict=True)},
                         "cpu_seconds": cpu, "parity": parity}}
    card = model_card(result, plan, parity=parity, base=base_path)
    save_bundle(out, model=model, labels=labels, feature_config=base.feature_config, mean=None, std=None,
                metrics=metrics, unknown_threshold=threshold, extra_files={"MODEL_CARD.md": card})
    result.bundle = Bundle(path=out, model=model, labels=labels, feature_config=base.feature_config, mean=None,
                           std=None, train_config=None, metrics=metrics, unknown_threshold=threshold)
    result.cpu_seconds = time.process_time() - cpu0
    result.wall_seconds = time.monotonic() - wall0
    emit(Progress("done", 1, 1, f"taught {', '.join(taught)}: leave-one-take-out accuracy {loto:.0%}"))
    return result


def _claim_shifts(rows, names, y, za, anchors, full, new, *, w0, b0, trainable):
    """The bias shift of each new column (head.claim_shifts, on anchors held out by source) and
    the share of held-out anchors each then wins (mean over the two halves)."""
    folds = source_folds(anchors.labels, anchors.sources)
    tr = np.flatnonzero(trainable)
    n = len(rows)
    own = {j: rows[y[:n] == j] for j in new}
    shifts, fold_heads = [], []
    for f in (0, 1):
        use = np.concatenate([np.ones(n, dtype=bool), folds != f])
        w = class_weights(names[use])
        w[:n] *= TAUGHT_WEIGHT
        wf, bf = fit(np.concatenate([rows, za])[use], y[use], w, w0=w0, b0=b0, trainable=trainable,
                     start=(full[0][:, tr], full[1][tr]), max_iter=LOTO_ITER)
        shifts.append(claim_shifts(wf, bf, new, held_out=za[folds == f], own=own))
        fold_heads.append((wf, bf))
    shift = np.min(shifts, axis=0)   # the stricter half: a few anchors per source are a small sample
    claims = {}
    for (wf, bf), f in zip(fold_heads, (0, 1), strict=True):
        bf = bf.copy()
        bf[new] += shift
        won = np.argmax(za[folds == f] @ wf + bf, axis=1)
        for j in new:
            claims.setdefault(j, []).append(float(np.mean(won == j)))
    return shift, {int(j): float(np.mean(v)) for j, v in claims.items()}


def _spread(shift, new, tr) -> np.ndarray:
    """The shift of the new columns laid out over the trainable ones (zero elsewhere)."""
    out = np.zeros(len(tr))
    for j, d in zip(new, shift, strict=True):
        out[list(tr).index(j)] = d
    return out


def _sha(path: Path) -> str:
    import json

    return json.loads((path / "bundle.json").read_text("utf-8"))["model_file"]["sha256"]


def _embedding(model):
    """(model: mel windows -> standardised embedding, the standardisation layer)."""
    import keras

    from ..learn.models import inference_call

    norm = model.get_layer("standardise")
    sub = keras.Model(model.input, norm.output, name="teach_embedding")
    call = inference_call(sub)
    return (lambda x, training=False: call(np.asarray(x, dtype=np.float32))), norm


def _default_head(model, n_raw: int):
    """The default head's weights (temperature folded in) with zero columns for the new classes."""
    weights, bias = model.get_layer("head").get_weights()
    w0 = np.zeros((weights.shape[0], n_raw))
    b0 = np.zeros(n_raw)
    w0[:, :weights.shape[1]] = weights
    b0[:bias.shape[0]] = bias
    return w0, b0


def _take_rows(audio: np.ndarray, cfg) -> np.ndarray:
    from ..features.clip import clip_features

    return clip_features(audio, dataclasses.replace(cfg, patch_hop_seconds=TEACH_HOP_S))


def _windows(plan: TeachPlan, cfg, zmodel, step) -> tuple[np.ndarray, np.ndarray]:
    """Standardised embeddings of every non-silent window of the usable takes, and each one's take."""
    from ..audio.levels import rms_dbfs

    sr, width = cfg.mel.sr, int(round(cfg.patch_seconds * cfg.mel.sr))
    mels, owners = [], []
    for i, take in enumerate(plan.usable()):
        x = _take_rows(take.audio, cfg)
        hop = int(round(TEACH_HOP_S * sr))
        starts = [min(j * hop, max(0, len(take.audio) - width)) for j in range(len(x))]
        loud = np.array([rms_dbfs(take.audio[s:s + width]) > SILENT_DB for s in starts])
        if not loud.any():   # a take checked as not silent has a loud second: keep its loudest window
            loud[int(np.argmax([rms_dbfs(take.audio[s:s + width]) for s in starts]))] = True
        mels.append(x[loud])
        owners += [i] * int(loud.sum())
    mel = np.concatenate(mels)
    out = []
    for j in range(0, len(mel), BATCH):
        step("embedding", j, len(mel), f"listening to window {j + 1} of {len(mel)}")
        out.append(np.asarray(zmodel(mel[j:j + BATCH], training=False), dtype=np.float64))
    return np.concatenate(out), np.asarray(owners)


def _build_model(base, head: Head, *, keep_default: bool):
    """The default model's layers up to the standardisation (frozen), then the taught head."""
    import keras
    from keras import layers

    z = base.get_layer("standardise").output
    weights, bias = head.weights, head.bias
    merge = head.merge
    if keep_default:  # a permutation: reorder the columns instead of adding a layer
        order = [head.raw_labels.index(c) for c in head.labels]
        weights, bias, merge = weights[:, order], bias[order], None
    dense = layers.Dense(weights.shape[1], name="teach_head")
    x = layers.Softmax(name="teach_probabilities")(dense(z))
    dense.set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    if merge is not None:
        # Probabilities of the classes folded into "unknown" are summed: a fixed 0/1 matrix.
        fold = layers.Dense(merge.shape[1], use_bias=False, name="teach_fold")
        x = fold(x)
        fold.set_weights([merge.astype(np.float32)])
    model = keras.Model(base.input, x, name="personal_model")
    model.trainable = False
    return model


def model_card(result: TeachResult, plan: TeachPlan, *, parity: float, base: Path) -> str:
    takes = "\n".join(f"| {t.label} | {t.path.relative_to(plan.dataset)} | {t.seconds:.1f} |" for t in plan.usable())
    rows = "\n".join(f"| {c} | {r}/{n} |" for c, (r, n) in result.per_class.items())
    left = "\n".join(f"- {w}" for w in result.left_out) or "- none"
    how = ("the default model's own threshold, as its classes are kept" if result.keep_default else
           "chosen so that at most 5% of the held-out windows of the takes would be \"unknown\"")
    kept = ""
    if result.keep_default:
        recorded = [c for c in result.taught if c not in result.anchor_claims]   # default classes taught
        if recorded:
            kept += (f", {', '.join(recorded)} included: the default model keeps naming "
                     f"{'it' if len(recorded) == 1 else 'them'} as before, and your takes of "
                     f"{'it' if len(recorded) == 1 else 'them'} teach the new classes what to lose on")
        if result.anchor_claims:
            claims = ", ".join(f"{c} {v:.1%}" for c, v in result.anchor_claims.items())
            kept += (f". Each new class was held to winning at most {ANCHOR_CLAIM_BUDGET:.0%} of real windows"
                     f" of the default classes it was not fitted on, unless that lost it its own takes; it"
                     f" wins: {claims}")
    mode = ("kept: it still names the default model's instruments" if result.keep_default else
            "dropped: sounds like them (and like nothing taught) are answered \"unknown\"")
    return f"""# Personal model: {', '.join(result.taught)}

Taught with `instrument-studio teach` (or the Live panel's Teach) from {result.takes} takes in
`{plan.dataset}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, on top of the default model
(`{base}`).

## What it answers
{len(result.labels)} answers: {', '.join(result.labels)}. The default model's classes were {mode}.
"unknown" when the best class's probability is below **{result.threshold:.2f}** ({how}), or when "unknown" wins.

## How it was made
The default model's musicnn embedding, frozen; a new linear head on it, fitted to {result.windows}
windows (3 s, every {TEACH_HOP_S} s, silent ones left out) of the takes and to real windows of the default
classes, the default classes' weights unchanged{kept}. Keras model vs the fitted head: max difference {parity:.1e}.
Taught in {result.cpu_seconds:.0f} s of CPU time.

## Leave-one-take-out accuracy: {result.loto_accuracy:.0%} ({result.loto_restricted:.0%} among the taught classes only)
Each take answered by a head fitted without it (the whole take's windows averaged, the unknown rule applied).

| class | right/takes |
|---|---|
{rows}

A handful of takes from one room and one microphone: these figures say how consistent the takes are,
not how the model fares elsewhere. Record takes in the places and at the levels it will be used.

## Takes
| class | take | seconds |
|---|---|---|
{takes}

Left out:
{left}
"""
