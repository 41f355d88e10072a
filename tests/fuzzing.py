"""Mutated audio files for the decoder fuzz test (tests/core/test_fuzz_decode.py) and its longer
run (bench/fuzz.py): seeded, so every failure can be made again from its seed and index.

Each file goes through what `info` and `predict` do before the model: `inspect_file` (info), then
`read_audio`, the mono mix-down, resampling to the model's rate and the model's features
(predict). The only acceptable failure is a StudioError; a numpy RuntimeWarning is a finding too.
"""

from __future__ import annotations

import random
import signal
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.audio_factory import tone, write

# (suffix, libsndfile format, subtype, rate, channels)
SEED_FORMATS = [
    ("wav", "WAV", "PCM_16", 22050, 1),
    ("wav", "WAV", "FLOAT", 44100, 2),
    ("flac", "FLAC", "PCM_16", 22050, 2),
    ("ogg", "OGG", "VORBIS", 22050, 1),
    ("mp3", "MP3", "MPEG_LAYER_III", 44100, 1),
]
# Values that break naive size arithmetic when they land in a header field.
EXTREMES = [0, 1, 2, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def seed_files(folder: Path, seconds: float = 1.5) -> dict[str, bytes]:
    """One good file per SEED_FORMATS entry: name -> bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for suffix, fmt, subtype, sr, channels in SEED_FORMATS:
        path = write(folder / f"seed_{subtype.lower()}_{channels}ch.{suffix}",
                     tone(440.0, seconds, sr, channels=channels), sr, fmt=fmt, subtype=subtype)
        out[path.name] = path.read_bytes()
    return out


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One mutation (sometimes two): what a damaged download, a bad disk or a hostile file does."""
    b = bytearray(data)
    kinds = []
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.choice(("flip", "header", "field", "truncate", "zero", "insert", "repeat"))
        kinds.append(kind)
        if not b:
            break
        if kind == "flip":
            for _ in range(rng.randint(1, 32)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif kind == "header":
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(min(len(b), 128))] = rng.randrange(256)
        elif kind == "field":
            at = rng.randrange(max(1, min(len(b), 128) - 4))
            value = rng.choice(EXTREMES)
            b[at:at + 4] = value.to_bytes(4, rng.choice(("little", "big")))
        elif kind == "truncate":
            b = b[: rng.randrange(len(b))]
        elif kind == "zero":
            at = rng.randrange(len(b))
            b[at:at + rng.randint(1, 4096)] = bytes(min(len(b) - at, 4096))
        elif kind == "insert":
            at = rng.randrange(len(b))
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 512)))
        elif kind == "repeat":
            a = rng.randrange(len(b))
            b[a:a] = b[a:a + rng.randint(1, 8192)]
    return bytes(b), "+".join(kinds)


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


@dataclass
class FuzzReport:
    outcomes: Counter = field(default_factory=Counter)
    by_format: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)   # (file, outcome, detail)
    seconds: float = 0.0
    slowest: tuple = (0.0, "")
    largest_samples_per_byte: float = 0.0

    @property
    def files(self) -> int:
        return sum(self.outcomes.values())


def decode_like_info_and_predict(path: Path) -> tuple[str, str]:
    """('decoded' | 'decoded, with a warning' | 'refused: StudioError' | 'too short to predict'), detail."""
    from instrument_studio.core.audio.audiofile import inspect_file, read_audio, resample
    from instrument_studio.core.config import FeatureConfig
    from instrument_studio.core.errors import StudioError
    from instrument_studio.core.features.clip import clip_features

    try:
        checked = inspect_file(path)                    # info
        decoded = read_audio(path)                      # predict
        y = resample(decoded.mono(), decoded.samplerate, 22050)
        if decoded.nonfinite:
            return "refused: NaN/Inf samples", ""
        if len(y) < 22050:
            return "too short to predict", ""
        clip_features(y, FeatureConfig())
    except StudioError as exc:
        return "refused: StudioError", str(exc)
    warned = bool(checked.warnings or decoded.warnings)
    return ("decoded, with a warning" if warned else "decoded"), ""


def run(folder: Path, *, per_seed: int, seed: int = 0, time_limit: float = 10.0,
        progress=None) -> FuzzReport:
    """Mutate each seed file `per_seed` times and decode every mutant; findings are failures."""
    seeds = seed_files(folder / "seeds")
    report = FuzzReport()
    work = folder / "mutants"
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        for s_index, (name, data) in enumerate(sorted(seeds.items())):
            rng = random.Random(f"{seed}:{name}")
            fmt = name.rsplit(".", 1)[1]
            for i in range(per_seed):
                mutant, kinds = mutate(data, rng)
                path = work / f"{Path(name).stem}_{i:05d}.{fmt}"
                path.write_bytes(mutant)
                t0 = time.perf_counter()
                signal.setitimer(signal.ITIMER_REAL, time_limit)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("error", RuntimeWarning)
                        outcome, detail = decode_like_info_and_predict(path)
                except Hang:
                    outcome, detail = "HANG", f"over {time_limit:g} s"
                except RuntimeWarning as w:
                    outcome, detail = "RUNTIME WARNING", str(w)
                except Exception as exc:  # noqa: BLE001 - the finding this harness looks for
                    outcome, detail = "CRASH", f"{type(exc).__name__}: {exc}"
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                took = time.perf_counter() - t0
                if took > report.slowest[0]:
                    report.slowest = (took, path.name)
                report.outcomes[outcome] += 1
                report.by_format.setdefault(fmt, Counter())[outcome] += 1
                if outcome in ("HANG", "RUNTIME WARNING", "CRASH"):
                    kept = folder / "findings" / path.name
                    kept.parent.mkdir(exist_ok=True)
                    kept.write_bytes(mutant)
                    report.findings.append((str(kept), outcome, f"{kinds}: {detail}"[:300]))
                path.unlink()
                if progress is not None:
                    progress(s_index * per_seed + i + 1, len(seeds) * per_seed)
    finally:
        signal.signal(signal.SIGALRM, old)
    report.seconds = time.perf_counter() - started
    return report


def max_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024



