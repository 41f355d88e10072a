"""Notes, phrases and chords rendered from General MIDI SoundFonts with tinysoundfont.

Several SoundFonts (several sample sets, several recording chains) so that no class rests on
one: FluidR3_GM (Debian fluid-soundfont-gm), MuseScore General (Debian
musescore-general-soundfont[-small]; tinysoundfont reads its Ogg-compressed .sf3) and
TimGM6mb.sf2 (shipped in the pretty-midi wheel). Every class has its General MIDI programs and
playing range; each clip draws pitch, velocity, length, tempo and articulation from a generator
seeded by (seed, font, class), so a rerun gives the same files. Output: 22,050 Hz 16-bit FLAC
under `cache_dir()/render/<font>-<key>/<class>/`, with a manifest written last (a finished font
is reused; a half-written one is rendered again). Source names: "sf-<font>".
"""

from __future__ import annotations

import hashlib
import json
import sys
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..datasets.starter import render_notes
from ..errors import DatasetError
from ._audio import save_audio
from .sources import BACKGROUND, SOUNDFONT_SOURCE, Item, built_once, cache_dir

# class -> [(GM program 0-based, lowest MIDI note, highest MIDI note)]
PROGRAMS: dict[str, list[tuple[int, int, int]]] = {
    "piano": [(0, 24, 103), (1, 28, 100), (2, 28, 96)],
    "violin": [(40, 55, 100)],
    "cello": [(42, 36, 76)],
    "double-bass": [(43, 28, 60), (32, 28, 60)],  # arco contrabass and the plucked "acoustic bass"
    "flute": [(73, 60, 96)],
    "clarinet": [(71, 50, 91)],
    "oboe": [(68, 58, 91), (69, 52, 81)],  # oboe and cor anglais (see sources: cor-anglais -> oboe)
    "bassoon": [(70, 34, 72)],
    "saxophone": [(64, 56, 87), (65, 49, 81), (66, 44, 76), (67, 36, 69)],
    "trumpet": [(56, 54, 82), (59, 54, 82)],  # open and muted
    "trombone": [(57, 40, 72)],
    "french-horn": [(60, 34, 77)],
    "tuba": [(58, 28, 58)],
    "acoustic-guitar": [(24, 40, 83), (25, 40, 83)],
    "electric-guitar": [(26, 40, 86), (27, 40, 86), (28, 40, 86), (29, 40, 84), (30, 40, 84)],
    "organ": [(16, 36, 96), (17, 36, 96), (18, 36, 96), (19, 36, 96), (20, 36, 96)],
    "voice": [(52, 48, 79), (53, 48, 79)],
    "harp": [(46, 24, 103)],
    "banjo": [(105, 48, 81)],
    BACKGROUND: [(11, 53, 89), (12, 45, 96), (13, 65, 108), (14, 60, 77), (21, 53, 89), (22, 60, 96),
                 (33, 28, 55), (34, 28, 55), (104, 48, 77), (108, 60, 84), (114, 52, 76), (81, 40, 90),
                 (89, 36, 84), (122, 48, 72), (126, 48, 72), (-1, 35, 81)],  # -1: the drum kit
}
POLYPHONIC = {"piano", "acoustic-guitar", "electric-guitar", "organ", "harp", "banjo"}
_SCALES = ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10), (0, 2, 3, 5, 7, 9, 10), (0, 2, 4, 7, 9))
SOUNDFONT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "fluidr3": ("/usr/share/sounds/sf2/FluidR3_GM.sf2",),
    "musescore": ("/usr/share/sounds/sf2/MuseScore_General.sf2", "/usr/share/sounds/sf3/MuseScore_General.sf3",
                  "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3", "/usr/share/sounds/sf2/MuseScore_General_Lite.sf2"),
    "timgm6mb": ("/usr/share/sounds/sf2/TimGM6mb.sf2",),
}


@dataclass(frozen=True)
class SoundFont:
    name: str  # short: fluidr3, musescore, timgm6mb
    path: Path

    @property
    def source(self) -> str:
        return f"{SOUNDFONT_SOURCE}{self.name}"


