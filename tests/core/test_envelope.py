import numpy as np

from instrument_studio.core.audio.envelope import EnvelopePyramid


def test_envelope_slices_hold_true_extremes():
    rng = np.random.default_rng(3)
    y = rng.standard_normal(1_000_003).astype(np.float32)
    pyr = EnvelopePyramid(y)
    sl = pyr.slice(0, len(y), 1000)
    assert 1000 <= len(sl.x) <= 4000
    assert sl.lo.min() == y.min() and sl.hi.max() == y.max()
    start, stop = 123_456, 456_789
    sl = pyr.slice(start, stop, 800)
    b0 = start // sl.block
    for k in (0, 5, len(sl.lo) - 1):
        block = y[(b0 + k) * sl.block:(b0 + k + 1) * sl.block]
        assert sl.lo[k] == block.min() and sl.hi[k] == block.max()


def test_zoomed_in_shows_samples():
    y = np.arange(10_000, dtype=np.float32)
    sl = EnvelopePyramid(y).slice(100, 300, 800)
    assert sl.block == 1 and np.array_equal(sl.lo, y[100:300])
