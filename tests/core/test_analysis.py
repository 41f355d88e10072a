from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.audio.audiofile import load
from instrument_studio.core.config import MelConfig
from instrument_studio.core.errors import AudioFormatError
from instrument_studio.core.events import AudioOpened, AudioReady, MelFrames, Progress
from instrument_studio.core.features.analysis import analyse_file, recompute_mel
from instrument_studio.core.features.mel import log_mel
from tests.audio_factory import make_bad_files, tone, write


def run(path, cfg):
    return list(analyse_file(path, cfg))


def test_events_arrive_in_order_and_equal_the_batch_path(tmp_path):
    path = write(tmp_path / "a.wav", tone(660, 12.0, 44100, channels=2), 44100, subtype="PCM_24")
    cfg = MelConfig()
    events = run(path, cfg)
    assert isinstance(events[0], AudioOpened) and isinstance(events[-1], AudioReady)
    frames = [e for e in events if isinstance(e, MelFrames)]
    assert len(frames) > 1  # columns arrive in several pieces, the first long before the end
    assert frames[0].first == 0
    db = np.concatenate([e.db for e in frames], axis=1)
    y, _ = load(path)
    expected = log_mel(y, cfg)
    assert db.shape == expected.shape == (cfg.n_mels, events[0].total_frames)
    assert np.max(np.abs(db - expected)) < 1e-3
    ready = events[-1]
    assert np.array_equal(ready.analysis, y)
    assert ready.samples.shape == (12 * 44100, 2)
    progress = [e.fraction for e in events if isinstance(e, Progress) and e.fraction is not None]
    assert progress == sorted(progress) and progress[-1] == 1.0


def test_truncated_file_opens_with_a_warning(tmp_path):
    path = make_bad_files(tmp_path)["truncated"]
    ready = run(path, MelConfig())[-1]
    assert isinstance(ready, AudioReady)
    assert any("truncated" in w for w in ready.warnings)


def test_non_audio_raises_before_anything_is_shown(tmp_path):
    path = make_bad_files(tmp_path)["text"]
    gen = analyse_file(path, MelConfig())
    with pytest.raises(AudioFormatError, match="notes.wav"):
        next(gen)


def test_recompute_with_new_settings():
    cfg = MelConfig(n_mels=64, fmax=4000)
    y = tone(440, 2.0, 22050)
    cols = np.concatenate([e.db for e in recompute_mel(y, cfg, chunk_frames=10) if isinstance(e, MelFrames)], axis=1)
    assert np.max(np.abs(cols - log_mel(y, cfg))) < 1e-3
