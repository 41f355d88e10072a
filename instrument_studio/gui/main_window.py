"""The main window: composes the panels, menus and status bar. Wiring only: no DSP, no I/O."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTabWidget,
)

from .. import __version__
from ..core.audio.audiofile import AUDIO_EXTENSIONS
from . import presentation, workers
from .context import AppContext
from .panels.audio import AudioPanel
from .panels.dataset import DatasetPanel
from .panels.evaluation import EvaluationPanel
from .panels.experiments import ExperimentsPanel
from .panels.live import LivePanel
from .panels.predict import PredictPanel
from .panels.training import TrainingPanel
from .preferences import BACKEND_KEY, PreferencesDialog
from .theme import THEMES, apply_theme, recolor_plots

APP_NAME = "Instrument Studio"

# Each panel: a QWidget subclass taking (ctx) with `title`, optional `install_menus(window)`,
# `shutdown()`. Only panels that work are listed (no placeholder tabs).
PANEL_CLASSES = [AudioPanel, LivePanel, PredictPanel, DatasetPanel, TrainingPanel, EvaluationPanel,
                 ExperimentsPanel]


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("main_window")
        self.setAcceptDrops(True)
        self.last_error: tuple[str, str] | None = None
        self._current_file: str | None = None

        self.tabs = QTabWidget()
        self.tabs.setObjectName("panels")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.panels = {}
        for cls in PANEL_CLASSES:
            panel = cls(ctx)
            self.panels[cls.__name__] = panel
            self.tabs.addTab(panel, panel.title)
        self.audio_panel: AudioPanel = self.panels["AudioPanel"]

        self.fps_label = QLabel()
        self.statusBar().addPermanentWidget(self.fps_label)
        self._build_menus()
        for panel in self.panels.values():
            if hasattr(panel, "install_menus"):
                panel.install_menus(self)
        self._build_help_menu()  # after the panels' menus: Help stays last
        if ctx.settings.get("view/presentation", False, type_=bool):
            self.presentation_action.setChecked(True)

        ctx.status.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        ctx.error.connect(self.show_error)
        ctx.file_opened.connect(self._on_file_opened)
        self._update_title()
        geometry = ctx.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 820)
        self.statusBar().showMessage("Open an audio file with Ctrl+O, or drop one on the window; drop a folder "
                                     "or several files to name the instrument in each.")

    # --- menus ----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.open_action = QAction("&Open Audio…", self, shortcut=QKeySequence.Open)
        self.open_action.triggered.connect(self.open_dialog)
        self.file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("recent_menu")
        self.file_menu.addMenu(self.recent_menu)
        self._rebuild_recent_menu()
        self.file_menu.addSeparator()
        self.prefs_action = QAction("&Preferences…", self, shortcut=QKeySequence("Ctrl+,"))
        self.prefs_action.triggered.connect(self.open_preferences)
        self.file_menu.addAction(self.prefs_action)
        self.file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence("Ctrl+Q"))  # .Quit is empty on some platforms
        self.quit_action.triggered.connect(self.close)
        self.file_menu.addAction(self.quit_action)

        self.playback_menu = bar.addMenu("&Playback")
        self.view_menu = bar.addMenu("&View")
        for i in range(len(self.panels)):
            act = QAction(self.tabs.tabText(i), self, shortcut=QKeySequence(f"Ctrl+{i + 1}"))
            act.triggered.connect(lambda _=False, i=i: self.tabs.setCurrentIndex(i))
            self.view_menu.addAction(act)
        self.view_menu.addSeparator()
        self.theme_menu = self.view_menu.addMenu("&Theme")
        self.theme_menu.setObjectName("theme_menu")
        self.theme_actions = QActionGroup(self)
        current = self.ctx.settings.get("theme", "system")
        for name in THEMES:
            act = QAction(name.capitalize(), self, checkable=True)
            act.setData(name)
            act.setChecked(name == current)
            act.triggered.connect(lambda _=False, name=name: self.set_theme(name))
            self.theme_actions.addAction(act)
            self.theme_menu.addAction(act)
        # For a class: big plot text, thick lines, high contrast (gui/presentation.py).
        self.presentation_action = QAction("&Presentation Mode", self, checkable=True,
                                           shortcut=QKeySequence("Ctrl+Shift+P"))
        self.presentation_action.setObjectName("presentation_action")
        self.presentation_action.setToolTip("Plots readable from the back of a room: text twice as large, "
                                            "thick lines, high contrast")
        self.presentation_action.toggled.connect(self.set_presentation)
        self.view_menu.addAction(self.presentation_action)
        self.view_menu.addSeparator()

    def _build_help_menu(self) -> None:
        help_menu = self.menuBar().addMenu("&Help")
        keys = QAction("&Keyboard Shortcuts", self, shortcut=QKeySequence("F1"))
        keys.triggered.connect(self.show_shortcuts)
        help_menu.addAction(keys)
        about = QAction("&About Instrument Studio", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About Instrument Studio",
            f"<b>Instrument Studio</b> {__version__}<br>Recognise which musical instrument is playing."))
        help_menu.addAction(about)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.ctx.settings.recent_files()
        for i, path in enumerate(files):
            act = QAction(f"&{(i + 1) % 10} {Path(path).name}", self)
            act.setToolTip(path)
            act.setData(path)
            act.triggered.connect(lambda _=False, p=path: self.open_file(p))
            self.recent_menu.addAction(act)
        if files:
            self.recent_menu.addSeparator()
            clear = QAction("Clear Recent Files", self)
            clear.triggered.connect(self._clear_recent)
            self.recent_menu.addAction(clear)
        self.recent_menu.setEnabled(bool(files))

    def _clear_recent(self) -> None:
        self.ctx.settings.clear_recent_files()
        self._rebuild_recent_menu()

    # --- files ----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = self.ctx.settings.get("last_dir", str(Path.home()))
        patterns = " ".join(f"*{e}" for e in AUDIO_EXTENSIONS)
        path, _ = QFileDialog.getOpenFileName(self, "Open Audio", start,
                                              f"Audio files ({patterns});;All files (*)")
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> None:
        self.tabs.setCurrentWidget(self.audio_panel)
        self.audio_panel.open_file(str(path))

    def open_files(self, paths: list[str]) -> None:
        """Paths dropped on the window or named on the command line, where the user means them: one
        recording opens in the Audio panel; a folder, or several recordings, are predicted file by file
        in the Predict panel's table (on the Predict tab, anything dropped is); a folder dropped on the
        Dataset tab opens as a dataset."""
        if not paths:
            return
        current = self.tabs.currentWidget()
        predict, dataset = self.panels["PredictPanel"], self.panels["DatasetPanel"]
        one = paths[0] if len(paths) == 1 else None
        if one is not None and current is dataset and Path(one).is_dir():
            dataset.open_folder(one)
        elif one is not None and not Path(one).is_dir() and current is not predict:
            self.open_file(one)
        else:
            self.tabs.setCurrentWidget(predict)
            predict.predict_paths(list(paths))

    def _on_file_opened(self, path: str) -> None:
        self._current_file = path
        self.ctx.settings.add_recent_file(path)
        self.ctx.settings.set("last_dir", str(Path(path).parent))
        self._rebuild_recent_menu()
        self._update_title()

    def _update_title(self) -> None:
        name = Path(self._current_file).name if self._current_file else None
        self.setWindowTitle(f"{APP_NAME} — {name}" if name else APP_NAME)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_files(paths)

    # --- dialogs -------------------------------------------------------------------------
    def show_error(self, title: str, text: str) -> None:
        self.last_error = (title, text)
        self.statusBar().showMessage(f"{title}: {text}", 15000)
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, self)
        box.setObjectName("error_box")
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()  # not exec(): the window keeps running behind it

    def open_preferences(self) -> None:
        dialog = PreferencesDialog(current_device=self.ctx.settings.get("audio/output_device", ""),
                                   current_theme=self.ctx.settings.get("theme", "system"),
                                   current_scheduler=self.ctx.settings.get("compute/scheduler", "") or "",
                                   current_backend=self.ctx.settings.get(BACKEND_KEY, "auto") or "auto", parent=self)
        if dialog.exec():
            self.ctx.settings.set("compute/scheduler", dialog.scheduler())
            self.apply_preferences(output_device=dialog.output_device(), theme=dialog.theme())
            self.set_backend_preference(dialog.keras_backend())

    def set_backend_preference(self, name: str) -> None:
        """Remembered for the next start (gui/app.py applies it before Keras loads)."""
        if name == (self.ctx.settings.get(BACKEND_KEY, "auto") or "auto"):
            return
        self.ctx.settings.set(BACKEND_KEY, name)
        self.statusBar().showMessage(f"Training backend: {name}, from the next start of the app", 8000)

    def set_theme(self, theme: str) -> None:
        self.apply_preferences(output_device=self.ctx.settings.get("audio/output_device", "") or "", theme=theme)

    def set_presentation(self, on: bool) -> None:
        """Presentation mode on or off, remembered for the next start."""
        if self.presentation_action.isChecked() != on:
            self.presentation_action.setChecked(on)   # re-enters through toggled
            return
        self.ctx.settings.set("view/presentation", bool(on))
        presentation.set_on(on)
        self.set_theme(self.ctx.settings.get("theme", "system"))   # the high-contrast colours

    def apply_preferences(self, *, output_device: str, theme: str) -> None:
        self.ctx.settings.set("theme", theme)
        apply_theme(QApplication.instance(), theme)
        for act in self.theme_actions.actions():
            act.setChecked(act.data() == theme)
        recolor_plots(self)
        for panel in self.panels.values():
            if hasattr(panel, "theme_changed"):
                panel.theme_changed()
        presentation.style_all(self)
        if output_device != (self.ctx.settings.get("audio/output_device", "") or ""):
            self.ctx.set_output_device(output_device)

    def show_shortcuts(self) -> None:
        rows = []
        for menu in self.menuBar().findChildren(QMenu):
            for act in menu.actions():
                if not act.shortcut().isEmpty():
                    rows.append(f"<tr><td><b>{act.shortcut().toString(QKeySequence.NativeText)}</b></td>"
                                f"<td>{act.text().replace('&', '').rstrip('…')}</td></tr>")
        QMessageBox.information(self, "Keyboard Shortcuts", "<table cellspacing=6>" + "".join(rows) + "</table>")

    # --- closing --------------------------------------------------------------------------
    def unfinished_work(self) -> list[str]:
        """What quitting now would throw away, in words for the question."""
        work = []
        training = self.panels.get("TrainingPanel")
        if training is not None and training.is_running():
            work.append("a training run")
        experiments = self.panels.get("ExperimentsPanel")
        if experiments is not None and experiments.running:
            work.append("a sweep")
        predict = self.panels.get("PredictPanel")
        if predict is not None and predict.is_running():
            work.append(f"a folder's prediction ({predict.progress_text()})")
        return work

    def closeEvent(self, event: QCloseEvent) -> None:
        work = self.unfinished_work()
        if work:
            answer = QMessageBox.question(
                self, "Quit Instrument Studio?",
                f"{' and '.join(work).capitalize()} {'is' if len(work) == 1 else 'are'} still going. "
                "Quitting stops it now, and what it has not saved is lost.",
                QMessageBox.Cancel | QMessageBox.Discard, QMessageBox.Cancel)
            if answer != QMessageBox.Discard:
                event.ignore()
                return
        self.ctx.settings.set_geometry(self.saveGeometry())
        for panel in self.panels.values():
            if hasattr(panel, "shutdown"):
                panel.shutdown()
        self.ctx.player.close()
        self.ctx.clock.stop()
        workers.stop_all(timeout_ms=5000)
        super().closeEvent(event)
