"""What the panels share: settings, the frame clock, the player, and a way to report."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..core.audio.playback import Player
from ..core.errors import StudioError
from .frame_clock import FrameClock
from .settings import Settings


class AppContext(QObject):
    status = Signal(str, int)          # message, timeout in ms (0: until replaced)
    error = Signal(str, str)           # title, message the user can act on
    file_opened = Signal(str)          # path of the audio file now open in the Audio panel
    output_device_changed = Signal(object)
    # The dataset open in the Dataset panel (core.datasets.Dataset), for Training and Evaluation.
    dataset_changed = Signal(object)

    def __init__(self, settings: Settings | None = None, *, player: Player | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings or Settings()
        self.clock = FrameClock(fps=60.0, parent=self)
        device = self.settings.get("audio/output_device", None) or None
        self.player = player or Player(device=device)
        self.dataset = None

    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.dataset_changed.emit(dataset)

    def report_error(self, title: str, exc: BaseException) -> None:
        """Show an error the user can act on; anything else is a bug and says so."""
        if isinstance(exc, StudioError):
            text = str(exc)
        else:
            text = f"Unexpected error ({type(exc).__name__}): {exc}"
        self.error.emit(title, text)

    def make_player(self) -> Player:
        """A player of a panel's own (auditioning a clip without unloading the Audio panel's
        file), on the chosen output device and following later changes of it."""
        player = Player(device=self.settings.get("audio/output_device", "") or None)
        self.output_device_changed.connect(lambda device: player.set_device(device or None))
        return player

    def set_output_device(self, device: str | None) -> None:
        self.settings.set("audio/output_device", device or "")
        self.player.set_device(device or None)
        self.output_device_changed.emit(device)
