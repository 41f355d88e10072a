"""Reading and writing audio: any rate, depth and channel count in; float32 out.

Decoding is done by libsndfile through soundfile (WAV, AIFF/AIFC, FLAC, OGG/Vorbis/Opus, MP3), by
one chunked decoder (`BlockDecoder`) that every reader uses: the whole-file read here, the
streaming analysis for display (core.features.analysis) and `info`. It never trusts a header:
nothing is allocated from the length a header promises (a corrupt FLAC may claim 2^32 frames), a
sample rate outside 1 kHz..768 kHz is refused, and non-finite samples (NaN/Inf in float files)
are counted and zeroed with a warning.
Every failure becomes an AudioFormatError that names the file and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import ANALYSIS_SR
from ..errors import AudioFormatError, Cancelled
from ..fileio import atomic_path
from ..quiet import quiet_stderr
from .info import BIT_DEPTHS, AudioInfo, format_duration

# File name endings offered in open dialogs; decoding itself is decided by content, not name.
AUDIO_EXTENSIONS = (".wav", ".wave", ".aif", ".aiff", ".aifc", ".flac", ".ogg", ".oga", ".opus", ".mp3")

ProgressFn = Callable[[float], None]
StopFn = Callable[[], bool]

# Sample rates a real recording can have. A header outside this range is corrupt, and believing it
# is costly: a 44 KB WAV that claims 1 Hz becomes 18 minutes of audio to resample.
MIN_SAMPLERATE = 1_000
MAX_SAMPLERATE = 768_000
# One block holds at most this many samples (all channels), whatever the header says: 16 MiB.
MAX_BLOCK_SAMPLES = 1 << 22
# No codec libsndfile reads turns one byte into more samples than this (FLAC's constant
# subframes of digital silence come closest, a few hundred): decoding stops past it, so a
# decoder that keeps inventing audio cannot run the memory out.
MAX_SAMPLES_PER_BYTE = 4096
# Float files may go past full scale (1.0) a little; beyond this (60 dB over) a sample is garbage.
MAX_SAMPLE = 1000.0
# After a failed read, blocks shrink down to this size to keep what lies before the damage.
MIN_RETRY_FRAMES = 1024
# PCM containers: their length can be bounded exactly from the file size.
_PCM_CONTAINERS = ("WAV", "WAVEX", "AIFF", "AU", "W64", "RF64", "CAF", "RAW")


@dataclass
class DecodedAudio:
    """The file's samples as float32 (frames, channels) at its own rate, plus what went wrong."""

    info: AudioInfo
    samples: np.ndarray
    warnings: list[str] = field(default_factory=list)
    nonfinite: int = 0          # NaN/Inf or absurd (|x| > MAX_SAMPLE) samples found, replaced by 0

    @property
    def samplerate(self) -> int:
        return self.info.samplerate

    def mono(self) -> np.ndarray:
        return to_mono(self.samples)


