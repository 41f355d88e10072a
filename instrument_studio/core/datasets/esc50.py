"""ESC-50 (Piczak 2015): audio/{FOLD}-{CLIP_ID}-{TAKE}-{TARGET}.wav and meta/esc50.csv.

The five folds are kept (Clip.fold). The default split holds fold 5 out as the test split and
carves validation from folds 1-4; takes of one source clip (CLIP_ID) share a group, as the
dataset's folds do.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .common import LayoutMismatch, audio_files, build
from .model import Clip, Dataset

NAME = "esc50"
TEST_FOLD = 5
# Target index -> category, as in meta/esc50.csv (used when the CSV is absent).
CATEGORIES = (
    "dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow",
    "rain", "sea_waves", "crackling_fire", "crickets", "chirping_birds", "water_drops", "wind",
    "pouring_water", "toilet_flush", "thunderstorm", "crying_baby", "sneezing", "clapping", "breathing",
    "coughing", "footsteps", "laughing", "brushing_teeth", "snoring", "drinking_sipping",
    "door_wood_knock", "mouse_click", "keyboard_typing", "door_wood_creaks", "can_opening",
    "washing_machine", "vacuum_cleaner", "clock_alarm", "clock_tick", "glass_breaking", "helicopter",
    "chainsaw", "siren", "car_horn", "engine", "train", "church_bells", "airplane", "fireworks", "hand_saw",
)
_NAME = re.compile(r"^(?P<fold>[1-5])-(?P<clip>\d+)-(?P<take>[A-Z])-(?P<target>\d{1,2})$")


def _csv(root: Path) -> dict[str, dict]:
    for p in [root / "meta" / "esc50.csv", *sorted(root.rglob("esc50.csv"))]:
        if p.is_file():
            try:
                with open(p, newline="", encoding="utf-8") as fh:
                    return {r["filename"]: r for r in csv.DictReader(fh)}
            except (OSError, KeyError, UnicodeDecodeError):
                continue
    return {}


def import_dataset(root: Path, *, seed: int = 0, test_fold: int = TEST_FOLD, **split_kw) -> Dataset:
    root = Path(root)
    meta = _csv(root)
    clips, other = [], []
    for f in audio_files(root):
        m = _NAME.match(f.stem)
        if m is None or int(m.group("target")) >= len(CATEGORIES):
            other.append(f.name)
            continue
        row = meta.get(f.name, {})
        target = int(row.get("target", m.group("target")))
        category = row.get("category") or CATEGORIES[target]
        fold = int(row.get("fold", m.group("fold")))
        clips.append(Clip(path=str(f), label=category, split="test" if fold == test_fold else "train",
                          source=NAME, group=f"clip-{m.group('clip')}", fold=fold,
                          metadata={"target": target, "take": m.group("take"),
                                    **({"esc10": row["esc10"] == "True"} if "esc10" in row else {})}))
    if not clips:
        why = f"e.g. {other[0]!r}" if other else "no audio files"
        raise LayoutMismatch(f"no file is named {{FOLD}}-{{CLIP_ID}}-{{TAKE}}-{{TARGET}}.wav ({why})", path=root)
    target_of = {c.label: c.metadata["target"] for c in clips}
    classes = sorted(target_of, key=target_of.get)
    notes = [f"fold {test_fold} is the test split; validation is carved from the other folds",
             "category names from " + ("meta/esc50.csv" if meta else "the file names (target index)")]
    return build(name=root.name, layout=NAME, root=root, clips=clips, classes=classes, seed=seed,
                 official=True, notes=notes, **split_kw)
