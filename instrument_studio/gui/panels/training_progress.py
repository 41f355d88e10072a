"""What the Training panel says about a run in progress, from its latest events: the progress
bar's header and the status line (pure functions of core.events, no Qt)."""

from __future__ import annotations

from ...core.audio.audiofile import format_duration
from ...core.events import BatchEnd, EpochEnd, TrainStarted


def header_text(started: TrainStarted, batch: BatchEnd, last_epoch: EpochEnd | None) -> str:
    """'epoch 2 of 10 · batch 3/12' while an epoch runs, 'epoch 1 of 10 done' between epochs.
    BatchEnd.epoch is 0-based; EpochEnd.epoch, like the plots' x axis, counts epochs completed."""
    if last_epoch is not None and last_epoch.epoch > batch.epoch:   # the next epoch has no batch yet
        return f"epoch {last_epoch.epoch} of {started.epochs} done"
    return f"epoch {batch.epoch + 1} of {started.epochs} · batch {batch.batch + 1}/{started.batches_per_epoch}"


def status_text(run_id, started: TrainStarted, batch: BatchEnd, last_epoch: EpochEnd | None) -> str:
    """Speed, time spent and left, and the last epoch's scores."""
    rate = batch.samples_seen / batch.elapsed if batch.elapsed > 0 else 0.0
    left = (started.epochs * started.n_train - batch.samples_seen) / rate if rate else None
    e = last_epoch
    last = (f" · last epoch: loss {e.loss:.3f}, val accuracy {100 * e.val_accuracy:.1f} %"
            if e is not None and e.val_accuracy == e.val_accuracy else "")
    remaining = f"at most {format_duration(left)} left" if left is not None else ""
    return f"Run {run_id}: {rate:,.0f} samples/s · elapsed {format_duration(batch.elapsed)} · {remaining}{last}"