def check_readable(path: Path) -> None:
    """Turn the common OS-level problems into messages before libsndfile turns them into noise."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise AudioFormatError("file not found", path=path) from None
    except PermissionError:
        raise AudioFormatError("no permission to open this file", path=path) from None
    except OSError as exc:
        raise AudioFormatError(f"cannot open: {exc.strerror}", path=path) from exc
    if stat.S_ISDIR(st.st_mode):
        raise AudioFormatError("this is a folder, not an audio file", path=path)
    if stat.S_ISFIFO(st.st_mode):
        # Opening a pipe would wait for a writer forever; its size of 0 says nothing either.
        raise AudioFormatError("this is a pipe (FIFO), not an audio file", path=path)
    if not stat.S_ISREG(st.st_mode):
        raise AudioFormatError("not a regular file (a device or socket), not an audio file", path=path)
    if st.st_size == 0:
        raise AudioFormatError("the file is empty (0 bytes)", path=path)
    if not os.access(path, os.R_OK):
        raise AudioFormatError("no permission to read this file", path=path,
                               hint="check the file's permissions")


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open(path: Path) -> sf.SoundFile:
    check_readable(path)
    try:
        with quiet_stderr():
            return sf.SoundFile(str(path))
    except PermissionError:
        raise AudioFormatError("no permission to read this file", path=path,
                               hint="check the file's permissions") from None
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        detail = _one_line(getattr(exc, "error_string", "") or exc)
        lowered = detail.lower()
        if "format not recognised" in lowered or "unknown format" in lowered:
            reason = "not an audio file that can be decoded (format not recognised)"
        elif "truncated" in lowered or "premature" in lowered:
            reason = "the file is truncated"
        elif "not a regular file" in lowered or "does not exist" in lowered:
            # libsndfile's words when its MP3 decoder gives up; the file is there (checked above).
            reason = "not an audio file that can be decoded (corrupt or unrecognised data)"
        else:
            reason = f"cannot decode ({detail})"
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


def _check_header(path: Path, info: AudioInfo) -> None:
    """Refuse headers no recording has, before anything is sized from them."""
    if not MIN_SAMPLERATE <= info.samplerate <= MAX_SAMPLERATE:
        raise AudioFormatError(
            f"its header gives a sample rate of {info.samplerate:,} Hz, outside what a recording has "
            f"({MIN_SAMPLERATE:,} to {MAX_SAMPLERATE:,} Hz): the file is corrupt", path=path)
    if info.channels < 1:
        raise AudioFormatError(f"its header gives {info.channels} channels: the file is corrupt", path=path)
    if info.frames <= 0:
        raise AudioFormatError("the file holds no audio (0 frames)", path=path)


def plausible_frames(path: str | Path, info: AudioInfo) -> int:
    """The frames worth reserving room for: the header's count, but never more than the file's size
    can hold (exactly for PCM, generously for compressed formats). An estimate for progress bars
    and first allocations only; decoding itself reads until the data ends."""
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    depth = BIT_DEPTHS.get(info.subtype)
    if info.format in _PCM_CONTAINERS and depth:
        bound = size * 8 // (depth * max(1, info.channels))
    else:
        bound = size * 64 // max(1, info.channels)
    return max(1, min(info.frames, bound))


class BlockDecoder:
    """The one chunked decoder: opens a file, checks its header, yields float32 (frames, channels)
    blocks until the data ends (never sized from the header), and says afterwards what went wrong.

        with BlockDecoder(path) as dec:
            for block in dec.blocks():
                ...
            info, warnings = dec.finish()

    A decoding error part-way keeps what decoded before it, with a warning; NaN/Inf samples are
    zeroed and counted (`nonfinite`); `finish()` raises AudioFormatError if nothing decoded.
    """

    def __init__(self, path: str | Path, *, should_stop: StopFn | None = None):
        self.path = Path(path)
        self.should_stop = should_stop
        self._file = _open(self.path)
        try:
            self.info = _info_of(self.path, self._file)
            _check_header(self.path, self.info)
        except BaseException:
            self._file.close()
            raise
        self.expected = plausible_frames(self.path, self.info)
        self.frames_read = 0
        self.nonfinite = 0
        self.warnings: list[str] = []
        self._stopped_early = False
        try:
            self._sample_limit = os.path.getsize(self.path) * MAX_SAMPLES_PER_BYTE + (1 << 20)
        except OSError:
            self._sample_limit = 1 << 40
        # mpg123 reports resyncs on fd 2 as it reads, not only when it opens.
        self._quiet = self.info.format == "MP3"

    def __enter__(self) -> BlockDecoder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._file.close()

    def _frames_for(self, seconds: float | None, frames: int | None) -> int:
        n = frames if frames is not None else int((seconds or 8.0) * self.info.samplerate)
        return max(1, min(n, MAX_BLOCK_SAMPLES // self.info.channels))

    def blocks(self, *, block_frames: int | None = None, first_seconds: float | None = None,
               seconds: float = 8.0) -> Iterator[np.ndarray]:
        """Blocks of `block_frames` (or `seconds`; the first of `first_seconds` to show something
        soon), until the data ends or an error stops decoding."""
        n = self._frames_for(first_seconds if first_seconds is not None else seconds, block_frames)
        later = self._frames_for(seconds, block_frames)
        while True:
            if self.should_stop is not None and self.should_stop():
                raise Cancelled(f"opening {self.path.name} cancelled")
            try:
                if self._quiet:
                    with quiet_stderr():
                        block = self._file.read(n, dtype="float32", always_2d=True)
                else:
                    block = self._file.read(n, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError, OSError, MemoryError) as exc:
                # libsndfile fails a whole read that runs into the damage (a FLAC cut short fails
                # with "psf_fseek() failed" and returns nothing): step back and read what comes
                # before it in smaller blocks, so that only the damaged part is lost.
                if n > MIN_RETRY_FRAMES and self._seek(self.frames_read):
                    n = later = max(MIN_RETRY_FRAMES, n // 16)
                    continue
                self.warnings.append(f"decoding stopped at {format_duration(self.frames_read / self.info.samplerate)}: "
                                     f"{_one_line(exc, 120)}")
                self._stopped_early = True
                return
            if len(block) == 0:
                return
            # NaN/Inf, or magnitudes no recording has (a float file's garbage), would overflow
            # every computation after this one: zeroed here, counted, reported.
            with np.errstate(invalid="ignore"):
                usable = np.abs(block) <= MAX_SAMPLE
            if not usable.all():
                self.nonfinite += int(block.size - np.count_nonzero(usable))
                block[~usable] = 0.0
            self.frames_read += len(block)
            yield block
            if self.frames_read * self.info.channels > self._sample_limit:
                self.warnings.append(f"decoding stopped at {format_duration(self.frames_read / self.info.samplerate)}: "
                                     "the file decodes to far more audio than its size can hold (corrupt)")
                self._stopped_early = True
                return
            n = later

    def _seek(self, frame: int) -> bool:
        """Back to `frame` after a failed read, which leaves libsndfile's handle unusable
        (FLAC: every later call fails): reopen the file and seek there."""
        self.close()
        try:
            with quiet_stderr():
                self._file = sf.SoundFile(str(self.path))
                return frame == 0 or self._file.seek(frame) == frame
        except (sf.LibsndfileError, RuntimeError, ValueError, OSError):
            return False

    @property
    def first_allocation(self) -> int:
        """Frames to reserve before decoding: exact for PCM (bounded by the file size), at most
        16M frames for compressed formats, whose length headers are estimates or worse."""
        if self.info.format in _PCM_CONTAINERS and BIT_DEPTHS.get(self.info.subtype):
            return self.expected
        return min(self.expected, 1 << 24)

    @property
    def fraction(self) -> float:
        return min(1.0, self.frames_read / self.expected)

    def finish(self) -> tuple[AudioInfo, list[str]]:
        """The facts of what decoded (frames as decoded, not as promised) and every warning."""
        info, got = self.info, self.frames_read
        if got == 0:
            raise AudioFormatError("no audio could be decoded (the file is truncated or corrupt)", path=self.path)
        warnings = list(self.warnings)
        if got < info.frames:
            if (warning := shortfall_warning(info, got)) is not None:
                # "Truncated" says it all; libsndfile's words for where it stopped add nothing.
                warnings = [w for w in warnings if not w.startswith("decoding stopped")] + [warning]
        elif (warning := truncation_warning(self.path, info, got)) is not None:
            warnings.append(warning)
        if self.nonfinite:
            warnings.append(f"{self.nonfinite:,} samples are not numbers (NaN or infinite) or lie far beyond "
                            "full scale: the file is corrupt; they were replaced by silence")
        if got != info.frames:
            info = AudioInfo(**{**info.to_dict(), "frames": got, "duration": got / info.samplerate})
        return info, warnings


class GrowingFrames:
    """A (frames, channels) float32 array filled block by block: starts at an estimate, doubles
    when the data outruns it (a header is never believed), trimmed at the end."""

    def __init__(self, estimate: int, channels: int):
        self.data = np.empty((max(1, estimate), channels), dtype=np.float32)
        self.n = 0

    def append(self, block: np.ndarray) -> None:
        need = self.n + len(block)
        if need > len(self.data):
            bigger = np.empty((max(need, 2 * len(self.data)), self.data.shape[1]), dtype=np.float32)
            bigger[: self.n] = self.data[: self.n]
            self.data = bigger
        self.data[self.n:need] = block
        self.n = need

    def result(self) -> np.ndarray:
        if self.n == len(self.data):
            return self.data
        # A short file under a long estimate: give the unused room back.
        return self.data[: self.n].copy() if self.n < len(self.data) // 2 else self.data[: self.n]


def _declared_frames(path: Path, info: AudioInfo) -> int | None:
    """Frames the WAV/AIFF header promises. libsndfile quietly shortens a truncated file to what
    is there; comparing with the header is how a cut-off download or copy is noticed."""
    depth = BIT_DEPTHS.get(info.subtype)
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
    """Read the header only: rate, channels, frames, duration, format, subtype (checked as
    BlockDecoder checks them). Cheap; `inspect_file` decodes to find what the header hides."""
    path = Path(path)
    with _open(path) as f:
        info = _info_of(path, f)
    _check_header(path, info)
    return info


@dataclass(frozen=True)
class Inspection:
    """`info`'s answer: the header's facts, what actually decodes, and what is wrong."""

    header: AudioInfo
    decoded: AudioInfo
    warnings: tuple[str, ...]


def inspect_file(path: str | Path, *, should_stop: StopFn | None = None) -> Inspection:
    """Decode the whole file without keeping it (memory stays at one block) to check what its
    header promises: a truncated or corrupt file is reported here, not first at prediction."""
    with BlockDecoder(path, should_stop=should_stop) as dec:
        for _ in dec.blocks():
            pass
        info, warnings = dec.finish()
    return Inspection(header=dec.info, decoded=info, warnings=tuple(warnings))


def read_audio(path: str | Path, *, progress: ProgressFn | None = None, should_stop: StopFn | None = None,
               block_frames: int = 1 << 18) -> DecodedAudio:
    """Decode a whole file to float32 (frames, channels) at its own rate, in blocks.

    A file that ends before its header says it should is kept up to where it ends, with a
    warning; a file from which nothing can be decoded raises AudioFormatError.
    """
    with BlockDecoder(path, should_stop=should_stop) as dec:
        out = GrowingFrames(dec.first_allocation, dec.info.channels)
        for block in dec.blocks(block_frames=block_frames):
            out.append(block)
            if progress is not None:
                progress(dec.fraction)
        info, warnings = dec.finish()
    return DecodedAudio(info=info, samples=out.result(), warnings=warnings, nonfinite=dec.nonfinite)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels (the mix-down librosa uses); 1-D input is returned as float32."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        return samples
    if samples.shape[1] == 1:
        return samples[:, 0]
    if samples.shape[1] == 2:
        # The same bits as mean(axis=1) (one float32 sum, then a halving, which is exact), 15 times
        # faster: numpy reduces a 2-wide axis slowly, and a tenth of rendering the starter set was here.
        return (samples[:, 0] + samples[:, 1]) * np.float32(0.5)
    return samples.mean(axis=1, dtype=np.float32)


def resample(y: np.ndarray, orig_sr: float, target_sr: float) -> np.ndarray:
    """Band-limited resampling (soxr, the same as librosa.load's default). Rates may be fractional:
    the recipe's small pitch shifts resample from sr x ratio to sr."""
    if orig_sr == target_sr:
        return np.asarray(y, dtype=np.float32)
    import soxr  # librosa's resampler; imported here to keep `import core.audio.audiofile` light

    return soxr.resample(np.asarray(y, dtype=np.float32), orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def load(path: str | Path, *, sr: int | None = ANALYSIS_SR, **kwargs) -> tuple[np.ndarray, int]:
    """Mono float32 at `sr` (None keeps the file's rate). The one loader every feature path uses."""
    decoded = read_audio(path, **kwargs)
    y = decoded.mono()
    if sr is None:
        return y, decoded.samplerate
    return resample(y, decoded.samplerate, sr), sr


def load_bytes(data: bytes, *, sr: int | None = ANALYSIS_SR) -> tuple[np.ndarray, int]:
    """load() of a file whose bytes are in memory because this process has just written them (a
    rendered starter clip): the same samples, without reading the file back or the checks that a
    file from elsewhere needs (those made load() 2.5 times slower on a short WAV)."""
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    y = to_mono(samples)
    if sr is None:
        return y, rate
    return resample(y, rate, sr), sr


def write_error_reason(exc: BaseException, folder: str | Path) -> str:
    """Why a write through libsndfile failed, in words: it reports every OS error as "System
    error.", but the C errno it left behind (or the free space) says what happened."""
    if isinstance(exc, OSError) and exc.errno is not None:
        code = exc.errno
    else:
        code = getattr(getattr(sf, "_ffi", None), "errno", 0) or 0
    if code == errno.ENOSPC or code == errno.EDQUOT:
        return "the disk is full"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only"
    try:
        if os.statvfs(folder).f_bavail == 0:
            return "the disk is full"
    except OSError:
        pass
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return _one_line(exc) or "the file could not be written"


def save_wav(path: str | Path, samples: np.ndarray, sr: int, *, subtype: str = "PCM_16") -> Path:
    """Write a WAV atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    data = np.asarray(samples, dtype=np.float32)
    try:
        with atomic_path(path, suffix=".wav.part") as tmp:
            sf.write(str(tmp), data, int(sr), subtype=subtype, format="WAV")
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFormatError(f"cannot write WAV: {write_error_reason(exc, path.parent)}", path=path) from exc
    return path
