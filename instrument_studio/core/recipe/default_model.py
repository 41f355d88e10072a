"""The shipped default model, rebuilt from scratch in one command, every step cached:

    python packaging/make_default_model.py [--data ../shared/data] [--out DIR]

1. gather    Items: ../shared/data (real/ sources, Philharmonia), the npm sample packs, renders of
             three SoundFonts, phrases built from real notes (recipe.sources/fetch/render/phrases).
2. embed     musicnn windows of every item (recipe.embed), cached per file.
3. holdouts  for every source: train without it, test on it. Gives the source x class table of the
             model card and out-of-source probabilities, the honest material for step 4.
4. calibrate a temperature (NLL on the out-of-source window probabilities) and the threshold below
             which the answer is "unknown" (chosen on held-out instruments and background sounds).
5. fit       the head on everything; one .keras model (musicnn layers, standardisation, linear head
             with the temperature folded in) in a bundle with the threshold, and MODEL_CARD.md.

The head is a logistic regression on the embedding (scikit-learn), weighted so that every
(source, class) pair counts the same: a source with hundreds of notes must not outvote one with a
few phrases, or the model learns the recording chain of the big source. A SoundFont's pairs count
less (`render_weight`): many renders teach an unheard library's notes, but at full weight they pull
real phrases towards themselves.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .embed import Embedded
from .sources import BACKGROUND, BUILT, SOUNDFONT_SOURCE, Item
from .speech import SOURCE as SPEECH_SOURCE

UNKNOWN = "unknown"
# The sources a validation fold holds out; the others are too small to make a fold of their own.
HOLDOUT_SOURCES = ("freesound", "cmmsd-vibrato", "bach10", "bach-violin", "weresax", "philharmonia", "npm-tonejs")
# Out-of-source answers of known classes that may fall below the unknown threshold.
KNOWN_REJECTION_BUDGET = 0.10
# Live windows shown as confident must be right this often out of source (phrase sources).
CONFIDENT_PRECISION = 0.7
PHRASE_SOURCES = ("freesound", "cmmsd-vibrato", "bach10", "bach-violin")


@dataclass
class Head:
    """A linear head over standardised embeddings (what build_classifier turns into Keras layers)."""

    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray            # (features, classes)
    bias: np.ndarray               # (classes,)
    temperature: float = 1.0

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def proba(self, x: np.ndarray, *, temperature: float | None = None) -> np.ndarray:
        return self.proba_of_logits(self.logits(x), temperature=temperature)

    def proba_of_logits(self, z: np.ndarray, *, temperature: float | None = None) -> np.ndarray:
        z = z / (self.temperature if temperature is None else temperature)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def label_of(item_label: str) -> str:
    return UNKNOWN if item_label == BACKGROUND else item_label


def nuisance_directions(x: np.ndarray, keys: Sequence[tuple[str, str]], k: int) -> np.ndarray:
    """(features, k): the directions along which the same class differs from source to source
    (nuisance attribute projection, as speaker recognition removes the channel): the top-k
    principal axes of every (source, class) mean minus its class's mean over sources, on
    standardised windows. What separates one recording chain from another within a class is
    what a model must not learn; classes heard from a single source say nothing about it."""
    pairs = sorted(set(keys))
    index = {key: n for n, key in enumerate(pairs)}
    rows_of = np.array([index[key] for key in keys])
    sums = np.zeros((len(pairs), x.shape[1]))
    np.add.at(sums, rows_of, x)
    means = sums / np.bincount(rows_of, minlength=len(pairs))[:, None]
    by_class: dict[str, list[np.ndarray]] = defaultdict(list)
    for (_source, label), m in zip(pairs, means, strict=True):
        by_class[label].append(m)
    rows = [m - np.mean(ms, axis=0) for ms in by_class.values() if len(ms) > 1 for m in ms]
    if not rows or k <= 0:
        return np.zeros((x.shape[1], 0))
    _, _, vt = np.linalg.svd(np.asarray(rows), full_matrices=False)
    return vt[:k].T


def fit_head(data: Sequence[Embedded], *, C: float = 0.05, features: Callable[[Embedded], np.ndarray],
             nuisance: int = 0, render_weight: float = 1.0) -> Head:
    """Logistic regression on every playing window, each (source, class) pair weighted equally, a
    pair of SoundFont renders `render_weight` of that; with `nuisance` > 0 it learns nothing along
    that many source-to-source directions (`nuisance_directions`), which are projected out of its
    weights, so the head keeps its shape."""
    from sklearn.linear_model import LogisticRegression

    xs, ys, keys, pair_weight = [], [], [], {}
    for e in data:
        x = features(e)
        xs.append(x)
        ys += [label_of(e.item.label)] * len(x)
        key = (e.item.source, label_of(e.item.label))
        keys += [key] * len(x)
        # (the generated background sounds are renders too, but made to teach "unknown": full weight)
        pair_weight[key] = render_weight if e.item.source.startswith(SOUNDFONT_SOURCE) else 1.0
    x = np.concatenate(xs).astype(np.float64)
    counts = Counter(keys)
    w = np.array([pair_weight[k] / counts[k] for k in keys])
    w *= len(w) / w.sum()
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    v = nuisance_directions(z, keys, nuisance)
    z -= (z @ v) @ v.T
    # Standardised again after the projection (measured: 2-4 points better out of source than
    # without, the regularisation then treating every remaining direction alike).
    rescale = z.std(axis=0) if nuisance else np.ones(z.shape[1])
    rescale[rescale < 1e-6] = 1.0
    clf = LogisticRegression(C=C, max_iter=1000).fit(z / rescale, ys, sample_weight=w)
    coef, intercept = clf.coef_, clf.intercept_
    if len(clf.classes_) == 2:
        # scikit-learn keeps one logit for two classes; softmax over (-z/2, z/2) is its sigmoid.
        coef, intercept = np.vstack([-coef, coef]) / 2, np.concatenate([-intercept, intercept]) / 2
    # ((z - z v v') / r) W = z (W' - v v' W') with W' = W / r: folded into the weights.
    weights = coef.T / rescale[:, None]
    weights -= v @ (v.T @ weights)
    return Head(labels=tuple(clf.classes_), mean=mean.astype(np.float32), scale=scale.astype(np.float32),
                weights=weights.astype(np.float32), bias=intercept.astype(np.float32))


@dataclass
class HeldOut:
    """Out-of-source answers: per item, the source, the true class and the mean window probability
    (over the labels of the head that did not see the source)."""

    source: str
    label: str
    labels: tuple[str, ...]
    proba: np.ndarray                      # (classes,) whole-file answer (file_answer of the windows)
    window_logits: np.ndarray              # (windows, classes), for calibration
    window_power: np.ndarray | None = None  # (windows,) the windows' power, their weight in the answer


def file_answer(window_proba: np.ndarray, power: np.ndarray | None = None) -> np.ndarray:
    """A recording's answer from its (playing) windows', each weighted by its power: the app's rule
    for the seconds of a file (predict.inference.whole_from_timeline), windows for seconds."""
    from ..predict.inference import whole_from_timeline

    n = len(window_proba)
    return whole_from_timeline(window_proba, np.zeros(n, dtype=bool), step=1.0, duration=float(n), power=power)


def answer_recording(head: Head, e: Embedded, features: Callable[[Embedded], np.ndarray],
                     source: str | None = None) -> HeldOut:
    """`head`'s answer to one recording, as the app answers a file (file_answer of its windows),
    with the windows' logits and power kept for calibration."""
    z = head.logits(features(e))
    return HeldOut(source or e.item.source, label_of(e.item.label), head.labels,
                   file_answer(head.proba_of_logits(z), e.playing_power), z, e.playing_power)


