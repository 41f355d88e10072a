"""The training curves alone (no model, no training): GUI-thread CPU of drawing them live.

    .venv/bin/python bench/train_curves.py [--seconds 10] [--epochs 5] [--batches 125] [--repeats 3] [--overlaid N]

The Training panel's curves widget at 1500x600, fed on the app's frame-clock rate (60 Hz) as a run
of `epochs` x `batches` batches spread over `seconds` would feed it (batch losses, then each epoch's
four values), and refreshed as the panel refreshes it. Prints the GUI thread's CPU over the run
(% of one core), the same with the curves never redrawn (the frame ticks and data alone), the
difference per redraw, and redraws a second. `--overlaid N` shows N finished runs of the same size
beside the live one, as when runs are compared while another trains. On a 2-core laptop every per cent here is taken from
training: `bench/train_overhead.py` measures the whole panel against a bare `model.fit`, but its
wall-time ratio moves by +-0.1 with the machine's noise; this figure moves far less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def feed(curves, app, *, seconds: float, epochs: int, batches: int, draw: bool) -> tuple[float, int]:
    """GUI-thread CPU seconds of one simulated run, and the redraws it made."""
    from PySide6.QtCore import QEventLoop, QTimer

    rng = np.random.default_rng(0)
    key = object()
    curves.add_run(key, "run")
    total, sent = epochs * batches, 0
    draws_before = curves.draws
    loop = QEventLoop()
    started = time.monotonic()
    cpu = time.thread_time()

    def tick():
        nonlocal sent
        elapsed = time.monotonic() - started
        due = min(total, int(elapsed / seconds * total))
        if due > sent:
            b = np.arange(sent, due)
            curves.add_batches(key, (b + 1) / batches, 2.3 * np.exp(-b / (0.5 * total)) + 0.1 * rng.random(len(b)))
            for epoch in range(sent // batches, due // batches):
                curves.add_epoch(key, epoch + 1, loss=1.0 / (epoch + 1), accuracy=0.5 + 0.4 * epoch / epochs,
                                 val_loss=1.1 / (epoch + 1), val_accuracy=0.45 + 0.4 * epoch / epochs)
            sent = due
        if draw:
            curves.refresh()
        if elapsed > seconds:
            loop.quit()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(16)
    loop.exec()
    timer.stop()
    used = time.thread_time() - cpu
    curves.remove_run(key)
    return used, curves.draws - draws_before


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batches", type=int, default=125)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--overlaid", type=int, default=0, help="finished runs shown beside the live one")
    args = ap.parse_args(argv)

    from instrument_studio.gui.app import create_app
    from instrument_studio.gui.widgets.curves import TrainingCurves

    app = create_app()
    curves = TrainingCurves()
    curves.resize(1500, 600)
    curves.show()
    rng = np.random.default_rng(1)
    total = args.epochs * args.batches
    for n in range(args.overlaid):
        b = np.arange(total)
        curves.add_run(("finished", n), f"finished {n + 1}", epochs=args.epochs)
        curves.add_batches(("finished", n), (b + 1) / args.batches,
                           2.3 * np.exp(-b / (0.5 * total)) + 0.1 * rng.random(total))
        curves.set_history(("finished", n), {
            "loss": [1.0 / (e + 1) for e in range(args.epochs)], "val_loss": [1.1 / (e + 1) for e in range(args.epochs)],
            "accuracy": [0.5 + 0.4 * e / args.epochs for e in range(args.epochs)],
            "val_accuracy": [0.45 + 0.4 * e / args.epochs for e in range(args.epochs)]})
    curves.refresh(force=True)
    drawn, idle, draws = [], [], []
    for _ in range(args.repeats):   # alternating, to share the machine's noise
        cpu, n = feed(curves, app, seconds=args.seconds, epochs=args.epochs, batches=args.batches, draw=True)
        drawn.append(cpu)
        draws.append(n)
        idle.append(feed(curves, app, seconds=args.seconds, epochs=args.epochs, batches=args.batches,
                         draw=False)[0])
    cpu_drawn, cpu_idle, n = statistics.median(drawn), statistics.median(idle), statistics.median(draws)
    print(f"{args.epochs} epochs x {args.batches} batches over {args.seconds:.0f} s, curves 1500x600, "
          f"{args.repeats} rounds (medians), {args.overlaid} finished runs overlaid")
    print(f"GUI thread, curves drawn:       {100 * cpu_drawn / args.seconds:5.1f} % of one core "
          f"({n / args.seconds:.1f} redraws a second)")
    print(f"GUI thread, curves not drawn:   {100 * cpu_idle / args.seconds:5.1f} % of one core (frame ticks, data)")
    print(f"drawing the curves:             {100 * (cpu_drawn - cpu_idle) / args.seconds:5.1f} % of one core, "
          f"{1000 * (cpu_drawn - cpu_idle) / max(n, 1):.1f} ms CPU a redraw")
    return 0


if __name__ == "__main__":
    sys.exit(main())
