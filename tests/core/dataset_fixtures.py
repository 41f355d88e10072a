"""Tiny datasets laid out and named as the real ones, written by the tests themselves."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


def tone(freq: float, seconds: float = 0.3, sr: int = SR, *, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    y = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))
    return y.astype(np.float32)


def write(path: Path, freq: float = 440.0, seconds: float = 0.3, *, fmt: str | None = None, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), tone(freq, seconds, seed=seed), SR, format=fmt)
    return path


def folders(root: Path, classes=("cello", "flute", "violin"), per_class: int = 6, seconds: float = 0.3) -> Path:
    for k, cls in enumerate(classes):
        for i in range(per_class):
            sub = "takes" if i % 2 else ""
            write(root / cls / sub / f"{cls}{i}.wav", 200 + 150 * k + 10 * i, seconds, seed=i)
    return root


PHIL_NOTES = ("A3", "As3", "C4", "D4", "E4", "G4")
PHIL_DYNAMICS = ("forte", "piano")


def philharmonia(root: Path, instruments=("cello", "flute", "oboe"), *, in_folders: bool = True) -> Path:
    for k, inst in enumerate(instruments):
        for n, note in enumerate(PHIL_NOTES):
            for dyn in PHIL_DYNAMICS:
                name = f"{inst}_{note}_1_{dyn}_normal.mp3"
                write((root / inst if in_folders else root) / name, 150 + 100 * k + 20 * n)
    if in_folders:
        write(root / "percussion" / "bass-drum__1_forte_struck-singly.mp3", 60)
        write(root / "percussion" / "bass-drum__05_piano_struck-singly.mp3", 60)
        write(root / "percussion" / "tambourine__1_forte_shaken.mp3", 900)
    return root


def uiowa(root: Path) -> Path:
    names = ["Flute.vib.ff.A4.stereo.aiff", "Flute.vib.pp.B4.stereo.aiff", "Flute.nonvib.mf.C5.stereo.aiff",
             "Flute.vib.ff.C4B4.aiff", "AltoSax.NoVib.mf.Db4.stereo.aiff", "AltoSax.NoVib.ff.E4.stereo.aiff",
             "AltoSax.vib.pp.G4.stereo.aiff", "AltoSax.NoVib.ff.A4.stereo.aiff",
             "Horn.ff.Bb3.stereo.aiff", "Horn.pp.C4.stereo.aiff", "Horn.mf.D4.stereo.aiff", "Horn.ff.F4.stereo.aiff"]
    for i, n in enumerate(names):
        write(root / n, 200 + 30 * i, fmt="AIFF")
    return root


MEDLEY_CLASSES = ("clarinet", "distorted electric guitar", "female singer", "flute", "piano",
                  "tenor saxophone", "trumpet", "violin")


def medley(root: Path, *, with_csv: bool = True, per: int = 2) -> Path:
    rows = []
    rng = np.random.default_rng(1)
    for subset in ("training", "validation", "test"):
        for inst_id, inst in enumerate(MEDLEY_CLASSES):
            for j in range(per):
                u = str(uuid.UUID(int=int(rng.integers(0, 2**62)) * 7 + inst_id, version=4))
                song = 100 * inst_id + j + {"training": 0, "validation": 10, "test": 20}[subset]
                write(root / "audio" / f"Medley-solos-DB_{subset}-{inst_id}_{u}.wav", 200 + 50 * inst_id)
                rows.append(f"{subset},{inst},{inst_id},{song},{u}")
    if with_csv:
        (root / "Medley-solos-DB_metadata.csv").write_text(
            "subset,instrument,instrument_id,song_id,uuid4\n" + "\n".join(rows) + "\n")
    return root


ESC_CATEGORIES = {0: "dog", 1: "rooster", 10: "rain"}


def esc50(root: Path, *, with_csv: bool = True) -> Path:
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    clip = 1000
    for fold in range(1, 6):
        for target, cat in ESC_CATEGORIES.items():
            for k in range(2):
                clip += 1
                for take in ("A", "B"):
                    name = f"{fold}-{clip}-{take}-{target}.wav"
                    write(root / "audio" / name, 300 + 40 * target + k)
                    rows.append(f"{name},{fold},{target},{cat},{target in (0, 1, 10)},{clip},{take}")
    if with_csv:
        (root / "meta").mkdir(parents=True, exist_ok=True)
        (root / "meta" / "esc50.csv").write_text("\n".join(rows) + "\n")
    return root


def irmas(root: Path) -> Path:
    train = root / "IRMAS-TrainingData"
    for code, freq in (("cel", 150), ("flu", 700), ("pia", 400)):
        for i in range(4):
            for seg in (1, 2):
                write(train / code / f"[{code}][cla]{i:04d}__{seg}.wav", freq + i)
    test = root / "IRMAS-TestingData-Part1" / "Part1"
    for i, labels in enumerate((["cel"], ["flu", "pia"], ["pia"], ["cel", "flu"])):
        wav = write(test / f"0{i} - Song-{i}.wav", 300 + i)
        wav.with_suffix(".txt").write_text("".join(f"{code}\t\n" for code in labels))
    return root


def nsynth(root: Path, *, splits=("train", "valid", "test")) -> Path:
    families = ("brass", "keyboard", "string")
    for split in splits:
        folder = root / f"nsynth-{split}"
        examples = {}
        for f_i, fam in enumerate(families):
            for inst in range(3):
                for pitch in (60, 64, 67):
                    note = f"{fam}_acoustic_{split}{inst:03d}-{pitch:03d}-100"
                    write(folder / "audio" / f"{note}.wav", 200 + 100 * f_i + pitch)
                    examples[note] = {"note_str": note, "instrument_family_str": fam, "pitch": pitch,
                                      "velocity": 100, "instrument_str": f"{fam}_acoustic_{split}{inst:03d}",
                                      "instrument_source_str": "acoustic", "qualities_str": []}
        (folder / "examples.json").write_text(json.dumps(examples))
    return root


def npy(root: Path, *, n_train: int = 60, n_test: int = 20, n_features: int = 120, string_labels=False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    for split, n in (("train", n_train), ("test", n_test)):
        y = np.arange(n) % 3
        x = (rng.standard_normal((n, n_features)) + y[:, None]).astype(np.float32)
        np.save(root / f"instruments_{split}_data.npy", x)
        np.save(root / f"instruments_{split}_labels.npy", np.array(["bass", "flute", "guitar"])[y] if string_labels else y)
    return root