@dataclass(frozen=True)
class RenderSpec:
    # The default model's recipe renders this many of each per class and font and trains on all of
    # them (measured there: packaging/make_default_model.py, RENDER_NOTES).
    notes_per_class: int = 48
    phrases_per_class: int = 24
    seed: int = 0
    sr: int = 22050
    velocities: tuple[int, ...] = (36, 56, 76, 96, 118)
    note_seconds: tuple[float, ...] = (0.3, 0.6, 1.0, 1.6, 2.5)
    phrase_seconds: tuple[float, float] = (3.0, 7.0)
    release_s: float = 0.6


def find_soundfonts() -> list[SoundFont]:
    """The SoundFonts on this machine, one per name (best file first)."""
    found = []
    for name, paths in SOUNDFONT_CANDIDATES.items():
        p = next((Path(c) for c in paths if Path(c).is_file()), None)
        if p is None and name == "timgm6mb":
            try:
                import pretty_midi

                q = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
                p = q if q.is_file() else None
            except ImportError:
                p = None
        if p is not None:
            found.append(SoundFont(name, p.resolve()))
    return found


def _rng(spec: RenderSpec, font: str, label: str) -> np.random.Generator:
    return np.random.default_rng([spec.seed, zlib.crc32(font.encode()), zlib.crc32(label.encode())])


def plan_class(label: str, spec: RenderSpec, rng: np.random.Generator) -> list[dict]:
    """Every clip of one class: {kind, index, program, notes [(midi, start, dur, vel)], seconds}.

    Notes: pitches spread over each program's range, several velocities and lengths. Phrases:
    random walks on a scale at a random tempo, legato overlaps, short rests, accents, and chords
    on polyphonic instruments; 3-7 s.
    """
    progs = PROGRAMS[label]
    out = []
    n = spec.notes_per_class
    for i in range(n):
        prog, lo, hi = progs[i % len(progs)]
        frac = (i // len(progs)) / max(1, (n - 1) // len(progs))
        midi = int(np.clip(round(lo + (hi - lo) * frac) + rng.integers(-2, 3), lo, hi))
        dur = float(rng.choice(spec.note_seconds))
        out.append({"kind": "note", "index": i, "program": prog,
                    "notes": [(midi, 0.0, dur, int(rng.choice(spec.velocities)))],
                    "seconds": dur + spec.release_s})
    for i in range(spec.phrases_per_class):
        prog, lo, hi = progs[int(rng.integers(len(progs)))]
        target = float(rng.uniform(*spec.phrase_seconds))
        beat = 60.0 / float(rng.uniform(60, 160))
        scale = _SCALES[int(rng.integers(len(_SCALES)))]
        tonic = int(rng.integers(lo, max(lo + 1, hi - 12)))
        legato = float(rng.uniform(0.7, 1.15))  # >1: notes overlap the next one
        base_vel = int(rng.choice(spec.velocities))
        degree, t, notes = 0, 0.0, []
        chords = label in POLYPHONIC and rng.random() < 0.5
        while t < target:
            step = beat * float(rng.choice([0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0]))
            if rng.random() < 0.1:  # a rest
                t += step
                continue
            octave, k = divmod(degree, len(scale))
            midi = int(np.clip(tonic + 12 * octave + scale[k], lo, hi))
            vel = int(np.clip(base_vel + rng.integers(-15, 16) + (12 if rng.random() < 0.15 else 0), 15, 127))
            dur = step * legato * float(rng.uniform(0.85, 1.0))
            notes.append((midi, t, dur, vel))
            if chords and rng.random() < 0.6:
                for extra in sorted(rng.choice([3, 4, 7, 12], size=int(rng.integers(1, 4)), replace=False)):
                    if midi + extra <= hi:
                        notes.append((int(midi + extra), t + float(rng.uniform(0, 0.02)), dur, max(15, vel - 10)))
            t += step
            degree = max(-3, min(14, degree + int(rng.choice([-3, -2, -1, -1, 1, 1, 2, 3, 4]))))
        if not notes:
            notes = [(tonic, 0.0, 1.0, base_vel)]
        out.append({"kind": "phrase", "index": i, "program": prog, "notes": notes,
                    "seconds": max(s + d for _, s, d, _ in notes) + spec.release_s})
    return out


# Bumped whenever the rendering itself changes, so that renders cached by older code are not reused.
# 2: the starter set's note renderer (`datasets.starter.render_notes`, 2026-11-28 21:09); a cache made
# before it held a few clips that a clean run renders otherwise (6 of 300 checked), which moved the
# default model's hold-outs by 3 files of 1,414.
RENDER_VERSION = 2


def _key(font: SoundFont, spec: RenderSpec, labels: list[str]) -> str:
    import tinysoundfont

    ident = {"spec": asdict(spec), "labels": labels, "programs": {k: PROGRAMS[k] for k in labels},
             "font": [font.path.name, font.path.stat().st_size], "v": RENDER_VERSION,
             "tinysoundfont": getattr(tinysoundfont, "__version__", "")}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]


