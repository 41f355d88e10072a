"""Reading and writing audio: any rate, depth and channel count in; float32 out.

Decoding is done by libsndfile through soundfile (WAV, AIFF/AIFC, FLAC, OGG/Vorbis/Opus, MP3).
Every failure becomes an AudioFormatError that names the file and the reason.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from .config import ANALYSIS_SR
from .errors import AudioFormatError, Cancelled
from .fileio import atomic_path

# File name endings offered in open dialogs; decoding itself is decided by content, not name.
AUDIO_EXTENSIONS = (".wav", ".wave", ".aif", ".aiff", ".aifc", ".flac", ".ogg", ".oga", ".opus", ".mp3")

_BIT_DEPTHS = {
    "PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32,
    "FLOAT": 32, "DOUBLE": 64, "ALAW": 8, "ULAW": 8,
}
# How a sample is stored, in a few words. libsndfile's own text ("Signed 16 bit PCM") already
# names the depth, so it is used only for subtypes not listed here (e.g. "MPEG Layer III").
_SUBTYPE_TEXT = {
    "PCM_S8": "8-bit PCM", "PCM_U8": "8-bit unsigned PCM", "PCM_16": "16-bit PCM", "PCM_24": "24-bit PCM",
    "PCM_32": "32-bit PCM", "FLOAT": "32-bit float", "DOUBLE": "64-bit float", "ALAW": "8-bit A-law",
    "ULAW": "8-bit µ-law",
}

ProgressFn = Callable[[float], None]
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class AudioInfo:
    """Facts about a file as it is on disk (before any mix-down or resampling)."""

    path: str
    samplerate: int
    channels: int
    frames: int
    duration: float
    format: str
    subtype: str
    format_info: str = ""
    subtype_info: str = ""

    @property
    def bit_depth(self) -> int | None:
        """Bits per sample for PCM/float subtypes; None for compressed ones (MP3, Vorbis)."""
        return _BIT_DEPTHS.get(self.subtype)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        sample = _SUBTYPE_TEXT.get(self.subtype) or self.subtype_info or self.subtype
        chans = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return (f"{self.format_info or self.format}, {sample}, "
                f"{self.samplerate:,} Hz, {chans}, {format_duration(self.duration)}")


@dataclass
class DecodedAudio:
    """The file's samples as float32 (frames, channels) at its own rate, plus what went wrong."""

    info: AudioInfo
    samples: np.ndarray
    warnings: list[str] = field(default_factory=list)

    @property
    def samplerate(self) -> int:
        return self.info.samplerate

    def mono(self) -> np.ndarray:
        return to_mono(self.samples)


def format_duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.2f} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{int(m)}:{s:05.2f}"
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}"


