"""Synthetic speech for the default model's "unknown" answer.

Someone talking near the microphone is the sound a live view hears most that is no instrument,
and the real material has two short speech clips. Speech synthesisers from Debian (`espeak-ng`,
GPL-3; `flite`, BSD-like) say a fixed list of sentences in many voices, languages, speeds and
pitches; the audio is made here, never fetched or committed. A synthesiser that is not installed
is left out (the recipe logs how many clips were made); the cache key holds each synthesiser's
version, so a different build re-makes them. `packaging/make_default_model.py --speech N` trains
on N of them (`apt install espeak-ng flite`); the shipped recipe does not (measured there: speech
of an unheard synthesiser 8 of 8 unknown instead of 6, held-out instruments 7 of 1,414 fewer).

Written as FLAC under cache_dir()/"speech" in a folder keyed by the inputs, with a manifest
written last: the same inputs reuse the files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..audio.audiofile import load as load_audio
from ._audio import save_audio
from .augment import _no_clip
from .sources import BACKGROUND, Item, built_once, cache_dir

SOURCE = "generated-speech"
VERSION = 1  # bump when the clips change, so the cache is not reused

SENTENCES = (
    "Good morning everyone, today we are going to listen to a few short recordings.",
    "Could you play that passage again, a little slower and much softer this time?",
    "The next train to the city centre leaves from platform four in ten minutes.",
    "I left my keys on the kitchen table, next to the letters from yesterday.",
    "Please remember to bring your own music stand to rehearsal on Thursday evening.",
    "We recorded this in a small room with a single microphone and no treatment.",
    "Can everybody at the back of the hall hear me, or should I speak up?",
    "The weather will stay dry until the evening, with a light wind from the west.",
    "One, two, three, four. Testing, testing. Is this thing on?",
    "After the break we will talk about tuning, intonation and listening to each other.",
    "She said the concert starts at eight, but the doors open half an hour earlier.",
    "Turn left at the second crossing and keep going until you see the old bridge.",
)
# espeak-ng speaks other languages with their own rules: the English sentences read as foreign
# speech sounds, which is what a user abroad or a radio in the room gives.
ESPEAK_LANGUAGES = ("en-us", "en", "en-gb-scotland", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "cs")
ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "croak")
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")


def _version(tool: str) -> str | None:
    """What the synthesiser says of its version (part of the cache key), or None where it is not installed."""
    exe = shutil.which(tool)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return " ".join((out.stdout + out.stderr).split()) or tool


def synthesisers() -> dict[str, str]:
    """Installed synthesisers and their versions."""
    return {tool: v for tool in ("espeak-ng", "flite") if (v := _version(tool)) is not None}


def _say(tool: str, text: str, rng: np.random.Generator, out: Path) -> None:
    if tool == "espeak-ng":
        voice = f"{rng.choice(ESPEAK_LANGUAGES)}+{rng.choice(ESPEAK_VARIANTS)}"
        cmd = ["espeak-ng", "-v", voice, "-s", str(int(rng.integers(120, 200))),
               "-p", str(int(rng.integers(20, 80))), "-w", str(out), text]
    else:
        cmd = ["flite", "-voice", str(rng.choice(FLITE_VOICES)), "--setf",
               f"duration_stretch={rng.uniform(0.8, 1.3):.2f}", "-t", text, "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def generate_speech(*, count: int = 48, seed: int = 0, sr: int = 16000,
                    out_root: Path | None = None) -> list[Item]:
    """Up to `count` sentences spoken by the installed synthesisers in turn (none installed: none),
    label BACKGROUND, source SOURCE, kind "render"; each its own group."""
    tools = synthesisers() if count > 0 else {}
    if not tools:
        return []
    root = Path(out_root) if out_root is not None else cache_dir() / "speech"
    key = hashlib.sha1(json.dumps([VERSION, count, seed, sr, sorted(tools.items())]).encode()).hexdigest()[:16]
    folder = root / key

    def build() -> list[Item]:
        rng = np.random.default_rng([seed, 0x5EEC])
        names = sorted(tools)
        items = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(count):
                tool = names[i % len(names)]
                # two sentences, so that most clips fill more than one 3 s window
                a, b = rng.choice(len(SENTENCES), size=2, replace=False)
                wav = Path(tmp) / f"{i}.wav"
                _say(tool, f"{SENTENCES[a]} {SENTENCES[b]}", rng, wav)
                y, _ = load_audio(wav, sr=sr)
                y = y / (np.sqrt(np.mean(np.square(y, dtype=np.float64))) + 1e-20)
                y = _no_clip(y * 10 ** (float(rng.uniform(-35.0, -10.0)) / 20))
                path = save_audio(folder / f"{tool}_{i:03d}.flac", y, sr)
                items.append(Item(str(path), BACKGROUND, SOURCE, "render", f"{SOURCE}-{i:03d}", "speech"))
        return items

    return built_once(folder, build, synthesisers=tools)
