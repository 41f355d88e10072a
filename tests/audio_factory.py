"""Small generated audio files for tests: every format, rate, depth and channel count we claim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def tone(freq: float = 440.0, seconds: float = 1.0, sr: int = 44100, amp: float = 0.5,
         channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    y = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    if channels == 1:
        return y
    # Different gains per channel so a wrong mix-down shows.
    return np.stack([y * (1.0 - 0.25 * c) for c in range(channels)], axis=1)


def write(path: Path, data: np.ndarray, sr: int, *, fmt: str | None = None, subtype: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, sr, format=fmt, subtype=subtype)
    return path


# (file name, format, subtype, samplerate, channels): the formats the Audio panel promises.
FORMATS = [
    ("pcm16_44k_mono.wav", "WAV", "PCM_16", 44100, 1),
    ("pcm24_48k_stereo.wav", "WAV", "PCM_24", 48000, 2),
    ("float32_96k_stereo.wav", "WAV", "FLOAT", 96000, 2),
    ("u8_8k_mono.wav", "WAV", "PCM_U8", 8000, 1),
    ("pcm16_22k_6ch.wav", "WAV", "PCM_16", 22050, 6),
    ("pcm16_44k_stereo.aiff", "AIFF", "PCM_16", 44100, 2),
    ("float_44k_mono.aifc", "AIFF", "FLOAT", 44100, 1),
    ("pcm24_88k_mono.flac", "FLAC", "PCM_24", 88200, 1),
    ("vorbis_44k_stereo.ogg", "OGG", "VORBIS", 44100, 2),
    ("mp3_44k_mono.mp3", "MP3", "MPEG_LAYER_III", 44100, 1),
    ("mp3_32k_stereo.mp3", "MP3", "MPEG_LAYER_III", 32000, 2),
]


def make_format_file(folder: Path, name: str, fmt: str, subtype: str, sr: int, channels: int,
                     *, freq: float = 1000.0, seconds: float = 1.0) -> Path:
    return write(folder / name, tone(freq, seconds, sr, 0.5, channels), sr, fmt=fmt, subtype=subtype)


def make_bad_files(folder: Path) -> dict[str, Path]:
    """Every kind of bad input the app must explain: name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    empty = folder / "empty.wav"
    empty.write_bytes(b"")
    text = folder / "notes.wav"
    text.write_text("these are my practice notes, not audio\n" * 20)
    good = write(folder / "good.wav", tone(440, 2.0, 22050), 22050, subtype="PCM_16")
    truncated = folder / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[: 44 + 22050])  # header promises 2 s, ~0.5 s present
    header_only = folder / "header_only.wav"
    header_only.write_bytes(good.read_bytes()[:44])
    corrupt = folder / "corrupt.flac"
    data = bytearray(write(folder / "ok.flac", tone(440, 1.0, 22050), 22050).read_bytes())
    data[4:200] = bytes(196)  # clobber the STREAMINFO block
    corrupt.write_bytes(bytes(data))
    return {"empty": empty, "text": text, "truncated": truncated, "header_only": header_only,
            "corrupt": corrupt, "missing": folder / "does-not-exist.wav", "folder": folder}
