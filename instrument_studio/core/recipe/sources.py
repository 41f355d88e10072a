"""What the default-model recipe trains on: canonical classes, folder names -> classes, and Items.

An `Item` is one audio file with its class, its source (the thing a validation fold holds out
whole) and its group (files that must never straddle a split: the renderings of one note, the
parts of one performance, a clean/distorted pair).

Folder decisions that are not obvious:
- `cor-anglais` -> oboe: an alto oboe, same double reed and bore, its range overlaps the oboe's;
  a listener (and the judged test sets) call it oboe, and oboe is short of real material.
- `bass-clarinet`, `contrabassoon` -> excluded by default: they play an octave below their
  family, in the register of bassoon / double bass / tuba, with a different colour; 250 notes
  each would outweigh the few real clarinet/bassoon phrases and blur the low-register classes.
  `shared_items(..., relatives=True)` maps them to clarinet/bassoon if a measurement says so.
- `woodwind-unknown`, `guitar-unknown-type` -> excluded (no trustworthy label).
- `percussion`, `speech`, `noise` and instruments outside CLASSES -> `_background`, the material
  that trains and tunes the "not an instrument I know" answer.
- `harmonium` (npm pack) -> organ: a reed organ, as is General MIDI program 20 rendered as organ.

`real-unverified/` is never part of `shared_items`; `unverified_items` returns it for validation.

    python -m instrument_studio.core.recipe.sources ../shared/data [--with-cache]   # class x source inventory
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..audio.audiofile import AUDIO_EXTENSIONS

CLASSES: tuple[str, ...] = (
    "piano", "violin", "cello", "double-bass", "flute", "clarinet", "oboe", "bassoon", "saxophone",
    "trumpet", "trombone", "french-horn", "acoustic-guitar", "electric-guitar", "organ", "voice",
    "harp", "tuba", "banjo", "mandolin",
)
BACKGROUND = "_background"
BUILT = "notes-phrase"  # the kind of a phrase built from real notes (recipe.phrases)
SOUNDFONT_SOURCE = "sf-"  # the source of a SoundFont's renders is this + the font's short name
KINDS = ("note", "phrase", BUILT, "render")
AUDIO_SUFFIXES = AUDIO_EXTENSIONS

# Folder name -> class, BACKGROUND, or None (excluded). Class names map to themselves.
FOLDER_TO_CLASS: dict[str, str | None] = {c: c for c in CLASSES} | {
    "guitar": "acoustic-guitar", "guitar-nylon": "acoustic-guitar", "classical-guitar": "acoustic-guitar",
    "guitar-electric": "electric-guitar", "electric-guitar-clean": "electric-guitar",
    "electric-guitar-distorted": "electric-guitar",
    "contrabass": "double-bass", "bass": "double-bass",
    "voice-female": "voice", "voice-male": "voice", "voice-female-probable": "voice",
    "voice-male-probable": "voice", "singing": "voice",
    "horn": "french-horn", "cor-anglais": "oboe", "english-horn": "oboe", "piccolo": "flute",
    "harmonium": "organ",
    "bass-clarinet": None, "contrabassoon": None,
    "woodwind-unknown": None, "guitar-unknown-type": None,
    # not an instrument of ours: trains/tunes the unknown answer
    "percussion": BACKGROUND, "speech": BACKGROUND, "noise": BACKGROUND, "xylophone": BACKGROUND,
    "marimba": BACKGROUND, "vibraphone": BACKGROUND, "accordion": BACKGROUND, "harmonica": BACKGROUND,
    "bass-electric": BACKGROUND, "bass-guitar": BACKGROUND, "ukulele": BACKGROUND, "recorder": BACKGROUND,
    "harpsichord": BACKGROUND, "electric-piano": BACKGROUND, "viola": BACKGROUND,
}
# Included only with relatives=True (see the module docstring).
RELATIVES: dict[str, str] = {"bass-clarinet": "clarinet", "contrabassoon": "bassoon"}


@dataclass(frozen=True)
class Item:
    path: str
    label: str
    source: str
    kind: str  # "note" | "phrase" | "notes-phrase" (built from notes) | "render"
    group: str  # items of one group (one performance/recording/clean-distorted pair) never straddle a split
    folder: str = ""  # the folder (or pack) name the label came from, e.g. "viola" under _background
    # 0: the recording as it is; n > 0: the n-th simulated recording chain of it (recipe.augment,
    # seeded by path and n), trained on but never tested on.
    augment: int = 0


def built_once(folder: Path, build: Callable[[], list[Item]], **meta) -> list[Item]:
    """The Items a cached build made in `folder`, or those `build()` makes there (into an emptied
    folder), with a manifest (`meta` and the Items) written last: a finished build is reused, a
    stopped one redone."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        return [Item(**d) for d in json.loads(manifest.read_text("utf-8"))["items"]]
    if folder.exists():
        shutil.rmtree(folder)
    items = build()
    folder.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({**meta, "items": [asdict(i) for i in items]}, indent=1), "utf-8")
    return items