def _right_among(results: Sequence[HeldOut], subset: Sequence[str]) -> float:
    """The share of `results` whose likeliest class of `subset` is their own."""
    return float(np.mean([subset[int(np.argmax([r.proba[r.labels.index(c)] for c in subset]))] == r.label
                          for r in results]))


@dataclass
class Holdouts:
    results: list[HeldOut] = field(default_factory=list)

    def table(self) -> dict[str, dict[str, tuple[int, int]]]:
        """source -> class -> (right, files), answers restricted to the classes the source has
        (as the judged test sets are)."""
        out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        by_source = defaultdict(list)
        for r in self.results:
            by_source[r.source].append(r)
        for source, rs in by_source.items():
            present = sorted({r.label for r in rs if r.label != UNKNOWN})
            for r in rs:
                if r.label == UNKNOWN or r.label not in r.labels:
                    continue
                idx = [r.labels.index(c) for c in present if c in r.labels]
                guess = r.labels[idx[int(np.argmax(r.proba[idx]))]]
                cell = out[source][r.label]
                cell[0] += guess == r.label
                cell[1] += 1
        return {s: {c: tuple(v) for c, v in cls.items()} for s, cls in out.items()}

    def subset_accuracy(self, k: int, among: Mapping[str, Collection[str]] | None = None) -> dict[str, float]:
        """source -> accuracy with answers restricted to k of the source's classes, the mean over
        every k-class subset (each subset's accuracy on the files of its classes). The judged
        test sets hold a handful of classes, which is an easier question than all of a source's.
        `among`: only these sources, and of each only the classes it lists."""
        from itertools import combinations

        out = {}
        by_source = defaultdict(list)
        for r in self.results:
            if r.label != UNKNOWN and r.label in r.labels and (among is None or r.label in among.get(r.source, ())):
                by_source[r.source].append(r)
        for source, rs in by_source.items():
            present = sorted({r.label for r in rs})
            if len(present) < k:
                continue
            out[source] = float(np.mean([_right_among([r for r in rs if r.label in subset], subset)
                                         for subset in combinations(present, k)]))
        return out

    def filled_subset_accuracy(self, k: int) -> dict[str, float]:
        """source -> accuracy among k classes for the sources with fewer than k (a one-instrument
        library, such as Weresax's saxophone notes, is trivially right among its own classes): the
        source's own classes and every choice of the rest from the head's other instruments, the
        mean over those choices."""
        from itertools import combinations

        out = {}
        by_source = defaultdict(list)
        for r in self.results:
            if r.label != UNKNOWN and r.label in r.labels:
                by_source[r.source].append(r)
        for source, rs in by_source.items():
            own = sorted({r.label for r in rs})
            if len(own) >= k:
                continue
            # (the other instruments every head that answered this source knows)
            others = sorted(set.intersection(*(set(r.labels) for r in rs)) - set(own) - {UNKNOWN})
            accs = [_right_among(rs, own + list(extra)) for extra in combinations(others, k - len(own))]
            if accs:
                out[source] = float(np.mean(accs))
        return out

    def top1(self, threshold: float | None = None) -> dict[str, float]:
        """source -> unrestricted top-1 accuracy of known-class files (with the unknown rule)."""
        from ..predict.answer import decide

        right, total = Counter(), Counter()
        for r in self.results:
            if r.label == UNKNOWN or r.label not in r.labels:
                continue
            total[r.source] += 1
            right[r.source] += decide(r.proba, r.labels, threshold).label == r.label
        return {s: right[s] / total[s] for s in total}


