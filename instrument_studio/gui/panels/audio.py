"""The Audio panel: open a recording, hear it, see its waveform and mel spectrogram."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ...core.audio.info import format_duration
from ...core.audio.playback import output_unavailable_reason, recheck_output_reason
from ...core.config import MelConfig
from ...core.errors import StudioError
from ...core.events import AudioOpened, AudioReady, MelFrames, Progress
from ...core.features.analysis import analyse_file, recompute_mel
from .. import workers
from ..widgets.audio_pages import EmptyAudioPage, LoadProgressRow
from ..widgets.audio_views import AudioViews
from ..widgets.mel_settings import MelSettingsRow
from ..widgets.message_label import message_label

SEEK_STEP_S = 5.0
CHECKING = "checking the audio output…"


class AudioPanel(QWidget):
    title = "Audio"
    loaded = Signal(str)            # path, once the whole file is decoded and playable
    load_failed = Signal(str, str)  # path, message
    spectrogram_done = Signal()

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx
        self.setObjectName("audio_panel")
        self.path: str | None = None
        self.ready: AudioReady | None = None
        self.info_text = ""
        self._pending_info = None
        self._worker = None
        self._job = 0
        self._play_block_reason: str | None = CHECKING
        self._rechecking = False
        self.mel_cfg = self._saved_mel_config()
        self._build()
        ctx.player.on_finished = None
        ctx.clock.subscribe(self._on_frame)
        ctx.output_device_changed.connect(lambda _d: self._check_output())
        self._check_output()

    # --- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        style = self.style()
        self.open_button = QPushButton(style.standardIcon(QStyle.SP_DialogOpenButton), "Open…")
        self.open_button.setToolTip("Open an audio file (Ctrl+O)")
        self.play_button = QPushButton(style.standardIcon(QStyle.SP_MediaPlay), "Play")
        self.play_button.setObjectName("play_button")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.toggle_play)
        self.stop_button = QPushButton(style.standardIcon(QStyle.SP_MediaStop), "Stop")
        self.stop_button.setObjectName("stop_button")
        self.stop_button.setEnabled(False)
        self.stop_button.setToolTip("Stop and return to the start (Shift+Space)")
        self.stop_button.clicked.connect(self.stop)
        self.time_label = QLabel("–:–– / –:––")
        self.time_label.setObjectName("time_label")
        self.time_label.setMinimumWidth(150)
        self.time_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.follow_box = QCheckBox("Follow playhead")
        self.follow_box.setChecked(True)
        self.fit_button = QPushButton("Zoom to fit")
        self.fit_button.setToolTip("Show the whole file (Ctrl+0)")
        self.fit_button.clicked.connect(self.zoom_to_fit)
        self.fit_button.setEnabled(False)

        bar = QHBoxLayout()
        for w in (self.open_button, self.play_button, self.stop_button):
            bar.addWidget(w)
        bar.addWidget(self.time_label)
        bar.addSpacing(12)
        bar.addWidget(self.follow_box)
        bar.addWidget(self.fit_button)
        bar.addStretch(1)

        self.info_label = message_label("")
        self.info_label.setObjectName("info_label")
        self.info_label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.progress_row = LoadProgressRow()
        self.progress, self.progress_label = self.progress_row.progress, self.progress_row.label
        self.cancel_button = self.progress_row.cancel_button
        self.cancel_button.clicked.connect(self.cancel_load)

        self.warning_label = message_label()
        self.warning_label.setObjectName("warning_label")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet(
            "QLabel { background: #fff3cd; color: #664d03; border: 1px solid #e0c36c; padding: 6px; border-radius: 4px; }")
        self.warning_label.setVisible(False)

        self.views = AudioViews()
        self.waveform, self.spectrogram = self.views.waveform, self.views.spectrogram
        self.views.seek_requested.connect(self.seek)

        self.empty_page = EmptyAudioPage()
        self.empty_label, self.example_button = self.empty_page.empty_label, self.empty_page.example_button
        self.example_button.clicked.connect(self.open_example)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.views)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.info_label)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.stack, 1)
        self.mel_settings = MelSettingsRow(self.mel_cfg)
        self.mel_settings.applied.connect(self.apply_settings)
        # The controls, for keyboard focus chains and tests.
        self.nfft_combo, self.hop_spin = self.mel_settings.nfft_combo, self.mel_settings.hop_spin
        self.mels_spin, self.fmax_spin = self.mel_settings.mels_spin, self.mel_settings.fmax_spin
        self.apply_button = self.mel_settings.apply_button
        layout.addWidget(self.mel_settings)

    def install_menus(self, window) -> None:
        menu = window.playback_menu
        self.play_action = QAction("Play / Pause", self, shortcut=QKeySequence(Qt.Key_Space))
        self.play_action.triggered.connect(self.toggle_play)
        self.stop_action = QAction("Stop", self, shortcut=QKeySequence("Shift+Space"))
        self.stop_action.triggered.connect(self.stop)
        back = QAction(f"Back {SEEK_STEP_S:g} s", self, shortcut=QKeySequence(Qt.Key_Left))
        back.triggered.connect(lambda: self.seek(self.ctx.player.position() - SEEK_STEP_S))
        fwd = QAction(f"Forward {SEEK_STEP_S:g} s", self, shortcut=QKeySequence(Qt.Key_Right))
        fwd.triggered.connect(lambda: self.seek(self.ctx.player.position() + SEEK_STEP_S))
        home = QAction("Go to Start", self, shortcut=QKeySequence(Qt.Key_Home))
        home.triggered.connect(lambda: self.seek(0.0))
        for act in (self.play_action, self.stop_action, back, fwd, home):
            menu.addAction(act)
        window.view_menu.addSeparator()
        # QKeySequence.ZoomIn is Ctrl++, which on most layouts needs Shift: Ctrl+= (as documented)
        # is bound too, as browsers do.
        for text, keys, fn in (("Zoom In", [QKeySequence("Ctrl+="), QKeySequence(QKeySequence.ZoomIn)],
                                lambda: self.zoom(0.5)),
                               ("Zoom Out", [QKeySequence(QKeySequence.ZoomOut)], lambda: self.zoom(2.0)),
                               ("Zoom to Fit", [QKeySequence("Ctrl+0")], self.zoom_to_fit)):
            act = QAction(text, self)
            act.setShortcuts(keys)
            act.triggered.connect(fn)
            window.view_menu.addAction(act)
        self.open_button.clicked.connect(window.open_dialog)
        self._update_transport()

    # --- opening ------------------------------------------------------------------------------
    def open_file(self, path: str) -> None:
        self.cancel_load()
        self._job += 1
        job = self._job
        self._pending_info = None
        self._show_progress(f"Opening {Path(path).name}…", 0.0)
        self._worker = workers.start_worker(
            analyse_file, path, self.mel_cfg,
            on_yield=lambda ev: self._on_event(job, path, ev),
            on_error=lambda exc: self._on_error(job, path, exc),
            on_finish=lambda: self._on_finish(job))

    def open_example(self) -> None:
        from ...core.datasets.starter import example_clip

        self.example_button.setEnabled(False)
        self._show_progress("Preparing the starter set (first time only)…", None)

        def done(path) -> None:
            self.example_button.setEnabled(True)
            self.open_file(str(path))

        def failed(exc) -> None:
            self.example_button.setEnabled(True)
            self.progress_row.setVisible(False)
            self.ctx.report_error("Cannot open the example", exc)

        workers.start_worker(example_clip, on_return=done, on_error=failed)

    def cancel_load(self) -> None:
        if self._worker is not None:
            self._worker.quit()
            self._worker = None
            self._job += 1
            self.progress_row.setVisible(False)
            if self.ready is None and self.path is None:
                self.stack.setCurrentIndex(0)

    def _on_event(self, job: int, path: str, ev) -> None:
        if job != self._job:
            return
        if isinstance(ev, AudioOpened):
            self._start_new_file(path, ev)
        elif isinstance(ev, MelFrames):
            self.spectrogram.add_frames(ev.first, ev.db)
        elif isinstance(ev, Progress):
            stage = "Decoding" if ev.stage == "decoding" else ev.stage.capitalize()
            self._show_progress(f"{stage} {Path(path).name}: {ev.message}", ev.fraction)
        elif isinstance(ev, AudioReady):
            self._audio_ready(path, ev)

    def _start_new_file(self, path: str, ev: AudioOpened) -> None:
        self.ctx.player.stop()
        self.ctx.player.set_audio(self._silence(), 44100)
        self.ready = None
        self.path = path
        self.warning_label.setVisible(False)
        self.waveform.clear_audio()
        self.spectrogram.begin(ev.total_frames, self.mel_cfg)
        self.spectrogram.setXRange(0, self.spectrogram.duration, padding=0)
        self.stack.setCurrentIndex(1)
        self.info_text = f"<b>{Path(path).name}</b> — {ev.info.describe()}"
        self.info_label.setText(self.info_text)
        self.info_label.setToolTip(path)
        self._update_transport()
        self.ctx.file_opened.emit(path)

    def _audio_ready(self, path: str, ev: AudioReady) -> None:
        self.ready = ev
        self.ctx.player.set_audio(ev.samples, ev.info.samplerate)
        self.waveform.set_envelope(ev.envelope, ev.analysis_sr)
        self.zoom_to_fit()
        self.spectrogram.finish()
        self._draw_playhead()
        self.info_text = f"<b>{Path(path).name}</b> — {ev.info.describe()}"
        self.info_label.setText(self.info_text)
        if ev.warnings:
            self.warning_label.setText("⚠ " + "; ".join(ev.warnings))
            self.warning_label.setVisible(True)
            self.ctx.status.emit(f"{Path(path).name}: {ev.warnings[0]}", 15000)
        else:
            self.ctx.status.emit(f"Opened {Path(path).name} ({format_duration(ev.info.duration)})", 5000)
        self._update_transport()
        self.loaded.emit(path)

    def _on_error(self, job: int, path: str, exc: BaseException) -> None:
        if job != self._job:
            return
        self.progress_row.setVisible(False)
        if self.ready is None and self.path == path:
            # The header was read but nothing playable came out: do not leave a half-open file.
            self.path = None
            self.stack.setCurrentIndex(0)
            self.info_label.setText("")
        self.ctx.report_error("Cannot open audio file", exc)
        self.load_failed.emit(path, str(exc))

    def _on_finish(self, job: int) -> None:
        if job == self._job:
            self._worker = None
            self.progress_row.setVisible(False)

    def _show_progress(self, text: str, fraction: float | None) -> None:
        self.progress_row.show_progress(text, fraction)

    @staticmethod
    def _silence():
        import numpy as np

        return np.zeros((0, 1), dtype=np.float32)

    # --- spectrogram settings -------------------------------------------------------------------
    def _saved_mel_config(self) -> MelConfig:
        data = self.ctx.settings.get("audio/mel_config", "")
        if data:
            try:
                return MelConfig.from_json(data)
            except StudioError:
                pass
        return MelConfig()

    def apply_settings(self, cfg: MelConfig) -> None:
        """Recompute the spectrogram of the open file with `cfg` (and remember it)."""
        self.mel_cfg = cfg
        self.ctx.settings.set("audio/mel_config", cfg.to_json())
        if self.ready is None:
            return
        if self._worker is not None:
            self._worker.quit()
        self._job += 1
        job = self._job
        total = 1 + len(self.ready.analysis) // cfg.hop_length
        self.spectrogram.begin(total, cfg)
        self._worker = workers.start_worker(
            recompute_mel, self.ready.analysis, cfg,
            on_yield=lambda ev: self._on_recompute_event(job, ev),
            on_error=lambda exc: self._on_error(job, self.path or "", exc),
            on_finish=lambda: self._on_recompute_finish(job))

    def _on_recompute_event(self, job: int, ev) -> None:
        if job != self._job:
            return
        if isinstance(ev, MelFrames):
            self.spectrogram.add_frames(ev.first, ev.db)
        elif isinstance(ev, Progress):
            self._show_progress("Computing spectrogram…", ev.fraction)

    def _on_recompute_finish(self, job: int) -> None:
        if job == self._job:
            self._worker = None
            self.progress_row.setVisible(False)
            self.spectrogram.finish()
            self.spectrogram_done.emit()

    # --- transport ------------------------------------------------------------------------------
    def _check_output(self) -> None:
        def done(reason):
            self._play_block_reason = reason
            self._update_transport()

        workers.start_worker(output_unavailable_reason, on_return=done)

    def _update_transport(self) -> None:
        has_audio = self.ready is not None
        can_play = has_audio and self._play_block_reason is None
        # With no output found, Play stays pressable: each press looks for one again (one may
        # have been connected, or the sound server started, since the app opened).
        can_press = has_audio and self._play_block_reason != CHECKING and not self._rechecking
        self.play_button.setEnabled(can_press)
        self.stop_button.setEnabled(can_play)
        self.fit_button.setEnabled(has_audio)
        if self._play_block_reason is not None and self._play_block_reason != CHECKING:
            tip = f"No sound output: {self._play_block_reason}. Press Play to look again."
        elif not has_audio:
            tip = "Open a file to play it"
        else:
            tip = "Play / pause (Space)"
        self.play_button.setToolTip(tip)
        if hasattr(self, "play_action"):
            self.play_action.setEnabled(can_press)
            self.stop_action.setEnabled(can_play)
        playing = self.ctx.player.playing
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay))

    def toggle_play(self) -> None:
        if self.ready is None or self._play_block_reason == CHECKING or self._rechecking:
            return
        if self._play_block_reason is not None:
            self._look_again_and_play()
            return
        try:
            self.ctx.player.toggle()
        except StudioError as exc:
            self.ctx.report_error("Cannot play", exc)
        self._update_transport()

    def _look_again_and_play(self) -> None:
        """No output was found earlier: ask PortAudio again (it lists devices only when
        initialised, hence the rescan, with this panel's stream closed), then play if one is there."""
        self._rechecking = True
        self.ctx.player.close()
        self.ctx.status.emit("Looking for a sound output…", 0)
        self._update_transport()

        def done(reason) -> None:
            self._rechecking = False
            self._play_block_reason = reason
            self._update_transport()
            if reason is None:
                self.ctx.status.emit("Sound output found.", 3000)
                self.toggle_play()
            else:
                self.ctx.status.emit(f"Still no sound output: {reason}", 10000)

        workers.start_worker(recheck_output_reason, on_return=done,
                             on_error=lambda exc: done(str(exc)))

    def stop(self) -> None:
        self.ctx.player.stop()
        self._update_transport()
        self._draw_playhead()

    def seek(self, seconds: float) -> None:
        if self.ready is None:
            return
        self.ctx.player.seek(max(0.0, min(seconds, self.ready.info.duration)))
        self._draw_playhead()

    def _on_frame(self, _now: float) -> None:
        self.spectrogram.refresh()
        if self.ready is None:
            return
        player = self.ctx.player
        if player.playing or self.play_button.text() == "Pause":
            self._draw_playhead()
            if not player.playing:
                self._update_transport()  # reached the end

    def _draw_playhead(self) -> None:
        if self.ready is None:
            return
        pos = self.ctx.player.position()
        self.views.set_playhead(pos, follow=self.ctx.player.playing and self.follow_box.isChecked())
        self.time_label.setText(f"{format_duration(pos)} / {format_duration(self.ready.info.duration)}")

    def set_left_axis_width(self, pixels: int) -> None:
        self.views.set_left_axis_width(pixels)

    def host_view(self, widget: QWidget) -> None:
        """Show another panel's view under the spectrogram, at the same width (e.g. the
        prediction timeline); it keeps itself in step with the waveform's time axis."""
        self.views.host(widget)

    # --- zoom ---------------------------------------------------------------------------------
    def zoom_to_fit(self) -> None:
        self.views.zoom_to_fit()

    def zoom(self, factor: float) -> None:
        self.views.zoom(factor, centre=self.ctx.player.position() if self.ctx.player.playing else None)

    # --- lifecycle ------------------------------------------------------------------------------
    def theme_changed(self) -> None:
        self.views.recolor()

    def shutdown(self) -> None:
        self.ctx.clock.unsubscribe(self._on_frame)
        self.cancel_load()
        self.ctx.player.stop()
