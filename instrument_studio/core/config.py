"""Frozen configuration dataclasses with JSON round-trips.

Every config that ends up in a file (a model bundle, a dataset project, a sweep) is one of these,
so a saved model always knows exactly how its input was computed.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError

T = TypeVar("T")

# The course labs' settings: librosa's default rate, 128 mel bands up to 8 kHz.
ANALYSIS_SR = 22050


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
    kwargs = {}
    for name, value in data.items():
        sub = hints.get(name)
        sub = sub if isinstance(sub, type) else None
        if isinstance(value, dict) and sub is not None and dataclasses.is_dataclass(sub):
            value = _from_dict(sub, value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{cls.__name__}: {exc}") from exc


class JsonConfig:
    """Mixin: to_dict / from_dict / JSON file I/O for frozen dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        return _from_dict(cls, data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls: type[T], text: str) -> T:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{cls.__name__}: not valid JSON ({exc})") from exc
        return _from_dict(cls, data)

    def save(self, path: str | Path) -> None:
        from .fileio import atomic_write_text

        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls: type[T], path: str | Path) -> T:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config: {exc.strerror}", path=path) from exc
        return cls.from_json(text)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MelConfig(JsonConfig):
    """The log-mel spectrogram: one definition for display, training and live use."""

    sr: int = ANALYSIS_SR
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float = 8000.0

    def __post_init__(self) -> None:
        if self.sr <= 0:
            raise ConfigError(f"sample rate must be positive, got {self.sr}")
        if self.n_fft < 16 or self.n_fft & (self.n_fft - 1):
            raise ConfigError(f"n_fft must be a power of two of at least 16, got {self.n_fft}")
        if not 1 <= self.hop_length <= self.n_fft:
            raise ConfigError(f"hop length must be between 1 and n_fft ({self.n_fft}), got {self.hop_length}")
        if not 1 <= self.n_mels <= 512:
            raise ConfigError(f"n_mels must be between 1 and 512, got {self.n_mels}")
        if not 0 <= self.fmin < self.fmax:
            raise ConfigError(f"need 0 <= fmin < fmax, got fmin={self.fmin}, fmax={self.fmax}")
        if self.fmax > self.sr / 2:
            raise ConfigError(f"fmax {self.fmax:g} Hz is above the Nyquist frequency {self.sr / 2:g} Hz")

    @property
    def frame_seconds(self) -> float:
        return self.hop_length / self.sr


FEATURE_KINDS = ("mfcc", "sequence", "mel-patches", "musicnn")


@dataclass(frozen=True)
class FeatureConfig(JsonConfig):
    """How a clip becomes model input. Stored in every feature cache and model bundle, and used
    again, unchanged, by evaluation, file prediction and live prediction.

    kind: "mfcc" (one summary vector per clip), "sequence" (frames x 21: 13 MFCC + centroid +
    7 contrast), "mel-patches" (n_mels x patch frames log-mel patches, several per clip),
    "musicnn" (patch frames x n_mels windows of log10(1 + 10000 mel power), the input of the
    musicnn embedding; see MUSICNN_FEATURES).
    """

    kind: str = "mfcc"
    mel: MelConfig = MelConfig()
    n_mfcc: int = 40
    # Summary statistics over frames for kind "mfcc": 40 coefficients x 3 = 120 values (the labs' size).
    mfcc_stats: tuple[str, ...] = ("mean", "std", "delta_mean")
    # Clips are cut or zero-padded to this length before "sequence" features (seconds).
    clip_seconds: float = 3.0
    patch_seconds: float = 1.0
    patch_hop_seconds: float = 0.5
    hpss: bool = False
    multires: bool = False
    # "sequence" frames: this many MFCC + spectral centroid + (contrast_bands + 1) contrast values
    # (13 + 1 + 7 = 21 per frame, as in the Medley-solos-DB LSTM study).
    sequence_n_mfcc: int = 13
    contrast_bands: int = 6
    # "multires": the log-mel at these three window lengths (same hop) as channels.
    multires_n_ffts: tuple[int, ...] = (1024, 2048, 4096)

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise ConfigError(f"feature kind must be one of {', '.join(FEATURE_KINDS)}, got {self.kind!r}")
        if self.n_mfcc < 1:
            raise ConfigError(f"n_mfcc must be at least 1, got {self.n_mfcc}")
        if self.patch_seconds <= 0 or self.patch_hop_seconds <= 0:
            raise ConfigError("patch length and hop must be positive")
        if self.clip_seconds <= 0:
            raise ConfigError("clip length must be positive")
        if self.sequence_n_mfcc < 1 or self.contrast_bands < 1:
            raise ConfigError("sequence features need at least one MFCC and one contrast band")
        if not self.multires_n_ffts or any(n < 16 or n & (n - 1) for n in self.multires_n_ffts):
            raise ConfigError(f"multi-resolution window lengths must be powers of two, got {self.multires_n_ffts}")
        unknown = set(self.mfcc_stats) - {"mean", "std", "delta_mean", "delta_std", "min", "max"}
        if unknown or not self.mfcc_stats:
            raise ConfigError(f"unknown MFCC statistic(s) {sorted(unknown)}; use mean, std, delta_mean, "
                              "delta_std, min, max")

    @property
    def patch_frames(self) -> int:
        """Spectrogram frames in one log-mel patch (1 s at 22,050 Hz / hop 512: 43)."""
        return max(1, int(round(self.patch_seconds * self.mel.sr / self.mel.hop_length)))

    @property
    def patch_hop_frames(self) -> int:
        return max(1, int(round(self.patch_hop_seconds * self.mel.sr / self.mel.hop_length)))

    @property
    def sequence_frames(self) -> int:
        return 1 + int(round(self.clip_seconds * self.mel.sr)) // self.mel.hop_length

    @property
    def n_channels(self) -> int:
        """Channels of a mel patch: 1 (no channel axis), 3 window lengths, +2 for HPSS."""
        return (len(self.multires_n_ffts) if self.multires else 1) + (2 if self.hpss else 0)

    @property
    def row_shape(self) -> tuple[int, ...]:
        """Shape of one row of clip_features() (what a model's input layer takes)."""
        if self.kind == "mfcc":
            return (self.n_mfcc * len(self.mfcc_stats),)
        if self.kind == "sequence":
            return (self.sequence_frames, self.sequence_n_mfcc + 1 + self.contrast_bands + 1)
        if self.kind == "musicnn":
            return (self.patch_frames, self.mel.n_mels)
        base = (self.mel.n_mels, self.patch_frames)
        return base if self.n_channels == 1 else (*base, self.n_channels)


# The musicnn checkpoints' input (musicnn/configuration.py): 16 kHz, 512-point FFT, hop 256, 96 mel
# bands, 3 s windows of 187 frames (187 * 256 / 16000 = 2.992 s), here every 1.5 s.
MUSICNN_FEATURES = FeatureConfig(kind="musicnn", mel=MelConfig(sr=16000, n_fft=512, hop_length=256, n_mels=96,
                                                               fmax=8000.0),
                                 patch_seconds=2.992, patch_hop_seconds=1.5)
