"""Start the GUI: QApplication, settings, theme, main window. Nothing heavy is imported here."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

ORG = "InstrumentStudio"
APP = "Instrument Studio"


def create_app(argv: list[str] | None = None) -> QApplication:
    from .import_hook import install

    install()   # before TensorFlow's ~4,000 modules are imported behind Qt (see import_hook)
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


def create_window(app: QApplication, *, backend: str | None = None):
    from .context import AppContext
    from .main_window import MainWindow
    from .preferences import startup_backend
    from .theme import apply_theme

    ctx = AppContext()
    startup_backend(ctx.settings, backend)
    apply_theme(app, ctx.settings.get("theme", "system"))
    window = MainWindow(ctx)
    return window


def warm_first_open(cfg) -> None:
    """Do once, in the background, what the first file open would otherwise wait for: the
    lazy imports of the spectrogram path (librosa.filters with scipy.signal for the mel
    filterbank, scipy.fft, scipy.sparse, soxr: ~4 s here) and the cached filterbank and window,
    by computing the spectrogram of half a second of silence."""
    import numpy as np
    import soxr  # noqa: F401 - imported for its side effect: loaded once, here

    from ..core.features.analysis import recompute_mel

    for _ in recompute_mel(np.zeros(cfg.sr // 2, dtype=np.float32), cfg):
        pass


def start_feature_server() -> None:
    """First thing at launch: the feature workers' server preloads beside the window's start-up
    (core.features.workers.start_server), so a first Train on the starter set finds it ready."""
    from ..core.features.workers import start_server

    try:
        start_server()
    except (OSError, ValueError):  # no server: the first extraction starts one, as before
        pass


def start_warm_up(window):
    """After the window is up: warm the first file open (measured: ~4 s before, ~0.01 s after)."""
    from . import workers

    # A failure here is not the user's concern: the real open reports its own errors.
    return workers.start_worker(warm_first_open, window.audio_panel.mel_cfg, on_error=lambda _exc: None)


def main(files: list[str] | None = None, *, backend: str | None = None) -> int:
    start_feature_server()
    app = create_app()
    window = create_window(app, backend=backend)
    window.show()
    QTimer.singleShot(200, lambda: start_warm_up(window))
    if files:
        QTimer.singleShot(0, lambda: window.open_files(list(files)))
    return run_until_quit(app)


def run_until_quit(app) -> int:
    """The event loop, then what has to end before Python does."""
    from . import workers

    code = app.exec()
    workers.finish_before_exit()
    return code
