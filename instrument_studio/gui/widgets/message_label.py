"""Labels that show messages (status lines, summaries, errors, file names): they wrap, and never
set the window's minimum width. A plain QLabel asks for its whole text on one line, and that width
climbs up the layouts to the main window: one long error message made the window wider than the
screen, in every panel, until restart."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel

MESSAGE_PROPERTY = "message_label"   # tests find every message label by it
MIN_WIDTH = 40


def fit_message(label: QLabel) -> QLabel:
    """Make `label` wrap at word boundaries, its height following its width, with a small fixed
    minimum width: a wrapped label's own minimum is its longest word, and a long path is one word.
    (Its size hint, which layouts share space by, stays Qt's: about 80 characters at most.)
    Returns the label."""
    label.setWordWrap(True)
    label.setMinimumWidth(MIN_WIDTH)
    label.setProperty(MESSAGE_PROPERTY, True)
    return label


def message_label(text: str = "", *, name: str | None = None) -> QLabel:
    label = fit_message(QLabel(text))
    if name:
        label.setObjectName(name)
    return label


def line_label(text: str = "") -> QLabel:
    """A one-line message beside other controls in a row (a progress line, a count, a note): a
    wrapped label there is squeezed to a narrow column, so this one stays on one line, asks for
    its text's width, and gives way down to MIN_WIDTH (clipped) when the row is short of room."""
    label = QLabel(text)
    label.setMinimumWidth(MIN_WIDTH)
    label.setProperty(MESSAGE_PROPERTY, True)
    return label


def empty_state(title: str, body: str, *, name: str, framed: bool = True) -> QLabel:
    """What a panel shows before it has anything to show: a heading and what to do (rich text),
    centred, in place of empty tables and unlabelled axes."""
    label = QLabel(f"<div style='font-size:15pt'>{title}</div><div style='margin-top:8px'>{body}</div>")
    label.setObjectName(name)
    label.setAlignment(Qt.AlignCenter)
    label.setWordWrap(True)
    if framed:
        label.setFrameShape(QFrame.StyledPanel)
    return label
