"""RingBuffer: wrap-around, contiguous windows, overrun counting, one writer + one reader threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from instrument_studio.core.audio.ringbuffer import RingBuffer


def ramp(start: int, n: int) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.float32)


def test_reads_come_back_in_order_across_the_wrap():
    ring = RingBuffer(10)
    got = []
    pos = 0
    for n in (3, 4, 5, 7, 2, 9, 1):
        ring.write(ramp(pos, n))
        pos += n
        chunk = ring.read()
        assert chunk.start == pos - n
        got.append(chunk.data[:, 0])
    assert np.array_equal(np.concatenate(got), ramp(0, pos))
    assert ring.overruns == 0 and ring.written == pos


def test_latest_is_a_contiguous_view_of_the_newest_frames_at_every_phase():
    ring = RingBuffer(8)
    pos = 0
    for n in (5, 3, 6, 7, 1, 8, 2):
        ring.write(ramp(pos, n))
        pos += n
        for k in range(0, min(8, pos) + 1):
            view = ring.latest(k)
            assert view.base is not None  # a view into the storage, not a copy
            assert view.flags["C_CONTIGUOUS"]
            assert np.array_equal(view[:, 0], ramp(pos - k, k))


def test_latest_refuses_more_than_capacity():
    ring = RingBuffer(4)
    with pytest.raises(ValueError):
        ring.latest(5)


def test_writer_lapping_the_reader_is_counted_and_skipped():
    ring = RingBuffer(10)
    ring.write(ramp(0, 6))
    ring.write(ramp(6, 6))    # 12 unread in a ring of 10: frames 0 and 1 are lost
    chunk = ring.read()
    assert ring.overruns == 1 and ring.overrun_frames == 2
    assert chunk.start == 2
    assert np.array_equal(chunk.data[:, 0], ramp(2, 10))
    ring.write(ramp(12, 3))
    assert np.array_equal(ring.read().data[:, 0], ramp(12, 3))
    assert ring.overruns == 1


def test_a_block_larger_than_the_ring_keeps_its_newest_frames():
    ring = RingBuffer(5)
    ring.write(ramp(0, 12))
    assert ring.written == 12
    chunk = ring.read()
    assert chunk.start == 7 and np.array_equal(chunk.data[:, 0], ramp(7, 5))
    assert ring.overrun_frames == 7


def test_read_limits_and_multichannel():
    ring = RingBuffer(6, channels=2)
    block = np.stack([ramp(0, 5), -ramp(0, 5)], axis=1)
    ring.write(block)
    first = ring.read(max_frames=2)
    rest = ring.read()
    assert np.array_equal(np.concatenate([first.data, rest.data]), block)
    assert rest.start == 2 and ring.available() == 0


def test_copy_latest_before_the_ring_fills():
    ring = RingBuffer(100)
    ring.write(ramp(0, 30))
    assert np.array_equal(ring.copy_latest(50)[:, 0], ramp(0, 30))
    assert np.array_equal(ring.copy_latest(10)[:, 0], ramp(20, 10))


def test_one_writer_thread_one_reader_thread_lose_nothing_when_the_reader_keeps_up():
    ring = RingBuffer(4096)
    total = 200_000
    block = 256
    done = threading.Event()

    def writer():
        for start in range(0, total, block):
            ring.write(ramp(start, min(block, total - start)))
        done.set()

    got = []
    t = threading.Thread(target=writer)
    t.start()
    while not (done.is_set() and ring.available() == 0):
        chunk = ring.read()
        if len(chunk.data):
            got.append(chunk)
    t.join()
    # Whatever was skipped was counted; whatever was returned is exactly the written ramp.
    for c in got:
        assert np.array_equal(c.data[:, 0], ramp(c.start, len(c.data)))
    returned = sum(len(c.data) for c in got)
    assert returned + ring.overrun_frames == total