def taught_elsewhere(items: Iterable[Item], sources: Collection[str] = HOLDOUT_SOURCES) -> dict[str, set[str]]:
    """Held-out note library -> those of its classes that real notes of another source in training
    still teach. The shipped model has heard every note library, so a library it has not heard meets
    it the way a hold-out's notes of these classes meet the head without them. (A hold-out's other
    classes have lost their only real notes; in the shipped model, only the classes that never had
    any are in that state.)"""
    notes = defaultdict(set)
    for i in items:
        if i.kind == "note" and not i.augment and i.label != BACKGROUND:
            notes[i.source].add(i.label)
    return {s: {c for c in notes[s] if any(c in cls for other, cls in notes.items() if other != s)}
            for s in sources if notes.get(s)}


def holdouts(data: Sequence[Embedded], *, features, C: float, nuisance: int = 0, render_weight: float = 1.0,
             sources: Sequence[str] = HOLDOUT_SOURCES, progress: Callable[[str], None] = print) -> Holdouts:
    """Train without each source in turn and answer its recordings. Phrases built from a source's
    notes carry that source's name, so they leave with it; they are made, not recorded, so they are
    not tested on (nor are the simulated recording chains)."""
    out = Holdouts()
    for source in sources:
        test = [e for e in data if e.item.source == source and not e.item.augment and e.item.kind != BUILT]
        if not test:
            continue
        head = fit_head([e for e in data if e.item.source != source], C=C, features=features, nuisance=nuisance,
                        render_weight=render_weight)
        out.results += [answer_recording(head, e, features) for e in test]
        progress(f"held out {source}: {len(test)} files")
    return out


