"""The Live panel: microphone (or Audio panel playback) in, scrolling mel spectrogram, level, takes.

All audio work is core.live.pipeline.LivePipeline's, in its own thread; this panel starts and stops it,
and on each tick of the one frame clock takes the pipeline's events and draws them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ...core.audio.capture import rescan_input_devices
from ...core.audio.devices import input_devices
from ...core.errors import StudioError
from ...core.events import (
    Level,
    LiveError,
    LiveFrames,
    LiveStarted,
    LiveStopped,
    TakeFailed,
    TakeSaved,
    TakeStarted,
)
from ...core.live.pipeline import LivePipeline, MicSource, PlaybackSource
from .. import workers
from ..widgets.level_meter import LevelMeter
from ..widgets.live_spectrogram import LiveSpectrogramView
from ..widgets.message_label import message_label
from ..widgets.steady import SteadyLabel
from .live_takes import TakesBox

MIC, PLAYBACK = "microphone", "playback"
NO_DEVICE_TEXT = (
    "<div style='font-size:15pt'>No microphone found</div>"
    "<div style='margin-top:10px'>Plug in a USB microphone or a headset, or switch on the computer's "
    "built-in microphone (in the system's sound settings, check that an input is enabled and not "
    "muted), then press <b>Look again</b>.</div>"
    "<div style='margin-top:10px'>Meanwhile, choose <b>Audio panel playback</b> as the source to watch "
    "any file live; the rest of the app works as usual.</div>"
    "<div style='margin-top:10px; color:gray'>{reason}</div>")
NO_DEVICE_INFO = "No input device: see below how to connect one."


class LivePanel(QWidget):
    title = "Live"
    started = Signal()
    stopped = Signal(str)           # error message, "" when stopped on request
    model_taught = Signal(str, object)   # a personal model taught from the takes: path, loaded Bundle

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("live_panel")
        self.pipeline = LivePipeline()
        self.devices = []
        self.no_device_reason: str | None = None
        self.frozen = False
        self._busy = False          # starting or stopping in a worker
        self._last_label = 0.0
        self._scanned = False
        self._build()
        ctx.clock.subscribe(self._on_frame)

    def showEvent(self, event) -> None:
        # Devices are listed when the panel is first shown, not at start-up: the app opens
        # faster and PortAudio is not touched by people who never use the Live panel.
        if not self._scanned:
            self._scanned = True
            self.scan_devices()
        super().showEvent(event)

    # --- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        style = self.style()
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("live_source")
        self.source_combo.addItem("Microphone", MIC)
        self.source_combo.addItem("Audio panel playback", PLAYBACK)
        saved = self.ctx.settings.get("live/source", MIC)
        self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(saved)))
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("input_device")
        self.device_combo.setMinimumWidth(220)
        self.device_combo.setToolTip("Input device (the system default is preselected)")
        self.device_combo.activated.connect(self._device_chosen)
        self.start_button = QPushButton(style.standardIcon(QStyle.SP_MediaPlay), "Start")
        self.start_button.setObjectName("live_start")
        self.start_button.setToolTip("Start or stop the live input (Ctrl+L)")
        self.start_button.clicked.connect(self.toggle)
        self.freeze_button = QPushButton("Freeze")
        self.freeze_button.setObjectName("live_freeze")
        self.freeze_button.setToolTip("Hold the picture still; the input keeps running (F)")
        self.freeze_button.clicked.connect(self.toggle_freeze)
        # Read-outs rewritten four times a second: of fixed size, so that they re-lay out nothing.
        self.fps_label = SteadyLabel("", ("60 fps · 9999 dropped · 9999 late",))
        self.fps_label.setObjectName("live_fps")
        self.meter = LevelMeter()
        self.level_label = SteadyLabel("", ("peak -99.9 dBFS  CLIP",))
        self.level_label.setObjectName("level_readout")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Source"))
        bar.addWidget(self.source_combo)
        self.device_label = QLabel("Input device")
        bar.addWidget(self.device_label)
        bar.addWidget(self.device_combo, 1)
        bar.addWidget(self.start_button)
        bar.addWidget(self.freeze_button)
        bar.addWidget(self.meter, 1)
        bar.addWidget(self.level_label)

        self.info_label = message_label("Press Start to see the input live.")
        self.info_label.setObjectName("live_info")
        info = QHBoxLayout()
        info.addWidget(self.info_label, 1)
        info.addWidget(self.fps_label)

        self.view = LiveSpectrogramView()
        self.no_device = QLabel(NO_DEVICE_TEXT.format(reason=""))
        self.no_device.setObjectName("no_device")
        self.no_device.setWordWrap(True)
        self.no_device.setAlignment(Qt.AlignCenter)
        self.no_device.setFrameShape(QFrame.StyledPanel)
        self.rescan_button = QPushButton("Look again")
        self.rescan_button.setObjectName("rescan_devices")
        self.rescan_button.clicked.connect(self.rescan_devices)
        page = QWidget()
        pl = QVBoxLayout(page)
        pl.addWidget(self.no_device, 1)
        pl.addWidget(self.rescan_button, 0, Qt.AlignHCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(page)

        self.takes = TakesBox(self.ctx)
        self.takes.record_requested.connect(self.record)
        self.takes.stop_requested.connect(self.pipeline.stop_take)
        self.takes.teach.taught.connect(self.model_taught)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.stack)
        splitter.addWidget(self.takes)
        self.views = splitter
        splitter.setSizes([520, 220])

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(info)
        layout.addWidget(splitter, 1)
        self._update_controls()

    def install_menus(self, window) -> None:
        menu = window.menuBar().addMenu("&Live")
        help_action = next((a for a in window.menuBar().actions() if a.text() == "&Help"), None)
        if help_action is not None:  # keep Help last
            window.menuBar().removeAction(menu.menuAction())
            window.menuBar().insertMenu(help_action, menu)
        self.start_action = QAction("Start / Stop Input", self, shortcut=QKeySequence("Ctrl+L"))
        self.start_action.triggered.connect(self.toggle)
        self.freeze_action = QAction("Freeze / Resume View", self, shortcut=QKeySequence("F"))
        self.freeze_action.triggered.connect(self.toggle_freeze)
        self.record_action = QAction("Record Take / Stop Recording", self, shortcut=QKeySequence("Ctrl+R"))
        self.record_action.triggered.connect(self.takes.toggle_record)
        for act in (self.start_action, self.freeze_action, self.record_action, self.takes.undo_action):
            menu.addAction(act)
        self.freeze_action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        self.addAction(self.freeze_action)

    # --- devices ------------------------------------------------------------------------------
    def scan_devices(self) -> None:
        workers.start_worker(input_devices, on_return=self._devices_found, on_error=self._no_devices)

    def rescan_devices(self) -> None:
        if self.pipeline.running or self.ctx.player.playing:
            self.ctx.status.emit("Stop the live input and playback before looking for new devices.", 6000)
            return
        # PortAudio can only re-enumerate with every stream closed.
        self.ctx.player.close()
        self.takes.player.close()
        workers.start_worker(rescan_input_devices, on_return=self._devices_found, on_error=self._no_devices)

    def _devices_found(self, devices) -> None:
        if not devices:
            self._no_devices(StudioError("no audio input device found"))
            return
        self.devices = list(devices)
        self.no_device_reason = None
        saved = self.ctx.settings.get("live/input_device", "") or ""
        self.device_combo.clear()
        for d in self.devices:
            self.device_combo.addItem(d.label + ("  (system default)" if d.is_default else ""), d.name)
        names = [d.name for d in self.devices]
        default = next((i for i, d in enumerate(self.devices) if d.is_default), 0)
        self.device_combo.setCurrentIndex(names.index(saved) if saved in names else default)
        self._update_controls()

    def _no_devices(self, exc: BaseException) -> None:
        self.devices = []
        self.no_device_reason = str(exc)
        self.device_combo.clear()
        self.no_device.setText(NO_DEVICE_TEXT.format(reason=f"Details: {exc}"))
        self._update_controls()

    def _device_chosen(self, _index: int) -> None:
        name = self.device_combo.currentData()
        self.ctx.settings.set("live/input_device", name or "")
        if self.pipeline.running and self.source == MIC:
            self.restart()

    @property
    def source(self) -> str:
        return self.source_combo.currentData()

    def _source_changed(self, _index: int) -> None:
        self.ctx.settings.set("live/source", self.source)
        if self.pipeline.running:
            self.restart()
        self._update_controls()

    # --- start / stop -------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.pipeline.running:
            self.stop()
        else:
            self.start()

    def start(self) -> None:
        if self._busy or self.pipeline.running:
            return
        if self.source == MIC and not self.devices:
            self._update_controls()
            return
        self._busy = True
        self.info_label.setText("Starting…")
        self._update_controls()
        # The first start builds the mel filterbank (librosa's import): not in the GUI thread.
        workers.start_worker(self.pipeline.warm_up, on_return=lambda _r: self._start_now(),
                             on_error=self._start_failed)

    def _start_now(self) -> None:
        self._busy = False
        try:
            if self.source == MIC:
                src = MicSource(self.device_combo.currentData() or None)
            else:
                src = PlaybackSource(self.ctx.player)
            self.view.reset()
            self.meter.reset()
            self.pipeline.start(src)
        except StudioError as exc:
            self._start_failed(exc)
            return
        self._update_controls()
        self.started.emit()

    def _start_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.info_label.setText(f"⚠ {exc}")
        self.ctx.report_error("Cannot start the live input", exc)
        self._update_controls()

    def stop(self) -> None:
        if self._busy or not self.pipeline.running:
            return
        self._busy = True
        self._update_controls()
        # Stopping finalises a take being recorded (file close + rename): in a worker.
        workers.start_worker(self.pipeline.stop, on_finish=self._stopped)

    def _stopped(self) -> None:
        self._busy = False
        self._update_controls()

    def restart(self) -> None:
        self.pipeline.stop()
        self._busy = False
        self.start()

    def record(self, dataset: str, label: str, seconds) -> None:
        if not self.pipeline.running:
            self.start()
            if not self._busy and not self.pipeline.running:
                return
        self.pipeline.start_take(dataset=dataset, label=label, seconds=seconds)

    def toggle_freeze(self) -> None:
        self.frozen = not self.frozen
        if self.frozen:
            self.view.freeze_copy()
        self._update_controls()

    def _update_controls(self) -> None:
        running = self.pipeline.running
        mic = self.source == MIC
        show_missing = mic and not self.devices and self.no_device_reason is not None
        self.stack.setCurrentIndex(1 if show_missing else 0)
        self.device_combo.setEnabled(mic and bool(self.devices) and not self._busy)
        self.device_combo.setVisible(mic)
        self.device_label.setVisible(mic)
        can_start = (not mic or bool(self.devices)) and not self._busy
        self.start_button.setEnabled(can_start or running)
        self.start_button.setText("Stop" if running else "Start")
        self.start_button.setIcon(self.style().standardIcon(QStyle.SP_MediaStop if running else QStyle.SP_MediaPlay))
        self.freeze_button.setText("Resume" if self.frozen else "Freeze")
        self.freeze_button.setEnabled(running or self.frozen)
        self.takes.record_button.setEnabled(can_start or running)
        if show_missing:
            self.takes.record_button.setToolTip("No microphone: connect one to record takes")
            self.info_label.setText(NO_DEVICE_INFO)
        elif self.info_label.text() == NO_DEVICE_INFO:
            self.info_label.setText("Press Start to see the input live.")

    # --- the frame clock ------------------------------------------------------------------------
    def _on_frame(self, now: float) -> None:
        events = self.pipeline.poll()
        for ev in events:
            if isinstance(ev, LiveFrames):
                self.view.add_columns(ev.db, ev.arrival)
            elif isinstance(ev, Level):
                # Levels queued before a stop arrive after its LiveStopped (control events come
                # first): once stopped they would put the last level back on the meter.
                if self.pipeline.running:
                    self.meter.set_level(peak_dbfs=ev.peak_dbfs, rms_dbfs=ev.rms_dbfs, clipped=ev.clipped, now=now)
            else:
                self._on_control(ev)
        if not self.frozen and self.isVisible():
            self.view.draw()
        if self.pipeline.running or self.meter.active:
            self.meter.tick(now)
        if self.takes.recording:
            self.takes.show_progress(self.pipeline.take_seconds())
        self.takes.tick()
        if now - self._last_label > 0.25 and self.pipeline.running:
            self._last_label = now
            m = self.meter
            self.level_label.setText(f"peak {m.hold_db:5.1f} dBFS" + ("  CLIP" if m.clipped else ""))
            st = self.pipeline.stats()
            self.fps_label.setText(f"{self.ctx.clock.fps():.0f} fps · {st['dropped']} dropped · "
                                   f"{st['late']} late")

    def _on_control(self, ev) -> None:
        if isinstance(ev, LiveStarted):
            where = "Audio panel playback" if ev.source == PLAYBACK else ev.device
            self.info_label.setText(f"Live from <b>{where}</b> — {ev.samplerate:,} Hz in, "
                                    f"analysed at {ev.analysis_sr:,} Hz")
            if ev.source == PLAYBACK and not self.ctx.player.playing:
                self.info_label.setText(self.info_label.text() + " — play a file in the Audio panel to see it here")
        elif isinstance(ev, LiveStopped):
            self.takes.input_stopped()
            self._update_controls()
            if ev.error:
                self.info_label.setText(f"⚠ {ev.error}")
                self.ctx.report_error("The live input stopped", StudioError(ev.error))
            else:
                self.info_label.setText("Stopped. Press Start to see the input live.")
            self.fps_label.setText("")
            self.meter.reset()            # no input: not the last level heard
            self.level_label.setText("")
            self.stopped.emit(ev.error)
        elif isinstance(ev, (TakeStarted, TakeSaved, TakeFailed)):
            self.takes.on_event(ev)
        elif isinstance(ev, LiveError):
            self.ctx.status.emit(ev.message, 8000)

    def host_view(self, widget: QWidget) -> None:
        """Show another panel's view of the live input under the spectrogram (e.g. live prediction)."""
        self.views.insertWidget(1, widget)

    # --- lifecycle ------------------------------------------------------------------------------
    def theme_changed(self) -> None:
        self.meter.update()

    def presentation_changed(self, on: bool) -> None:
        """At presentation size the spectrogram had ~140 px of height for 30 px labels: it takes the
        room of the take recorder (folded away; drag it back at the bottom edge), the prediction
        under it keeps its own. Back to the sizes it had after."""
        sizes = self.views.sizes()
        if on:
            self._sizes_before = sizes
            middle = [self.views.widget(i).sizeHint().height() for i in range(1, self.views.count() - 1)]
            total = sum(sizes) or self.views.height()
            self.views.setSizes([max(1, total - sum(middle)), *middle, 0])
        elif getattr(self, "_sizes_before", None):
            self.views.setSizes(self._sizes_before)

    def shutdown(self) -> None:
        """Closing the app: stop the input; a take being recorded is finalised and kept."""
        self.ctx.clock.unsubscribe(self._on_frame)
        self.pipeline.stop()
        for ev in self.pipeline.poll():
            if isinstance(ev, TakeSaved):  # no message boxes while the window closes
                self.takes.on_event(ev)
        self.takes.shutdown()

