"""Opening a file for display: decode, mix down, resample and compute the mel spectrogram in one
streaming pass, so the first columns are on screen long before a long file is decoded; and a
short clip's preview (samples to play, log-mel to show) decoded at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.audiofile import BlockDecoder, GrowingFrames, to_mono
from ..audio.envelope import EnvelopePyramid
from ..audio.info import format_duration
from ..config import MelConfig
from ..events import AudioOpened, AudioReady, MelFrames, Progress
from .mel import StreamingMel, log_mel_chunks, n_frames

# Small first blocks put something on screen at once; later blocks are larger for throughput.
FIRST_BLOCK_SECONDS = 0.5
BLOCK_SECONDS = 8.0


def analyse_file(path: str | Path, cfg: MelConfig, *, should_stop: Callable[[], bool] | None = None
                 ) -> Iterator[AudioOpened | MelFrames | Progress | AudioReady]:
    """Yield AudioOpened, then MelFrames and Progress as the file decodes, then AudioReady.
    Decoding is core.audio's BlockDecoder: what it refuses, warns about and never trusts, this does too."""
    import soxr

    path = Path(path)
    with BlockDecoder(path, should_stop=should_stop) as dec:
        info = dec.info
        # Room reserved from the file's size, not its header's promise; both arrays grow if needed.
        expected_y = int(np.ceil(dec.expected * cfg.sr / info.samplerate)) + 1
        yield AudioOpened(info=info, analysis_sr=cfg.sr, total_frames=n_frames(expected_y - 1, cfg))
        samples = GrowingFrames(dec.first_allocation, info.channels)
        y = GrowingFrames(min(expected_y, 1 << 26), 1)
        resampler = None if info.samplerate == cfg.sr else soxr.ResampleStream(
            info.samplerate, cfg.sr, 1, dtype="float32", quality="HQ")
        mel = StreamingMel(cfg)

        def emit_mel(cols: np.ndarray):
            if cols.shape[1]:
                first = mel.frames_out - cols.shape[1]
                return MelFrames(first=first, db=cols)
            return None

        def push(chunk: np.ndarray):
            y.append(chunk[:, None])
            return emit_mel(mel.push(chunk))

        for data in dec.blocks(first_seconds=FIRST_BLOCK_SECONDS, seconds=BLOCK_SECONDS):
            samples.append(data)
            chunk = to_mono(data)
            if resampler is not None:
                chunk = resampler.resample_chunk(chunk, last=False)
            if (event := push(chunk)) is not None:
                yield event
            yield Progress(stage="decoding", done=dec.frames_read, total=max(dec.expected, dec.frames_read),
                           message=f"{format_duration(dec.frames_read / info.samplerate)} of "
                                   f"{format_duration(max(dec.expected, dec.frames_read) / info.samplerate)}")
        info, warnings = dec.finish()
        if resampler is not None:
            tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            if (event := push(tail)) is not None:
                yield event
        if (event := emit_mel(mel.finish())) is not None:
            yield event
    analysis = y.result()[:, 0]
    yield Progress(stage="waveform", done=0, total=None, message="building waveform")
    envelope = EnvelopePyramid(analysis)
    yield AudioReady(info=info, samples=samples.result(), analysis=analysis, analysis_sr=cfg.sr,
                     envelope=envelope, warnings=warnings)


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
