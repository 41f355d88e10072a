"""Start the GUI: QApplication, settings, theme, main window. Nothing heavy is imported here."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

ORG = "InstrumentStudio"
APP = "Instrument Studio"


def create_app(argv: list[str] | None = None) -> QApplication:
    QCoreApplication.setOrganizationName(ORG)
    QCoreApplication.setApplicationName(APP)
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    from PySide6.QtGui import QIcon

    from ..core.resources import resource_path

    icon = resource_path("icons", "instrument-studio.svg")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    app.setDesktopFileName("instrument-studio")
    return app


def create_window(app: QApplication):
    from .context import AppContext
    from .main_window import MainWindow
    from .theme import apply_theme

    ctx = AppContext()
    apply_theme(app, ctx.settings.get("theme", "system"))
    window = MainWindow(ctx)
    return window


def main(files: list[str] | None = None) -> int:
    app = create_app()
    window = create_window(app)
    window.show()
    if files:
        QTimer.singleShot(0, lambda: window.open_files(list(files)))
    return app.exec()