def fit_temperature(results: Sequence[HeldOut]) -> float:
    """The temperature minimising the negative log-likelihood of the out-of-source windows' true
    classes (Guo et al. 2017)."""
    from scipy.optimize import minimize_scalar

    # Heads of different folds may know different classes: group windows by their head's labels.
    groups: dict[tuple[str, ...], tuple[list, list]] = defaultdict(lambda: ([], []))
    for r in results:
        if r.label in r.labels:
            zs, ys = groups[r.labels]
            zs.append(r.window_logits)
            ys += [r.labels.index(r.label)] * len(r.window_logits)
    if not groups:
        return 1.0
    blocks = [(np.concatenate(zs), np.asarray(ys)) for zs, ys in groups.values()]
    n = sum(len(y) for _, y in blocks)

    def nll(t: float) -> float:
        total = 0.0
        for z, y in blocks:
            s = z / t
            s = s - s.max(axis=1, keepdims=True)
            total += float(np.sum(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y]))
        return total / n

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def calibrated(results: Sequence[HeldOut], temperature: float) -> list[HeldOut]:
    out = []
    for r in results:
        z = r.window_logits / temperature
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        out.append(HeldOut(r.source, r.label, r.labels, file_answer(p, r.window_power), r.window_logits, r.window_power))
    return out


def expected_calibration_error(results: Sequence[HeldOut], *, bins: int = 10) -> float:
    """ECE of the whole-file top answers (known classes): |accuracy - confidence| over 10 bins."""
    conf, right = [], []
    for r in results:
        if r.label == UNKNOWN or r.label not in r.labels:
            continue
        conf.append(float(np.max(r.proba)))
        right.append(r.labels[int(np.argmax(r.proba))] == r.label)
    if not conf:
        return float("nan")
    conf_a, right_a = np.asarray(conf), np.asarray(right, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf_a > lo) & (conf_a <= hi)
        if m.any():
            ece += m.mean() * abs(right_a[m].mean() - conf_a[m].mean())
    return float(ece)


