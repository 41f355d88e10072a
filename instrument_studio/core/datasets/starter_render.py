"""Rendering the starter set's clips: notes through tinysoundfont, a generated room, light noise.

The plan (starter._plan) is cut into chunks of CHUNK clips; render_chunk renders one chunk and
writes its WAV files, in this process or in a worker process (the caller passes an executor). A
worker keeps its loaded SoundFonts, rooms and noise bank for every later chunk of the same set.
Every chunk starts from the same synth state (all voices off, no preset selected), so a clip's
bytes do not depend on which process rendered it or what it rendered before: the set is the same
with any number of workers.

`analyse(path, data)` (a picklable callable, e.g. the feature code's) is called on each file right
after it is written, in the same process, with the bytes written: rendering and feature extraction
become one pass over the set instead of two, and nothing is read back.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.audiofile import to_mono
from ..audio.levels import sum_of_squares
from ..errors import DatasetError

# Clips per task: 2,400 clips make 50 tasks, enough to keep two workers evenly busy and to report
# progress, few enough that a task's pickling costs nothing.
CHUNK = 48
_NOISES = ("pink", "white", "brown")
_DRY = {"name": "dry", "rt60": 0.0, "wet": 0.0}


@dataclass(frozen=True)
class RenderSpec:
    """What every chunk of one set shares."""

    recipe: dict
    fonts: tuple[str, ...]      # SoundFont paths, in the plan's font order
    sr: int
    longest: float              # the plan's longest clip (s): sizes the noise bank, the same everywhere
    out: str                    # the folder the WAV files go to (<label>/<name>)


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
    return sum_of_squares(y) / len(y) if len(y) else 0.0


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


# Per process: the loaded SoundFonts, rooms and noise bank of the set being rendered (one set at a
# time; FluidR3_GM alone is 148 MB and ~1.5 s to load, so it is loaded once per process, not per chunk).
_state: dict = {}


def _renderer(spec: RenderSpec) -> dict:
    import tinysoundfont

    key = (json.dumps(spec.recipe, sort_keys=True), spec.fonts, spec.sr, spec.longest)
    if _state.get("key") == key:
        return _state
    _state.clear()
    synths = []
    for path in spec.fonts:
        synth = tinysoundfont.Synth(samplerate=spec.sr, gain=-3.0)
        try:
            sfid = synth.sfload(path)
        except Exception as exc:  # tinysoundfont raises its own exception types
            raise DatasetError(f"cannot load the SoundFont ({exc})", path=path) from exc
        synths.append((synth, sfid))
    _state.update(key=key, synths=synths, rooms=_Rooms(_room_impulses(spec.recipe, spec.sr)),
                  noise=_NoiseBank(spec.sr, int(spec.recipe["seed"]), spec.longest))
    return _state


def render_chunk(spec: RenderSpec, items: list[dict], analyse: Callable[[str, bytes], object] | None = None,
                 ) -> list:
    """Render and write the clips `items` (plan entries with their "rel" path); returns
    [(rel, analyse(path, its bytes) or None)] in order."""
    import soundfile

    st = _renderer(spec)
    rooms = spec.recipe.get("rooms") or [_DRY]
    selected: list[int | None] = [None] * len(spec.fonts)    # every chunk selects its presets afresh
    out = []
    for item in items:
        f = item["font"]
        synth, sfid = st["synths"][f]
        if selected[f] != item["program"]:
            try:
                synth.program_select(0, sfid, 0, item["program"])
            except Exception:  # a small font without this preset: the instrument's first one
                synth.program_select(0, sfid, 0, item["fallback_program"])
            selected[f] = item["program"]
        y = render_notes(synth, item["notes"], item["seconds"], spec.sr)
        y = st["rooms"].apply(y, item["room"], float(rooms[item["room"]].get("wet", 0.0)))
        if item["snr_db"] is not None:
            y = st["noise"].add(y, item["noise"], item["snr_db"], item["noise_seed"])
        peak = float(np.abs(y).max()) if len(y) else 0.0
        if peak > 0.98:
            y = y * (0.98 / peak)
        path = Path(spec.out) / item["rel"]
        path.parent.mkdir(parents=True, exist_ok=True)
        # Encoded in memory, then written: libsndfile's close syncs each file to disk (10 ms a file
        # here). The set is rendered into a temporary folder renamed when complete (starter_dataset):
        # that, not a sync per file, keeps a crash from leaving half a set.
        buf = io.BytesIO()
        soundfile.write(buf, y, spec.sr, subtype="PCM_16", format="WAV")
        data = buf.getvalue()
        path.write_bytes(data)
        out.append((item["rel"], analyse(str(path), data) if analyse is not None else None))
    return out
