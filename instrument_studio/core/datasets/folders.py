"""Folder-per-class: <root>/<label>/.../<file>.wav at any depth; the label is the first folder
under the root. Takes recorded in the Live panel (<dataset>/<label>/<timestamp>.wav) are read the
same way. Every file is its own recording (its own split group)."""

from __future__ import annotations

from pathlib import Path

from .common import LayoutMismatch, audio_files, build
from .model import Clip, Dataset

NAME = "folders"


def import_dataset(root: Path, *, seed: int = 0, **split_kw) -> Dataset:
    root = Path(root)
    files = audio_files(root)
    if not files:
        raise LayoutMismatch("no audio files anywhere under this folder", path=root)
    clips, loose = [], 0
    for f in files:
        rel = f.relative_to(root)
        if len(rel.parts) < 2:
            loose += 1
            continue
        label = rel.parts[0]
        clips.append(Clip(path=str(f), label=label, source=NAME, group=rel.with_suffix("").as_posix()))
    if not clips:
        raise LayoutMismatch(f"the {loose} audio file(s) lie directly in the folder; a class folder per label "
                             "is expected (<root>/<label>/<file>)", path=root)
    labels = {c.label for c in clips}
    if len(labels) < 2:
        raise LayoutMismatch(f"only one class folder ({next(iter(labels))}); at least two are needed", path=root)
    notes = [f"{loose} file(s) directly in the root folder were left out (no class folder)"] if loose else []
    return build(name=root.name, layout=NAME, root=root, clips=clips, seed=seed, notes=notes, **split_kw)
