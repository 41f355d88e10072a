"""Event dataclasses: the ONLY objects that cross threads.

Background work (decoding, feature extraction, training, capture) reports through these; the
GUI turns them into drawing on its frame clock, the CLI into progress bars, tests into asserts.
Events are immutable; arrays inside them are handed over, never written again by the producer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .audio_io import AudioInfo


@dataclass(frozen=True)
class Progress:
    """Long work advancing: `done` of `total` (total None: unknown)."""

    stage: str
    done: float
    total: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


@dataclass(frozen=True)
class AudioOpened:
    """A file's header has been read: its facts, and how many spectrogram columns will come."""

    info: AudioInfo
    analysis_sr: int
    total_frames: int


@dataclass(frozen=True)
class MelFrames:
    """Spectrogram columns [first, first + db.shape[1]) in dB re full scale."""

    first: int
    db: np.ndarray


@dataclass(frozen=True)
class AudioReady:
    """Decoding finished: samples for playback, the analysis signal and its waveform envelope."""

    info: AudioInfo
    samples: np.ndarray          # (frames, channels) float32 at info.samplerate
    analysis: np.ndarray         # mono float32 at analysis_sr
    analysis_sr: int
    envelope: object             # core.envelope.EnvelopePyramid of `analysis`
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SweepRunStarted:
    """A sweep begins run `index` (0-based) of `total`: the swept value and which repeat."""

    index: int
    total: int
    value: object
    repeat: int


@dataclass(frozen=True)
class SweepRunFinished:
    """A sweep run finished; `run` is a core.sweep.RunResult (never written again)."""

    index: int
    total: int
    run: object
