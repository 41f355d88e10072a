"""The Dataset panel's clip view: click a clip, hear it, see its log-mel spectrogram with a moving
playhead."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core.audio.playback import output_unavailable_reason
from ...core.features.analysis import clip_preview
from .. import workers
from ..widgets.clip_table import SPLIT_TEXT
from ..widgets.message_label import message_label
from ..widgets.spectrogram_view import SpectrogramView

NO_CLIP_TEXT = "Click a clip to hear it and see its spectrogram."


class ClipPreviewBox(QWidget):
    clip_shown = Signal(str)   # path of the clip whose spectrogram is shown

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.preview = None
        self._clip_job = 0
        self._play_block_reason: str | None = "checking the audio output…"
        # Its own player, as the Live panel's take list has: the Audio panel's file stays loaded
        # in ctx.player while clips are auditioned here.
        self.player = ctx.make_player()
        self._loaded = False  # whether self.player holds the shown clip
        self.clip_label = message_label(NO_CLIP_TEXT)
        self.clip_label.setObjectName("clip_label")
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("clip_play")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.toggle_play)
        self.output_note = QLabel("")
        self.output_note.setObjectName("output_note")
        self.output_note.setStyleSheet("QLabel { color: #888; }")
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.output_note)
        row.addWidget(self.clip_label, 1)
        self.spectrogram = SpectrogramView()
        self.spectrogram.setMinimumHeight(180)
        self.spectrogram.setVisible(False)  # empty axes until a clip is chosen
        self.spectrogram.seek_requested.connect(self._seek)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.spectrogram, 1)
        ctx.clock.subscribe(self._on_frame)

    def check_output(self) -> None:
        workers.start_worker(output_unavailable_reason, on_return=self._output_checked)

    def show_clip(self, clip) -> None:
        if "#" in clip.path:
            self.clip_label.setText(f"{clip.name}: a row of feature arrays, no audio to play")
            return
        self._clip_job += 1
        job = self._clip_job
        self.clip_label.setText(f"Opening {clip.name}…")
        workers.start_worker(clip_preview, clip.path,
                             on_return=lambda p: self._preview_ready(job, clip, p),
                             on_error=lambda exc: self._preview_failed(job, clip, exc))

    def _preview_ready(self, job: int, clip, preview) -> None:
        if job != self._clip_job:
            return
        self.preview = preview
        self.spectrogram.setVisible(True)
        self.spectrogram.begin(preview.db.shape[1], preview.mel)
        self.spectrogram.add_frames(0, preview.db)
        self.spectrogram.setXRange(0, preview.db.shape[1] * preview.mel.frame_seconds, padding=0)
        self.spectrogram.finish()
        pitch = f" · {clip.metadata['pitch']}" if clip.metadata.get("pitch") else ""
        dyn = f" · {clip.metadata['dynamic']}" if clip.metadata.get("dynamic") else ""
        self.clip_label.setText(f"<b>{clip.name}</b> — {clip.label or ', '.join(clip.labels)}{pitch}{dyn} · "
                                f"{SPLIT_TEXT.get(clip.split, clip.split)} · {preview.duration:.2f} s")
        self.clip_shown.emit(clip.path)
        self._loaded = False
        self.play(restart=True)

    def _preview_failed(self, job: int, clip, exc: BaseException) -> None:
        if job != self._clip_job:
            return
        self.preview = None
        self.spectrogram.clear_image()
        self.clip_label.setText(f"<span style='color:#c62828'>Cannot open {clip.name}: "
                                f"{getattr(exc, 'reason', exc)}</span>")
        self._update_play()

    # --- playback -------------------------------------------------------------------------------
    def _output_checked(self, reason) -> None:
        self._play_block_reason = reason
        self._update_play()

    def play(self, *, restart: bool = False) -> None:
        if self.preview is None:
            return
        if self._play_block_reason is not None:
            self._update_play()
            return
        if restart or not self._loaded:
            self.player.set_audio(self.preview.samples, self.preview.samplerate)
            self._loaded = True
        if self.ctx.player.playing:  # one sound at a time: the Audio panel's file pauses
            self.ctx.player.pause()
        try:
            self.player.play()
        except Exception as exc:  # noqa: BLE001 - a device error is shown, the panel carries on
            self.ctx.report_error("Cannot play", exc)
        self._update_play()

    def clear(self) -> None:
        """Show no clip (another dataset was opened: its clips are not this one's)."""
        self._clip_job += 1
        self.player.stop()
        self.preview = None
        self._loaded = False
        self.spectrogram.clear_image()
        self.spectrogram.setVisible(False)
        self.clip_label.setText(NO_CLIP_TEXT)
        self._update_play()

    def toggle_play(self) -> None:
        if self.player.playing:
            self.player.pause()
            self._update_play()
        else:
            self.play()

    def _seek(self, seconds: float) -> None:
        if self._loaded:
            self.player.seek(seconds)

    def _update_play(self) -> None:
        self.play_button.setText("Pause" if self.player.playing else "Play")
        self.play_button.setEnabled(self.preview is not None and self._play_block_reason is None)
        if self._play_block_reason is not None and self._play_block_reason != "checking the audio output…":
            self.play_button.setToolTip(f"Playback unavailable: {self._play_block_reason}")
            self.output_note.setText("no audio output")
            self.output_note.setToolTip(self._play_block_reason)
        else:
            self.play_button.setToolTip("Play / pause the selected clip")
            self.output_note.setText("")

    def _on_frame(self, _now: float) -> None:
        # The view draws only the columns it shows: a zoom, pan or resize redraws here.
        self.spectrogram.refresh()
        if self.preview is None:
            return
        player = self.player
        if player.playing and self.ctx.player.playing:  # the Audio panel started: give way
            player.pause()
        if player.playing or self.play_button.text() == "Pause":
            self.spectrogram.set_playhead(player.position())
            if not player.playing:
                self._update_play()

    def theme_changed(self) -> None:
        self.spectrogram.recolor()

    def shutdown(self) -> None:
        self.ctx.clock.unsubscribe(self._on_frame)
        self.player.close()
