"""Three made-up "instruments" any model tells apart in seconds: a pure tone (flute-like), a
buzzy sawtooth (brass-like) and a noise burst (percussion-like). Used to train tiny real models
in tests of evaluation and prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np

LABELS = ("buzz", "noise", "tone")
SR = 22050


def note(kind: str, *, seconds: float = 1.5, freq: float = 440.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    # Sustained notes (as a bow or breath keeps them): any second of a note looks like any other.
    env = np.minimum(1.0, np.minimum(t / 0.02, (t[-1] - t) / 0.02 + 1e-3)) * (0.8 + 0.2 * np.cos(2 * np.pi * 5 * t))
    if kind == "tone":
        y = np.sin(2 * np.pi * freq * t)
    elif kind == "buzz":
        # A band-limited sawtooth (harmonics up to 8 kHz): a naive one aliases into noise.
        y = sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, int(8000 // freq) + 1))
    elif kind == "noise":
        y = rng.standard_normal(len(t))
    else:
        raise ValueError(kind)
    level = rng.uniform(0.15, 0.5)
    # A noise floor at about -80 dBFS, as any recording has: without it a pure tone's empty mel
    # bands sit at the numerical floor in memory but at 16-bit quantisation noise once saved.
    floor = 1e-4 * rng.standard_normal(len(t))
    return (level * env * y / max(1e-9, np.max(np.abs(y))) + floor).astype(np.float32)


def write_dataset(root: Path, *, per_class: int = 24, seconds: float | None = None) -> Path:
    """<root>/<label>/<label>_<i>.wav, with pitches spread over two octaves."""
    from instrument_studio.core.audio.audiofile import save_wav

    for label in LABELS:
        for i in range(per_class):
            freq = 220.0 * 2 ** (i / per_class * 2)
            # Lengths from 0.8 to 2.4 s: a one-second live window looks like a training clip.
            length = seconds if seconds else 0.8 + (i % 5) * 0.4
            save_wav(root / label / f"{label}_{i:02d}.wav", note(label, seconds=length, freq=freq, seed=i), SR)
    return root


def train_bundle(dataset_root: Path, out: Path, *, epochs: int = 30) -> Path:
    """An MLP on MFCC summaries of the synthetic set, saved as a bundle (a few seconds)."""
    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.datasets import import_dataset
    from instrument_studio.core.features.extraction import extract_features
    from instrument_studio.core.learn.bundle import save_bundle
    from instrument_studio.core.learn.training import TrainConfig, train

    ds = import_dataset(dataset_root, layout="folders")
    cfg = FeatureConfig(kind="mfcc")
    fs = extract_features(ds, cfg, workers=1)
    result = train(TrainConfig(model="mlp", epochs=epochs, batch_size=16, learning_rate=0.02, seed=1), fs)
    return save_bundle(out, model=result.model, labels=result.labels, feature_config=cfg, mean=result.mean,
                       std=result.std, train_config=result.config, history=result.history)
