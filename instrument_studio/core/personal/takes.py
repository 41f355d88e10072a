"""What Teach learns from: the takes of a dataset folder (`<dataset>/<class>/<take>`), checked.

A take that is silent, clips, or is too short to hear is left out, and says so; a class with fewer
than MIN_TAKES usable takes, or a single class, stops Teach with a message that says what to
record next. No TensorFlow here: the Live panel calls check_takes() to say whether Teach can run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio.audiofile import AUDIO_EXTENSIONS, read_audio, resample
from ..audio.levels import clipped_share, rms_dbfs
from ..errors import DatasetError, StudioError

MIN_TAKES = 3
# A take whose every window is quieter than this (RMS, dBFS) holds nothing to learn from; windows
# quieter than it are left out of training (prediction calls such input silent).
SILENT_DB = -50.0
# A take with more than this share of samples at full scale is distorted: not learnt from.
CLIPPED_SHARE = 0.001
SHORTEST_S = 0.5


@dataclass(frozen=True)
class TakeCheck:
    path: Path
    label: str
    seconds: float
    peak_db: float
    clipped: float              # share of samples at full scale
    problem: str = ""           # why it is left out ("" when usable)
    audio: np.ndarray | None = field(default=None, repr=False, compare=False)   # mono at the model's rate

    @property
    def usable(self) -> bool:
        return not self.problem


@dataclass
class TeachPlan:
    dataset: Path
    takes: list[TakeCheck]
    keep_default: bool = False        # a lone class may then join the default ones

    @property
    def classes(self) -> list[str]:
        return sorted({t.label for t in self.takes})

    def usable(self, label: str | None = None) -> list[TakeCheck]:
        return [t for t in self.takes if t.usable and (label is None or t.label == label)]

    @property
    def left_out(self) -> list[TakeCheck]:
        return [t for t in self.takes if not t.usable]

    def blockers(self) -> list[str]:
        """What stops Teach, each saying what to record next (empty: ready)."""
        out = []
        if not self.takes:
            return [f"there are no takes in {self.dataset}: record at least {MIN_TAKES} takes of each of two or "
                    "more sounds (choose a label, press Record; each label is a class)"]
        for label in self.classes:
            n = len(self.usable(label))
            if n < MIN_TAKES:
                more = MIN_TAKES - n
                out.append(f"“{label}” has {n} usable take{'s' * (n != 1)}: record {more} more "
                           f"take{'s' * (more != 1)} of {label}")
        if len(self.classes) < 2 and not self.keep_default:
            only = self.classes[0]
            out.append(f"there is only one class (“{only}”): record at least {MIN_TAKES} takes of a second sound "
                       "(another instrument, or the room's background as “background”), or keep the default "
                       "classes")
        return out

    def warnings(self) -> list[str]:
        return [f"{t.label}/{t.path.name} is left out: {t.problem}" for t in self.left_out]

    @property
    def ready(self) -> bool:
        return not self.blockers()

    def summary(self) -> str:
        """One line: per class, the usable takes (and those left out)."""
        parts = []
        for label in self.classes:
            bad = len([t for t in self.left_out if t.label == label])
            parts.append(f"{label} {len(self.usable(label))}" + (f" (+{bad} left out)" if bad else ""))
        return ", ".join(parts) if parts else "no takes yet"

    def raise_if_blocked(self) -> None:
        blockers = self.blockers()
        if blockers:
            extra = self.warnings()
            raise DatasetError("cannot teach yet: " + "; ".join(blockers + extra), path=self.dataset)


def take_files(dataset: str | Path) -> list[tuple[Path, str]]:
    """(path, class) of every audio file in the dataset's class folders; dot-names are not classes
    nor takes (`.trash`, unfinished `.part` takes)."""
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise DatasetError("no such dataset folder", path=dataset,
                           hint="record takes in the Live panel first, or choose the folder that holds them")
    out = []
    for folder in sorted(p for p in dataset.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(folder.iterdir()):
            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in AUDIO_EXTENSIONS:
                out.append((f, folder.name))
    return out


def check_take(path: Path, label: str, *, sr: int) -> TakeCheck:
    try:
        decoded = read_audio(path)
    except StudioError as exc:
        return TakeCheck(path, label, 0.0, -120.0, 0.0, problem=f"cannot be read ({exc.reason})")
    y = decoded.mono()
    seconds = len(y) / decoded.samplerate
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    peak_db = 20 * np.log10(peak) if peak > 1e-6 else -120.0
    share = clipped_share(y)
    audio = resample(np.nan_to_num(y).astype(np.float32), decoded.samplerate, sr)
    problem = ""
    if seconds < SHORTEST_S:
        problem = f"too short ({seconds:.1f} s): record takes of at least a second or two"
    elif share > CLIPPED_SHARE:
        problem = (f"it clips ({share:.1%} of samples at full scale): record it again with the input level "
                   "lower or further from the microphone")
    elif loudest_db(audio, sr) < SILENT_DB:
        problem = (f"it is silent (peak {peak_db:.0f} dBFS): record it again closer to the microphone or with "
                   "the input level higher")
    return TakeCheck(path, label, seconds, peak_db, share, problem, audio if not problem else None)


def loudest_db(y: np.ndarray, sr: int, *, seconds: float = 1.0) -> float:
    """RMS of the loudest `seconds`-long stretch (hop: half of it)."""
    n = max(1, int(seconds * sr))
    starts = range(0, max(1, len(y) - n + 1), max(1, n // 2))
    return max((rms_dbfs(y[s:s + n]) for s in starts), default=-120.0)


def check_takes(dataset: str | Path, *, sr: int = 16000, keep_default: bool = False, on_take=None) -> TeachPlan:
    """Read and check every take of `dataset` (decoding them: a worker's job, not the GUI thread's).
    on_take(i, n) is called before each."""
    files = take_files(dataset)
    takes = []
    for i, (path, label) in enumerate(files):
        if on_take is not None:
            on_take(i, len(files))
        takes.append(check_take(path, label, sr=sr))
    return TeachPlan(Path(dataset), takes, keep_default=keep_default)
