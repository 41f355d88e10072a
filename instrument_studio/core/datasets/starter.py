"""The embedded starter set: real sampled instruments from SoundFonts, rendered on first use.

So the app trains out of the box with no download: resources/starter-recipe.json lists ten
General MIDI instruments (piano, acoustic guitar, violin, cello, trumpet, trombone, saxophone,
oboe, clarinet, flute) with their programs and playing ranges. For each, single notes spread over
the whole range (several velocities and lengths) and short melodic phrases (random walks on a
major scale) are rendered with tinysoundfont from EVERY General MIDI SoundFont on the machine
(FluidR3_GM, MuseScore General, TimGM6mb.sf2 from the pretty-midi wheel), clips shared
round-robin, so no class is one sample set's sound. Some clips are played in a generated room;
all get light background noise (30-50 dB below the music): a class should hear the instrument,
not the silence around it. Everything is seeded: the same recipe and SoundFonts give
byte-identical files. The result is cached under the user cache folder and reused.

Version 1 had 400 clips of one SoundFont: 256 training rows, two batches of 128 per epoch, and
the labs' MLP stopped at 44 % test accuracy with its loss still falling; version 2 has 2,000.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import DatasetError
from ..events import Progress
from ..fileio import chmod_to_umask
from .starter_render import _NOISES, CHUNK, RenderSpec, render_chunk, render_notes  # noqa: F401 - render_notes: the recipes' renderer

SOUNDFONT_ENV = "INSTRUMENT_STUDIO_SOUNDFONT"
# One file per sample set, best first. tinysoundfont reads .sf2 only (not the Ogg-compressed .sf3).
SYSTEM_SOUNDFONTS = (
    ("/usr/share/sounds/sf2/FluidR3_GM.sf2",),
    ("/usr/share/sounds/sf2/MuseScore_General.sf2", "/usr/share/sounds/sf2/MuseScore_General_Full.sf2"),
    ("/usr/share/sounds/sf2/TimGM6mb.sf2",),
)
LAYOUT = "starter"
_MAJOR = (0, 2, 4, 5, 7, 9, 11)


@dataclass(frozen=True)
class SoundFontChoice:
    path: Path
    name: str


def find_soundfonts() -> list[SoundFontChoice]:
    """Every SoundFont the starter set is rendered from: $INSTRUMENT_STUDIO_SOUNDFONT alone when
    set, else each installed sample set once, and TimGM6mb.sf2 from pretty-midi if no system copy."""
    env = os.environ.get(SOUNDFONT_ENV)
    if env:
        p = Path(env)
        if p.is_file() and p.suffix.lower() == ".sf2":
            return [SoundFontChoice(p, p.name)]
        raise DatasetError(f"${SOUNDFONT_ENV} is not a .sf2 file", path=p,
                           hint=f"point {SOUNDFONT_ENV} at a SoundFont 2 file, or unset it")
    found = []
    for family in SYSTEM_SOUNDFONTS:
        p = next((Path(c) for c in family if Path(c).is_file()), None)
        if p is not None:
            found.append(SoundFontChoice(p, p.name))
    if not any(f.name == "TimGM6mb.sf2" for f in found):
        try:
            import pretty_midi
        except ImportError:
            pretty_midi = None
        if pretty_midi is not None:
            p = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
            if p.is_file():
                found.append(SoundFontChoice(p, "TimGM6mb.sf2 (pretty-midi)"))
    if not found:
        raise DatasetError("no SoundFont found for the starter set",
                           hint="install pretty-midi (ships TimGM6mb.sf2) or Debian's fluid-soundfont-gm")
    return found


def find_soundfont() -> SoundFontChoice:
    """The best SoundFont found (the first the starter set uses)."""
    return find_soundfonts()[0]


def load_recipe() -> dict:
    text = resources.files("instrument_studio").joinpath("resources/starter-recipe.json").read_text("utf-8")
    return json.loads(text)


def _fonts(soundfont) -> list[SoundFontChoice]:
    if soundfont is None:
        return find_soundfonts()
    return [soundfont] if isinstance(soundfont, SoundFontChoice) else list(soundfont)


def _key(recipe: dict, fonts: list[SoundFontChoice]) -> str:
    import tinysoundfont

    ident = {"recipe": recipe, "soundfonts": [[f.path.name, f.path.stat().st_size] for f in fonts],
             "tinysoundfont": getattr(tinysoundfont, "__version__", "")}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def starter_cache_dir() -> Path:
    from ..userdirs import user_cache_dir

    return user_cache_dir("starter")


def _programs(inst: dict) -> list[int]:
    return list(inst.get("programs") or [inst["program"]])   # version 1 recipes: one "program"


def _plan(recipe: dict, n_fonts: int = 1) -> list[dict]:
    """Every clip to render: instrument, kind, program, SoundFont index, room index, noise, and
    notes [(midi, start s, length s, velocity)]. The SoundFont, program and room alternate, so
    every class has each of them in about the same share."""
    rng = np.random.default_rng(recipe["seed"])
    # Plain Python draws: Generator.choice and np.clip on scalars cost ~30 us a call of checks, and
    # the plan makes ~45,000 of them (1.5 s of a cold start). pick() and clamp() draw the very same
    # numbers from the generator (see their notes), so the plan, and the set, are unchanged.
    velocities, lengths = recipe["velocities"], recipe["note_seconds"]
    release = recipe["release_seconds"]
    rooms = recipe.get("rooms") or [{"name": "dry", "rt60": 0.0, "wet": 0.0, "weight": 1}]
    weights = np.array([r.get("weight", 1) for r in rooms], dtype=float)
    weights /= weights.sum()
    cdf = weights.cumsum()
    cdf /= cdf[-1]
    snr_lo, snr_hi = recipe.get("noise_snr_db") or (None, None)

    def extras(k: int, inst: dict) -> dict:
        progs = _programs(inst)
        return {"font": k % n_fonts, "program": progs[(k // n_fonts) % len(progs)],
                "room": int(cdf.searchsorted(rng.random(), side="right")),   # rng.choice(len(rooms), p=weights)
                "snr_db": None if snr_lo is None else round(float(rng.uniform(snr_lo, snr_hi)), 1),
                "noise": _NOISES[int(rng.integers(len(_NOISES)))], "noise_seed": int(rng.integers(2**31))}

    plan = []
    for inst in recipe["instruments"]:
        lo, hi, n = inst["low"], inst["high"], recipe["notes_per_instrument"]
        # Pitches spread evenly over the whole range (nudged by a semitone), so every register appears.
        for i in range(n):
            midi = _clamp(round(lo + (hi - lo) * i / max(1, n - 1)) + int(rng.integers(-1, 2)), lo, hi)
            vel, dur = int(_pick(rng, velocities)), float(_pick(rng, lengths))
            plan.append({"inst": inst, "kind": "note", "index": i, "notes": [(midi, 0.0, dur, vel)],
                         "seconds": dur + release, **extras(i, inst)})
        for i in range(recipe["phrases_per_instrument"]):
            k = int(rng.integers(recipe["phrase_notes"][0], recipe["phrase_notes"][1] + 1))
            top = max(lo, hi - 12)
            tonic = int(rng.integers(lo, top + 1))
            degree, t, notes = 0, 0.0, []
            base_vel = int(_pick(rng, velocities))
            for _ in range(k):
                octave, step = divmod(degree, 7)
                midi = _clamp(tonic + 12 * octave + _MAJOR[step], lo, hi)
                dur = float(_pick(rng, recipe["phrase_note_seconds"]))
                vel = _clamp(base_vel + int(rng.integers(-12, 13)), 20, 127)
                notes.append((midi, t, dur, vel))
                t += dur
                degree = max(0, degree + int(_pick(rng, _STEPS)))
            plan.append({"inst": inst, "kind": "phrase", "index": i, "notes": notes, "seconds": t + release,
                         **extras(i, inst)})
    return plan


_STEPS = (-2, -1, 1, 1, 2, 3)


def _pick(rng: np.random.Generator, seq):
    """rng.choice(seq) without its checks: Generator.choice draws integers(0, len) for a uniform pick."""
    return seq[int(rng.integers(0, len(seq)))]


def _clamp(v: int, lo: int, hi: int) -> int:
    return min(max(int(v), lo), hi)


def _font_tag(sf: SoundFontChoice) -> str:
    return "".join(ch for ch in sf.path.stem.lower() if ch.isalnum())[:10]


def generate_starter(out: str | Path, *, recipe: dict | None = None,
                     soundfont: SoundFontChoice | list[SoundFontChoice] | None = None,
                     on_event: Callable[[object], None] | None = None, seed: int = 0, executor=None,
                     analyse: Callable[[str, bytes], object] | None = None,
                     on_analysed: Callable[[str, object], None] | None = None):
    """Render the starter set into folder `out` (<label>/<file>.wav + the dataset project).
    soundfont: one SoundFont or several (default: every one installed, find_soundfonts()).

    executor (a concurrent.futures executor, e.g. the feature worker pool): render the chunks in
    its processes; the splits are made here meanwhile. analyse(path, data) runs on each file right after
    it is written, where it was rendered; on_analysed(path relative to `out`, its result) receives
    the results here, in plan order. The files are the same with or without an executor."""
    from .common import build
    from .model import Clip

    recipe = recipe or load_recipe()
    fonts = _fonts(soundfont)
    sr = int(recipe["sr"])
    out = Path(out)
    plan = _plan(recipe, len(fonts))
    rooms = recipe.get("rooms") or [{"name": "dry", "rt60": 0.0, "wet": 0.0}]
    spec = RenderSpec(recipe=recipe, fonts=tuple(str(sf.path) for sf in fonts), sr=sr,
                      longest=max(item["seconds"] for item in plan), out=str(out))
    emit = on_event or (lambda _e: None)
    tags = [_font_tag(sf) for sf in fonts]
    clips = []
    for item in plan:
        inst, f, first = item["inst"], item["font"], item["notes"][0]
        label = inst["label"]
        item["rel"] = (f"{label}/{label}_{item['kind']}{item['index']:03d}_{tags[f]}_p{item['program']}"
                       f"_m{first[0]}_v{first[3]}.wav")
        item["fallback_program"] = _programs(inst)[0]
        meta = {"kind": item["kind"], "midi": first[0], "pitch": _pitch_name(first[0]), "velocity": first[3],
                "duration_s": round(item["seconds"], 3), "program": item["program"],
                "n_notes": len(item["notes"]), "soundfont": fonts[f].path.name,
                "room": rooms[item["room"]].get("name", ""), "snr_db": item["snr_db"]}
        group = f"{label}/note/{first[0]}" if item["kind"] == "note" else f"{label}/phrase/{item['index']}"
        clips.append(Clip(path=str(out / item["rel"]), label=label, source=LAYOUT, group=group, metadata=meta))
    chunks = [plan[i:i + CHUNK] for i in range(0, len(plan), CHUNK)]
    done = 0

    def collect(results: list) -> None:
        nonlocal done
        done += len(results)
        if on_analysed is not None and analyse is not None:
            for rel, result in results:
                on_analysed(rel, result)
        emit(Progress(stage="starter", done=done, total=len(plan), message=f"rendering {results[-1][0].split('/')[0]}"))

    def split() -> object:
        return build(name="starter set", layout=LAYOUT, root=out, clips=clips,
                     classes=[inst["label"] for inst in recipe["instruments"]], seed=seed,
                     notes=[f"rendered with tinysoundfont from {', '.join(sf.name for sf in fonts)}",
                            f"{recipe['notes_per_instrument']} notes and {recipe['phrases_per_instrument']} phrases "
                            f"per instrument; rooms: {', '.join(r.get('name', '') for r in rooms)}"])

    out.mkdir(parents=True, exist_ok=True)
    if executor is None:
        for chunk in chunks:
            collect(render_chunk(spec, chunk, analyse))
        ds = split()
    else:
        futures: list = []
        try:
            # On a first use, submitting waits for the worker server to finish its preload (seconds
            # of one core): the grouped, stratified splits (~2 s of CPU for 2,400 clips) are made
            # meanwhile, not later while the workers render and compete with them for two cores.
            with cf.ThreadPoolExecutor(1, thread_name_prefix="starter-submit") as submitter:
                submitted = submitter.submit(
                    lambda: futures.extend(executor.submit(render_chunk, spec, chunk, analyse) for chunk in chunks))
                ds = split()
                submitted.result()
            for fut in futures:
                collect(fut.result())
        except DatasetError:
            raise
        except Exception as exc:  # a worker died, or a pickling error: say what was being done
            raise DatasetError(f"rendering the starter set failed ({type(exc).__name__}: {exc})", path=out) from exc
        finally:
            for fut in futures:
                fut.cancel()
    ds.save(out)
    return ds


def _pitch_name(midi: int) -> str:
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return f"{names[midi % 12]}{midi // 12 - 1}"


def starter_dataset(*, on_event: Callable[[object], None] | None = None, executor=None,
                    analyse: Callable[[str, bytes], object] | None = None,
                    on_analysed: Callable[[str, object], None] | None = None):
    """The starter set's Dataset, rendered into the user cache on first use and reused after.
    executor, analyse: as generate_starter's, for a first use; on_analysed(path, result) then gets
    each clip's path as the returned Dataset names it (nothing when the set was already there)."""
    from . import is_dataset_folder, load_dataset

    recipe = load_recipe()
    fonts = find_soundfonts()
    folder = starter_cache_dir() / _key(recipe, fonts)
    if is_dataset_folder(folder):
        return load_dataset(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Rendered into a temporary sibling and renamed: a crash mid-way never leaves half a set.
    tmp = Path(tempfile.mkdtemp(prefix=".rendering-", dir=folder.parent))
    results: list[tuple[str, object]] = []
    try:
        generate_starter(tmp, recipe=recipe, soundfont=fonts, on_event=on_event, executor=executor,
                         analyse=analyse, on_analysed=lambda rel, res: results.append((rel, res)))
        chmod_to_umask(tmp, directory=True)   # mkdtemp made it 0700
        try:
            tmp.rename(folder)
        except OSError:
            if not is_dataset_folder(folder):  # another process finished first: use theirs
                raise
            results.clear()                    # their files, not ours: our results do not describe them
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    ds = load_dataset(folder)
    if on_analysed is not None and results:
        root = Path(ds.root)
        for rel, res in results:
            on_analysed(str(root / rel), res)
    return ds


def example_clip(label: str = "violin") -> Path:
    """A melodic phrase from the starter set (rendered on first use): something to open at once."""
    dataset = starter_dataset()
    clips = [c for c in dataset.clips if c.label == label] or list(dataset.clips)
    phrases = [c for c in clips if "/phrase/" in (c.group or "")]
    return Path((phrases or clips)[0].path)
