"""Opening a file for display: decode, mix down, resample and compute the mel spectrogram in one
streaming pass, so the first columns are on screen long before a long file is decoded; and a
short clip's preview (samples to play, log-mel to show) decoded at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.audiofile import _info_of, _open, shortfall_warning, to_mono, truncation_warning
from ..audio.envelope import EnvelopePyramid
from ..audio.info import format_duration
from ..config import MelConfig
from ..errors import AudioFormatError, Cancelled
from ..events import AudioOpened, AudioReady, MelFrames, Progress
from .mel import StreamingMel, log_mel_chunks, n_frames

# Small first blocks put something on screen at once; later blocks are larger for throughput.
FIRST_BLOCK_SECONDS = 0.5
BLOCK_SECONDS = 8.0


def analyse_file(path: str | Path, cfg: MelConfig, *, should_stop: Callable[[], bool] | None = None
                 ) -> Iterator[AudioOpened | MelFrames | Progress | AudioReady]:
    """Yield AudioOpened, then MelFrames and Progress as the file decodes, then AudioReady."""
    import soxr

    path = Path(path)
    with _open(path) as f:
        info = _info_of(path, f)
        if info.frames <= 0:
            raise AudioFormatError("the file holds no audio (0 frames)", path=path)
        expected_y = int(np.ceil(info.frames * cfg.sr / info.samplerate)) + 1
        yield AudioOpened(info=info, analysis_sr=cfg.sr, total_frames=n_frames(expected_y - 1, cfg))
        samples = np.empty((info.frames, info.channels), dtype=np.float32)
        y = np.empty(expected_y + 64, dtype=np.float32)
        resampler = None if info.samplerate == cfg.sr else soxr.ResampleStream(
            info.samplerate, cfg.sr, 1, dtype="float32", quality="HQ")
        mel = StreamingMel(cfg)
        got = ny = 0
        warnings: list[str] = []
        block = max(1024, int(FIRST_BLOCK_SECONDS * info.samplerate))

        def emit_mel(cols: np.ndarray):
            if cols.shape[1]:
                first = mel.frames_out - cols.shape[1]
                return MelFrames(first=first, db=cols)
            return None

        while got < info.frames:
            if should_stop is not None and should_stop():
                raise Cancelled(f"opening {path.name} cancelled")
            n = min(block, info.frames - got)
            try:
                data = f.read(n, dtype="float32", always_2d=True)
            except Exception as exc:  # libsndfile errors mid-file: keep what decoded
                warnings.append(f"decoding stopped at {got / info.samplerate:.2f} s: {exc}")
                break
            if len(data) == 0:
                break
            samples[got:got + len(data)] = data
            got += len(data)
            last = got >= info.frames
            chunk = to_mono(data)
            if resampler is not None:
                chunk = resampler.resample_chunk(chunk, last=last)
            if ny + len(chunk) > len(y):
                y = np.concatenate([y, np.empty(len(chunk) + 1024, dtype=np.float32)])
            y[ny:ny + len(chunk)] = chunk
            ny += len(chunk)
            event = emit_mel(mel.push(chunk))
            if event is not None:
                yield event
            yield Progress(stage="decoding", done=got, total=info.frames,
                           message=f"{format_duration(got / info.samplerate)} of {format_duration(info.duration)}")
            block = max(block, int(BLOCK_SECONDS * info.samplerate))

        if got == 0:
            raise AudioFormatError("no audio could be decoded (the file is truncated or corrupt)", path=path)
        if got < info.frames:
            if (warning := shortfall_warning(info, got)) is not None:
                warnings.append(warning)
            samples = samples[:got]
            if resampler is not None:
                tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
                y[ny:ny + len(tail)] = tail[: len(y) - ny]
                ny += min(len(tail), len(y) - ny)
                event = emit_mel(mel.push(tail))
                if event is not None:
                    yield event
            info = type(info)(**{**info.to_dict(), "frames": got, "duration": got / info.samplerate})
        elif (warning := truncation_warning(path, info)) is not None:
            warnings.append(warning)
        event = emit_mel(mel.finish())
        if event is not None:
            yield event
    y = y[:ny]
    yield Progress(stage="waveform", done=0, total=None, message="building waveform")
    envelope = EnvelopePyramid(y)
    yield AudioReady(info=info, samples=samples, analysis=y, analysis_sr=cfg.sr, envelope=envelope,
                     warnings=warnings)


def recompute_mel(y: np.ndarray, cfg: MelConfig, *, should_stop: Callable[[], bool] | None = None,
                  chunk_frames: int = 8192) -> Iterator[AudioOpened | MelFrames | Progress]:
    """The spectrogram of an already-decoded signal with new settings, in columns."""
    total = n_frames(len(y), cfg)
    for first, db in log_mel_chunks(y, cfg, chunk_frames=chunk_frames, should_stop=should_stop):
        yield MelFrames(first=first, db=db)
        yield Progress(stage="spectrogram", done=first + db.shape[1], total=total)


@dataclass(frozen=True)
class ClipPreview:
    path: str
    samples: np.ndarray     # (frames, channels) float32 at samplerate: what is played
    samplerate: int
    db: np.ndarray          # log-mel (n_mels, frames) of the analysis signal
    mel: MelConfig
    duration: float


def clip_preview(path: str, mel: MelConfig | None = None) -> ClipPreview:
    """Decode a clip once: samples to play and its log-mel to show (the Dataset panel's click)."""
    from ..audio.audiofile import read_audio, resample
    from .mel import log_mel

    mel = mel or MelConfig()
    decoded = read_audio(path)
    y = resample(decoded.mono(), decoded.samplerate, mel.sr)
    return ClipPreview(path=str(path), samples=decoded.samples, samplerate=decoded.samplerate,
                       db=log_mel(y, mel), mel=mel, duration=decoded.info.duration)