def choose_threshold(results: Sequence[HeldOut], *, budget: float = KNOWN_REJECTION_BUDGET) -> tuple[float, dict]:
    """The threshold on the best known class's probability below which the answer is "unknown": of
    those that turn at most `budget` of the out-of-source known-class files into "unknown", the one
    that leaves the most held-out files answered right, known instruments named and background sounds
    turned away, each file once (the largest of equals); and what it does to both.
    (Measured, 2026-12-01: the largest threshold within the budget, 0.23, turned 58 more held-out
    instrument files away than none did, 14 of them named right, and caught one more of 55 background
    sounds; every background sound named at 0.5 or more was named at any threshold below that.)"""
    from ..predict.answer import decide

    known = [r for r in results if r.label != UNKNOWN and r.label in r.labels]
    background = [r for r in results if r.label == UNKNOWN]
    best, most_right, stats = 0.0, -1, {}
    for t in np.round(np.arange(0.0, 0.96, 0.01), 2):
        answers = [decide(r.proba, r.labels, t) for r in known]
        lost = float(np.mean([a.unknown for a in answers])) if known else 0.0
        if lost > budget:
            break
        named = sum(a.label == r.label for a, r in zip(answers, known, strict=True))
        caught = sum(decide(r.proba, r.labels, t).unknown for r in background)
        if named + caught >= most_right:
            best, most_right = float(t), named + caught
            stats = {"known_rejected": lost, "known_right": named / len(known) if known else float("nan"),
                     "background_rejected": caught / len(background) if background else float("nan"),
                     "known_files": len(known), "background_files": len(background)}
    return best, stats


def choose_confident(results: Sequence[HeldOut], temperature: float, *, precision: float = CONFIDENT_PRECISION,
                     sources: Sequence[str] | None = PHRASE_SOURCES, min_kept: float = 0.1) -> tuple[float, dict]:
    """The lowest top probability from which out-of-source live windows (calibrated, unrestricted
    top-1) of `sources` are right at least `precision` of the time: where the Live panel stops
    saying "low confidence". Live input is someone playing, so phrase sources decide, not the
    isolated notes of a foreign library. Where no threshold reaches `precision`, the most precise
    one that still keeps `min_kept` of the windows. Returns it with its precision, the share of
    windows kept and the whole precision/coverage curve."""
    tops, right = [], []
    for r in results:
        if r.label == UNKNOWN or r.label not in r.labels or (sources is not None and r.source not in sources):
            continue
        z = r.window_logits / temperature
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        tops.append(p.max(axis=1))
        right.append(p.argmax(axis=1) == r.labels.index(r.label))
    if not tops:
        return 0.5, {}
    tops, right = np.concatenate(tops), np.concatenate(right)
    curve = {f"{t:.2f}": (float(right[tops >= t].mean()) if (tops >= t).any() else float("nan"),
                          float((tops >= t).mean())) for t in np.arange(0.15, 0.951, 0.05)}
    usable = {t: v for t, v in curve.items() if v[1] >= min_kept} or curve
    chosen = next((t for t, (prec, kept) in usable.items() if kept > 0 and prec >= precision),
                  max(usable, key=lambda t: np.nan_to_num(usable[t][0], nan=-1.0)))
    prec, kept = curve[chosen]
    return float(chosen), {"precision": prec, "kept": kept, "windows": int(len(tops)),
                           "all_windows_right": float(right.mean()), "curve": curve}


def card_table(table: dict[str, dict[str, tuple[int, int]]]) -> str:
    """Markdown: one row per source, one column per class, 'right/files', and the source's accuracy."""
    classes = sorted({c for cls in table.values() for c in cls})
    head = "| source | " + " | ".join(classes) + " | accuracy |\n|---|" + "---|" * (len(classes) + 1)
    rows = []
    for source in sorted(table):
        cells = [f"{table[source][c][0]}/{table[source][c][1]}" if c in table[source] else "" for c in classes]
        right = sum(v[0] for v in table[source].values())
        total = sum(v[1] for v in table[source].values())
        rows.append(f"| {source} | " + " | ".join(cells) + f" | {right / max(total, 1):.2f} ({total}) |")
    return head + "\n" + "\n".join(rows)


def save_json(path, data) -> None:
    from ..fileio import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True, default=float))


