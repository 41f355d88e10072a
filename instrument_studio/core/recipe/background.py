"""Generated sounds that are no instrument, for the default model's "unknown" answer.

The real background material (speech, two field recordings, small percussion, instruments outside
the classes) has no steady broadband noise: the model named loud white or pink noise "saxophone"
at 0.93-0.98. These are made here, from a seed, never fetched: steady noise of several colours,
band-passed noise (wind, fans, hiss, rumble), noise under slow gusts, mains hum with its
harmonics, crackle, and babble-like murmur, each 3-8 s at -45 to -6 dB RMS.

Written as FLAC under cache_dir()/"background" in a folder keyed by the inputs, with a manifest
written last: the same inputs reuse the files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from scipy import signal

from ._audio import save_audio
from .augment import _no_clip, noise
from .sources import BACKGROUND, Item, built_once, cache_dir

SOURCE = "generated-noise"
KINDS = ("white", "pink", "brown", "band", "gusts", "hum", "crackle", "babble")
VERSION = 1  # bump when the sounds change, so the cache is not reused


def _band(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise through a broad band-pass: an octave or more, anywhere from rumble to hiss."""
    lo = float(np.exp(rng.uniform(np.log(40.0), np.log(4000.0))))
    hi = min(lo * float(np.exp(rng.uniform(np.log(2.0), np.log(16.0)))), 0.45 * sr)
    sos = signal.butter(2, [lo, max(hi, lo * 1.5)], "bandpass", fs=sr, output="sos")
    return signal.sosfilt(sos, noise(n, sr, rng, colour=str(rng.choice(["white", "pink"]))))


def _gusts(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Noise under a slow, uneven envelope (wind, surf, traffic going by)."""
    t = np.arange(n) / sr
    env = np.ones(n)
    for _ in range(3):
        env += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * rng.uniform(0.05, 0.8) * t + rng.uniform(0, 2 * np.pi))
    return _band(n, sr, rng) * np.clip(env, 0.05, None) ** 2


def _hum(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Mains hum (50 or 60 Hz) with uneven harmonics and a little hiss."""
    t = np.arange(n) / sr
    f0 = float(rng.choice([50.0, 60.0]))
    out = np.zeros(n)
    for k in range(1, int(rng.integers(4, 16))):
        if k * f0 < 0.45 * sr:
            out += rng.uniform(0.05, 1.0) / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
    return out + noise(n, sr, rng, colour="white") * rng.uniform(0.01, 0.1) * np.std(out)


def _crackle(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Sparse clicks (vinyl, rain on a roof, a fire) over faint noise."""
    out = np.zeros(n)
    hits = rng.random(n) < rng.uniform(20, 400) / sr
    out[hits] = rng.standard_normal(int(hits.sum())) * rng.uniform(0.2, 1.0, int(hits.sum()))
    sos = signal.butter(2, float(rng.uniform(1000, 6000)), "highpass", fs=sr, output="sos")
    return signal.sosfilt(sos, out) + 0.02 * noise(n, sr, rng, colour="pink")


def make_sound(kind: str, seconds: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """One generated background sound of `kind` (KINDS), unit RMS, float32."""
    n = int(round(seconds * sr))
    if kind in ("white", "pink", "brown", "babble"):
        y = noise(n, sr, rng, colour=kind)
    else:
        y = {"band": _band, "gusts": _gusts, "hum": _hum, "crackle": _crackle}[kind](n, sr, rng)
    y = np.asarray(y, dtype=np.float64)
    y -= y.mean()
    return (y / (np.sqrt(np.mean(y ** 2)) + 1e-20)).astype(np.float32)


def generate_background(*, count: int = 48, seed: int = 0, sr: int = 16000,
                        out_root: Path | None = None) -> list[Item]:
    """`count` generated background sounds (every kind in turn), label BACKGROUND, source
    SOURCE, kind "render"; each its own group."""
    root = Path(out_root) if out_root is not None else cache_dir() / "background"
    key = hashlib.sha1(json.dumps([VERSION, count, seed, sr]).encode()).hexdigest()[:16]
    folder = root / key
    def build() -> list[Item]:
        rng = np.random.default_rng([seed, 0xB6])
        items = []
        for i in range(count):
            kind = KINDS[i % len(KINDS)]
            y = make_sound(kind, float(rng.uniform(3.0, 8.0)), sr, rng)
            y = _no_clip(y * 10 ** (float(rng.uniform(-45.0, -6.0)) / 20))
            path = save_audio(folder / f"{kind}_{i:03d}.flac", y, sr)
            items.append(Item(str(path), BACKGROUND, SOURCE, "render", f"{SOURCE}-{i:03d}", "noise"))
        return items

    return built_once(folder, build)
