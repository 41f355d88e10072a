"""The Qt event loop run for a while from a screenshot script (shared by docs/screenshots_*.py)."""

from __future__ import annotations

import time

from PySide6.QtCore import QEventLoop, QTimer


def spin(seconds: float, until=None) -> None:
    """Process Qt events for `seconds`, or until `until()` is true."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
        if until is not None and until():
            return
