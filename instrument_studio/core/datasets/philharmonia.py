"""Philharmonia Orchestra sample names and University of Iowa MIS names.

Philharmonia: <instrument>_<note>_<duration>_<dynamic>_<articulation>.mp3, e.g.
cello_A2_1_forte_arco-normal.mp3 (note "As4" is A#4; percussion leaves the note empty:
bass-drum__1_forte_struck-singly.mp3). The label is the class folder when files are sorted into
one folder per instrument (the library's own download is; its percussion folder holds many
instruments), otherwise the instrument in the name.

Iowa MIS: dot-separated, e.g. Flute.vib.ff.A4.stereo.aif, Horn.ff.Bb3.stereo.aiff,
Violin.arco.ff.sulA.C4B4.aiff (a range of notes). Label: the instrument, kebab-cased (AltoSax ->
alto-sax).

Clips of one instrument and note (all durations and dynamics) share a group, so near-identical
takes never straddle splits.
"""

from __future__ import annotations

import re
from pathlib import Path

from .common import LayoutMismatch, audio_files, build, parse_note
from .model import Clip, Dataset

NAME = "philharmonia"
UIOWA = "uiowa"

_PHIL = re.compile(r"^(?P<instrument>[A-Za-z][A-Za-z0-9-]*)_(?P<note>[A-G]s?\d|)_(?P<duration>[a-z0-9-]+)_"
                   r"(?P<dynamic>[a-z-]+)_(?P<articulation>[a-z0-9-]+)$")
_IOWA_DYNAMICS = ("pppp", "ppp", "pp", "p", "mp", "mf", "f", "ff", "fff")
_IOWA_SKIP = {"stereo", "mono", "l", "r"}
_IOWA_RANGE = re.compile(r"^([A-G]b?\d)([A-G]b?\d)$")
# Durations in Philharmonia names: 025 = 0.25 s, 05 = 0.5 s, 15 = 1.5 s.
_DURATIONS = {"025": 0.25, "05": 0.5, "1": 1.0, "15": 1.5}


def parse_philharmonia(stem: str) -> dict | None:
    m = _PHIL.match(stem)
    if not m:
        return None
    d = m.groupdict()
    meta = {"instrument": d["instrument"], "dynamic": d["dynamic"], "articulation": d["articulation"],
            "duration": d["duration"]}
    if d["duration"] in _DURATIONS:
        meta["duration_s"] = _DURATIONS[d["duration"]]
    if d["note"]:
        name, midi = parse_note(d["note"])
        meta.update(pitch=name, midi=midi)
    return meta


def parse_uiowa(stem: str) -> dict | None:
    parts = stem.split(".")
    if len(parts) < 3 or not parts[0][:1].isalpha():
        return None
    meta: dict = {"instrument": parts[0]}
    articulation = []
    for tok in parts[1:]:
        if tok in _IOWA_DYNAMICS:
            meta["dynamic"] = tok
        elif (note := parse_note(tok)) is not None:
            meta["pitch"], meta["midi"] = note
        elif (rng := _IOWA_RANGE.match(tok)) is not None:
            meta["pitch"] = f"{rng.group(1)}-{rng.group(2)}"
            meta["midi"] = parse_note(rng.group(1))[1]
        elif tok.lower() not in _IOWA_SKIP:
            articulation.append(tok)
    if "dynamic" not in meta and "pitch" not in meta:
        return None
    if articulation:
        meta["articulation"] = ".".join(articulation)
    return meta


def _label(root: Path, f: Path, instrument: str) -> str:
    rel = f.relative_to(root)
    return rel.parts[0] if len(rel.parts) >= 2 else instrument


def _import(root: Path, *, layout: str, parse, seed: int, **split_kw) -> Dataset:
    from .common import kebab

    root = Path(root)
    files = audio_files(root)
    if not files:
        raise LayoutMismatch("no audio files", path=root)
    clips, bad = [], []
    for f in files:
        meta = parse(f.stem)
        if meta is None:
            bad.append(f.name)
            continue
        instrument = meta["instrument"] if layout == NAME else kebab(meta["instrument"])
        label = _label(root, f, instrument)
        note = meta.get("pitch") or meta.get("articulation", "")
        clips.append(Clip(path=str(f), label=label, source=layout, group=f"{label}/{meta['instrument']}/{note}",
                          metadata=meta))
    # A few stray files are tolerated (listed in the notes); a folder mostly of other names is not this layout.
    if len(bad) > max(2, 0.1 * len(files)):
        example = "Flute.vib.ff.A4.stereo.aif" if layout == UIOWA else "cello_A2_1_forte_arco-normal.mp3"
        raise LayoutMismatch(f"{len(bad)} of {len(files)} file names are not {layout} names "
                             f"(e.g. {bad[0]!r}; expected names like {example})", path=root)
    notes = [f"{len(bad)} file(s) with other names were left out: {', '.join(bad[:5])}"] if bad else []
    return build(name=root.name, layout=layout, root=root, clips=clips, seed=seed, notes=notes, **split_kw)


def import_dataset(root: Path, *, seed: int = 0, **split_kw) -> Dataset:
    return _import(root, layout=NAME, parse=parse_philharmonia, seed=seed, **split_kw)


def import_uiowa(root: Path, *, seed: int = 0, **split_kw) -> Dataset:
    return _import(root, layout=UIOWA, parse=parse_uiowa, seed=seed, **split_kw)
