"""IRMAS (Bosch et al. 2012): predominant instruments in music.

Training: one folder per instrument code (cel, cla, flu, gac, gel, org, pia, sax, tru, vio, voi;
written `[cel]` or `cel`), files like `[cel][cla]0001__1.wav` (the second tag is the genre, not
an instrument). Testing: clips with a .txt beside each listing every predominant instrument, one
code per line. All labels are kept (Clip.labels); the single label used by single-label training
and metrics is defined only where a clip has exactly one (otherwise it is "").
Segments of one excerpt (`...0001__1`, `...0001__2`) share a group.
"""

from __future__ import annotations

import re
from pathlib import Path

from .common import LayoutMismatch, audio_files, build
from .model import Clip, Dataset

NAME = "irmas"
CODES = {"cel": "cello", "cla": "clarinet", "flu": "flute", "gac": "acoustic guitar",
         "gel": "electric guitar", "org": "organ", "pia": "piano", "sax": "saxophone",
         "tru": "trumpet", "vio": "violin", "voi": "voice"}
_SEGMENT = re.compile(r"__\d+$")


def _code(folder: str) -> str | None:
    code = folder.strip("[]").lower()
    return code if code in CODES else None


def _read_labels(txt: Path) -> list[str]:
    try:
        text = txt.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [CODES[c] for c in (line.strip().strip("[]").lower() for line in text.splitlines()) if c in CODES]


def import_dataset(root: Path, *, seed: int = 0, **split_kw) -> Dataset:
    root = Path(root)
    clips, unlabelled = [], 0
    for f in audio_files(root):
        txt = f.with_suffix(".txt")
        if txt.is_file():
            labels = _read_labels(txt)
            if not labels:
                unlabelled += 1
                continue
            clips.append(Clip(path=str(f), label=labels[0] if len(labels) == 1 else "", split="test",
                              source=NAME, group=f"test/{f.stem}", labels=tuple(labels),
                              metadata={"n_labels": len(labels)}))
            continue
        code = _code(f.parent.name)
        if code is None:
            continue
        tags = re.findall(r"\[([a-z_]+)\]", f.stem)
        meta = {"code": code}
        if len(tags) >= 2:
            meta["genre"] = tags[-1]
            if len(tags) >= 3:
                meta["drums"] = tags[1] == "dru"
        clips.append(Clip(path=str(f), label=CODES[code], split="train", source=NAME,
                          group=f"train/{_SEGMENT.sub('', f.stem)}", labels=(CODES[code],), metadata=meta))
    n_train = sum(c.split == "train" for c in clips)
    if n_train == 0:
        raise LayoutMismatch("no IRMAS training folders (cel, cla, flu, gac, gel, org, pia, sax, tru, vio, "
                             "voi, or the same in brackets) with audio in them", path=root)
    notes = []
    n_test = len(clips) - n_train
    if n_test:
        multi = sum(1 for c in clips if c.split == "test" and not c.label)
        notes.append(f"{n_test} testing clip(s), {multi} with several predominant instruments "
                     "(kept as multi-label; no single label)")
    else:
        notes.append("no testing clips (.wav + .txt) found: a test split is held out of the training data")
    if unlabelled:
        notes.append(f"{unlabelled} clip(s) whose .txt names no known instrument were left out")
    classes = [CODES[c] for c in sorted(CODES)]
    return build(name=root.name, layout=NAME, root=root, clips=clips, classes=classes, seed=seed,
                 official=bool(n_test), notes=notes, **split_kw)
