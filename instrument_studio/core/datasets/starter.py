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

import hashlib
import io
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
# One file per sample set, best first. tinysoundfont reads .sf2 only (not the Ogg-compressed .sf3).
SYSTEM_SOUNDFONTS = (
    ("/usr/share/sounds/sf2/FluidR3_GM.sf2",),
    ("/usr/share/sounds/sf2/MuseScore_General.sf2", "/usr/share/sounds/sf2/MuseScore_General_Full.sf2"),
    ("/usr/share/sounds/sf2/TimGM6mb.sf2",),
)
LAYOUT = "starter"
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_NOISES = ("pink", "white", "brown")


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
    velocities, lengths = recipe["velocities"], recipe["note_seconds"]
    release = recipe["release_seconds"]
    rooms = recipe.get("rooms") or [{"name": "dry", "rt60": 0.0, "wet": 0.0, "weight": 1}]
    weights = np.array([r.get("weight", 1) for r in rooms], dtype=float)
    weights /= weights.sum()
    snr_lo, snr_hi = recipe.get("noise_snr_db") or (None, None)

    def extras(k: int, inst: dict) -> dict:
        progs = _programs(inst)
        return {"font": k % n_fonts, "program": progs[(k // n_fonts) % len(progs)],
                "room": int(rng.choice(len(rooms), p=weights)),
                "snr_db": None if snr_lo is None else round(float(rng.uniform(snr_lo, snr_hi)), 1),
                "noise": _NOISES[int(rng.integers(len(_NOISES)))], "noise_seed": int(rng.integers(2**31))}

    plan = []
    for inst in recipe["instruments"]:
        lo, hi, n = inst["low"], inst["high"], recipe["notes_per_instrument"]
        # Pitches spread evenly over the whole range (nudged by a semitone), so every register appears.
        for i in range(n):
            midi = int(np.clip(round(lo + (hi - lo) * i / max(1, n - 1)) + rng.integers(-1, 2), lo, hi))
            vel, dur = int(rng.choice(velocities)), float(rng.choice(lengths))
            plan.append({"inst": inst, "kind": "note", "index": i, "notes": [(midi, 0.0, dur, vel)],
                         "seconds": dur + release, **extras(i, inst)})
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
            plan.append({"inst": inst, "kind": "phrase", "index": i, "notes": notes, "seconds": t + release,
                         **extras(i, inst)})
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


def _room_impulses(recipe: dict, sr: int) -> list[np.ndarray | None]:
    """One generated impulse response per room of the recipe (None: dry), seeded by the recipe."""
    from ..recipe.augment import impulse_response

    out = []
    for k, room in enumerate(recipe.get("rooms") or []):
        rt60 = float(room.get("rt60", 0.0))
        out.append(impulse_response(sr, np.random.default_rng([recipe["seed"], k]), rt60=rt60) if rt60 > 0 else None)
    return out or [None]


class _Rooms:
    """Wet/dry mix with a room, at the dry clip's loudness (the tail past the clip is cut). The
    impulse responses' spectra are kept per FFT size: clip lengths repeat, and an FFT of an
    awkward length (a large prime factor) costs ten times one of a smooth length."""

    def __init__(self, impulses: list[np.ndarray | None]):
        self.impulses = impulses
        self._spectra: dict[tuple[int, int], np.ndarray] = {}

    def apply(self, y: np.ndarray, room: int, wet: float) -> np.ndarray:
        ir = self.impulses[room]
        if ir is None or wet <= 0 or not len(y):
            return y
        from scipy import fft

        n = fft.next_fast_len(len(y) + len(ir) - 1, real=True)
        spec = self._spectra.get((room, n))
        if spec is None:
            spec = self._spectra[(room, n)] = fft.rfft(ir, n)
        rev = fft.irfft(fft.rfft(y, n) * spec, n)[: len(y)].astype(np.float32)
        power = _power(y)
        rev *= np.float32(np.sqrt(power / (_power(rev) + 1e-20)))
        out = np.float32(1.0 - wet) * y + np.float32(wet) * rev
        out *= np.float32(np.sqrt(power / (_power(out) + 1e-20)))
        return out


def _power(y: np.ndarray) -> float:
    return float(np.dot(y, y)) / len(y) if len(y) else 0.0


class _NoiseBank:
    """Light background noise: a slice of a few seconds of pink, white or brown noise made once
    (augment.noise), scaled to the clip's SNR. One long noise per colour, not one per clip: a
    per-clip FFT of the clip's length was a third of the rendering time."""

    def __init__(self, sr: int, seed: int, longest: float):
        from ..recipe.augment import noise

        n = int(sr * (longest + 6.0))   # every clip fits, from any of ~6 s of start points
        self.noise = {c: noise(n, sr, np.random.default_rng([seed, k]), colour=c) for k, c in enumerate(_NOISES)}

    def add(self, y: np.ndarray, colour: str, snr_db: float, seed: int) -> np.ndarray:
        bank = self.noise[colour]
        power = _power(y)
        if power == 0.0:
            return y
        start = int(np.random.default_rng(seed).integers(0, len(bank) - len(y) + 1))
        return y + bank[start:start + len(y)] * np.float32(np.sqrt(power / 10 ** (snr_db / 10)))


def _font_tag(sf: SoundFontChoice) -> str:
    return "".join(ch for ch in sf.path.stem.lower() if ch.isalnum())[:10]


def generate_starter(out: str | Path, *, recipe: dict | None = None,
                     soundfont: SoundFontChoice | list[SoundFontChoice] | None = None,
                     on_event: Callable[[object], None] | None = None, seed: int = 0):
    """Render the starter set into folder `out` (<label>/<file>.wav + the dataset project).
    soundfont: one SoundFont or several (default: every one installed, find_soundfonts())."""
    import soundfile
    import tinysoundfont

    from .common import build
    from .model import Clip

    recipe = recipe or load_recipe()
    fonts = _fonts(soundfont)
    sr = int(recipe["sr"])
    out = Path(out)
    plan = _plan(recipe, len(fonts))
    rooms = recipe.get("rooms") or [{"name": "dry", "rt60": 0.0, "wet": 0.0}]
    rooms_fx = _Rooms(_room_impulses(recipe, sr))
    noises = _NoiseBank(sr, int(recipe["seed"]), max(item["seconds"] for item in plan))
    emit = on_event or (lambda _e: None)
    clips = []
    # One synth and one load per SoundFont (FluidR3_GM is 148 MB, ~1.5 s); each clip selects its preset.
    synths, selected = [], []
    for sf in fonts:
        synth = tinysoundfont.Synth(samplerate=sr, gain=-3.0)
        try:
            sfid = synth.sfload(str(sf.path))
        except Exception as exc:  # tinysoundfont raises its own exception types
            raise DatasetError(f"cannot load the SoundFont ({exc})", path=sf.path) from exc
        synths.append((synth, sfid))
        selected.append(None)
    tags = [_font_tag(sf) for sf in fonts]
    for i, item in enumerate(plan):
        inst, f = item["inst"], item["font"]
        synth, sfid = synths[f]
        if selected[f] != item["program"]:
            try:
                synth.program_select(0, sfid, 0, item["program"])
            except Exception:  # a small font without this preset: the instrument's first one
                synth.program_select(0, sfid, 0, _programs(inst)[0])
            selected[f] = item["program"]
        y = render_notes(synth, item["notes"], item["seconds"], sr)
        room = rooms[item["room"]]
        y = rooms_fx.apply(y, item["room"], float(room.get("wet", 0.0)))
        if item["snr_db"] is not None:
            y = noises.add(y, item["noise"], item["snr_db"], item["noise_seed"])
        peak = float(np.abs(y).max()) if len(y) else 0.0
        if peak > 0.98:
            y = y * (0.98 / peak)
        first = item["notes"][0]
        label = inst["label"]
        name = f"{label}_{item['kind']}{item['index']:03d}_{tags[f]}_p{item['program']}_m{first[0]}_v{first[3]}.wav"
        path = out / label / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # Encoded in memory, then written: libsndfile's close syncs each file to disk (10 ms a file
        # here, most of the rendering time). The set is rendered into a temporary folder renamed
        # when complete (starter_dataset): that, not a sync per file, keeps a crash from leaving half a set.
        buf = io.BytesIO()
        soundfile.write(buf, y, sr, subtype="PCM_16", format="WAV")
        path.write_bytes(buf.getbuffer())
        meta = {"kind": item["kind"], "midi": first[0], "pitch": _pitch_name(first[0]), "velocity": first[3],
                "duration_s": round(item["seconds"], 3), "program": item["program"],
                "n_notes": len(item["notes"]), "soundfont": fonts[f].path.name, "room": room.get("name", ""),
                "snr_db": item["snr_db"]}
        group = f"{label}/note/{first[0]}" if item["kind"] == "note" else f"{label}/phrase/{item['index']}"
        clips.append(Clip(path=str(path), label=label, source=LAYOUT, group=group, metadata=meta))
        if i % 50 == 0 or i == len(plan) - 1:
            emit(Progress(stage="starter", done=i + 1, total=len(plan), message=f"rendering {label}"))
    ds = build(name="starter set", layout=LAYOUT, root=out, clips=clips,
               classes=[inst["label"] for inst in recipe["instruments"]], seed=seed,
               notes=[f"rendered with tinysoundfont from {', '.join(sf.name for sf in fonts)}",
                      f"{recipe['notes_per_instrument']} notes and {recipe['phrases_per_instrument']} phrases "
                      f"per instrument; rooms: {', '.join(r.get('name', '') for r in rooms)}"])
    ds.save(out)
    return ds


def _pitch_name(midi: int) -> str:
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return f"{names[midi % 12]}{midi // 12 - 1}"


def starter_dataset(*, on_event: Callable[[object], None] | None = None):
    """The starter set's Dataset, rendered into the user cache on first use and reused after."""
    from . import is_dataset_folder, load_dataset

    recipe = load_recipe()
    fonts = find_soundfonts()
    folder = starter_cache_dir() / _key(recipe, fonts)
    if is_dataset_folder(folder):
        return load_dataset(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Rendered into a temporary sibling and renamed: a crash mid-way never leaves half a set.
    tmp = Path(tempfile.mkdtemp(prefix=".rendering-", dir=folder.parent))
    try:
        generate_starter(tmp, recipe=recipe, soundfont=fonts, on_event=on_event)
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