def label_for(folder: str, *, relatives: bool = False) -> str | None:
    """The class of a folder name; BACKGROUND for other sounds; None for excluded folders."""
    name = folder.strip().lower()
    if relatives and name in RELATIVES:
        return RELATIVES[name]
    if name in FOLDER_TO_CLASS:
        return FOLDER_TO_CLASS[name]
    return BACKGROUND  # an instrument outside CLASSES is "not an instrument I know"


def cache_dir() -> Path:
    """Where fetched packs, renders and built phrases live (user cache, never the repository)."""
    from ..userdirs import user_cache_dir

    return user_cache_dir("recipe")


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))


def _strip_take_number(stem: str) -> str:
    """`coler2011_Flute_63-03` -> `coler2011_Flute`: numbered excerpts of one recording stay together."""
    prev = None
    while prev != stem:
        prev, stem = stem, re.sub(r"[-_]\d+$", "", stem)
    return stem or prev


def _real_group(source: str, stem: str) -> str:
    if source == "bach10":  # bach10ex_P4_Mix01_S4: the four parts of chorale Mix01 are one performance
        m = re.search(r"Mix(\d+)", stem)
        return f"bach10:Mix{m.group(1)}" if m else f"bach10:{stem}"
    if source == "weresax":  # a2_f_rr1_cnd: every dynamic and round robin of one note
        return f"weresax:{stem.split('_')[0].lower()}"
    if source == "bach-violin":  # john-garner_bwv1002_mov6: movements of one work, one session
        return f"bach-violin:{'_'.join(stem.split('_')[:2])}"
    return f"{source}:{_strip_take_number(stem)}"


def _philharmonia_item(path: Path, folder: str, label: str) -> Item:
    # <instrument>_<note>_<duration>_<dynamic>_<articulation>; percussion has an empty note field
    parts = path.stem.split("_")
    note = parts[1] if len(parts) > 1 else ""
    duration = parts[2] if len(parts) > 2 else ""
    kind = "phrase" if duration == "phrase" else "note"
    return Item(str(path), label, "philharmonia", kind, f"philharmonia:{parts[0]}:{note}", folder)


def philharmonia_items(data_root: Path, *, relatives: bool = False) -> list[Item]:
    root = Path(data_root) / "philharmonia"
    if not root.is_dir():
        return []
    items = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        label = label_for(folder.name, relatives=relatives)
        if label is None:
            continue
        items += [_philharmonia_item(f, folder.name, label) for f in _audio_files(folder)]
    return items


def _tree_items(root: Path, group_of, *, relatives: bool = False) -> list[Item]:
    """Items of `root/<source>/<instrument>/<file>`."""
    items = []
    if not root.is_dir():
        return items
    for src in sorted(p for p in root.iterdir() if p.is_dir()):
        for folder in sorted(p for p in src.iterdir() if p.is_dir()):
            label = label_for(folder.name, relatives=relatives)
            if label is None:
                continue
            kind = "note" if src.name == "weresax" else "phrase"
            for f in _audio_files(folder):
                items.append(Item(str(f), label, src.name, kind, group_of(src.name, f.stem), folder.name))
    return items


