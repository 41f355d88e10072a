"""The command line's one progress display (rich): a bar on a terminal, kept lines elsewhere."""

from __future__ import annotations

import io

from instrument_studio.cli.progress import TerminalProgress
from instrument_studio.core.events import (
    BatchEnd,
    EpochEnd,
    FeatureProgress,
    FileSkipped,
    Level,
    TrainStarted,
)

STARTED = TrainStarted(model="mlp", n_train=100, n_val=20, batch_size=10, batches_per_epoch=10, epochs=2,
                       device="CPU", n_params=1234)


def _events():
    yield FeatureProgress(stage="features", done=3, total=4, cached=1, failed=1)
    yield FileSkipped(path="a.wav", reason="not audio")
    yield STARTED
    yield BatchEnd(step=4, epoch=0, batch=4, epoch_float=0.5, loss=1.5, accuracy=0.25, samples_seen=50,
                   elapsed=0.5)
    yield EpochEnd(epoch=1, loss=1.0, accuracy=0.5, val_loss=float("nan"), val_accuracy=float("nan"),
                   seconds=1.0, elapsed=1.0, best_epoch=1)


def test_off_a_terminal_only_the_lines_worth_keeping():
    out = io.StringIO()
    with TerminalProgress(out) as progress:
        for event in _events():
            progress(event)
        progress.recording(1.0, 5.0, Level(peak_dbfs=-3.0, rms_dbfs=-9.0, clipped=True))
    lines = out.getvalue().splitlines()
    assert lines == ["training mlp (1,234 parameters) on CPU: 100 training rows, 20 validation rows, "
                     "10 batches per epoch",
                     "epoch 1/2  loss 1.0000  accuracy 0.5000  (1.0 s)"]
    assert progress.skipped == [("a.wav", "not audio")]


def test_on_a_terminal_a_bar_with_the_figures():
    out = io.StringIO()
    progress = TerminalProgress(out, force_terminal=True)
    with progress:
        for event in list(_events())[:4]:
            progress(event)
        progress._bar.refresh()
        assert "epoch 1/2" in out.getvalue() and "loss 1.5000" in out.getvalue()
        progress.recording(1.0, 5.0, Level(peak_dbfs=-0.0, rms_dbfs=-3.0, clipped=True))
        progress._bar.refresh()
        assert "CLIPPING" in out.getvalue() and "recording" in out.getvalue()
