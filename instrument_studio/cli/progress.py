"""The command line's one progress display, on stderr, built on rich.

`train`, `dataset features`, `record` (and `evaluate`) hand it the core's own events: a bar with
an ETA for feature extraction and training, a status line for a take being recorded. On a
terminal the bar is redrawn in place and vanishes when done; off a terminal (a log, a pipe) there
is no bar, only the lines worth keeping (the training summary and one line per epoch).

    with TerminalProgress() as progress:
        train(cfg, data, on_event=progress)
"""

from __future__ import annotations

import math
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..core.events import BatchEnd, EpochEnd, FeatureProgress, FileSkipped, Level, TrainStarted
from ..core.events import Progress as ProgressEvent


class TerminalProgress:
    """Turns core events into a rich progress bar (on a terminal) and lines (always)."""

    def __init__(self, stream=None, *, force_terminal: bool | None = None):
        self.console = Console(file=stream or sys.stderr, force_terminal=force_terminal, highlight=False,
                               soft_wrap=True)
        self.live = self.console.is_terminal
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(bar_width=24), MofNCompleteColumn(),
                             TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                             console=self.console, transient=True, disable=not self.live)
        self._task = None
        self._key: str | None = None
        self.started: TrainStarted | None = None
        self.skipped: list[tuple[str, str]] = []   # (path, reason) of FileSkipped events

    # --- as a context manager: the bar shows between enter and exit ----------------------------
    def __enter__(self) -> TerminalProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._bar.stop()
        self._task = self._key = None

    # --- what the commands call ----------------------------------------------------------------
    def line(self, text: str) -> None:
        """A line to keep (printed above the bar on a terminal, as it is elsewhere)."""
        self.console.print(text, markup=False)

    def show(self, key: str, done: float, total: float | None, *, description: str | None = None,
             info: str = "") -> None:
        """Advance the bar of `key` (a new key replaces the bar); total None: no end known."""
        if not self.live:
            return
        description = key if description is None else description
        if key != self._key:
            if self._task is not None:
                self._bar.remove_task(self._task)
            self._task = self._bar.add_task(description, total=total, info=info)
            self._key = key
        self._bar.update(self._task, completed=done, total=total, description=description, info=info)

    def __call__(self, event) -> None:
        """on_event for the core: extraction, training and level events; others are ignored."""
        if isinstance(event, FileSkipped):
            self.skipped.append((event.path, event.reason))
        elif isinstance(event, FeatureProgress):
            self.show("features", event.done, event.total or None,
                      info=f"files ({event.cached} cached, {event.failed} failed)")
        elif isinstance(event, ProgressEvent):
            self.show(event.stage, event.done, event.total or None, description=event.message or event.stage)
        elif isinstance(event, TrainStarted):
            self.started = event
            self.line(f"training {event.model} ({event.n_params:,} parameters) on {event.device}: "
                      f"{event.n_train} training rows, {event.n_val} validation rows, "
                      f"{event.batches_per_epoch} batches per epoch")
        elif isinstance(event, BatchEnd) and self.started is not None:
            s = self.started
            rate = event.samples_seen / event.elapsed if event.elapsed > 0 else 0.0
            self.show("training", event.step + 1, s.epochs * s.batches_per_epoch,
                      description=f"epoch {event.epoch + 1}/{s.epochs}",
                      info=f"loss {event.loss:.4f}  acc {event.accuracy:.3f}  {rate:,.0f} samples/s")
        elif isinstance(event, EpochEnd) and self.started is not None:
            val = "" if math.isnan(event.val_accuracy) else (
                f"  val_loss {event.val_loss:.4f}  val_accuracy {event.val_accuracy:.4f}")
            self.line(f"epoch {event.epoch}/{self.started.epochs}  loss {event.loss:.4f}  "
                      f"accuracy {event.accuracy:.4f}{val}  ({event.seconds:.1f} s)")

    def recording(self, seconds: float, max_seconds: float | None, level: Level | None) -> None:
        """The status of a take being recorded: its length and the input's peak level."""
        peak = "" if level is None else (f"peak {level.peak_dbfs:6.1f} dBFS"
                                         f"{'  CLIPPING' if level.clipped else ''}")
        self.show("recording", seconds, max_seconds, description="recording",
                  info=f"{seconds:5.1f} s  {peak}  (Ctrl+C stops and keeps the take)")
