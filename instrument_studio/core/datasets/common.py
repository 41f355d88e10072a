"""What the importers share: walking a folder for audio, building a Dataset, name helpers."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..audio.audiofile import AUDIO_EXTENSIONS
from ..errors import DatasetError
from .model import Clip, Dataset
from .splits import DEFAULT_TEST_FRACTION, DEFAULT_VAL_FRACTION, assign_splits


class LayoutMismatch(DatasetError):
    """This folder is not in the layout an importer reads; the message says why."""


def audio_files(root: Path) -> list[Path]:
    """Every audio file under root (any depth), sorted, hidden folders and files skipped."""
    root = Path(root)
    if not root.is_dir():
        raise LayoutMismatch("not a folder", path=root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in filenames:
            if not f.startswith(".") and f.lower().endswith(AUDIO_EXTENSIONS):
                out.append(Path(dirpath) / f)
    out.sort()
    return out


def kebab(name: str) -> str:
    """'AltoSax' -> 'alto-sax', 'tenor saxophone' -> 'tenor-saxophone' (stable class names)."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name.strip())
    return re.sub(r"[\s_]+", "-", name).lower()


_NOTE = re.compile(r"^([A-Ga-g])(#|s|b)?(-?\d)$")
_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_note(text: str) -> tuple[str, int] | None:
    """'As4' (Philharmonia sharp) / 'A#4' / 'Bb3' -> ('A#4', 70); None if not a note name."""
    m = _NOTE.match(text)
    if not m:
        return None
    letter, acc, octave = m.group(1).upper(), m.group(2) or "", int(m.group(3))
    shift = {"#": 1, "s": 1, "b": -1, "": 0}[acc]
    midi = 12 * (octave + 1) + _PC[letter] + shift
    return f"{letter}{'#' if shift > 0 else 'b' if shift < 0 else ''}{octave}", midi


def build(*, name: str, layout: str, root: Path, clips: list[Clip], classes=None, seed: int = 0,
          official: bool = False, val_fraction: float = DEFAULT_VAL_FRACTION,
          test_fraction: float = DEFAULT_TEST_FRACTION, notes: list[str] | None = None) -> Dataset:
    if not clips:
        raise LayoutMismatch("no clips found", path=root)
    if classes is None:
        classes = sorted({lab for c in clips for lab in c.all_labels})
    clips, info = assign_splits(clips, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction,
                                official=official)
    return Dataset(name=name, layout=layout, root=Path(root).resolve(), classes=tuple(classes), clips=clips,
                   split_info=info, notes=list(notes or []))