def _check_readable(path: Path) -> None:
    """Turn the common OS-level problems into messages before libsndfile turns them into noise."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioFormatError("file not found", path=path) from None
    except PermissionError:
        raise AudioFormatError("no permission to open this file", path=path) from None
    except OSError as exc:
        raise AudioFormatError(f"cannot open: {exc.strerror}", path=path) from exc
    if path.is_dir():
        raise AudioFormatError("this is a folder, not an audio file", path=path)
    if st.st_size == 0:
        raise AudioFormatError("the file is empty (0 bytes)", path=path)
    if not os.access(path, os.R_OK):
        raise AudioFormatError("no permission to read this file", path=path,
                               hint="check the file's permissions")


def _open(path: Path) -> sf.SoundFile:
    _check_readable(path)
    try:
        return sf.SoundFile(str(path))
    except PermissionError:
        raise AudioFormatError("no permission to read this file", path=path,
                               hint="check the file's permissions") from None
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        detail = str(getattr(exc, "error_string", "") or exc)
        if "Format not recognised" in detail or "unknown format" in detail.lower():
            reason = "not an audio file that can be decoded (format not recognised)"
        elif "truncated" in detail.lower() or "premature" in detail.lower():
            reason = "the file is truncated"
        else:
            reason = f"cannot decode ({detail.strip()})"
        raise AudioFormatError(reason, path=path,
                               hint="supported: WAV, AIFF, FLAC, OGG, MP3") from None
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise AudioFormatError("no permission to read this file", path=path) from None
        raise AudioFormatError(f"cannot open: {exc.strerror or exc}", path=path) from exc


# Compressed formats whose frame count in the header is an estimate (VBR MP3 especially): a
# shortfall of a few percent is normal there, not truncation.
_ESTIMATED_LENGTH = ("MP3", "OGG")


def shortfall_warning(info: AudioInfo, got: int) -> str | None:
    """A warning if decoding gave clearly fewer frames than the header promised."""
    missing = info.frames - got
    if missing <= 0:
        return None
    if info.format in _ESTIMATED_LENGTH and missing < max(0.05 * info.frames, 0.5 * info.samplerate):
        return None
    return (f"the file is truncated: its header promises {format_duration(info.frames / info.samplerate)}, "
            f"only {format_duration(got / info.samplerate)} could be decoded")


def _info_of(path: Path, f: sf.SoundFile) -> AudioInfo:
    frames = int(f.frames)
    return AudioInfo(
        path=str(path), samplerate=int(f.samplerate), channels=int(f.channels), frames=frames,
        duration=frames / float(f.samplerate) if f.samplerate else 0.0,
        format=str(f.format), subtype=str(f.subtype),
        format_info=str(getattr(f, "format_info", "") or ""),
        subtype_info=str(getattr(f, "subtype_info", "") or ""),
    )


def _declared_frames(path: Path, info: AudioInfo) -> int | None:
    """Frames the WAV/AIFF header promises. libsndfile quietly shortens a truncated file to what
    is there; comparing with the header is how a cut-off download or copy is noticed."""
    depth = _BIT_DEPTHS.get(info.subtype)
    if info.format not in ("WAV", "WAVEX", "AIFF") or not depth:
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None
    big = info.format == "AIFF"
    tag = b"SSND" if big else b"data"
    pos = 12
    while pos + 8 <= len(head):
        cid, size = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "big" if big else "little")
        if cid == b"COMM" and big and pos + 14 <= len(head):
            return int.from_bytes(head[pos + 10:pos + 14], "big")
        if cid == tag and not big:
            if size in (0, 0xFFFFFFFF):  # streaming writers leave it unset
                return None
            return size // (info.channels * depth // 8)
        pos += 8 + size + (size & 1)
    return None


def truncation_warning(path: Path, info: AudioInfo, decoded_frames: int | None = None) -> str | None:
    declared = _declared_frames(path, info)
    have = info.frames if decoded_frames is None else decoded_frames
    if declared is None or declared <= have:
        return None
    return (f"the file is truncated: its header promises {format_duration(declared / info.samplerate)}, "
            f"only {format_duration(have / info.samplerate)} could be decoded")


def probe(path: str | Path) -> AudioInfo:
    """Read the header only: rate, channels, frames, duration, format, subtype."""
    path = Path(path)
    with _open(path) as f:
        info = _info_of(path, f)
    if info.frames <= 0:
        raise AudioFormatError("the file holds no audio (0 frames)", path=path)
    return info


def read_audio(path: str | Path, *, progress: ProgressFn | None = None, should_stop: StopFn | None = None,
               block_frames: int = 1 << 18) -> DecodedAudio:
    """Decode a whole file to float32 (frames, channels) at its own rate, in blocks.

    A file that ends before its header says it should is kept up to where it ends, with a
    warning; a file from which nothing can be decoded raises AudioFormatError.
    """
    path = Path(path)
    with _open(path) as f:
        info = _info_of(path, f)
        expected = info.frames
        if expected <= 0:
            raise AudioFormatError("the file holds no audio (0 frames)", path=path)
        out = np.empty((expected, info.channels), dtype=np.float32)
        got = 0
        warnings: list[str] = []
        while got < expected:
            if should_stop is not None and should_stop():
                raise Cancelled(f"opening {path.name} cancelled")
            n = min(block_frames, expected - got)
            try:
                block = f.read(n, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as exc:
                warnings.append(f"decoding stopped at {got / info.samplerate:.2f} s: {exc}")
                break
            if len(block) == 0:
                break
            out[got:got + len(block)] = block
            got += len(block)
            if progress is not None:
                progress(got / expected)
    if got == 0:
        raise AudioFormatError("no audio could be decoded (the file is truncated or corrupt)", path=path)
    if got < expected:
        if (warning := shortfall_warning(info, got)) is not None:
            warnings.append(warning)
        out = out[:got]
        info = AudioInfo(**{**info.to_dict(), "frames": got, "duration": got / info.samplerate})
    elif (warning := truncation_warning(path, info)) is not None:
        warnings.append(warning)
    return DecodedAudio(info=info, samples=out, warnings=warnings)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels (the mix-down librosa uses); 1-D input is returned as float32."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        return samples
    if samples.shape[1] == 1:
        return samples[:, 0]
    return samples.mean(axis=1, dtype=np.float32)


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling (soxr, the same as librosa.load's default)."""
    if orig_sr == target_sr:
        return np.asarray(y, dtype=np.float32)
    import soxr  # librosa's resampler; imported here to keep `import core.audio_io` light

    return soxr.resample(np.asarray(y, dtype=np.float32), orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def load(path: str | Path, *, sr: int | None = ANALYSIS_SR, **kwargs) -> tuple[np.ndarray, int]:
    """Mono float32 at `sr` (None keeps the file's rate). The one loader every feature path uses."""
    decoded = read_audio(path, **kwargs)
    y = decoded.mono()
    if sr is None:
        return y, decoded.samplerate
    return resample(y, decoded.samplerate, sr), sr


def save_wav(path: str | Path, samples: np.ndarray, sr: int, *, subtype: str = "PCM_16") -> Path:
    """Write a WAV atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    data = np.asarray(samples, dtype=np.float32)
    try:
        with atomic_path(path, suffix=".wav.part") as tmp:
            sf.write(str(tmp), data, int(sr), subtype=subtype, format="WAV")
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFormatError(f"cannot write WAV: {exc}", path=path) from exc
    return path
