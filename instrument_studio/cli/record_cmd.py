"""`record`: record a take from an input device into `<dataset>/<label>/<timestamp>.wav`."""

from __future__ import annotations

import sys
import time

from ..core.errors import StudioError
from ..core.events import Level, LiveStopped, TakeFailed, TakeSaved
from ..core.live.pipeline import LivePipeline, MicSource
from ..core.live.takes import recover_parts
from .progress import TerminalProgress


def add_parser(sub) -> None:
    p = sub.add_parser("record", help="record a take from the microphone into a dataset's class folder",
                       description="Record from an input device into DATASET/LABEL/<timestamp>.wav "
                                   "(written as it records: stopping early or losing the device keeps "
                                   "what was recorded). Prints the path of the take.")
    p.add_argument("--seconds", type=float, default=None, metavar="N",
                   help="length of the take (default: until Ctrl+C)")
    p.add_argument("--label", metavar="L", help="class label: the take goes into DATASET/L/")
    p.add_argument("--dataset", metavar="DIR", help="dataset folder (created if missing)")
    p.add_argument("--device", default=None, metavar="D",
                   help="input device: number or (part of) its name (default: the system default)")
    p.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.list_devices:
        from ..core.audio.devices import input_devices

        devices = input_devices()
        if not devices:
            raise StudioError("no audio input device found",
                              hint="connect a microphone, or check that the sound server is running")
        for d in devices:
            mark = "*" if d.is_default else " "
            print(f"{mark} {d.index:3d}  {d.label}  ({d.max_input_channels} ch, {d.default_samplerate:g} Hz)")
        return 0
    if not args.label or not args.dataset:
        raise StudioError("record needs --label and --dataset", hint="e.g. --label violin --dataset my-data")
    if args.seconds is not None and args.seconds <= 0:
        raise StudioError(f"--seconds must be positive, not {args.seconds:g}")
    for take in recover_parts(args.dataset):
        print(f"recovered an unfinished take: {take.path}", file=sys.stderr)
    take, failure, interrupted = record_take(MicSource(args.device), dataset=args.dataset, label=args.label,
                                             seconds=args.seconds)
    if take is not None:
        print(take.path)
    if failure is not None:
        kept = f" ({take.seconds:.1f} s kept in {take.path})" if take is not None else ""
        raise StudioError(f"{failure}{kept}")
    if take is None:
        raise StudioError("nothing was recorded", hint="was the recording stopped at once?")
    if interrupted:
        print(f"stopped early: {take.seconds:.1f} s recorded", file=sys.stderr)
    return 0


def record_take(source, *, dataset, label: str,
                seconds: float | None) -> tuple[TakeSaved | None, str | None, bool]:
    """Record one take from `source` through the Live panel's pipeline (the same take writer, the
    same level meter); returns (the saved take or None, what went wrong or None, stopped by Ctrl+C)."""
    pipe = LivePipeline(spectrogram=False)
    pipe.start(source)  # AudioDeviceError: one line, nothing written
    pipe.start_take(dataset=dataset, label=label, seconds=seconds)
    outcome = {"saved": None, "failure": None, "level": None}

    def take(events) -> None:
        for event in events:
            if isinstance(event, Level):
                outcome["level"] = event
            elif isinstance(event, TakeSaved):
                outcome["saved"] = event
            elif isinstance(event, TakeFailed) or isinstance(event, LiveStopped) and event.error:
                outcome["failure"] = outcome["failure"] or getattr(event, "message", "") or event.error

    interrupted = False
    with TerminalProgress() as progress:
        try:
            while outcome["saved"] is None and outcome["failure"] is None:
                time.sleep(0.02)
                take(pipe.poll())
                if pipe.recording:
                    progress.recording(pipe.take_seconds(), seconds, outcome["level"])
        except KeyboardInterrupt:
            interrupted = True
        finally:
            pipe.stop()  # finalises a take still being written: nothing recorded is lost
    take(pipe.poll())
    return outcome["saved"], outcome["failure"], interrupted
