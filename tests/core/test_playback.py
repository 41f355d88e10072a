from __future__ import annotations

import time

import numpy as np

from instrument_studio.core.audio.playback import Player
from tests.fakes import FakeStream


def make_player():
    streams = []

    def factory(**kw):
        streams.append(FakeStream(**kw))
        return streams[-1]

    return Player(stream_factory=factory), streams


def test_plays_the_samples_in_order_and_reaches_the_end():
    player, streams = make_player()
    sr = 8000
    samples = np.arange(sr // 2, dtype=np.float32)[:, None] / sr
    player.set_audio(samples, sr)
    player.play()
    deadline = time.monotonic() + 5
    while player.playing and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not player.playing
    streams[0]._thread.join(1)
    played = np.concatenate(streams[0].blocks)[:, 0]
    assert np.array_equal(played[: len(samples)], samples[:, 0])
    assert player.position() == len(samples) / sr


def test_seek_pause_and_position_advance():
    player, _ = make_player()
    player.set_audio(np.zeros((8000 * 10, 2), dtype=np.float32), 8000)
    player.seek(4.0)
    assert player.position() == 4.0
    player.play()
    time.sleep(0.3)
    player.pause()
    pos = player.position()
    assert 4.0 < pos < 5.5  # advanced while playing (loose: a loaded machine delays the fake device)
    time.sleep(0.1)
    assert player.position() == pos  # paused: stays
    player.stop()
    assert player.position() == 0.0


def test_taps_receive_every_played_block():
    player, _ = make_player()
    got = []
    player.add_tap(lambda block, sr: got.append(block.copy()))
    samples = np.linspace(-1, 1, 2000, dtype=np.float32)
    player.set_audio(samples, 8000)
    player.play()
    time.sleep(0.6)
    assert np.array_equal(np.concatenate(got)[:, 0], samples)