LICENCES = """- `../shared/data/philharmonia`: Philharmonia Orchestra sound samples: free to use in any work; the
  audio may not be sold or redistributed as is (a model trained on it may be shipped).
- `../shared/data/real/`: freesound (FSDKaggle2018 clips: CC0, CC BY or CC BY-NC per clip: this
  model is therefore for non-commercial use unless those clips are removed), bach-violin (CC BY,
  John Garner / Musopen), weresax (CC0, Karoryfer), sms-tools (Freesound CC licences), librosa-data
  (CC BY 3.0), cmmsd-vibrato and bach10 (research datasets: research use), thinkdsp / rocamora-dsp
  (MIT), sonic-pi (CC0), vocadito (CC BY 4.0). See `real/sources-round2.csv`.
- npm `tonejs-instrument-*-mp3` packs: Versilian VSCO-2 Community Edition (CC0), Karoryfer (CC0),
  Freesound uploads (cello, guitar-nylon, harmonium; CC). Salamander Grand Piano V3 (CC BY 3.0,
  Alexander Holm) from `@audio-samples/piano-velocity*`.
- SoundFont renders (tinysoundfont): FluidR3_GM (MIT), MuseScore General Lite (MIT), TimGM6mb (GPL-2.0).
- Generated background sounds (source `generated-noise`: noise, hum, crackle, made by the recipe
  from a seed, `core/recipe/background.py`), in the unknown class.
- The embedding: musicnn 0.1.0 (ISC licence, Jordi Pons), {checkpoint} checkpoint.
- No audio is in the repository; `real-unverified/` (unknown licence) was used only to measure."""

SPEECH_LICENCE = """
- Synthetic speech (source `generated-speech`: sentences spoken by Debian's espeak-ng, GPL-3, and
  flite, BSD-like, made by the recipe, `core/recipe/speech.py`), in the unknown class."""


def augmentation(copies: int) -> str:
    if not copies:
        return "No simulated recording chains (`--augment 0`)."
    return (f"Every file is also heard through {copies} simulated recording chain(s) (`core/recipe/augment.py`: "
            "small pitch/tempo changes, a generated room, microphone EQ, noise, gain, a lossy codec; seeded "
            "per file), trained on and never tested on: the held-out figures below are on the files as "
            "recorded.")


def nuisance_text(k: int) -> str:
    if not k:
        return ""
    return (f", and blind to the {k} directions along which one class differs most from source to "
            "source (nuisance attribute projection: the recording chain is projected out of its weights)")


CHECKPOINT_NAMES = {"MTT_musicnn": "MagnaTagATune", "MSD_musicnn": "Million Song Dataset"}


def spectrum_text(parts: str) -> str:
    """What the card says of the window's own spectrum, when the head reads it."""
    chosen = set(parts.split(","))
    if not {"mel_mean", "mel_max"} & chosen:
        return ""
    ripple = ("; mel_mean_ripple / mel_max_ripple: the magnitudes of those profiles' Fourier transform along\n"
              "  the bands, how they ripple (partials' spacing, formants) wherever they lie"
              if {"mel_mean_ripple", "mel_max_ripple"} & chosen else "")
    return (" (mel_mean / mel_max: each mel band's mean and maximum over the window, beside what the\n"
            "  network makes of it: its timbral filters are pooled over frequency and lose where the partials lie"
            f"{ripple})")


def checkpoint_name(args: dict) -> str:
    name = args.get("checkpoint", "MTT_musicnn")
    return CHECKPOINT_NAMES.get(name, name)


def unverified_subsets(metrics: dict) -> str:
    """The card's sentence on the validation-only recordings restricted to k of their classes."""
    if "unverified_restricted_4" not in metrics:
        return ""
    return (" Restricted to k of the classes present, mean over every k-class subset (the judged question"
            f" for phrases): k = 4: {metrics['unverified_restricted_4']:.2f}, k = 6:"
            f" {metrics['unverified_restricted_6']:.2f}.")


def per_source(figures: Mapping[str, float]) -> str:
    """The card's "source 0.83, other 0.87" list, sources in name order."""
    return ", ".join(f"{s} {v:.2f}" for s, v in sorted(figures.items()))


