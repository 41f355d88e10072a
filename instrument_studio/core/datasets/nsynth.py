"""NSynth (Engel et al. 2017): nsynth-{train,valid,test}/examples.json + audio/<note_str>.wav.

The label is `instrument_family_str`. The official splits are kept where the root holds the split
folders; a single split folder on its own is split here, grouped by instrument (`instrument_str`)
so one instrument's notes never straddle splits.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import DatasetError
from .common import LayoutMismatch, build
from .model import Clip, Dataset

NAME = "nsynth"
_SPLIT_WORDS = (("train", "train"), ("valid", "val"), ("test", "test"))


def _split_of(folder: Path) -> str | None:
    name = folder.name.lower()
    for word, split in _SPLIT_WORDS:
        if word in name:
            return split
    return None


def import_dataset(root: Path, *, seed: int = 0, **split_kw) -> Dataset:
    root = Path(root)
    if not root.is_dir():
        raise LayoutMismatch("not a folder", path=root)
    jsons = sorted(p for p in root.rglob("examples.json") if len(p.relative_to(root).parts) <= 3)
    if not jsons:
        raise LayoutMismatch("no examples.json (NSynth keeps one in each nsynth-<split> folder)", path=root)
    clips, missing = [], 0
    splits_seen = set()
    for js in jsons:
        try:
            examples = json.loads(js.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DatasetError(f"cannot read NSynth examples: {exc}", path=js) from exc
        if not isinstance(examples, dict):
            raise LayoutMismatch("examples.json is not an object of note_str -> note", path=js)
        split = _split_of(js.parent)
        splits_seen.add(split)
        for note_str, ex in sorted(examples.items()):
            if "instrument_family_str" not in ex:
                raise LayoutMismatch(f"note {note_str!r} has no instrument_family_str", path=js)
            wav = js.parent / "audio" / f"{note_str}.wav"
            if not wav.is_file():
                missing += 1
                continue
            meta = {k: ex[k] for k in ("pitch", "velocity", "instrument_str", "instrument_source_str",
                                       "qualities_str") if k in ex}
            clips.append(Clip(path=str(wav), label=ex["instrument_family_str"], split=split or "train",
                              source=NAME, group=ex.get("instrument_str", note_str), metadata=meta))
    if not clips:
        raise LayoutMismatch(f"examples.json lists notes but none of their audio/<note_str>.wav exist "
                             f"({missing} missing)", path=root)
    official = {"train", "test"} <= splits_seen and None not in splits_seen
    notes = [f"{missing} note(s) listed without an audio file were left out"] if missing else []
    if not official:
        notes.append("not all official split folders present: split here, grouped by instrument")
    return build(name=root.name, layout=NAME, root=root, clips=clips, seed=seed, official=official,
                 notes=notes, **split_kw)
