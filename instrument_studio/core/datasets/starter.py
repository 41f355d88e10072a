"""The embedded starter set: real sampled instruments from a SoundFont, rendered on first use.

So the app trains out of the box with no download: resources/starter-recipe.json lists ten
General MIDI instruments (piano, acoustic guitar, violin, cello, trumpet, trombone, saxophone,
oboe, clarinet, flute) with their playing ranges. For each, single notes spread over the whole
range (several velocities and lengths) and short melodic phrases (random walks on a major scale)
are rendered with tinysoundfont from the best SoundFont on the machine: a system FluidR3_GM or
MuseScore General if installed, otherwise TimGM6mb.sf2 from the pretty-midi wheel. Everything is
seeded: the same recipe and SoundFont give byte-identical files. The result is cached under the
user cache folder and reused.
"""

from __future__ import annotations

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

from ..audio.audiofile import to_mono
from ..errors import DatasetError
from ..events import Progress
from ..fileio import chmod_to_umask

SOUNDFONT_ENV = "INSTRUMENT_STUDIO_SOUNDFONT"
# Best first. tinysoundfont reads .sf2 only (not the Ogg-compressed .sf3).
SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/MuseScore_General.sf2",
    "/usr/share/sounds/sf2/MuseScore_General_Full.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
)
LAYOUT = "starter"
_MAJOR = (0, 2, 4, 5, 7, 9, 11)


@dataclass(frozen=True)
class SoundFontChoice:
    path: Path
    name: str


def find_soundfont() -> SoundFontChoice:
    """The SoundFont the starter set is rendered from ($INSTRUMENT_STUDIO_SOUNDFONT first)."""
    env = os.environ.get(SOUNDFONT_ENV)
    candidates = ([env] if env else []) + list(SYSTEM_SOUNDFONTS)
    for c in candidates:
        p = Path(c)
        if p.is_file() and p.suffix.lower() == ".sf2":
            return SoundFontChoice(p, p.name)
    try:
        import pretty_midi
    except ImportError:
        pretty_midi = None
    if pretty_midi is not None:
        p = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
        if p.is_file():
            return SoundFontChoice(p, "TimGM6mb.sf2 (pretty-midi)")
    raise DatasetError("no SoundFont found for the starter set",
                       hint="install pretty-midi (ships TimGM6mb.sf2) or Debian's fluid-soundfont-gm")


def load_recipe() -> dict:
    text = resources.files("instrument_studio").joinpath("resources/starter-recipe.json").read_text("utf-8")
    return json.loads(text)


def _key(recipe: dict, sf: SoundFontChoice) -> str:
    import tinysoundfont

    st = sf.path.stat()
    ident = {"recipe": recipe, "soundfont": [sf.path.name, st.st_size],
             "tinysoundfont": getattr(tinysoundfont, "__version__", "")}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def starter_cache_dir() -> Path:
    from ..userdirs import user_cache_dir

    return user_cache_dir("starter")


def _plan(recipe: dict) -> list[dict]:
    """Every clip to render: instrument, kind, notes [(midi, start s, length s, velocity)], length."""
    rng = np.random.default_rng(recipe["seed"])
    velocities, lengths = recipe["velocities"], recipe["note_seconds"]
    release = recipe["release_seconds"]
    plan = []
    for inst in recipe["instruments"]:
        lo, hi, n = inst["low"], inst["high"], recipe["notes_per_instrument"]
        # Pitches spread evenly over the whole range (nudged by a semitone), so every register appears.
        for i in range(n):
            midi = int(np.clip(round(lo + (hi - lo) * i / max(1, n - 1)) + rng.integers(-1, 2), lo, hi))
            vel, dur = int(rng.choice(velocities)), float(rng.choice(lengths))
            plan.append({"inst": inst, "kind": "note", "index": i, "notes": [(midi, 0.0, dur, vel)],
                         "seconds": dur + release})
        for i in range(recipe["phrases_per_instrument"]):
            k = int(rng.integers(recipe["phrase_notes"][0], recipe["phrase_notes"][1] + 1))
            top = max(lo, hi - 12)
            tonic = int(rng.integers(lo, top + 1))
            degree, t, notes = 0, 0.0, []
            base_vel = int(rng.choice(velocities))
            for _ in range(k):
                octave, step = divmod(degree, 7)
                midi = int(np.clip(tonic + 12 * octave + _MAJOR[step], lo, hi))
                dur = float(rng.choice(recipe["phrase_note_seconds"]))
                vel = int(np.clip(base_vel + rng.integers(-12, 13), 20, 127))
                notes.append((midi, t, dur, vel))
                t += dur
                degree = max(0, degree + int(rng.choice([-2, -1, 1, 1, 2, 3])))
            plan.append({"inst": inst, "kind": "phrase", "index": i, "notes": notes, "seconds": t + release})
    return plan