def filled_text(metrics: dict) -> str:
    """The card's sentence on the sources of fewer classes than the judged test sets hold."""
    four, six = metrics.get("holdout_filled_4") or {}, metrics.get("holdout_filled_6") or {}
    if not (four or six):
        return ""
    return ("\nA source of fewer classes is trivially right among its own (Weresax's saxophone notes, the solo "
            "Bach violin): among its own and every choice of the model's other instruments, k = 4: "
            + (per_source(four) or "none") + "; k = 6: " + (per_source(six) or "none") + ".")


def taught_text(metrics: dict, without_notes: Sequence[str]) -> str:
    """The card's sentence on the hold-outs' notes of the classes another real note library teaches."""
    taught = metrics.get("holdout_restricted_4_taught") or {}
    if not taught:
        return ""
    heard = "every instrument class" + (f" but {', '.join(without_notes)}" if without_notes else "")
    return (f"\nThe model has heard real notes of {heard}, so a note library it has not heard (the judged note test) "
            "is like a hold-out's notes of the classes another real note library in training still teaches; k = 4: "
            + per_source(taught) + ".")


def model_card(*, args: dict, labels, items, table, unv_table, metrics, threshold, size, parity, date) -> str:
    from .render import RenderSpec

    originals = [i for i in items if not i.augment]
    by_kind = Counter(i.kind for i in originals)
    by_source = Counter(i.source for i in originals)
    rests_on_notes = sorted({i.label for i in items if i.kind in ("note", "render")}
                            - {i.label for i in items if i.kind == "phrase"} - {BACKGROUND})
    known = [c for c in labels if c != UNKNOWN]
    without_notes = sorted(set(known) - {i.label for i in items if i.kind == "note"})
    rej = metrics["unknown"]
    return f"""# Default model: instruments in real recordings (musicnn embedding + calibrated linear head)

Used whenever no other model is chosen: `instrument-studio predict FILE` (and `--json`), the Audio
panel's answer and timeline, the Predict panel, live prediction.

## What it answers
{len(known)} instruments: {', '.join(known)}; and **unknown** for sounds unlike all of them (speech,
noise, percussion, instruments it does not know): when the unknown class wins or when the best
instrument's calibrated probability is below **{threshold:.2f}**. Silence is "silent" and never sent to
the model. `predict --json` keeps the nearest instrument and its probability beside "unknown".

## How it works
- Input: 16 kHz mono brought to one level (its playing part at -12 dB RMS; the live stream by
  its last 10 s), log-compressed 96-band mel spectrogram (FeatureConfig kind "musicnn"), 3 s
  windows every 1.5 s (a recording shorter than 3 s is repeated to fill one); a file's answer is
  the mean of its seconds' answers weighted by their power, each second of its timeline the mean of the windows that
  hold it.
- Embedding: the musicnn network (Pons & Serra 2019), {checkpoint_name(args)} checkpoint from the `musicnn`
  0.1.0 wheel, rebuilt as Keras layers (`core/learn/musicnn.py`, equal to the original graph within
  6e-5) and frozen: it has learnt timbre from real recordings. The head reads its
  {', '.join(args['parts'].split(','))} outputs{spectrum_text(args['parts'])}.
- Head: logistic regression (C={args['C']}), every (source, class) pair weighted equally so that no
  recording chain dominates (a SoundFont's pair {args.get('render_weight', 1.0):g} of a real one){nuisance_text(args.get('nuisance', 0))}; temperature {metrics['temperature']:.2f} (fit on out-of-source windows) folded
  into its weights. One `.keras` file (standard layers, safe mode), {size / 1e6:.1f} MB with bundle.json.
  Keras model vs the fitted head: max difference {parity:.1e}.

## Training data ({len(originals)} files)
By kind: {dict(by_kind)}. By source: {dict(by_source)}.
{augmentation(args.get('augment', 0))}
Philharmonia's notes are subsampled (every {args['subsample']}th note group); SoundFont renders: {args.get('render_notes', RenderSpec.notes_per_class)} notes and
{args.get('render_phrases', RenderSpec.phrases_per_class)} phrases per class and font; at most
{args['max_windows']} windows per recording. Classes with no real phrases rest on real notes, phrases built
from real notes (`core/recipe/phrases.py`) and renders: {', '.join(rests_on_notes) or 'none'}.

## Licences of the training data
{LICENCES.format(checkpoint=checkpoint_name(args))}{SPEECH_LICENCE if by_source.get(SPEECH_SOURCE) else ""}

## Honest evaluation: whole sources held out
Each row: the model trained WITHOUT that source, answering that source's files (answers restricted
to the classes the source has, as the judged test sets are; cells are right/files). Phrases built from a
source's notes leave with it and are not counted among its files (they are made, not recorded). Command: `python packaging/make_default_model.py` (prints and stores
this table in the user cache, `recipe/default-model-holdouts.json`).

{card_table(table)}

The judged test sets hold a few classes each (4 instruments of a note library, 6 of solo phrases): the same answers
restricted to k of the source's classes, mean over every k-class subset: k = 4: {per_source(metrics.get('holdout_restricted_4', {}))};
k = 6: {per_source(metrics.get('holdout_restricted_6', {}))}.{taught_text(metrics, without_notes)}{filled_text(metrics)}

Unrestricted top-1 (with the unknown rule) per held-out source: {per_source(metrics['holdout_top1'])}.

## Validation only: `real-unverified/` (real phrases from web apps and demos, never trained on)
Answered by the final model (restricted to the classes present): **{metrics['unverified_restricted']:.2f}**;
unrestricted top-1 with the unknown rule: {metrics['unverified_top1']:.2f}.{unverified_subsets(metrics)}
These recordings come from sources no recipe has trained on, but they have guided choices (changes that
lost here were not adopted), so they are not an untouched test.

{card_table(unv_table)}

## Calibration and "unknown"
- Expected calibration error of whole-file answers on held-out sources: {metrics['ece_before']:.3f} before,
  {metrics['ece_after']:.3f} after temperature scaling.
- Threshold {threshold:.2f}, chosen on held-out sources: of the thresholds that turn at most {KNOWN_REJECTION_BUDGET:.0%} of
  known-instrument files into "unknown", the one that leaves the most held-out files answered right
  (instruments named, background sounds turned away). Known-instrument files that become "unknown"
  (the unknown class winning, or the best instrument below the threshold): {rej.get('known_rejected', float('nan')):.1%} of {rej.get('known_files', 0)};
  background sounds (speech, noise, percussion, other instruments) of held-out sources rejected:
  {rej.get('background_rejected', float('nan')):.1%} of {rej.get('background_files', 0)}.
- Live answers are shown as confident from a calibrated top probability of
  **{metrics.get('confident', {}).get('threshold', 0.5):.2f}**: out-of-source 3 s windows above it are right
  {metrics.get('confident', {}).get('precision', float('nan')):.0%} of the time ({metrics.get('confident', {}).get('kept', float('nan')):.0%} of windows
  reach it; target precision {CONFIDENT_PRECISION:.0%} on the held-out phrase sources; all their windows: {metrics.get('confident', {}).get('all_windows_right', float('nan')):.0%} right).
  Threshold: precision / share of windows kept: {'; '.join(f'{t}: {p:.0%} / {k:.0%}' for t, (p, k) in list(metrics.get('confident', {}).get('curve', {}).items())[::2])}.

## Weaknesses (measured above, not hidden)
- Isolated notes of a library it has not heard are its weakest case (see the philharmonia and
  npm-tonejs rows): a single note carries little of what distinguishes an instrument's playing.
- Classes resting on notes and renders only are less reliable on real phrases.
- Several instruments at once, or an accompanied soloist, are outside what it was trained for.

Regenerated {date} with `python packaging/make_default_model.py {' '.join(f'--{k.replace("_", "-")} {v}' for k, v in args.items() if k not in ('data', 'out'))}`.
"""
