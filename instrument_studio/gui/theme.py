"""Light and dark palettes (Fusion), and pyqtgraph colours that follow them."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

THEMES = ("system", "light", "dark")


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 31, 34), QColor(43, 45, 48), QColor(223, 225, 229)
    p.setColor(QPalette.Window, window)
    p.setColor(QPalette.WindowText, text)
    p.setColor(QPalette.Base, base)
    p.setColor(QPalette.AlternateBase, QColor(50, 52, 56))
    p.setColor(QPalette.ToolTipBase, QColor(60, 63, 65))
    p.setColor(QPalette.ToolTipText, text)
    p.setColor(QPalette.Text, text)
    p.setColor(QPalette.Button, QColor(55, 57, 61))
    p.setColor(QPalette.ButtonText, text)
    p.setColor(QPalette.BrightText, QColor(255, 90, 90))
    p.setColor(QPalette.Link, QColor(90, 160, 255))
    p.setColor(QPalette.Highlight, QColor(53, 116, 240))
    p.setColor(QPalette.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.PlaceholderText, QColor(140, 143, 148))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(120, 122, 127))
    # Disabled bars and selections grey, as in the light palette: the live prediction bars are
    # disabled while "uncertain", and without this they looked exactly like confident ones.
    p.setColor(QPalette.Disabled, QPalette.Highlight, QColor(96, 99, 105))
    return p


def _light_palette() -> QPalette:
    p = QApplication.style().standardPalette()
    p.setColor(QPalette.PlaceholderText, QColor(110, 110, 110))
    return p


def is_dark(app: QApplication | None = None) -> bool:
    app = app or QApplication.instance()
    return app.palette().color(QPalette.Window).lightness() < 128


# Fusion draws a radio button's ring in the window colour darkened: on the dark palette a
# black ring on a near-black disc, which nobody could see. Only the dark theme restyles it.
_DARK_STYLE = """
QRadioButton::indicator { width: 12px; height: 12px; border-radius: 7px;
                          border: 1px solid #8c9098; background: #1e1f22; }
QRadioButton::indicator:hover { border-color: #b5b9c0; }
QRadioButton::indicator:checked { border-color: #5a9cff;
    background: qradialgradient(cx:0.5, cy:0.5, radius:0.5, fx:0.5, fy:0.5,
                                stop:0 #5a9cff, stop:0.5 #5a9cff, stop:0.6 #1e1f22, stop:1 #1e1f22); }
QRadioButton::indicator:disabled { border-color: #5a5d63; }
QRadioButton::indicator:checked:disabled { border-color: #5a5d63;
    background: qradialgradient(cx:0.5, cy:0.5, radius:0.5, fx:0.5, fy:0.5,
                                stop:0 #6b6e74, stop:0.5 #6b6e74, stop:0.6 #1e1f22, stop:1 #1e1f22); }
"""


def apply_theme(app: QApplication, name: str) -> str:
    """Apply 'light', 'dark' or 'system'; returns the theme in effect ('light' or 'dark')."""
    app.setStyle("Fusion")
    if name == "dark":
        app.setPalette(_dark_palette())
    elif name == "light":
        app.setPalette(_light_palette())
    else:
        app.setPalette(app.style().standardPalette())
    effective = "dark" if is_dark(app) else "light"
    app.setStyleSheet(_DARK_STYLE if effective == "dark" else "")
    from . import presentation

    if presentation.is_on():   # high contrast for a projector: pure black and white
        bg, fg = (QColor(0, 0, 0), QColor(255, 255, 255)) if effective == "dark" else \
            (QColor(255, 255, 255), QColor(0, 0, 0))
    else:
        bg, fg = app.palette().color(QPalette.Base), app.palette().color(QPalette.Text)
    pg.setConfigOptions(background=bg, foreground=fg, antialias=False)
    return effective


def recolor_plots(root: QWidget) -> None:
    """Bring every plot under `root` to the current theme. pyqtgraph's config colours reach only
    plots made after they are set, so without this a theme change left existing plots (the
    confusion matrix, bar charts, spectrograms, timelines) in the old colours. Views with a
    `recolor()` of their own (playheads, colour bars, curve colours) use it."""
    bg, fg = pg.getConfigOption("background"), pg.getConfigOption("foreground")
    for view in root.findChildren(pg.GraphicsView):
        if hasattr(view, "recolor"):
            view.recolor()
            continue
        view.setBackground(bg)
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.setTextPen(fg)
                if item.pen().style() != Qt.NoPen:   # hidden spacer axes stay hidden
                    item.setPen(fg)
                if item.labelText or item.labelUnits:
                    style = dict(item.labelStyle)
                    style["color"] = pg.mkColor(fg).name()
                    item.setLabel(item.labelText, units=item.labelUnits or None, **style)
            elif isinstance(item, pg.PlotItem) and item.titleLabel.text:
                item.titleLabel.setText(item.titleLabel.text, color=pg.mkColor(fg).name())


def plot_colors() -> dict[str, str]:
    """Series colours readable on both palettes."""
    if is_dark():
        return {"wave": "#6cb6ff", "playhead": "#ffd54f", "grid": "#5a5d63", "accent": "#ff8a65"}
    return {"wave": "#1f5fbf", "playhead": "#d32f2f", "grid": "#c8c8c8", "accent": "#e65100"}
