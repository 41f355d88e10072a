"""One level measure: the live meter, record's status line and prediction's silence check agree."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.audio.levels import (
    CLIP_LEVEL,
    SILENCE_DBFS,
    LevelMeter,
    clipped_share,
    dbfs,
    rms_dbfs,
)
from instrument_studio.core.predict import inference


def test_dbfs_and_its_floor():
    assert dbfs(1.0) == 0.0 and dbfs(0.5) == pytest.approx(-6.02, abs=0.01)
    assert dbfs(0.0) == SILENCE_DBFS == rms_dbfs(np.zeros(10, np.float32)) == rms_dbfs(np.array([]))


def test_meter_reports_every_interval_frames():
    meter = LevelMeter(100)
    half = np.full(60, 0.5, np.float32)
    assert meter.add(half) is None
    level = meter.add(-half)
    assert level.peak_dbfs == pytest.approx(-6.02, abs=0.01) and level.rms_dbfs == pytest.approx(-6.02, abs=0.01)
    assert not level.clipped and meter.level() is None
    assert meter.add(np.array([CLIP_LEVEL] * 100, np.float32)).clipped


def test_prediction_measures_silence_and_clipping_the_same_way():
    y = np.array([1.0, 0.0, 0.0, 0.0], np.float32)
    assert inference.level_db(y) == rms_dbfs(y) and inference.clipped_share(y) == clipped_share(y) == 0.25