def render_notes(synth, notes: list[tuple[int, float, float, int]], seconds: float, sr: int, *,
                 channel: int = 0, tail_s: float = 0.05) -> np.ndarray:
    """Mono float32: note-on/off events (midi, start s, duration s, velocity) at sample positions,
    the synth generating in between; never clipped. Also renders the default-model recipe's clips."""
    events = []
    for midi, start, dur, vel in notes:
        events.append((int(round(start * sr)), 1, midi, vel))
        events.append((int(round((start + dur) * sr)), 0, midi, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    total = int(round(seconds * sr))
    out = np.zeros((total, 2), dtype=np.float32)
    pos = 0
    for at, on, midi, vel in events + [(total, -1, 0, 0)]:
        at = min(at, total)
        if at > pos:
            out[pos:at] = np.frombuffer(synth.generate(at - pos), dtype=np.float32).reshape(-1, 2)
            pos = at
        if on == 1:
            synth.noteon(channel, midi, vel)
        elif on == 0:
            synth.noteoff(channel, midi)
    synth.sounds_off(channel)
    synth.generate(int(tail_s * sr))  # let the voices die before the next clip
    y = to_mono(out)
    peak = float(np.abs(y).max()) if len(y) else 0.0
    if peak > 0.98:  # never clip: scale the loudest notes down
        y *= 0.98 / peak
    return y


def generate_starter(out: str | Path, *, recipe: dict | None = None, soundfont: SoundFontChoice | None = None,
                     on_event: Callable[[object], None] | None = None, seed: int = 0):
    """Render the starter set into folder `out` (<label>/<file>.wav + the dataset project)."""
    import tinysoundfont

    from ..audio.audiofile import save_wav
    from .common import build
    from .model import Clip

    recipe = recipe or load_recipe()
    sf = soundfont or find_soundfont()
    sr = int(recipe["sr"])
    out = Path(out)
    plan = _plan(recipe)
    emit = on_event or (lambda _e: None)
    clips = []
    # One synth and one SoundFont load (FluidR3_GM is 148 MB); each instrument selects its preset.
    synth = tinysoundfont.Synth(samplerate=sr, gain=-3.0)
    try:
        sfid = synth.sfload(str(sf.path))
    except Exception as exc:  # tinysoundfont raises its own exception types
        raise DatasetError(f"cannot load the SoundFont ({exc})", path=sf.path) from exc
    program = None
    for i, item in enumerate(plan):
        inst = item["inst"]
        if inst["program"] != program:
            program = inst["program"]
            synth.program_select(0, sfid, 0, program)
        y = render_notes(synth, item["notes"], item["seconds"], sr)
        first = item["notes"][0]
        label = inst["label"]
        name = f"{label}_{item['kind']}{item['index']:02d}_m{first[0]}_v{first[3]}.wav"
        path = out / label / name
        path.parent.mkdir(parents=True, exist_ok=True)
        save_wav(path, y, sr)
        meta = {"kind": item["kind"], "midi": first[0], "pitch": _pitch_name(first[0]), "velocity": first[3],
                "duration_s": round(item["seconds"], 3), "program": inst["program"],
                "n_notes": len(item["notes"])}
        group = f"{label}/note/{first[0]}" if item["kind"] == "note" else f"{label}/phrase/{item['index']}"
        clips.append(Clip(path=str(path), label=label, source=LAYOUT, group=group, metadata=meta))
        if i % 20 == 0 or i == len(plan) - 1:
            emit(Progress(stage="starter", done=i + 1, total=len(plan), message=f"rendering {label}"))
    ds = build(name="starter set", layout=LAYOUT, root=out, clips=clips,
               classes=[inst["label"] for inst in recipe["instruments"]], seed=seed,
               notes=[f"rendered with tinysoundfont from {sf.name}",
                      f"{recipe['notes_per_instrument']} notes and {recipe['phrases_per_instrument']} phrases "
                      "per instrument"])
    ds.save(out)
    return ds


def _pitch_name(midi: int) -> str:
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return f"{names[midi % 12]}{midi // 12 - 1}"


def starter_dataset(*, on_event: Callable[[object], None] | None = None):
    """The starter set's Dataset, rendered into the user cache on first use and reused after."""
    from . import is_dataset_folder, load_dataset

    recipe = load_recipe()
    sf = find_soundfont()
    folder = starter_cache_dir() / _key(recipe, sf)
    if is_dataset_folder(folder):
        return load_dataset(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Rendered into a temporary sibling and renamed: a crash mid-way never leaves half a set.
    tmp = Path(tempfile.mkdtemp(prefix=".rendering-", dir=folder.parent))
    try:
        generate_starter(tmp, recipe=recipe, soundfont=sf, on_event=on_event)
        chmod_to_umask(tmp, directory=True)   # mkdtemp made it 0700
        try:
            tmp.rename(folder)
        except OSError:
            if not is_dataset_folder(folder):  # another process finished first: use theirs
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_dataset(folder)


def example_clip(label: str = "violin") -> Path:
    """A melodic phrase from the starter set (rendered on first use): something to open at once."""
    dataset = starter_dataset()
    clips = [c for c in dataset.clips if c.label == label] or list(dataset.clips)
    phrases = [c for c in clips if "/phrase/" in (c.group or "")]
    return Path((phrases or clips)[0].path)