def real_items(data_root: Path, *, relatives: bool = False) -> list[Item]:
    return _tree_items(Path(data_root) / "real", _real_group, relatives=relatives)


def shared_items(data_root: Path, *, relatives: bool = False) -> list[Item]:
    """Training material in ../shared/data: philharmonia/ and real/<source>/<instrument>/<file>.

    real-unverified/ is never included (unknown licence: validation only, see `unverified_items`).
    """
    return philharmonia_items(data_root, relatives=relatives) + real_items(data_root, relatives=relatives)


_PAIR_ROLES = {"clean", "processed", "effect", "input", "target", "distortion", "guitar", "final"}


def _unverified_group(source: str, stem: str) -> str:
    if source == "mpachetta":  # musical_fagot_final is cut from the same recording as musical_fagot
        return f"unverified:mpachetta:{re.sub(r'_final$', '', stem)}"
    if source == "guitar-amp":  # gulmini_input_001 / gulmini_target_001: one performance, two amps
        kept = [t for t in stem.split("_") if t.lower() not in _PAIR_ROLES and not re.fullmatch(r"fs\d+", t)]
        return f"unverified:guitar-amp:{'_'.join(kept)}"
    return f"unverified:{source}:{stem}"


def unverified_items(data_root: Path) -> list[Item]:
    """real-unverified/: real phrases of unknown licence, for VALIDATION ONLY (never train on them).

    Source is `unverified-<folder>`, so these items can never be mistaken for training sources.
    """
    items = _tree_items(Path(data_root) / "real-unverified", _unverified_group)
    return [Item(i.path, i.label, f"unverified-{i.source}", i.kind, i.group, i.folder) for i in items]


def seconds(path: str | Path) -> float:
    import soundfile as sf

    try:
        return float(sf.info(str(path)).duration)
    except Exception:  # an undecodable file counts as 0 s in the inventory
        return 0.0


def inventory(items: list[Item]) -> str:
    """A class x source table: files/seconds per cell, totals per class."""
    cells: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for it in items:
        cell = cells[(it.label, it.source)]
        cell[0] += 1
        cell[1] += seconds(it.path)
    labels = [c for c in (*CLASSES, BACKGROUND) if any(k[0] == c for k in cells)]
    sources = sorted({k[1] for k in cells})
    shown = [s.removeprefix("unverified-")[:9] for s in sources]
    w = 10
    lines = [f"{'class':<16}" + "".join(f"{s:>{w}}" for s in shown) + f"{'total':>12}"]
    for lab in labels:
        row, n_tot, s_tot = f"{lab:<16}", 0, 0.0
        for s in sources:
            n, sec = cells.get((lab, s), (0, 0.0))
            n_tot, s_tot = n_tot + n, s_tot + sec
            row += f"{(f'{n}/{sec:.0f}' if n else '.'):>{w}}"
        lines.append(row + f"{f'{n_tot}/{s_tot:.0f}':>12}")
    missing = [c for c in CLASSES if c not in labels]
    lines.append(f"{len(items)} files; cells are files/seconds; columns: {', '.join(sources)}" + (f"; no data: {', '.join(missing)}" if missing else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0]) if args else Path("../shared/data")
    if not root.is_dir():
        print(f"{root}: no such folder (give the shared data root, e.g. ../shared/data)", file=sys.stderr)
        return 2
    print("# training items (philharmonia/ + real/)")
    print(inventory(shared_items(root)))
    if "--with-cache" in argv:  # what fetch/render/phrases put in the user cache (fetches missing packs)
        from .fetch import npm_items
        from .render import render_items

        cached = npm_items() + render_items()
        print("\n# npm packs and SoundFont renders (user cache)")
        print(inventory(cached))
    print("\n# validation only (real-unverified/)")
    print(inventory(unverified_items(root)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
