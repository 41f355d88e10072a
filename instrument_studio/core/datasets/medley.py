"""Medley-solos-DB (Lostanlen & Cella 2016): 3-second solo clips of 8 instruments.

With its metadata CSV (columns subset, instrument, instrument_id, song_id, uuid4) or, without it,
from the file names Medley-solos-DB_<subset>-<instrument_id>_<uuid4>.wav|flac. The official
training/validation/test subsets are kept; clips of one song share a group.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .common import LayoutMismatch, audio_files, build
from .model import Clip, Dataset

NAME = "medley"
CLASSES = ("clarinet", "distorted electric guitar", "female singer", "flute", "piano",
           "tenor saxophone", "trumpet", "violin")
_NAME = re.compile(r"^Medley-solos-DB_(?P<subset>training|validation|test)-(?P<id>[0-7])_(?P<uuid>[0-9a-f-]{36})$")
_SPLIT = {"training": "train", "validation": "val", "test": "test"}


def _metadata(root: Path) -> dict[str, dict]:
    """uuid4 -> row of the metadata CSV, if one is found under root."""
    for csv_path in sorted(root.rglob("Medley-solos-DB_metadata*.csv")) + sorted(root.rglob("*metadata*.csv")):
        try:
            with open(csv_path, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError):
            continue
        if rows and {"subset", "instrument_id", "uuid4"} <= set(rows[0]):
            return {r["uuid4"]: r for r in rows}
    return {}


def import_dataset(root: Path, *, seed: int = 0, **split_kw) -> Dataset:
    root = Path(root)
    files = audio_files(root)
    meta = _metadata(root)
    clips, other = [], []
    for f in files:
        m = _NAME.match(f.stem)
        if m is None:
            other.append(f.name)
            continue
        row = meta.get(m.group("uuid"), {})
        subset = row.get("subset", m.group("subset"))
        inst_id = int(row.get("instrument_id", m.group("id")))
        song = row.get("song_id", "")
        clips.append(Clip(path=str(f), label=CLASSES[inst_id], split=_SPLIT[subset], source=NAME,
                          group=f"song-{song}" if song != "" else m.group("uuid"),
                          metadata={"instrument_id": inst_id, "uuid4": m.group("uuid"), "subset": subset,
                                    **({"song_id": int(song)} if song != "" else {})}))
    if not clips:
        why = f"e.g. {other[0]!r}" if other else "no audio files"
        raise LayoutMismatch(f"no file is named Medley-solos-DB_<subset>-<instrument_id>_<uuid4>.wav ({why})",
                             path=root)
    notes = [f"class names and splits from {'the metadata CSV' if meta else 'the file names'}"]
    if other:
        notes.append(f"{len(other)} other audio file(s) left out")
    return build(name=root.name, layout=NAME, root=root, clips=clips, classes=CLASSES,
                 seed=seed, official=True, notes=notes, **split_kw)
