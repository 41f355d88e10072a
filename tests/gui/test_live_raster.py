"""The live spectrogram draws only new columns, yet shows what a full redraw shows; the plot
around it is not repainted for each column; the level meter keeps the frame rate."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QVBoxLayout, QWidget

from instrument_studio.core.display.raster import SpectrogramRaster
from instrument_studio.gui.frame_clock import FrameClock
from instrument_studio.gui.widgets.level_meter import LevelMeter
from instrument_studio.gui.widgets.live_spectrogram import LiveSpectrogramView


class PaintCounter(QObject):
    def __init__(self, widget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint:
            self.count += 1
        return False


def shown_view(qtbot, seconds=2.0, size=(900, 300)):
    view = LiveSpectrogramView(seconds=seconds)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    return view


def full_redraw(view) -> np.ndarray:
    """What drawing everything from the dB window gives, at the size shown."""
    ov = view.overlay
    raster = SpectrogramRaster(np.asarray(view.image.lut), view.levels())
    raster.resize(ov.raster.wpx, ov.raster.height, view.width_cols, view.cfg.n_mels)
    raster.redraw(view.window(), view.total)
    return raster.visible()


def paint_now(qtbot, view):
    before = view.overlay.paints
    assert view.draw()
    qtbot.waitUntil(lambda: view.overlay.paints > before, timeout=5000)


def screen_pixels(view) -> np.ndarray:
    """The overlay's area of a grab of the whole view, as 0xFFRRGGBB."""
    img = view.grab().toImage()
    g = view.overlay.geometry()
    from PySide6.QtGui import QImage
    img = img.convertToFormat(QImage.Format_RGB32).copy(g)
    arr = np.frombuffer(img.constBits(), dtype=np.uint32, count=img.bytesPerLine() // 4 * img.height())
    # A copy: the buffer belongs to the QImage, freed when this function returns.
    return arr.reshape(img.height(), img.bytesPerLine() // 4)[:, :img.width()].copy()


def test_new_columns_drawn_alone_give_the_full_redraw_picture_on_screen(qtbot):
    view = shown_view(qtbot)
    rng = np.random.default_rng(1)
    for k in (1, 3, 2, 1, 5, 40, 1, 2, view.width_cols + 3, 1, 4):
        view.add_columns(rng.uniform(-90, 0, size=(128, k)).astype(np.float32), np.full(k, time.monotonic()))
        paint_now(qtbot, view)
        np.testing.assert_array_equal(view.overlay.rendered(), full_redraw(view))
    ov = view.overlay
    assert ov.raster.columns_written > 0 and ov.raster.full_redraws <= 3  # mostly incremental
    # What the user sees is those pixels, over the plot's data area, the size of it.
    assert (ov.width(), ov.height()) == (ov.raster.wpx, ov.raster.height)
    data = view.image.mapRectToScene(view.image.boundingRect())
    assert abs(view.mapFromScene(data).boundingRect().width() - ov.width()) <= 1
    np.testing.assert_array_equal(screen_pixels(view), view.overlay.rendered())
    assert len(view.latencies) > 0


def test_a_loud_column_appears_at_the_right_edge_in_the_hot_colour(qtbot):
    view = shown_view(qtbot)
    view.add_columns(np.full((128, 50), -80.0, dtype=np.float32))
    view.add_columns(np.zeros((128, 1), dtype=np.float32))   # 0 dB: the top of the colour bar
    paint_now(qtbot, view)
    px = screen_pixels(view)
    lut = np.asarray(view.image.lut)
    hot = 0xFF000000 | (int(lut[-1, 0]) << 16) | (int(lut[-1, 1]) << 8) | int(lut[-1, 2])
    per_col = px.shape[1] / view.width_cols
    assert np.all(px[:, -1] == hot) and np.all(px[:, -int(per_col) + 1] == hot)
    assert not np.any(px[:, :-int(per_col) - 2] == hot)


def test_dragging_the_colour_bar_recolours_everything(qtbot):
    view = shown_view(qtbot)
    view.add_columns(np.linspace(-80, 0, 128 * 60, dtype=np.float32).reshape(128, 60))
    paint_now(qtbot, view)
    before = view.overlay.rendered()
    paints = view.overlay.paints
    view.colorbar.setLevels((-40.0, 0.0))
    qtbot.waitUntil(lambda: view.overlay.paints > paints, timeout=5000)
    assert view.levels() == (-40.0, 0.0)
    after = view.overlay.rendered()
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, full_redraw(view))


def test_a_frozen_picture_stays_through_new_columns_and_a_resize(qtbot):
    view = shown_view(qtbot)
    view.add_columns(np.full((128, 30), -20.0, dtype=np.float32))
    paint_now(qtbot, view)
    view.freeze_copy()
    qtbot.wait(50)
    held = view.overlay.rendered()
    view.add_columns(np.full((128, 30), -70.0, dtype=np.float32))   # arrives, not drawn
    view.overlay.update()
    qtbot.wait(50)
    np.testing.assert_array_equal(view.overlay.rendered(), held)
    view.resize(700, 260)                                          # redrawn from the frozen copy
    qtbot.waitUntil(lambda: view.overlay.raster.wpx != held.shape[1], timeout=5000)
    assert not np.any(view.overlay.rendered() == view.overlay.raster.colour(np.float32(-70.0)))
    paint_now(qtbot, view)                                          # resumed: the new columns show
    np.testing.assert_array_equal(view.overlay.rendered(), full_redraw(view))


def test_the_meter_keeps_the_frame_rate_and_the_plot_is_not_repainted_per_column(qtbot):
    box = QWidget()
    qtbot.addWidget(box)
    lay = QVBoxLayout(box)
    meter, view = LevelMeter(), LiveSpectrogramView(seconds=2.0)
    lay.addWidget(meter)
    lay.addWidget(view, 1)
    box.resize(1000, 420)
    box.show()
    qtbot.waitExposed(box)
    meter_paints, plot_paints = PaintCounter(meter), PaintCounter(view.viewport())
    clock = FrameClock(60)
    ticks, rng = [0], np.random.default_rng(2)

    def frame(now):
        ticks[0] += 1
        if ticks[0] % 3 != 0:   # ~40 columns/s arrive in batches, as from the pipeline
            view.add_columns(rng.uniform(-90, 0, size=(128, 1)).astype(np.float32), np.array([now]))
        meter.set_level(peak_dbfs=-10.0 - ticks[0] % 20, rms_dbfs=-40.0 + ticks[0] % 30, clipped=False, now=now)
        view.draw()
        meter.tick(now)

    clock.subscribe(frame)
    qtbot.wait(300)
    meter0, plot0, ov0, ticks0, draws0 = meter_paints.count, plot_paints.count, view.overlay.paints, ticks[0], view.draws
    qtbot.wait(1500)
    clock.stop()
    n_ticks, n_draws = ticks[0] - ticks0, view.draws - draws0
    assert n_ticks >= 20 and n_draws >= 10
    # Every frame repaints the meter (its level moves every frame), every image update paints
    # the new columns ...
    assert meter_paints.count - meter0 >= 0.8 * n_ticks
    assert view.overlay.paints - ov0 >= 0.8 * n_draws
    # ... and the axes, labels and scene behind the image are not repainted for them.
    assert plot_paints.count - plot0 <= 0.2 * n_draws


def test_a_steady_level_is_not_repainted_and_the_clip_lamp_still_lights(qtbot):
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.resize(400, 34)
    meter.show()
    qtbot.waitExposed(meter)
    paints = PaintCounter(meter)
    now = time.monotonic()
    for i in range(30):   # a held note: the same level every frame
        meter.set_level(peak_dbfs=-12.0, rms_dbfs=-20.0, clipped=False, now=now + i / 60)
        meter.tick(now + i / 60)
        qtbot.wait(5)
    qtbot.wait(50)
    steady = paints.count
    assert steady <= 3, steady
    lamp = meter._lamp_rect().center().toPoint()
    unlit = meter.grab().toImage().pixelColor(lamp.x() - 15, lamp.y())
    meter.set_level(peak_dbfs=0.0, rms_dbfs=-3.0, clipped=True, now=now + 0.6)
    meter.tick(now + 0.6)
    qtbot.waitUntil(lambda: paints.count > steady)
    lit = meter.grab().toImage().pixelColor(lamp.x() - 15, lamp.y())
    assert lit.red() > 180 and lit.green() < 90 and lit != unlit, (lit.name(), unlit.name())
    assert meter.text().endswith("CLIPPING")
