"""Phrases built from real isolated notes, for classes with few real phrases to learn from.

A phrase takes the notes of ONE class from ONE source (so it carries that source's recording
chain only, and a source hold-out removes its phrases too), trims each note's leading silence,
and strings them into a melody: a random walk over the notes sorted by pitch (where the file
name says it), at a random tempo with varied note lengths, mostly legato with equal-power
cross-fades, sometimes detached with short gaps, and mild vibrato (a few cents at 4.5-6.5 Hz,
by time-varying resampling) on sustained notes. 4-8 s, deterministic from a seed.

Build phrases from the notes of the TRAINING side of a split: a phrase then never contains a
held-out note. Items: kind "notes-phrase", source = the notes' source, group = that source.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from ..audio.audiofile import load as load_audio
from ..errors import StudioError
from ._audio import save_audio, trim_leading, trim_trailing
from .sources import BACKGROUND, BUILT, Item, built_once, cache_dir

# Instruments that cannot (or do not usually) bend a held note: no vibrato in their phrases.
NO_VIBRATO = frozenset({"piano", "harp", "acoustic-guitar", "electric-guitar", "banjo", "mandolin", "organ",
                        BACKGROUND})
# Notes that are not one steady note (Philharmonia articulations): kept out of built phrases.
UNFIT_FOR_PHRASES = re.compile(r"trill|tremolo|gliss|flutter|rhythm|roll|tonguing|effect|harmonic|col-legno|"
                               r"slap|shaken|scraped", re.IGNORECASE)
_NOTE = re.compile(r"^([a-g])(#|s|b)?(-?\d)$", re.IGNORECASE)
_STEP = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def parse_pitch(stem: str) -> int | None:
    """MIDI number of the first token that names a note: `cello_As2_1_forte` -> 46, `A0v8` -> 21,
    `ab3_f_rr1` -> 56; None when no token does."""
    for tok in re.split(r"[_\s]+", stem):
        m = _NOTE.match(re.sub(r"v\d+$", "", tok))
        if m:
            acc = {"#": 1, "s": 1, "b": -1}.get((m.group(2) or "").lower(), 0)
            return 12 * (int(m.group(3)) + 1) + _STEP[m.group(1).lower()] + acc
    return None


@dataclass(frozen=True)
class PhraseSpec:
    seconds: tuple[float, float] = (4.0, 8.0)
    bpm: tuple[float, float] = (60.0, 150.0)
    beats: tuple[float, ...] = (0.5, 1.0, 1.0, 1.0, 1.5, 2.0)
    legato_p: float = 0.75  # otherwise detached, with a short gap
    vibrato_p: float = 0.6  # per sustained note (> 0.5 s)
    vibrato_cents: tuple[float, float] = (8.0, 30.0)
    vibrato_hz: tuple[float, float] = (4.5, 6.5)
    sr: int = 22050


def vibrato(y: np.ndarray, sr: int, rng: np.random.Generator, *, cents: float | None = None,
            rate_hz: float | None = None, onset_s: float | None = None) -> np.ndarray:
    """Mild periodic pitch modulation by time-varying resampling; fades in after `onset_s`."""
    if len(y) < 2:
        return y.astype(np.float32)
    cents = float(rng.uniform(8, 30)) if cents is None else float(cents)
    rate_hz = float(rng.uniform(4.5, 6.5)) if rate_hz is None else float(rate_hz)
    onset_s = float(rng.uniform(0.15, 0.4)) if onset_s is None else float(onset_s)
    t = np.arange(len(y)) / sr
    depth = (2 ** (cents / 1200) - 1) * np.clip((t - onset_s) / 0.3, 0, 1)
    speed = 1 + depth * np.sin(2 * np.pi * rate_hz * t + rng.uniform(0, 2 * np.pi))
    pos = np.cumsum(speed) - speed[0]
    pos = pos[pos <= len(y) - 1]
    return np.interp(pos, np.arange(len(y)), y).astype(np.float32)


def make_phrase(notes: list[np.ndarray] | list[list[np.ndarray]], sr: int, rng: np.random.Generator, *,
                spec: PhraseSpec = PhraseSpec()) -> np.ndarray:
    """One phrase from decoded notes ordered low to high; an entry may be a list of takes of one
    pitch (dynamics, lengths), of which each visit picks one. The melody walks over the entries."""
    slots = [n if isinstance(n, list) else [n] for n in notes]
    slots = [s for s in slots if s]
    if not slots:
        raise ValueError("make_phrase needs at least one note")
    target = int(rng.uniform(*spec.seconds) * sr)
    beat = 60.0 / float(rng.uniform(*spec.bpm))
    out = np.zeros(target + 4 * sr, dtype=np.float64)
    pos, idx = 0, int(rng.integers(len(slots)))
    while pos < target:
        takes = slots[idx]
        note = takes[int(rng.integers(len(takes)))]
        want = int(beat * float(rng.choice(spec.beats)) * sr)
        legato = rng.random() < spec.legato_p
        fade = int(sr * (rng.uniform(0.02, 0.08) if legato else rng.uniform(0.01, 0.03)))
        gap = 0 if legato else int(sr * rng.uniform(0.03, 0.15))
        seg = note[: want + fade]
        if len(seg) > int(0.5 * sr) and rng.random() < spec.vibrato_p:
            seg = vibrato(seg, sr, rng, cents=rng.uniform(*spec.vibrato_cents), rate_hz=rng.uniform(*spec.vibrato_hz))
        seg = seg.astype(np.float64) * 10 ** (rng.uniform(-3, 3) / 20)
        f = min(fade, len(seg) // 2)
        if f > 0:
            seg[-f:] *= np.cos(np.linspace(0, np.pi / 2, f)) if legato else np.linspace(1, 0, f)
        end = min(pos + len(seg), len(out))
        out[pos:end] += seg[: end - pos]
        # the next note starts as this one fades out (legato) or after a short gap
        step = max(len(seg) - f, int(0.05 * sr)) if legato else len(seg) + gap
        pos += step
        idx = int(np.clip(idx + rng.choice([-3, -2, -1, -1, 0, 1, 1, 2, 3]), 0, len(slots) - 1))
    y = out[:target]
    tail = min(int(0.05 * sr), len(y))
    y[len(y) - tail:] *= np.linspace(1, 0, tail)
    peak = float(np.max(np.abs(y))) or 1.0
    return (y * (0.9 / peak)).astype(np.float32)


def _pool(items: list[Item], sr: int, load: Callable[[str, int], np.ndarray]) -> list[list[np.ndarray]]:
    """Decoded, trimmed notes grouped by pitch and ordered low to high (a file without a pitch in
    its name is a slot of its own, in name order)."""
    slots: dict[tuple[int, str], list[np.ndarray]] = defaultdict(list)
    for it in sorted(items, key=lambda it: it.path):
        pitch = parse_pitch(Path(it.path).stem)
        try:
            y = trim_trailing(trim_leading(load(it.path, sr), sr), sr)
        except StudioError as exc:  # one broken note (an empty file) must not end the recipe
            print(f"skipped {it.path}: {exc.reason}", file=sys.stderr)
            continue
        if len(y) > int(0.08 * sr):
            slots[(pitch, "") if pitch is not None else (0, it.path)].append(y)
    return [slots[k] for k in sorted(slots)]


def _key(notes: list[Item], spec: PhraseSpec, per_source: int, seed: int) -> str:
    ident = {"spec": asdict(spec), "n": per_source, "seed": seed, "v": 3,
             "notes": sorted(f"{i.label}|{i.source}|{i.path}" for i in notes)}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]


def build_phrases(notes: list[Item], *, per_source: int = 12, seed: int = 0, spec: PhraseSpec = PhraseSpec(),
                  min_notes: int = 4, classes: set[str] | None = None, out_root: Path | None = None,
                  load: Callable[[str, int], np.ndarray] | None = None) -> list[Item]:
    """`per_source` phrases for every (class, source) with at least `min_notes` notes (kind "note").

    Trills, tremolos, glissandi and other non-steady articulations stay out; plucked, struck and
    keyboard instruments (NO_VIBRATO) get no vibrato.

    Written as FLAC under out_root (default cache_dir()/"phrases") in a folder keyed by the inputs,
    with a manifest written last: the same inputs reuse the files.
    """
    load = load or (lambda p, sr: load_audio(p, sr=sr)[0])
    pairs: dict[tuple[str, str], list[Item]] = defaultdict(list)
    for it in notes:
        if (it.kind == "note" and (classes is None or it.label in classes)
                and not UNFIT_FOR_PHRASES.search(Path(it.path).stem)):
            pairs[(it.label, it.source)].append(it)
    pairs = {k: v for k, v in pairs.items() if len(v) >= min_notes}
    used = [i for v in pairs.values() for i in v]
    root = Path(out_root) if out_root is not None else cache_dir() / "phrases"
    folder = root / _key(used, spec, per_source, seed)

    def build() -> list[Item]:
        items = []
        for (label, source), group in sorted(pairs.items()):
            pool = _pool(group, spec.sr, load)
            if not pool:
                continue
            rng = np.random.default_rng([seed, zlib.crc32(label.encode()), zlib.crc32(source.encode())])
            pspec = replace(spec, vibrato_p=0.0) if label in NO_VIBRATO else spec
            for i in range(per_source):
                y = make_phrase(pool, spec.sr, rng, spec=pspec)
                path = save_audio(folder / source / label / f"{label}_phrase{i:03d}.flac", y, spec.sr)
                items.append(Item(str(path), label, source, BUILT, source, BUILT))
        return items

    return built_once(folder, build)
