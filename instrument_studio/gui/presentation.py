"""Presentation mode: plots readable from the back of a classroom.

Every pyqtgraph plot under a window gets tick labels, axis labels, titles, legends and value texts
at least twice their normal size, lines about 2.5 times as thick (3 px at least), and (with the
theme, see theme.apply_theme) pure black on white or white on black. Toggling back restores what
each item had: its normal font, pen width and symbol size are remembered on the item the first
time it is restyled.

The mode is one process-wide switch (like pyqtgraph's own config options). Widgets that rebuild
their items (a new run's curves, a sweep's charts, the confusion matrix) call `restyle(view)`
after rebuilding, so new items follow the mode too.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontInfo, QFontMetrics
from PySide6.QtWidgets import QApplication, QWidget

FONT_SCALE = 2.2       # tick labels, axis labels, legends and texts
TITLE_PX = 30
LINE_SCALE = 2.5
MIN_LINE_PX = 3.0
AXIS_PEN_PX = 2.0

_on = False


def is_on() -> bool:
    return _on


def set_on(on: bool) -> None:
    global _on
    _on = bool(on)


def base_font_px() -> int:
    """The normal text size of plots (the application font) in pixels."""
    app = QApplication.instance()
    return max(8, QFontInfo(app.font() if app is not None else QFont()).pixelSize())


def big_px() -> int:
    return int(round(FONT_SCALE * base_font_px()))


def style_all(root: QWidget) -> None:
    """Bring every plot under `root` to the current mode; widgets with a `presentation_changed(on)`
    of their own (a legend outside the plots, a panel giving its plots more room) are told too."""
    for view in root.findChildren(pg.GraphicsView):
        restyle(view)
    for widget in root.findChildren(QWidget):
        hook = getattr(type(widget), "presentation_changed", None)
        if hook is not None:
            hook(widget, _on)


def restyle(view: pg.GraphicsView) -> None:
    """Apply the current mode to every item of one plot (a no-op for a plot never made big)."""
    scene = view.scene()
    if scene is None:
        return
    if not _on and not getattr(view, "_presentation_styled", False):
        return
    view._presentation_styled = _on
    for item in scene.items():
        if isinstance(item, pg.AxisItem):
            _axis(item)
        elif isinstance(item, pg.PlotItem):
            _title(item)
        elif isinstance(item, pg.LegendItem):
            _legend(item)
        elif isinstance(item, pg.PlotDataItem):
            _data_item(item)
        elif isinstance(item, pg.PlotCurveItem) and not isinstance(item.parentItem(), pg.PlotDataItem):
            _pen_item(item, item.opts["pen"], item.setPen)
        elif isinstance(item, pg.InfiniteLine):
            _pen_item(item, item.pen, item.setPen)
        elif isinstance(item, pg.ErrorBarItem):
            _pen_item(item, item.opts.get("pen") or pg.mkPen(pg.getConfigOption("foreground")),
                      lambda pen, item=item: item.setData(pen=pen))
        elif isinstance(item, pg.TextItem):
            _text(item)


def room_above(plot: pg.PlotItem, on: bool) -> None:
    """Half a presentation-size label of room above `plot`: a tick label at the top of its range
    (an amplitude of 1, a colour bar's 0 dB) is centred on the plot's top edge, and at that size the
    widget's edge cut it in half. Back to the plot's own margin when off."""
    left, top, right, bottom = plot.layout.getContentsMargins()
    base = _remember(plot, "top_margin", top)
    plot.layout.setContentsMargins(left, base + (big_px() / 2 if on else 0), right, bottom)


def colour_bar_room(bar: pg.ColorBarItem, on: bool, widest: str = "-80") -> None:
    """Room beside a colour bar for its values at presentation size. pyqtgraph fixes the bar's
    axis at 45 px and drops a label wider than its axis: at 30 px only "0" was left of 0...-80 dB.
    Back to the bar's own width when off."""
    axis = bar.axis
    base = _remember(axis, "width", axis.fixedWidth)
    if on:
        font = QFont()
        font.setPixelSize(big_px())
        needed = QFontMetrics(font).horizontalAdvance(widest) + max(0, axis.style["tickLength"]) + \
            axis.style["tickTextOffset"][0] + 6
        axis.setWidth(max(base or 0, needed))
    else:
        axis.setWidth(base)


def _remember(item, key: str, value):
    store = item.__dict__.setdefault("_presentation_base", {})
    if key not in store:
        store[key] = value
    return store[key]


def _axis(axis: pg.AxisItem) -> None:
    base_font = _remember(axis, "font", axis.style.get("tickFont"))
    base_pen = _remember(axis, "pen", pg.mkPen(axis.pen()).widthF())
    base_label = _remember(axis, "label", dict(axis.labelStyle))
    if _on:
        font = QFont(base_font) if base_font is not None else QFont()
        font.setPixelSize(big_px())
        axis.setStyle(tickFont=font, tickTextOffset=6)
        pen = pg.mkPen(axis.pen())
        if axis.pen().style() != 0:            # hidden spacer axes stay hidden
            pen.setWidthF(max(base_pen, AXIS_PEN_PX))
            axis.setPen(pen)
        style = {**base_label, "font-size": f"{big_px()}px"}
    else:
        axis.setStyle(tickFont=base_font, tickTextOffset=3)
        if axis.pen().style() != 0:
            pen = pg.mkPen(axis.pen())
            pen.setWidthF(base_pen)
            axis.setPen(pen)
        style = dict(base_label)
    if axis.labelText or axis.labelUnits:
        style["color"] = pg.mkColor(pg.getConfigOption("foreground")).name()
        axis.setLabel(axis.labelText, units=axis.labelUnits or None, **style)
    else:
        axis.labelStyle = style
    # The space for tick text was measured with the old font: start again from the new one's height
    # (pyqtgraph widens it again as it draws the labels).
    font = axis.style.get("tickFont") or QFont()
    axis.textHeight = QFontInfo(font).pixelSize() + 4
    axis.textWidth = 3 * QFontInfo(font).pixelSize()
    axis.picture = None
    axis._adjustSize()
    axis.update()


def _title(plot: pg.PlotItem) -> None:
    label = plot.titleLabel
    base = _remember(plot, "title", label.opts.get("size"))
    if not label.text:
        return
    size = f"{TITLE_PX}px" if _on else base
    opts = {k: v for k, v in label.opts.items() if k not in ("size", "justify")}
    if size is None:
        label.opts.pop("size", None)
        label.setText(label.text, **opts)
    else:
        label.setText(label.text, size=size, **opts)
    if _on:
        label.setMaximumHeight(TITLE_PX * 1.6)
        plot.layout.setRowFixedHeight(0, TITLE_PX * 1.6)
    else:
        plot.layout.setRowFixedHeight(0, 30)
        label.setMaximumHeight(30)


def _legend(legend: pg.LegendItem) -> None:
    base = _remember(legend, "size", legend.opts.get("labelTextSize"))
    size = f"{big_px()}px" if _on else base
    legend.setLabelTextSize(size)
    if _on:   # the curves under a big legend would muddle its text: a backing, mostly opaque
        bg = pg.mkColor(pg.getConfigOption("background"))
        bg.setAlpha(215)
        legend.setBrush(pg.mkBrush(bg))
    else:
        legend.setBrush(pg.mkBrush(None))
    legend.updateSize()
    # pyqtgraph re-anchors a legend when its plot resizes, not when the legend itself grows: a
    # legend anchored at the right edge grew past it. Anchor it again where it was anchored.
    anchor = getattr(legend, "_GraphicsWidgetAnchor__itemAnchor", None)
    if anchor is not None:
        legend.anchor(anchor, legend._GraphicsWidgetAnchor__parentAnchor, legend._GraphicsWidgetAnchor__offset)


def _scaled(width: float) -> float:
    return max(width * LINE_SCALE, MIN_LINE_PX) if _on else width


def _data_item(item: pg.PlotDataItem) -> None:
    pen = item.opts.get("pen")
    if pen is not None:
        pen = pg.mkPen(pen)
        if pen.style() != 0:
            base = _remember(item, "pen", pen.widthF())
            pen.setWidthF(_scaled(base))
            item.setPen(pen)
    if item.opts.get("symbol") is not None:
        base = _remember(item, "symbol", item.opts.get("symbolSize", 10))
        item.setSymbolSize(base * 2 if _on else base)


def _pen_item(item, pen, set_pen) -> None:
    pen = pg.mkPen(pen)
    if pen.style() == 0:
        return
    base = _remember(item, "pen", pen.widthF())
    pen.setWidthF(_scaled(base))
    set_pen(pen)


def _text(item: pg.TextItem) -> None:
    font = item.textItem.font()
    base = _remember(item, "font", QFontInfo(font).pixelSize())
    font.setPixelSize(int(round(base * FONT_SCALE)) if _on else base)
    item.setFont(font)
