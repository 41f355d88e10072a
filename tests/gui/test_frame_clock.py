from instrument_studio.gui.frame_clock import FrameClock


def test_clock_calls_subscribers_at_about_its_rate(qtbot):
    clock = FrameClock(fps=60.0)
    ticks = []
    clock.subscribe(ticks.append)
    qtbot.wait(1000)
    clock.stop()
    # A loaded CI machine may miss frames; the clock must neither stall nor run ahead.
    assert len(ticks) >= 20
    assert all(b > a for a, b in zip(ticks, ticks[1:], strict=False))
    rate = (len(ticks) - 1) / (ticks[-1] - ticks[0])
    assert rate <= 61.5
