"""Read-outs that change several times a second must not re-lay out the window (gui.widgets.steady)."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from instrument_studio.core.events import LivePrediction
from instrument_studio.gui.widgets.steady import SteadyLabel, ValueBar


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives (what a label's new text sets off)."""

    def __init__(self, widget: QWidget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.LayoutRequest:
            self.count += 1
        return False


def _row(qtbot, label: QLabel) -> tuple[QWidget, LayoutRequests]:
    parent = QWidget()
    row = QHBoxLayout(parent)
    row.addWidget(QLabel("Instrument"))
    row.addWidget(label)
    row.addStretch(1)
    qtbot.addWidget(parent)
    parent.show()
    qtbot.waitExposed(parent)
    qtbot.wait(10)  # the layouts of showing it are over
    return parent, LayoutRequests(parent)


def _set_texts(qtbot, label: QLabel, texts) -> None:
    for text in texts:
        label.setText(text)
        qtbot.wait(1)  # the posted layout requests are delivered


def test_a_steady_label_changes_text_without_a_layout_request(qtbot):
    texts = [f"latency {ms} ms · {rate:.1f} answers/s" for ms, rate in ((8, 5.3), (31, 2.6), (120, 1.0), (9, 6.0))]
    plain = QLabel("")
    _parent, plain_requests = _row(qtbot, plain)
    _set_texts(qtbot, plain, texts)
    assert plain_requests.count >= 3  # what the plain label costs: a layout of its window per change

    steady = SteadyLabel("", ("latency 999 ms · 99.9 answers/s",))
    _, requests = _row(qtbot, steady)
    _set_texts(qtbot, steady, texts)
    assert requests.count == 0
    assert steady.text() == texts[-1]
    assert steady.width() >= steady.fontMetrics().horizontalAdvance(texts[2])  # nothing cut off
    # Rewritten for an hour, it keeps only the texts that sized it, not every text it showed.
    _set_texts(qtbot, steady, [f"latency {ms} ms · 5.3 answers/s" for ms in range(10, 400)])
    assert len(steady._samples) <= 2 and requests.count == 0


def test_a_wider_text_grows_it_once_and_a_bigger_font_fits_it_again(qtbot):
    label = SteadyLabel("", ("100%",))
    _, requests = _row(qtbot, label)
    narrow = label.width()
    long_text = "uncertain: not an instrument it knows (nearest: electric-guitar 45%)"
    label.setText(long_text)
    assert label.width() >= label.fontMetrics().horizontalAdvance(long_text) > narrow
    qtbot.wait(1)
    grown, before = label.width(), requests.count
    _set_texts(qtbot, label, ["100%", long_text, "7%"])  # texts it now fits: no more layouts
    assert requests.count == before and label.width() == grown

    big = QFont(label.font())
    big.setPointSizeF(label.font().pointSizeF() * 2.5)  # presentation size
    label.setFont(big)
    assert label.width() >= label.fontMetrics().horizontalAdvance(long_text) > grown


def test_a_value_bar_shows_its_share_in_the_highlight_colour(qtbot):
    bar = ValueBar()
    qtbot.addWidget(bar)
    bar.resize(200, 14)
    bar.setRange(0, 1000)
    bar.setValue(2500)  # clamped, as QProgressBar does
    assert bar.value() == 1000
    highlight = bar.palette().color(QPalette.Active, QPalette.Highlight)

    def lit_share() -> float:
        img = bar.grab().toImage()
        row = [QColor(img.pixel(x, img.height() // 2)) for x in range(img.width())]
        return float(np.mean([abs(c.red() - highlight.red()) + abs(c.green() - highlight.green())
                              + abs(c.blue() - highlight.blue()) < 30 for c in row]))

    assert lit_share() > 0.9
    bar.setValue(250)
    assert 0.15 < lit_share() < 0.35
    bar.setValue(0)
    assert lit_share() < 0.05
    bar.setValue(600)
    bar.setEnabled(False)  # an answer that is no longer current: not drawn as a live one
    assert lit_share() < 0.05


def test_drawing_live_answers_lays_out_nothing(qtbot):
    """The Live panel's answer view: names, bars, values, state and latency change with every
    answer; none of them sets off a layout of the window (6 ms of the GUI thread an answer)."""
    from tests.gui.test_live_answers_drawn import answer_view

    view, _live = answer_view(qtbot)
    view.show()
    qtbot.waitExposed(view)
    labels = ("cello", "violin", "flute", "oboe", "double-bass", "unknown")
    rng = np.random.default_rng(0)

    def answer() -> LivePrediction:
        p = rng.dirichlet(np.ones(len(labels))).astype(np.float32)
        p[int(rng.integers(len(labels) - 1))] += 2.0
        p /= p.sum()
        now = time.monotonic()
        return LivePrediction(labels, p, "confident", "", -20.0, now - 0.03, now - 0.01, 3.0, 0.2)

    view.show_prediction(answer())  # the first answer styles the state label: that lays out once
    qtbot.wait(200)
    requests = LayoutRequests(view)
    for _ in range(20):
        view.show_prediction(answer())
        qtbot.wait(50)  # 20 answers a second: the rate read-out stays within its "99.9"
    assert requests.count == 0
    assert view.names[0].text() in labels and view.values[0].text().endswith("%")
    assert view.bars[0].value() >= view.bars[1].value() > 0