def render_font(font: SoundFont, spec: RenderSpec = RenderSpec(), *, labels: list[str] | None = None,
                out_root: Path | None = None) -> list[Item]:
    """Render (or reuse) every planned clip of `labels` from one SoundFont; the Items."""
    import tinysoundfont

    labels = list(labels or PROGRAMS)
    root = Path(out_root) if out_root is not None else cache_dir() / "render"
    folder = root / f"{font.name}-{_key(font, spec, labels)}"

    def build() -> list[Item]:
        synth = tinysoundfont.Synth(samplerate=spec.sr, gain=-3.0)
        try:
            sfid = synth.sfload(str(font.path))
        except Exception as exc:  # tinysoundfont raises its own exception types
            raise DatasetError(f"cannot load the SoundFont ({exc})", path=font.path) from exc
        items = []
        for label in labels:
            for clip in plan_class(label, spec, _rng(spec, font.name, label)):
                prog = clip["program"]
                drums = prog < 0
                chan = 9 if drums else 0
                try:
                    synth.program_select(chan, sfid, 128 if drums else 0, 0 if drums else prog, is_drums=drums)
                except Exception:  # a font without this preset: skip the clip, not the font
                    continue
                y = render_notes(synth, clip["notes"], clip["seconds"], spec.sr, channel=chan, tail_s=0.1)
                if not np.any(np.abs(y) > 1e-4):
                    continue
                first = clip["notes"][0]
                name = f"{label}_{clip['kind']}{clip['index']:03d}_p{prog}_m{first[0]}_v{first[3]}.flac"
                path = save_audio(folder / label / name, y, spec.sr)
                group = (f"{font.source}:{label}:note:{first[0]}" if clip["kind"] == "note"
                         else f"{font.source}:{label}:phrase:{clip['index']}")
                items.append(Item(str(path), label, font.source, "render", group, f"gm{prog}"))
        return items

    return built_once(folder, build, font=str(font.path), spec=asdict(spec))


def render_items(spec: RenderSpec = RenderSpec(), *, fonts: list[SoundFont] | None = None,
                 labels: list[str] | None = None, out_root: Path | None = None) -> list[Item]:
    """Renders from every SoundFont found (or `fonts`)."""
    fonts = find_soundfonts() if fonts is None else fonts
    if not fonts:
        raise DatasetError("no SoundFont found to render from",
                           hint="install pretty-midi (TimGM6mb.sf2) or Debian's fluid-soundfont-gm")
    return [it for f in fonts for it in render_font(f, spec, labels=labels, out_root=out_root)]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    fonts = find_soundfonts()
    for f in fonts:
        print(f"{f.source}: {f.path}")
    items = render_items(fonts=fonts)
    root = cache_dir() / "render"
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    for f in fonts:
        print(f"{f.source}: {sum(i.source == f.source for i in items)} clips")
    print(f"{len(items)} clips, {size / 1e6:.1f} MB in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
