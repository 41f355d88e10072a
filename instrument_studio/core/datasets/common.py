"""What the importers share: walking a folder for audio, building a Dataset, name helpers."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from ..audio.audiofile import AUDIO_EXTENSIONS
from ..errors import DatasetError
from .model import Clip, Dataset
from .splits import DEFAULT_TEST_FRACTION, DEFAULT_VAL_FRACTION, assign_splits


class LayoutMismatch(DatasetError):
    """This folder is not in the layout an importer reads; the message says why."""


# How the importers walk a folder, set for one import by walk_options() (detect.import_dataset):
# whether directory links are followed, and the notes the walk leaves (links not followed, loops
# skipped, folders that could not be read), which build() adds to the Dataset's notes.
_follow_links: ContextVar[bool] = ContextVar("follow_links", default=False)
_walk_notes: ContextVar[list[str] | None] = ContextVar("walk_notes", default=None)


@contextlib.contextmanager
def walk_options(*, follow_links: bool = False) -> Iterator[list[str]]:
    """Within the block, audio_files() follows directory links or not; yields the walk's notes."""
    notes: list[str] = []
    t1, t2 = _follow_links.set(follow_links), _walk_notes.set(notes)
    try:
        yield notes
    finally:
        _follow_links.reset(t1)
        _walk_notes.reset(t2)


def _note(text: str) -> None:
    notes = _walk_notes.get()
    if notes is not None and text not in notes:
        notes.append(text)


def audio_files(root: Path, *, follow_links: bool | None = None) -> list[Path]:
    """Every audio file under root (any depth), sorted, hidden folders and files skipped.

    Directory links are not followed unless asked (a link to / would walk the whole disk); when
    followed, a folder reached twice (a link loop, two links to one place) is walked once. A file
    reached by two paths counts once. Links not followed, loops skipped and folders that cannot be
    read are reported through walk_options()' notes, never dropped silently.
    """
    root = Path(root)
    if not root.is_dir():
        raise LayoutMismatch("not a folder", path=root)
    follow = _follow_links.get() if follow_links is None else follow_links
    out: list[Path] = []
    seen_files: set[str] = set()
    seen_dirs = {os.path.realpath(root)}
    unreadable: list[str] = []
    links: list[str] = []
    loops: list[str] = []

    def onerror(exc: OSError) -> None:
        unreadable.append(f"{_rel(exc.filename, root)} ({exc.strerror})")

    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow, onerror=onerror):
        keep = []
        for d in sorted(d for d in dirnames if not d.startswith(".")):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                if not follow:
                    links.append(_rel(full, root))
                    continue
                real = os.path.realpath(full)
                if real in seen_dirs or not os.path.isdir(real):
                    loops.append(_rel(full, root))
                    continue
                seen_dirs.add(real)
            else:
                seen_dirs.add(os.path.realpath(full))
            keep.append(d)
        dirnames[:] = keep
        for f in filenames:
            if not f.startswith(".") and f.lower().endswith(AUDIO_EXTENSIONS):
                real = os.path.realpath(os.path.join(dirpath, f))
                if real in seen_files:
                    continue
                seen_files.add(real)
                out.append(Path(dirpath) / f)
    if unreadable:
        _note(f"{len(unreadable)} folder(s) could not be read and were left out: {_some(unreadable)}")
    if links:
        _note(f"{len(links)} linked folder(s) not followed: {_some(links)} (import with --follow-links "
              "to include them)")
    if loops:
        _note(f"{len(loops)} linked folder(s) skipped, already walked (a link loop or a second link to "
              f"one place): {_some(loops)}")
    out.sort()
    return out


def _rel(path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except (TypeError, ValueError):
        return str(path)


def _some(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


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
                   split_info=info, notes=[*(notes or []), *(_walk_notes.get() or [])])
