"""A one-writer/one-reader ring of audio frames for the PortAudio callback and one consumer.

The ring is written twice ("double-written"): frame k lands at index k % capacity and again at
k % capacity + capacity, so the latest N frames (N <= capacity) are always one contiguous slice
of the storage: `latest(n)` is a view, no copying and no wrap-around arithmetic for the caller
(friture's ring, without Qt).

Threading: exactly one thread calls `write` (the audio callback) and exactly one calls `read`
(the consumer). The writer fills the storage first and only then publishes the new frame count,
one int assignment (atomic under the GIL), so the reader never sees a count ahead of the data.
A sequence number, odd while a write is in progress, tells the reader whether the writer ran
during its copy; if so, frames the writer may have overwritten (it lapped the reader) are
dropped and counted as an overrun instead of being returned torn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Chunk:
    """Frames [start, start + len(data)) of the stream (absolute frame numbers since reset)."""

    start: int
    data: np.ndarray  # (frames, channels), a copy the reader owns

    @property
    def end(self) -> int:
        return self.start + len(self.data)


class RingBuffer:
    def __init__(self, capacity: int, channels: int = 1, dtype=np.float32):
        if capacity < 1 or channels < 1:
            raise ValueError("a ring needs capacity and channels of at least 1")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._buf = np.zeros((2 * self.capacity, self.channels), dtype=dtype)
        self._written = 0      # frames ever written; only the writer assigns it
        self._read = 0         # frames consumed; only the reader assigns it
        self._max_block = 0    # largest single write: how far a write in progress can reach
        self._seq = 0          # odd while the writer is inside write()
        self.overruns = 0      # times the writer lapped the reader
        self.overrun_frames = 0

    # --- writer side ------------------------------------------------------------------------
    def write(self, block: np.ndarray) -> None:
        """Append frames (frames, channels) or (frames,) for a mono ring. Audio thread: copy only."""
        block = block.reshape(len(block), -1) if block.ndim == 1 else block
        n = len(block)
        if n == 0:
            return
        if n > self.capacity:  # only the newest capacity frames can be kept
            block = block[n - self.capacity:]
            skipped, n = n - self.capacity, self.capacity
        else:
            skipped = 0
        cap = self.capacity
        self._max_block = max(self._max_block, n)
        self._seq += 1
        p = (self._written + skipped) % cap
        first = min(n, cap - p)
        buf = self._buf
        buf[p:p + first] = block[:first]
        buf[p + cap:p + cap + first] = block[:first]
        rest = n - first
        if rest:
            buf[:rest] = block[first:]
            buf[cap:cap + rest] = block[first:]
        self._written += skipped + n  # publish after the data
        self._seq += 1

    # --- reader side ------------------------------------------------------------------------
    @property
    def written(self) -> int:
        """Frames written since the ring was created (or reset)."""
        return self._written

    @property
    def read_position(self) -> int:
        return self._read

    def available(self) -> int:
        """Frames written and not yet read (may exceed capacity: the excess is lost)."""
        return self._written - self._read

    def latest(self, n: int) -> np.ndarray:
        """A contiguous VIEW of the newest n frames (zeros before the first write).

        The writer keeps writing: use it at once or copy it. For a consistent copy of recent
        audio from another thread, prefer `read`/`copy_latest`.
        """
        n = int(n)
        if not 0 <= n <= self.capacity:
            raise ValueError(f"can look back 0..{self.capacity} frames, not {n}")
        end = self._written % self.capacity + self.capacity
        return self._buf[end - n:end]

    def copy_latest(self, n: int) -> np.ndarray:
        """A copy of the newest min(n, written) frames, safe against a concurrent writer."""
        seq = self._seq
        w = self._written
        n = min(int(n), self.capacity, w)
        end = w % self.capacity + self.capacity
        out = self._buf[end - n:end].copy()
        first = self._first_intact(seq, w - n)
        return out[first - (w - n):]

    def read(self, max_frames: int | None = None) -> Chunk:
        """Consume the unread frames (oldest first), as a copy; skips and counts what was lost."""
        seq = self._seq
        w = self._written
        r = self._read
        if w - r > self.capacity:
            self._count_overrun(w - r - self.capacity)
            r = w - self.capacity
        n = w - r
        if max_frames is not None:
            n = min(n, int(max_frames))
        start_idx = r % self.capacity
        out = self._buf[start_idx:start_idx + n].copy()  # start_idx + n <= 2 * capacity
        first = self._first_intact(seq, r)
        if first > r:
            drop = min(n, first - r)
            self._count_overrun(drop)
            out = out[drop:]
            r += drop
            n -= drop
        self._read = r + n
        return Chunk(start=r, data=out)

    def _first_intact(self, seq_before: int, first: int) -> int:
        """First frame >= `first` that no write running during the caller's copy can have touched."""
        seq_after = self._seq
        if seq_after == seq_before and seq_before % 2 == 0:
            return first  # no write ran meanwhile: the copy is consistent
        reach = self._written + (self._max_block if seq_after % 2 else 0)
        return max(first, reach - self.capacity)

    def _count_overrun(self, frames: int) -> None:
        self.overruns += 1
        self.overrun_frames += frames

    def reset(self) -> None:
        """Forget everything (call only while the writer is stopped)."""
        self._buf[:] = 0
        self._written = self._read = 0
        self._max_block = self._seq = 0
        self.overruns = self.overrun_frames = 0
