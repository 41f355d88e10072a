"""What a file holds, as its header says: AudioInfo, and durations written for people.

Plain values with no dependency beyond the standard library: AudioInfo crosses threads inside
core.events (AudioOpened, AudioReady), so the event module imports this, never the decoder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

BIT_DEPTHS = {
    "PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32,
    "FLOAT": 32, "DOUBLE": 64, "ALAW": 8, "ULAW": 8,
}
# How a sample is stored, in a few words. libsndfile's own text ("Signed 16 bit PCM") already
# names the depth, so it is used only for subtypes not listed here (e.g. "MPEG Layer III").
SUBTYPE_TEXT = {
    "PCM_S8": "8-bit PCM", "PCM_U8": "8-bit unsigned PCM", "PCM_16": "16-bit PCM", "PCM_24": "24-bit PCM",
    "PCM_32": "32-bit PCM", "FLOAT": "32-bit float", "DOUBLE": "64-bit float", "ALAW": "8-bit A-law",
    "ULAW": "8-bit µ-law",
}


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
        return BIT_DEPTHS.get(self.subtype)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        sample = SUBTYPE_TEXT.get(self.subtype) or self.subtype_info or self.subtype
        chans = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return (f"{self.format_info or self.format}, {sample}, "
                f"{self.samplerate:,} Hz, {chans}, {format_duration(self.duration)}")


def format_duration(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.2f} s"
    m, s = divmod(seconds, 60)
    if m < 60:
        return f"{int(m)}:{s:05.2f}"
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}"
