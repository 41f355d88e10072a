"""The screen-resolution spectrogram raster: drawing only the new columns gives the same pixels
as drawing everything, and everything is the dB window scaled (nearest neighbour) and coloured."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_studio.core.display.raster import SpectrogramRaster, lut_to_rgb32

N_MELS = 16
LUT = np.stack([np.arange(64) * 4, 255 - np.arange(64) * 4, np.full(64, 7), np.full(64, 255)], axis=1).astype(np.uint8)
LEVELS = (-80.0, 0.0)


class Ring:
    """The view's dB ring (W newest columns as one slice), for feeding the raster."""

    def __init__(self, w):
        self.w, self.total = w, 0
        self.ring = np.full((2 * w, N_MELS), -100.0, dtype=np.float32)

    def add(self, cols):  # cols (k, N_MELS)
        for c in cols:
            p = self.total % self.w
            self.ring[p] = self.ring[p + self.w] = c
            self.total += 1

    def window(self):
        p = self.total % self.w
        return self.ring[p:p + self.w]


def reference(window, wpx, h, levels=LEVELS, lut=LUT):
    """Independently: colour the (W, n_mels) window like pyqtgraph, flip it so high bands are on top,
    and scale it by sampling each screen pixel's centre."""
    lo, hi = levels
    idx = np.clip((window - lo) * (len(lut) / (hi - lo)), 0, len(lut) - 1).astype(int)  # as pyqtgraph
    img = lut_to_rgb32(lut)[idx].T                       # (n_mels, W)
    w, n = window.shape
    xs = np.minimum(((np.arange(wpx) + 0.5) * w / wpx).astype(int), w - 1)
    # Screen rows run down, mel bands up: the band under each row's centre.
    bands = np.clip(np.floor(n - (np.arange(h) + 0.5) * n / h), 0, n - 1).astype(int)
    return img[bands][:, xs]


def assert_shows(shown, ref):
    """Column edges land on whole pixels as the picture scrolls (the newest column always ends at
    the right edge), so an edge may sit one pixel left or right of the reference; nothing else differs."""
    near = (shown == ref)
    near[:, 1:] |= shown[:, 1:] == ref[:, :-1]
    near[:, :-1] |= shown[:, :-1] == ref[:, 1:]
    assert near.all(), f"{(~near).sum()} pixels differ from the scaled window"
    assert (shown == ref).mean() > 0.6


@pytest.mark.parametrize("w,wpx,h", [(43, 150, 59), (40, 40, 16), (37, 1200, 470), (50, 97, 33)])
def test_new_columns_drawn_one_batch_at_a_time_equal_a_full_redraw(w, wpx, h):
    rng = np.random.default_rng(w + wpx)
    ring = Ring(w)
    inc = SpectrogramRaster(LUT, LEVELS)
    inc.resize(wpx, h, w, N_MELS)
    inc.redraw(ring.window(), ring.total)
    for k in (1, 2, 3, 1, 5, 0, 7, w - 1, 2, 1, w + 3, 4, 1, 1, 2):  # wraps the rings many times
        ring.add(rng.uniform(-90, 5, size=(k, N_MELS)).astype(np.float32))
        inc.advance(ring.window(), ring.total)
        full = SpectrogramRaster(LUT, LEVELS)
        full.resize(wpx, h, w, N_MELS)
        full.redraw(ring.window(), ring.total)
        np.testing.assert_array_equal(inc.visible(), full.visible())
        assert_shows(full.visible(), reference(ring.window(), wpx, h))
    assert inc.columns_written > 0 and inc.full_redraws <= 3   # mostly incremental


def test_the_newest_column_is_at_the_right_edge_and_scrolls_left():
    w, wpx, h = 20, 100, 16
    ring = Ring(w)
    r = SpectrogramRaster(LUT, LEVELS)
    r.resize(wpx, h, w, N_MELS)
    r.redraw(ring.window(), 0)
    loud = np.zeros((1, N_MELS), np.float32)        # 0 dB: the last colour
    ring.add(loud)
    r.advance(ring.window(), ring.total)
    hot = lut_to_rgb32(LUT)[-1]
    shown = r.visible()
    assert np.all(shown[:, -5:] == hot) and not np.any(shown[:, :-5] == hot)   # 100/20 = 5 px a column
    ring.add(np.full((3, N_MELS), -100.0, np.float32))
    r.advance(ring.window(), ring.total)
    assert np.all(r.visible()[:, -20:-15] == hot) and not np.any(r.visible()[:, -15:] == hot)


def test_new_levels_recolour_everything():
    w, wpx, h = 30, 90, 20
    ring = Ring(w)
    ring.add(np.linspace(-80, 0, w * N_MELS, dtype=np.float32).reshape(w, N_MELS))
    r = SpectrogramRaster(LUT, LEVELS)
    r.resize(wpx, h, w, N_MELS)
    r.redraw(ring.window(), ring.total)
    before = r.visible().copy()
    r.set_colours(LUT, (-40.0, 0.0))
    r.redraw(ring.window(), ring.total)
    assert not np.array_equal(before, r.visible())
    assert_shows(r.visible(), reference(ring.window(), wpx, h, levels=(-40.0, 0.0)))
